"""The triage report's data preparation, on records made by the real record functions.

Every record here is :func:`shouldi.record.report_to_record` of a real
:class:`~shouldi.verdict.PackageReport` made by the verdict module
(:func:`~shouldi.verdict.judge.judge`) from check results, written with the real sources.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from shouldi.policy import Policy
from shouldi.record import report_to_record
from shouldi.report import ReportError, load_scans, prepare
from shouldi.report.charts import check_chart, risk_histogram
from shouldi.report.data import parse_advisory, top_reason
from shouldi.results import (
    Advisory,
    Artifact,
    CheckResult,
    Finding,
    Release,
    Severity,
    Status,
    VulnId,
)
from shouldi.sources import SourceError, open_source
from shouldi.verdict import PackageReport, Reason, RiskScore, Verdict
from shouldi.verdict.judge import CheckOutcome, CheckSet, judge

INDEX = "http://127.0.0.1:1/simple/"
T0 = datetime(2026, 1, 10, 8, 0, tzinfo=timezone.utc)

EXEC = Finding("heuristics", "exec-decoded-data", Severity.HIGH, "exec of base64-decoded data",
               "setup.py", 4)
NETWORK = Finding("heuristics", "network", Severity.MEDIUM, "opens a socket at import",
                  "warnpkg/net.py", 9)
SHELL = Finding("bandit", "B602", Severity.HIGH, "subprocess call with shell=True",
                "evilpkg/run.py", 12, confidence=Severity.HIGH)
SHELL2 = Finding("bandit", "B602", Severity.HIGH, "subprocess call with shell=True",
                 "evilpkg/other.py", 3, confidence=Severity.HIGH)
GHSA = Advisory(VulnId("GHSA-aaaa-bbbb-cccc"), frozenset({"CVE-2024-0001", "PYSEC-2024-9"}),
                "header injection", fixed_versions=("2.0.1", "2.1"), severity=Severity.HIGH)
NOFIX = Advisory(VulnId("PYSEC-2023-77"), frozenset(), "", severity=Severity.MEDIUM)
XSS_NAME = "<script>alert(1)</script>"
IMG_NAME = '"><img src=x onerror=alert(2)>'
XSS_FINDING = Finding("heuristics", "exec-dynamic", Severity.HIGH,
                      "<img src=x onerror=alert(3)> ran", '"><svg onload=alert(4)>.py', 7)


def make_report(name: str, version: str, *, heuristics=(), bandit=(), advisories=(),
                advisory_status: Status = Status.OK, risk: RiskScore | None = None
                ) -> PackageReport:
    """A real report: real check results through the real verdict."""
    def ok(check: str, findings=(), **kw) -> CheckResult:
        return CheckResult(check, Status.OK, tuple(findings), **kw)

    advisory_check = CheckResult("advisories", advisory_status,
                                 reason=None if advisory_status is Status.OK
                                 else "no source could vouch for this release")
    checks = CheckSet((
        CheckOutcome("archive", ok("archive", counts={"members": 4, "bytes": 900})),
        CheckOutcome("bandit", ok("bandit", bandit, tool_version="1.7.10", counts={"loc": 40})),
        CheckOutcome("heuristics", ok("heuristics", heuristics)),
        CheckOutcome("advisories", advisory_check),
        CheckOutcome("metadata", ok("metadata"), required=False),
        CheckOutcome("typosquat", ok("typosquat"), required=False),
    ), tuple(advisories))
    artifact = Artifact(f"{name}-{version}.tar.gz", f"{INDEX}f/{version}", "ab" * 32, "sdist")
    release = Release(name, version, INDEX, artifact, "sdist", (), f"{name}=={version}")
    return judge(release, checks, Policy(bandit_warn_high=1), risk)


def record_of(report: PackageReport, when: datetime = T0) -> dict:
    """``report_to_record`` of the report."""
    return report_to_record(report, INDEX, scanned_at=when)


def sample_reports(risk: bool = True) -> list[PackageReport]:
    """Every verdict, advisories with and without a fix, file:line evidence, hostile names."""
    def r(value: float, reliable: bool = True) -> RiskScore | None:
        return RiskScore(value, ("heuristics.exec-decoded-data",), reliable) if risk else None

    return [
        make_report("evilpkg", "0.1.0", heuristics=[EXEC], bandit=[SHELL, SHELL2], risk=r(91)),
        make_report("vulnpkg", "2.0", advisories=[GHSA, NOFIX], risk=r(40)),
        make_report("warnpkg", "1.3", heuristics=[NETWORK], risk=r(55.5, reliable=False)),
        make_report("cleanpkg", "1.10", risk=r(5)),
        make_report("cleanpkg", "1.9", risk=r(100)),
        make_report("brokenpkg", "0.2", advisory_status=Status.SKIPPED),
        make_report(XSS_NAME, "6.6.6", heuristics=[XSS_FINDING], risk=r(72)),
        make_report(IMG_NAME, "1.0", risk=r(12)),
    ]


def write_records(path: Path, reports: list[PackageReport], start: datetime = T0) -> Path:
    with open_source(path).writer() as writer:
        for i, report in enumerate(reports):
            writer.write(record_of(report, start + timedelta(minutes=i)))
    return path


@pytest.fixture
def sample(tmp_path) -> Path:
    return write_records(tmp_path / "scans.jsonl", sample_reports())


# -- reading every format ------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".sqlite"])
def test_every_source_format_reads_to_the_same_report_data(tmp_path, suffix):
    path = write_records(tmp_path / f"scans{suffix}", sample_reports())
    data = prepare(load_scans([path]))
    reference = prepare(load_scans([write_records(tmp_path / "ref.jsonl", sample_reports())]))
    assert data.packages == reference.packages
    assert data.advisories == reference.advisories and data.evidence == reference.evidence
    assert dict(data.counts) == {Verdict.PASS: 3, Verdict.WARN: 1, Verdict.FAIL: 3,
                                 Verdict.ERROR: 1}


def test_a_csv_without_its_types_sidecar_still_reads_numbers_and_booleans(tmp_path):
    path = write_records(tmp_path / "scans.csv", sample_reports())
    path.with_name("scans.csv.types.json").unlink()
    rows = {(p.name, p.version): p for p in prepare(load_scans([path])).packages}
    assert rows[("warnpkg", "1.3")].risk_score == 55.5
    assert rows[("warnpkg", "1.3")].risk_reliable is False
    assert rows[("brokenpkg", "0.2")].risk_score is None


# -- what is shown -------------------------------------------------------------------------

def test_rows_are_worst_first_with_the_deciding_reason_and_the_file_judged(sample):
    data = prepare(load_scans([sample]))
    assert [(p.name, p.version, p.verdict.value) for p in data.packages] == [
        ("evilpkg", "0.1.0", "fail"), (XSS_NAME, "6.6.6", "fail"), ("vulnpkg", "2.0", "fail"),
        ("brokenpkg", "0.2", "error"), ("warnpkg", "1.3", "warn"),
        ("cleanpkg", "1.9", "pass"), (IMG_NAME, "1.0", "pass"), ("cleanpkg", "1.10", "pass"),
    ]
    evil = data.packages[0]
    assert evil.top_reason is not None and evil.top_reason.check == "heuristics"
    assert evil.top_reason.message.startswith("exec-decoded-data:")
    assert evil.top_reason.evidence == "setup.py:4" and evil.file == "evilpkg-0.1.0.tar.gz"
    assert evil.risk_score == 91 and evil.anchor == "pkg-1"
    broken = data.packages[3]
    assert broken.top_reason is not None and broken.top_reason.verdict is Verdict.ERROR
    assert broken.top_reason.message == "no source could vouch for this release"
    assert broken.top_reason.allowable is False  # the record keeps what the report said
    assert data.packages[-1].top_reason is None  # a pass has no reason


def test_top_reason_is_the_worst_verdict_then_severity_then_first():
    warn_high = Reason("bandit", Severity.HIGH, "a", verdict=Verdict.WARN)
    fail_low = Reason("advisories", Severity.LOW, "b", verdict=Verdict.FAIL)
    fail_low2 = Reason("heuristics", Severity.LOW, "c", verdict=Verdict.FAIL)
    assert top_reason((warn_high, fail_low, fail_low2)) is fail_low
    assert top_reason(()) is None


def test_advisories_carry_ids_aliases_and_fixed_in_versions(sample):
    data = prepare(load_scans([sample]))
    by_id = {a.id: a for a in data.advisories}
    assert set(by_id) == {"GHSA-aaaa-bbbb-cccc", "PYSEC-2023-77"}
    ghsa = by_id["GHSA-aaaa-bbbb-cccc"]
    assert (ghsa.name, ghsa.version, ghsa.anchor) == ("vulnpkg", "2.0", "pkg-3")
    assert ghsa.aliases == ("CVE-2024-0001", "PYSEC-2024-9")
    assert ghsa.fixed_in == ("2.0.1", "2.1") and ghsa.summary == "header injection"
    assert by_id["PYSEC-2023-77"].fixed_in == () and by_id["PYSEC-2023-77"].aliases == ()
    assert data.packages[2].advisory_ids == ("GHSA-aaaa-bbbb-cccc", "PYSEC-2023-77")
    # An advisory source's warning is not an advisory: it stays evidence.
    note = Reason("advisories", Severity.LOW, "pip-audit: data is old", None, Verdict.WARN)
    assert parse_advisory(note) is None


def test_evidence_has_file_and_line_for_code_findings(sample):
    data = prepare(load_scans([sample]))
    where = {(e.name, e.reason.check): e.reason.evidence for e in data.evidence
             if e.reason.verdict is not Verdict.PASS}
    assert where[("evilpkg", "heuristics")] == "setup.py:4"
    assert where[("evilpkg", "bandit")] == "evilpkg/run.py:12, evilpkg/other.py:3"
    assert where[("warnpkg", "heuristics")] == "warnpkg/net.py:9"
    assert where[(XSS_NAME, "heuristics")] == '"><svg onload=alert(4)>.py:7'
    assert ("brokenpkg", "advisories") in where  # could not check: evidence too, without a file
    assert [e.reason.verdict for e in data.evidence] == sorted(
        (e.reason.verdict for e in data.evidence), key=lambda v: -v.rank)


def test_scan_time_range_tool_versions_and_inputs(tmp_path):
    a = write_records(tmp_path / "a.jsonl", sample_reports()[:3], start=T0)
    b = write_records(tmp_path / "b.csv", sample_reports()[3:], start=T0 + timedelta(days=2))
    data = prepare(load_scans([a, b]))
    assert data.first_scan == T0 and data.last_scan == T0 + timedelta(days=2, minutes=4)
    assert data.undated == 0 and data.total == 8
    tools = {t.tool: t.versions for t in data.tools}
    assert [t.tool for t in data.tools][0] == "shouldi"
    assert tools["bandit"] == (("1.7.10", 8),)
    assert [(s.path, s.records) for s in data.sources] == [(a, 3), (b, 5)]


def test_the_same_release_twice_counts_once_and_the_latest_scan_wins(tmp_path):
    old = write_records(tmp_path / "old.jsonl", [make_report("evilpkg", "0.1.0", heuristics=[EXEC])],
                        start=T0 + timedelta(days=1))
    new = write_records(tmp_path / "new.csv", [make_report("evilpkg", "0.1.0")], start=T0)
    loaded = load_scans([old, new])  # the later file holds the *older* scan
    assert loaded.duplicates == 1 and len(loaded.records) == 1
    assert loaded.records[0].verdict is Verdict.FAIL
    assert prepare(loaded).duplicates == 1


def test_risk_histogram_bins_scores_and_is_absent_without_scores():
    h = risk_histogram([0, 9.9, 10, 55.5, 99, 100])
    assert h is not None and h.scored == 6
    assert [b.count for b in h.bars] == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    tallest = max(h.bars, key=lambda b: b.height)
    assert tallest.y + tallest.height == h.axis_y and tallest.y == pytest.approx(14)
    assert h.bars[2].height == 0 and h.bars[9].css == "risk-high" and h.bars[0].css == "risk-low"
    assert h.bars[9].title == "risk 90-100: 2 packages"
    assert [t.label for t in h.x_ticks] == [str(v) for v in range(0, 101, 10)]
    assert risk_histogram([]) is None


def test_no_risk_score_at_all_gives_no_chart(tmp_path):
    path = write_records(tmp_path / "scans.sqlite", sample_reports(risk=False))
    data = prepare(load_scans([path]))
    assert data.risk_chart is None and data.scored == 0
    assert all(p.risk_score is None for p in data.packages)


def test_check_chart_counts_each_checks_verdict_per_package(sample):
    loaded = load_scans([sample])
    chart = check_chart(loaded.records)
    rows = {row.check: {s.css: s.count for s in row.segments} for row in chart.rows}
    assert [row.check for row in chart.rows] == [
        "archive", "bandit", "heuristics", "advisories", "metadata", "typosquat"]
    assert rows["heuristics"] == {"out-fail": 2, "out-warn": 1, "out-pass": 5}
    assert rows["advisories"] == {"out-fail": 1, "out-error": 1, "out-pass": 6}
    assert rows["bandit"] == {"out-warn": 1, "out-pass": 7}  # bandit alone never fails
    for row in chart.rows:  # the segments tile the bar exactly
        assert sum(s.width for s in row.segments) == pytest.approx(chart.width - chart.label_width - 10)
        assert row.segments[0].x == chart.label_width


# -- bad input -----------------------------------------------------------------------------

def _record_file(tmp_path: Path, **changes) -> Path:
    record = record_of(make_report("pkg", "1.0"))
    record.update(changes)
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(record) + "\n")
    return path


@pytest.mark.parametrize(("changes", "message"), [
    ({"verdict": "maybe"}, "unknown verdict 'maybe'"),
    ({"verdict": None}, "unknown verdict None"),
    ({"reasons": "[{"}, "the reasons column is not JSON"),
    ({"reasons": "{}"}, "the reasons column is not a list"),
    ({"reasons": None}, "the reasons column is empty"),
    ({"reasons": json.dumps([{"check": "x", "severity": "huge", "message": "m",
                              "evidence": None, "verdict": "warn"}])}, "reason 1 is not a shouldi reason"),
    ({"reasons": json.dumps([{"check": "x", "severity": "low", "message": "m", "extra": 1,
                              "evidence": None, "verdict": "warn"}])}, "reason 1 is not a shouldi reason"),
    ({"risk.score": 140}, "risk.score is not a score from 0 to 100"),
    ({"risk.score": "high"}, "risk.score is not a number"),
    ({"risk.reliable": "perhaps"}, "risk.reliable is not true or false"),
    ({"scanned_at": "yesterday"}, "scanned_at is not an ISO time"),
], ids=["verdict", "no-verdict", "reasons-json", "reasons-object", "no-reasons", "severity",
        "unknown-key", "risk-range", "risk-text", "reliable", "time"])
def test_a_broken_record_is_an_error_naming_file_and_record(tmp_path, changes, message):
    path = _record_file(tmp_path, **changes)
    with pytest.raises(ReportError, match="bad.jsonl: record 1 \\(pkg 1.0\\): ") as err:
        load_scans([path])
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_foreign_file_is_refused_not_reported_as_empty(tmp_path):
    foreign = tmp_path / "people.csv"
    foreign.write_text("name,version,age\nada,1,36\n")
    with pytest.raises(ReportError, match="not a shouldi scan record"):
        load_scans([foreign])
    nameless = tmp_path / "x.jsonl"
    nameless.write_text('{"colour": "red"}\n')
    with pytest.raises(SourceError, match="x.jsonl:1: record without 'name'"):
        load_scans([nameless])  # the source itself refuses it (exit 2 too)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(ReportError, match="no scan records in"):
        load_scans([empty])


def test_credentials_in_urls_are_masked_in_indexes_and_messages(tmp_path):
    secret = "https://ci:s3cret@pypi.example/simple/"
    unreachable = make_report("p0", "1.0", advisory_status=Status.ERROR)
    reason = Reason("index", Severity.HIGH, f"could not fetch {secret}x/ (timed out)",
                    f"{secret}x/", Verdict.ERROR)
    unreachable = replace(unreachable, reasons=(reason, *unreachable.reasons))
    path = tmp_path / "scans.jsonl"
    with open_source(path).writer() as writer:
        for report, index in [(unreachable, secret), (make_report("p1", "1.0"), INDEX),
                              (make_report("p2", "1.0"), INDEX)]:
            writer.write(report_to_record(report, index, scanned_at=T0))
    data = prepare(load_scans([path, path]))  # a file named twice is read once
    assert data.indexes == ((INDEX, 2), ("https://***@pypi.example/simple/", 1))
    assert data.duplicates == 0 and len(data.sources) == 1
    shown = [e.reason for e in data.evidence if e.reason.check == "index"]
    assert shown == [Reason("index", Severity.HIGH,
                            "could not fetch https://***@pypi.example/simple/x/ (timed out)",
                            "https://***@pypi.example/simple/x/", Verdict.ERROR)]
    assert "s3cret" not in repr(data)
