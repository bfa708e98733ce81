"""``shouldi report``: the HTML it writes (escaped, self-contained, under a CSP) and bad input.

The records are real (see tests/test_report_data.py); one slow test makes them with a real
``shouldi scan`` on the hermetic local index, with the shared PyPA advisory subset imported.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from stores import store_option
from test_report_data import IMG_NAME, XSS_NAME, make_report, sample_reports, write_records

from shouldi.cli.main import cli
from shouldi.sources import open_source

SHARED = Path(__file__).resolve().parents[1].parent / "shared/data/pypa-advisory-database.tar.gz"


def run(*args: str):
    return CliRunner().invoke(cli, ["report", *args], catch_exceptions=False)


class Page(HTMLParser):
    """Every start tag with its attributes, and the text of <script>/<style>/<td class=name>."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: dict[str, list[str]] = {"script": [], "style": []}
        self.names: list[str] = []
        self._in: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in self.inline:
            self._in = tag
            self.inline[tag].append("")
        elif tag == "td" and dict(attrs).get("class") == "name":
            self._in = "name"
            self.names.append("")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "td"):
            self._in = None

    def handle_data(self, data):
        if self._in in self.inline:
            self.inline[self._in][-1] += data
        elif self._in == "name":
            self.names[-1] += data


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.fixture
def report_html(tmp_path) -> tuple[Path, str]:
    scans = write_records(tmp_path / "scans.jsonl", sample_reports())
    out = tmp_path / "report.html"
    result = run(str(scans), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out}\n"
    return out, out.read_text(encoding="utf-8")


def test_hostile_names_are_escaped_and_only_our_script_is_in_the_page(report_html):
    _, html = report_html
    page = Page(html)
    assert XSS_NAME not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "<svg onload" not in html
    assert page.names.count(XSS_NAME) == 1 and page.names.count(IMG_NAME) == 1
    assert [t for t, _ in page.tags].count("script") == 1
    assert not [(t, a) for t, a in page.tags for k in a if k.startswith("on")]  # no handler at all


def test_the_page_is_self_contained_under_a_strict_csp(report_html):
    _, html = report_html
    page = Page(html)
    (csp,) = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") ==
              "Content-Security-Policy"]
    (script,), (style,) = page.inline["script"], page.inline["style"]
    assert csp == (f"default-src 'none'; style-src {sha256(style)}; script-src {sha256(script)}; "
                   "img-src 'none'; base-uri 'none'; form-action 'none'")
    assert "unsafe" not in csp
    links = [v for _, a in page.tags for k, v in a.items() if k in ("src", "href", "action", "srcset")]
    assert links and all(re.fullmatch(r"#pkg-\d+", v or "") for v in links)
    assert not [a for t, a in page.tags if "style" in a]  # the CSP would block style="..."
    assert "@import" not in style and "url(" not in style


def test_no_risk_score_is_said_not_drawn(tmp_path):
    scans = write_records(tmp_path / "scans.csv", sample_reports(risk=False))
    out = tmp_path / "r.html"
    assert run(str(scans), "-o", str(out)).exit_code == 0
    html = out.read_text()
    assert "no risk score: the model has no measured skill" in html
    assert 'aria-label="Histogram of risk scores"' not in html


def test_several_inputs_of_different_formats_make_one_report(tmp_path):
    reports = sample_reports()
    a = write_records(tmp_path / "a.sqlite", reports[:4])
    b = write_records(tmp_path / "b.csv", reports[4:])
    out = tmp_path / "r.html"
    result = run(str(a), str(b), "-o", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "shouldi triage report: 8 packages" in html
    assert "a.sqlite</code> (4 records)" in html and "b.csv</code> (4 records)" in html


# -- bad input: one line, exit 2, nothing lost -----------------------------------------------

def _one_line_error(result, expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert expected in result.stderr, result.stderr


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("missing.jsonl", None, "no such scan file: "),
    ("notes.txt", "hello\n", "unknown record format '.txt'"),
    ("people.csv", "name,version,age\nada,1,36\n", "not a shouldi scan record"),
    ("broken.jsonl", '{"name": "x", "version": "1", "verdict": "pass", "reasons": "[}"}\n',
     "the reasons column is not JSON"),
    ("garbage.sqlite", b"\x00\x01 not a database" * 40, "garbage.sqlite"),
    ("latin1.csv", "name,version\nn\xe9,1\n".encode("latin-1"), "latin1.csv"),
    ("empty.jsonl", "", "no scan records in"),
], ids=["missing", "unknown-format", "foreign-csv", "bad-reasons", "not-sqlite", "not-utf8",
        "empty"])
def test_a_bad_input_is_one_line_and_exit_2_and_keeps_the_old_report(tmp_path, name, content,
                                                                     expected):
    scan = tmp_path / name
    if isinstance(content, str):
        scan.write_text(content)
    elif content is not None:
        scan.write_bytes(content)
    before = scan.read_bytes() if scan.exists() else None
    out = tmp_path / "report.html"
    out.write_text("the previous report")
    _one_line_error(run(str(scan), "-o", str(out)), expected)
    assert out.read_text() == "the previous report"
    assert (scan.read_bytes() if scan.exists() else None) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_directory_is_not_a_scan_file(tmp_path):
    _one_line_error(run(str(tmp_path), "-o", str(tmp_path / "r.html")), "is a directory")


@pytest.mark.parametrize("how", ["same", "relative", "symlink", "hardlink", "sidecar"])
def test_the_output_is_never_one_of_the_inputs(tmp_path, monkeypatch, how):
    scans = write_records(tmp_path / "scans.csv", [make_report("pkg", "1.0")])
    before = scans.read_bytes()
    monkeypatch.chdir(tmp_path)
    output = {
        "same": str(scans),
        "relative": "./scans.csv",
        "symlink": "link.html",
        "hardlink": "hard.html",
        "sidecar": "scans.csv.types.json",
    }[how]
    if how == "symlink":
        (tmp_path / "link.html").symlink_to(scans)
    if how == "hardlink":
        os.link(scans, tmp_path / "hard.html")
    sidecar = (tmp_path / "scans.csv.types.json").read_bytes()
    result = run(str(scans), "--output", output)
    _one_line_error(result, "one of the inputs" if how != "same" and how != "relative"
                    else "would be a scan file")
    assert scans.read_bytes() == before and (tmp_path / "scans.csv.types.json").read_bytes() == sidecar


def test_an_output_with_a_scan_file_extension_is_refused(tmp_path):
    scans = write_records(tmp_path / "scans.jsonl", [make_report("pkg", "1.0")])
    other = tmp_path / "other.sqlite"
    _one_line_error(run(str(scans), "-o", str(other)), "would be a scan file (.sqlite)")
    assert not other.exists()


def test_an_output_that_cannot_be_written_is_one_line(tmp_path):
    scans = write_records(tmp_path / "scans.jsonl", [make_report("pkg", "1.0")])
    _one_line_error(run(str(scans), "-o", str(tmp_path / "no" / "dir" / "r.html")),
                    "cannot write")
    _one_line_error(run(str(scans), "-o", str(tmp_path)), "is a directory")


def test_help_lists_the_command():
    out = CliRunner().invoke(cli, ["--help"]).output
    assert "  report " in out
    assert "Exit codes: 0 written; 2 bad input" in CliRunner().invoke(cli, ["report", "--help"]).output


# -- end to end: a real scan, then its report ------------------------------------------------

EXEC = {"bad_mod/__init__.py": "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n"}
CLEAN = {"urllib3/__init__.py": "def get(url):\n    return url\n"}


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.is_file(), reason="shared advisory archive absent")
def test_a_real_scan_reports_its_advisories_and_evidence(local_index, tmp_path):
    local_index.add_sdist(CLEAN, "urllib3", "1.26.4")
    local_index.add_sdist(EXEC, "zq-exec", "2.0")
    db = tmp_path / "advisories.sqlite"
    runner = CliRunner()
    imported = runner.invoke(cli, ["db", "--store", str(db), "import", str(SHARED)],
                             catch_exceptions=False)
    assert imported.exit_code == 0, imported.output
    scans = tmp_path / "scans.sqlite"
    scan = runner.invoke(cli, [
        "scan", "urllib3==1.26.4", "zq-exec==2.0", "-o", str(scans), "--index-url", local_index.url,
        "--cache-dir", str(tmp_path / "cache"), *store_option(db), "--no-pip-audit",
        "--no-safety-cli", "--timeout", "5"], catch_exceptions=False)
    assert scan.exit_code == 1, scan.output
    out = tmp_path / "report.html"
    assert run(str(scans), "-o", str(out)).exit_code == 0
    html = out.read_text()
    # urllib3 1.26.4 has known advisories in the PyPA subset, with their fixed-in versions.
    fixed = dict(re.findall(r'<td class="id">([^<]+)</td>.*?<td class="fixed">([^<]+)</td>', html,
                            re.S))
    assert fixed == {"PYSEC-2021-108": "1.26.5", "PYSEC-2023-192": "1.26.17, 2.0.6",
                     "PYSEC-2023-212": "1.26.18, 2.0.7"}
    assert "<td>CVE-2023-43804, GHSA-v845-jxx5-vc9f</td>" in html
    assert '<td class="where"><code>zq_exec-2.0/bad_mod/__init__.py:2</code></td>' in html
    assert sorted(Page(html).names) == ["urllib3", "zq-exec"]
    scored = [r for r in open_source(scans).read() if r.get("risk.score") is not None]
    if scored:  # the shipped model scored the scan: the chart, not the "no score" line
        assert '<figure id="chart-risk">' in html and "no-risk-score" not in html
    else:
        assert "no risk score: the model has no measured skill" in html


@pytest.mark.online
@pytest.mark.skipif(not SHARED.is_file(), reason="shared advisory archive absent")
def test_a_real_pypi_scan_makes_a_report(tmp_path):
    """Two real releases from PyPI: six (clean) and urllib3 1.26.4 (known advisories)."""
    db = tmp_path / "advisories.sqlite"
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "--store", str(db), "import", str(SHARED)]).exit_code == 0
    scans = tmp_path / "scans.csv"
    scan = runner.invoke(cli, [
        "scan", "six==1.16.0", "urllib3==1.26.4", "-o", str(scans), "--cache-dir",
        str(tmp_path / "cache"), *store_option(db), "--no-pip-audit", "--no-safety-cli"],
        catch_exceptions=False)
    assert scan.exit_code == 1, scan.output
    out = tmp_path / "report.html"
    assert run(str(scans), "-o", str(out)).exit_code == 0
    html = out.read_text()
    assert sorted(Page(html).names) == ["six", "urllib3"]
    fixed = dict(re.findall(r'<td class="id">([^<]+)</td>.*?<td class="fixed">([^<]+)</td>', html,
                            re.S))
    assert fixed.get("PYSEC-2023-192") == "1.26.17, 2.0.6"
    assert re.search(r'<td class="file">six-1\.16\.0[^<]*</td>', html)
