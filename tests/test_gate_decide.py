"""The gate's decision on real reports (made by the verdict module from check results)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from reports import make_report

from shouldi.gate import GateOptions, decide, load_allowlist
from shouldi.inputs.dependency import make_dependency
from shouldi.results import Advisory, CheckResult, Finding, Severity, Status, VulnId
from shouldi.verdict import RiskScore, Verdict

OK = CheckResult("x", Status.OK)
TODAY = date(2026, 1, 15)


def report(name="pkg", version="1.0", advisories=(), heuristics=(), advisory_status=Status.OK,
           risk=None):
    checks = {c: replace(OK, check=c) for c in ("archive", "bandit", "heuristics", "advisories")}
    checks["heuristics"] = replace(checks["heuristics"], findings=tuple(heuristics))
    checks["advisories"] = replace(checks["advisories"], status=advisory_status)
    return make_report(name, version, advisory_list=tuple(advisories), risk=risk, **checks)


def dep(spec="pkg==1.0", line=3):
    return make_dependency(spec, "requirements.txt", line)


LOW_ADVISORY = Advisory(VulnId("PYSEC-1"), frozenset({"CVE-1"}), "minor", severity=Severity.LOW)
HIGH_ADVISORY = Advisory(VulnId("GHSA-2"), frozenset(), "major")  # no severity: counts as high
EXEC = Finding("heuristics", "exec-decoded-data", Severity.HIGH, "exec of base64", "setup.py", 4)
NETWORK = Finding("heuristics", "network", Severity.MEDIUM, "opens a socket", "pkg/x.py", 9)


def allowlist(tmp_path: Path, text: str):
    path = tmp_path / "allow.toml"
    path.write_text(text)
    return load_allowlist(path)


def test_outcomes_and_exit_codes_follow_the_worst_counted_reason():
    clean = decide([(dep(), report())], today=TODAY)
    assert clean.packages[0].outcome is Verdict.PASS and clean.exit_code == 0
    warn = decide([(dep(), report(heuristics=[NETWORK]))], today=TODAY)
    assert warn.packages[0].outcome is Verdict.WARN and warn.exit_code == 0
    unchecked = decide([(dep(), report(advisory_status=Status.SKIPPED))], today=TODAY)
    assert unchecked.packages[0].outcome is Verdict.ERROR and unchecked.exit_code == 3
    both = decide([(dep(), report(advisory_status=Status.SKIPPED)),
                   (dep("evil==1", 4), report("evil", heuristics=[EXEC]))], today=TODAY)
    assert [p.outcome for p in both.packages] == [Verdict.ERROR, Verdict.FAIL]
    assert both.exit_code == 1


def test_excluded_dependency_does_not_count():
    result = decide([(dep("win==1; sys_platform == 'win32'"), None)], today=TODAY)
    assert result.packages[0].outcome is None and result.exit_code == 0


def test_allowlist_allows_by_advisory_alias_and_says_which_entry(tmp_path):
    allow = allowlist(tmp_path, '[[allow]]\npackage = "pkg"\nadvisory = "cve-1"\n'
                                'reason = "not reachable"\nexpires = 2026-12-31\n')
    result = decide([(dep(), report(advisories=[LOW_ADVISORY]))], allowlist=allow, today=TODAY)
    (pkg,) = result.packages
    assert pkg.report.verdict is Verdict.FAIL  # the report itself is unchanged
    assert pkg.outcome is Verdict.PASS and result.exit_code == 0
    (g,) = [g for g in pkg.reasons if g.reason.check == "advisories"]
    assert not g.counts and g.allowed_by.number == 1 and g.note == "allowed: not reachable"
    assert result.unused == () and result.expired == ()


def test_expired_entry_stops_allowing_and_says_so(tmp_path):
    allow = allowlist(tmp_path, '[[allow]]\npackage = "pkg"\ncheck = "heuristics"\n'
                                'reason = "reviewed"\nexpires = 2026-01-14\n'
                                '[[allow]]\npackage = "other"\nreason = "x"\nexpires = 2027-01-01\n')
    result = decide([(dep(), report(heuristics=[EXEC]))], allowlist=allow, today=TODAY)
    (pkg,) = result.packages
    assert pkg.outcome is Verdict.FAIL and result.exit_code == 1
    (g,) = [g for g in pkg.reasons if g.reason.check == "heuristics"]
    assert g.counts and g.expired_entry.number == 1
    assert [e.number for e in result.expired] == [1]
    assert [e.number for e in result.unused] == [2]
    # the day before expiry it still allowed
    still = decide([(dep(), report(heuristics=[EXEC]))], allowlist=allow, today=date(2026, 1, 14))
    assert still.exit_code == 0


def test_severity_floor_ignores_only_advisories_below_it():
    r = report(advisories=[LOW_ADVISORY, HIGH_ADVISORY], heuristics=[NETWORK])
    result = decide([(dep(), r)], options=GateOptions(severity_floor=Severity.MEDIUM), today=TODAY)
    judged = {g.reason.message.split(":")[0]: g for g in result.packages[0].reasons}
    assert not judged["PYSEC-1"].counts and "severity floor (medium)" in judged["PYSEC-1"].note
    assert judged["GHSA-2"].counts  # unknown severity counts as high
    assert judged["network"].counts  # not an advisory: the floor does not apply
    assert result.packages[0].outcome is Verdict.FAIL
    only_low = decide([(dep(), report(advisories=[LOW_ADVISORY]))],
                      options=GateOptions(severity_floor=Severity.HIGH), today=TODAY)
    assert only_low.exit_code == 0


def test_fail_on_warn_turns_a_warning_into_a_failure():
    r = report(heuristics=[NETWORK])
    result = decide([(dep(), r)], options=GateOptions(fail_on_warn=True), today=TODAY)
    (g,) = [g for g in result.packages[0].reasons if g.reason.check == "heuristics"]
    assert g.verdict is Verdict.FAIL and "--fail-on-warn" in g.note
    assert result.exit_code == 1


@pytest.mark.parametrize(("risk", "limit", "code"), [
    (None, 50.0, 0), (RiskScore(49.0), 50.0, 0), (RiskScore(50.0, ("new_project",)), 50.0, 1),
    (RiskScore(99.0), None, 0),
], ids=["no-model", "below", "at-limit", "no-limit"])
def test_max_risk_score_fails_only_when_a_score_reaches_it(risk, limit, code):
    result = decide([(dep(), report(risk=risk))], options=GateOptions(max_risk_score=limit),
                    today=TODAY)
    assert result.exit_code == code
    if code:
        (g,) = [g for g in result.packages[0].reasons if g.reason.check == "risk"]
        assert g.reason.evidence == "new_project"


def test_an_allowlist_never_covers_could_not_check(tmp_path):
    """Silent pass 2: an entry for a check, or for the whole package, allows findings only."""
    allow = allowlist(tmp_path, '[[allow]]\npackage = "pkg"\ncheck = "bandit"\nreason = "r"\n'
                                'expires = 2026-12-31\n[[allow]]\npackage = "gone"\nreason = "r"\n'
                                'expires = 2026-12-31\n')
    timed_out = make_report(bandit=CheckResult("bandit", Status.ERROR, reason="timed out"))
    from shouldi.dataflow import Missing
    from shouldi.index.errors import NotFound
    from shouldi.verdict.judge import not_resolved

    missing = Missing("Release", "failed", "resolve_release failed: no project named 'gone'",
                      "resolve_release", "NotFound", "resolve_release",
                      NotFound("no project named 'gone' on https://index.example/simple/"))
    gone = not_resolved("gone==1.0", missing)
    result = decide([(dep(), timed_out), (dep("gone==1.0", 4), gone)], allowlist=allow, today=TODAY)
    assert [p.outcome for p in result.packages] == [Verdict.ERROR, Verdict.ERROR]
    assert all(g.counts and g.allowed_by is None for p in result.packages for g in p.reasons)
    assert result.exit_code == 2  # "no such project" is bad input
