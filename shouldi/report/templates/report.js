// Sort, filter and search the package table. The rows are all in the page already; this only
// reorders them and sets their `hidden` attribute (no inline style: the CSP forbids it).
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
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  const order = new Map(rows.map(function (row, i) { return [row, i]; }));
  const text = new Map(rows.map(function (row) { return [row, row.textContent.toLowerCase()]; }));
  let sortColumn = 2;  // the page comes sorted by verdict, worst first
  let ascending = false;

  function key(row, column) {
    const cell = row.cells[column];
    const value = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    return value.trim();
  }

  function compare(a, b, column, numeric) {
    const ka = key(a, column);
    const kb = key(b, column);
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
    const sorted = rows.slice().sort(function (a, b) { return compare(a, b, column, numeric); });
    const fragment = document.createDocumentFragment();
    sorted.forEach(function (row) { fragment.appendChild(row); });
    body.appendChild(fragment);
    headers.forEach(function (th, i) {
      th.setAttribute("aria-sort", i === column ? (ascending ? "ascending" : "descending") : "none");
    });
  }

  function filter() {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const allowed = new Set(boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; }));
    let visible = 0;
    rows.forEach(function (row) {
      const match = allowed.has(row.getAttribute("data-verdict")) &&
        words.every(function (w) { return text.get(row).includes(w); });
      row.hidden = !match;
      visible += match ? 1 : 0;
    });
    shown.textContent = visible + " of " + rows.length + " packages shown";
  }

  headers.forEach(function (th, i) {
    const button = th.querySelector("button");
    if (button) {
      button.addEventListener("click", function () { sortBy(i); });
    }
  });
  search.addEventListener("input", filter);
  boxes.forEach(function (box) { box.addEventListener("change", filter); });
  controls.hidden = false;
  filter();
}());
