"""Scoring rules: a check that could not run is never a pass; fail outranks error."""

from __future__ import annotations

import pytest

from shouldi.policy import Policy, PolicyError, load_policy
from shouldi.results import Advisory, CheckResult, Finding, Severity, Status, VulnId
from shouldi.verdict import Verdict, exit_code_for, score

OK = {c: CheckResult(c, Status.OK) for c in ("archive", "bandit", "heuristics", "advisories")}


def judge(policy=None, advisory_list=(), **overrides):
    checks = {**OK, **overrides}
    return score(name="pkg", version="1.0", policy=policy or Policy(), advisory_list=advisory_list, **checks)


def test_all_checks_ok_and_clean_is_pass():
    report = judge()
    assert report.verdict is Verdict.PASS
    assert report.reasons == ()


@pytest.mark.parametrize("check", ["archive", "bandit", "heuristics", "advisories"])
@pytest.mark.parametrize("status", [Status.SKIPPED, Status.ERROR, None], ids=["skipped", "error", "missing"])
def test_a_required_check_that_did_not_run_is_an_error(check, status):
    result = None if status is None else CheckResult(check, status, reason="tool not found")
    report = judge(**{check: result})
    assert report.verdict is Verdict.ERROR
    assert report.reasons[0].check == check
    assert "could not check this release" in report.reasons[0].message


def test_fail_outranks_error():
    advisory = Advisory(VulnId("PYSEC-1"), frozenset({"CVE-1"}), "bad", fixed_versions=("1.1",))
    report = judge(bandit=CheckResult("bandit", Status.ERROR, reason="crashed"), advisory_list=(advisory,))
    assert report.verdict is Verdict.FAIL
    assert exit_code_for([report.verdict, Verdict.ERROR]) == 1
    assert exit_code_for([Verdict.PASS, Verdict.ERROR, Verdict.WARN]) == 3
    assert exit_code_for([Verdict.PASS, Verdict.WARN]) == 0


def test_heuristic_severity_thresholds_and_lower_weight_in_tests():
    def finding(sev, weight=1.0):
        return Finding("heuristics", "process-spawn", sev, "spawns a process", "setup.py", 3, weight=weight)

    assert judge(heuristics=CheckResult("heuristics", Status.OK, (finding(Severity.HIGH),))).verdict is Verdict.FAIL
    assert judge(heuristics=CheckResult("heuristics", Status.OK, (finding(Severity.MEDIUM),))).verdict is Verdict.WARN
    assert judge(heuristics=CheckResult("heuristics", Status.OK, (finding(Severity.LOW),))).verdict is Verdict.PASS
    in_tests = judge(heuristics=CheckResult("heuristics", Status.OK, (finding(Severity.HIGH, 0.25),)))
    assert in_tests.verdict is Verdict.WARN  # one step lower, never dropped
    assert in_tests.reasons[0].evidence == "setup.py:3"


def test_policy_file_overrides_and_rejects(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.shouldi]\nadvisory_fail = 'critical'\nbandit_warn_high = 3\n")
    policy = load_policy(tmp_path)
    assert policy.advisory_fail is Severity.CRITICAL
    assert policy.bandit_warn_high == 3
    (tmp_path / "shouldi.toml").write_text("advisory_fail = 'urgent'\n")
    with pytest.raises(PolicyError, match="advisory_fail = 'urgent': expected one of info, low, medium, high, critical"):
        load_policy(tmp_path)
    (tmp_path / "shouldi.toml").write_text("advisory_fail = [\n")
    with pytest.raises(PolicyError, match="invalid TOML"):
        load_policy(tmp_path)
