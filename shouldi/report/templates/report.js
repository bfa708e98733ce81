// Sort, filter and search the package table. The rows are all in the page already; this only
// reorders them and sets their `hidden` attribute (no inline style: the CSP forbids it).
// At most `data-page` matching rows are shown at once (a "Show all" button lifts the limit):
// laying out thousands of rows after every click would take seconds.
"use strict";
(function () {
  const table = document.getElementById("packages");
  const controls = document.getElementById("controls");
  if (!table || !controls) {
    return;
  }
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const headers = Array.from(table.tHead.rows[0].cells);
  const search = document.getElementById("search");
  const boxes = Array.from(controls.querySelectorAll("input[name=verdict]"));
  const shown = document.getElementById("shown");
  const more = document.getElementById("show-all");
  const page = parseInt(table.getAttribute("data-page"), 10) || Infinity;
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  const order = new Map(rows.map(function (row, i) { return [row, i]; }));
  const text = new Map(rows.map(function (row) { return [row, row.textContent.toLowerCase()]; }));
  let current = rows.slice();
  let limit = page;
  let sortColumn = 2;  // the page comes sorted by verdict, worst first
  let ascending = false;

  const keys = new Map();  // column -> row -> sort key, read once per column

  function columnKeys(column) {
    if (!keys.has(column)) {
      keys.set(column, new Map(rows.map(function (row) {
        const cell = row.cells[column];
        const value = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
        return [row, value.trim()];
      })));
    }
    return keys.get(column);
  }

  function compare(a, b, column, numeric) {
    const ka = columnKeys(column).get(a);
    const kb = columnKeys(column).get(b);
    if (ka === "" || kb === "") {  // unknown values go last, whatever the direction
      return ka === kb ? order.get(a) - order.get(b) : (ka === "" ? 1 : -1);
    }
    let c = numeric ? parseFloat(ka) - parseFloat(kb) : collator.compare(ka, kb);
    if (!ascending) {
      c = -c;
    }
    return c || order.get(a) - order.get(b);
  }

  function sortBy(column) {
    ascending = column === sortColumn ? !ascending : true;
    sortColumn = column;
    const numeric = headers[column].getAttribute("data-type") === "number";
    current = rows.slice().sort(function (a, b) { return compare(a, b, column, numeric); });
    filter();  // the first rows of the new order are the ones to show
    body.remove();  // reorder while detached: one layout, not one per row
    current.forEach(function (row) { body.appendChild(row); });
    table.appendChild(body);
    headers.forEach(function (th, i) {
      th.setAttribute("aria-sort", i === column ? (ascending ? "ascending" : "descending") : "none");
    });
  }

  function filter() {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const allowed = new Set(boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; }));
    let matched = 0;
    let visible = 0;
    current.forEach(function (row) {
      const match = allowed.has(row.getAttribute("data-verdict")) &&
        words.every(function (w) { return text.get(row).includes(w); });
      const show = match && visible < limit;
      matched += match ? 1 : 0;
      visible += show ? 1 : 0;
      if (row.hidden === show) {
        row.hidden = !show;
      }
    });
    shown.textContent = matched > visible
      ? visible + " of " + matched + " matching packages shown (" + rows.length + " in all)"
      : visible + " of " + rows.length + " packages shown";
    more.hidden = matched <= visible;
    more.textContent = "Show all " + matched;
  }

  headers.forEach(function (th, i) {
    const button = th.querySelector("button");
    if (button) {
      button.addEventListener("click", function () { sortBy(i); });
    }
  });
  search.addEventListener("input", filter);
  boxes.forEach(function (box) { box.addEventListener("change", filter); });
  more.addEventListener("click", function () { limit = Infinity; filter(); });
  controls.hidden = false;
  filter();
}());
