"""The triage report in a real browser: headless Chromium (Debian's), driven by Playwright.

The report is opened from a ``file://`` URL, as a user would open it: no server. The tests
click the column headers, tick the verdict boxes and type into the search field, then read
the rows the browser really shows (``:visible``). Hostile package names, messages and
evidence must render as text: no dialog opens, no element is injected, and no console error
(a CSP refusal would be one) appears — also with the CSP removed, so escaping alone is tested.
A screenshot of the page is checked for size and content.

Playwright drives Chromium from ``/usr/bin/chromium`` (``executable_path``); it never
downloads a browser. ``.ci/run`` installs Debian's ``chromium`` when it is missing and CI
runs as root; where no browser could be installed these tests skip and say why.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_report_data import IMG_NAME, XSS_NAME, sample_reports, write_records

from shouldi.cli.main import cli

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium")) if p and Path(p).is_file()),
                None)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
NO_BROWSER = ("no Chromium at /usr/bin/chromium: install Debian's package as root with "
              "`apt-get install -y chromium` (.ci/run does when it runs as root)")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=NO_BROWSER)


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")  # --user-data-dir
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport=VIEWPORT, device_scale_factor=1)
        yield context
        context.close()


@dataclass
class Opened:
    """A page and everything it did that a report must never do."""

    page: object
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def open_report(browser, path: Path) -> Opened:
    page = browser.new_page()
    opened = Opened(page)

    def dialog(d) -> None:
        opened.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: opened.errors.append(str(e)))
    page.on("request", lambda r: opened.requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(200)  # let any injected handler (it must not exist) fire
    return opened


def make_report(tmp_path: Path, name: str = "report.html", risk: bool = True) -> Path:
    scans = write_records(tmp_path / "scans.jsonl", sample_reports(risk=risk))
    out = tmp_path / name
    result = CliRunner().invoke(cli, ["report", str(scans), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def visible(page, column: str) -> list[str]:
    return page.locator(f"#packages tbody tr:visible td.{column}").all_inner_texts()


@pytest.fixture
def report(browser, tmp_path) -> Iterator[Opened]:
    opened = open_report(browser, make_report(tmp_path))
    yield opened
    opened.page.close()
    assert opened.dialogs == [] and opened.errors == []
    assert opened.requests and all(u.startswith("file://") for u in opened.requests)


def test_the_table_sorts_by_clicking_the_headers(report):
    page = report.page
    assert visible(page, "verdict") == ["fail"] * 3 + ["error", "warn"] + ["pass"] * 3
    page.get_by_role("button", name="Version").click()
    assert visible(page, "version") == ["0.1.0", "0.2", "1.0", "1.3", "1.9", "1.10", "2.0", "6.6.6"]
    assert page.locator("th", has_text="Version").get_attribute("aria-sort") == "ascending"
    page.get_by_role("button", name="Version").click()
    assert visible(page, "version") == ["6.6.6", "2.0", "1.10", "1.9", "1.3", "1.0", "0.2", "0.1.0"]
    page.get_by_role("button", name="Risk").click()  # numeric; no score goes last either way
    assert [v.split()[0] if v else "" for v in visible(page, "risk")] == [
        "5", "12", "40", "55.5", "72", "91", "100", ""]
    page.get_by_role("button", name="Risk").click()
    assert [v.split()[0] if v else "" for v in visible(page, "risk")] == [
        "100", "91", "72", "55.5", "40", "12", "5", ""]
    assert page.locator("th", has_text="Version").get_attribute("aria-sort") == "none"
    page.get_by_role("button", name="Package").click()
    plain = [n for n in visible(page, "name") if n.isalnum()]
    assert plain == ["brokenpkg", "cleanpkg", "cleanpkg", "evilpkg", "vulnpkg", "warnpkg"]
    page.get_by_role("button", name="Verdict").click()  # ascending: pass first
    assert visible(page, "verdict")[0] == "pass" and visible(page, "verdict")[-1] == "fail"


def test_the_table_filters_by_verdict_and_searches_text(report):
    page = report.page
    shown = page.locator("#shown")
    assert shown.inner_text() == "8 of 8 packages shown"
    for verdict in ("pass", "warn", "error"):
        page.locator(f"input[name=verdict][value={verdict}]").uncheck()
    assert visible(page, "verdict") == ["fail"] * 3 and shown.inner_text() == "3 of 8 packages shown"
    search = page.locator("#search")
    search.press_sequentially("ghsa-aaaa")
    assert visible(page, "name") == ["vulnpkg"]
    search.fill("")
    search.press_sequentially("setup.py")  # evidence in the top reason
    assert visible(page, "name") == ["evilpkg"]
    page.locator("input[name=verdict][value=pass]").check()
    search.fill("")
    search.press_sequentially("CLEANPKG 1.10")  # every word, any case
    assert visible(page, "version") == ["1.10"] and shown.inner_text() == "1 of 8 packages shown"
    search.fill("no such thing")
    assert visible(page, "name") == [] and shown.inner_text() == "0 of 8 packages shown"


def _nothing_injected(page) -> None:
    names = page.locator("#packages td.name").all_inner_texts()
    assert XSS_NAME in names and IMG_NAME in names
    where = page.locator("#evidence td.where").all_inner_texts()
    assert '"><svg onload=alert(4)>.py:7' in where
    assert page.locator("#evidence td", has_text="<img src=x onerror=alert(3)> ran").count() == 1
    assert page.locator("main img, body img, table svg, td script").count() == 0
    assert page.evaluate("document.scripts.length") == 1


def test_hostile_names_and_evidence_render_as_text(report):
    _nothing_injected(report.page)


def test_escaping_holds_without_the_csp_too(browser, tmp_path):
    """With the policy removed an unescaped name would run; escaping alone must stop it."""
    html = make_report(tmp_path).read_text(encoding="utf-8")
    bare = tmp_path / "no-csp.html"
    bare.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html),
                    encoding="utf-8")
    assert "Content-Security-Policy" not in bare.read_text()
    opened = open_report(browser, bare)
    _nothing_injected(opened.page)
    opened.page.get_by_role("button", name="Version").click()  # the script still works
    assert visible(opened.page, "version")[0] == "0.1.0"
    assert opened.dialogs == [] and opened.errors == []
    opened.page.close()


def test_the_csp_refuses_any_script_but_ours(browser, tmp_path):
    opened = open_report(browser, make_report(tmp_path))
    violated = opened.page.evaluate("""() => new Promise(resolve => {
        document.addEventListener("securitypolicyviolation",
                                  e => resolve(e.violatedDirective), {once: true});
        const s = document.createElement("script");
        s.textContent = "window.__ran = 1";
        document.body.appendChild(s);
        setTimeout(() => resolve(null), 2000);
    })""")
    assert violated == "script-src-elem"
    assert opened.page.evaluate("window.__ran") is None
    opened.page.close()


def test_no_risk_score_is_said_in_the_page(browser, tmp_path):
    opened = open_report(browser, make_report(tmp_path, risk=False))
    page = opened.page
    assert page.locator("#no-risk-score").inner_text() == "no risk score: the model has no measured skill"
    assert page.locator("#chart-risk svg").count() == 0
    assert set(visible(page, "risk")) == {""}
    before = visible(page, "name")
    page.get_by_role("button", name="Risk").click()  # all unknown: the order stays
    assert visible(page, "name") == before
    assert opened.dialogs == [] and opened.errors == []
    page.close()


def _colour_count(image, rgb: tuple[int, int, int], tolerance: int = 6) -> int:
    return sum(n for n, c in image.getcolors(maxcolors=1 << 24)
               if all(abs(a - b) <= tolerance for a, b in zip(c, rgb, strict=True)))


FAIL_RED, PASS_GREEN, WARN_AMBER = (0xC6, 0x28, 0x28), (0x2E, 0x7D, 0x32), (0xB2, 0x6A, 0x00)


def test_a_screenshot_shows_the_report(report, tmp_path):
    from PIL import Image

    page = report.page
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot))
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 900)
    colours = image.getcolors(maxcolors=1 << 24)
    white = sum(n for n, c in colours if c == (255, 255, 255))
    assert len(colours) > 100 and 0.1 < 1 - white / (1280 * 900) < 0.9  # not blank, not a smear
    for rgb in (FAIL_RED, PASS_GREEN, WARN_AMBER):  # count cards, badges, bars
        assert _colour_count(image, rgb) > 2000, rgb
    svg = page.locator("#chart-risk svg")
    assert svg.bounding_box()["width"] == 520 and svg.bounding_box()["height"] == 220
    chart = Image.open(io.BytesIO(svg.screenshot())).convert("RGB")
    assert abs(chart.size[0] - 520) <= 1 and abs(chart.size[1] - 220) <= 1  # sub-pixel position
    assert _colour_count(chart, FAIL_RED) > 500 and _colour_count(chart, PASS_GREEN) > 500
    checks = Image.open(io.BytesIO(page.locator("#chart-checks svg").screenshot())).convert("RGB")
    assert abs(checks.size[0] - 520) <= 1 and _colour_count(checks, PASS_GREEN) > 5000


def test_a_long_table_shows_a_page_of_rows_until_show_all(browser, tmp_path):
    from test_report_data import make_report as package

    from shouldi.report.render import PAGE_SIZE
    from shouldi.verdict import RiskScore

    total = PAGE_SIZE + 100
    reports = [package(f"pkg{i:04d}", "1.0", risk=RiskScore(i % 101)) for i in range(total)]
    scans = write_records(tmp_path / "many.sqlite", reports)
    out = tmp_path / "many.html"
    assert CliRunner().invoke(cli, ["report", str(scans), "-o", str(out)]).exit_code == 0
    opened = open_report(browser, out)
    page = opened.page
    shown = page.locator("#shown")
    assert shown.inner_text() == f"{PAGE_SIZE} of {total} matching packages shown ({total} in all)"
    assert len(visible(page, "name")) == PAGE_SIZE
    page.get_by_role("button", name="Package").click()
    page.get_by_role("button", name="Package").click()  # descending: the last names come first
    names = visible(page, "name")
    assert names[0] == f"pkg{total - 1:04d}" and len(names) == PAGE_SIZE
    page.locator("#search").press_sequentially("pkg00")  # 100 matches: all shown, no button
    assert len(visible(page, "name")) == 100 and page.locator("#show-all").is_hidden()
    page.locator("#search").fill("")
    page.get_by_role("button", name=f"Show all {total}").click()
    assert len(visible(page, "name")) == total and shown.inner_text() == f"{total} of {total} packages shown"
    assert opened.dialogs == [] and opened.errors == []
    page.close()
