"""The verdict module: a check that could not run is never a pass, however it failed to run;
fail outranks error; one cause is one reason; every policy key is used and validated."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from reports import make_report

from shouldi.dataflow import Missing
from shouldi.policy import Policy, PolicyError, load_policy
from shouldi.results import Advisory, AdvisoryAnswer, CheckResult, Finding, Severity, Status, VulnId
from shouldi.verdict import RiskScore, Verdict, exit_code_for


def crashed(check, op=None, root=None):
    op = op or f"{check}_scan"
    return Missing(check, "failed", f"{op} failed: boom", op, "RuntimeError", root or op)


def test_all_checks_ok_and_clean_is_pass():
    report = make_report()
    assert report.verdict is Verdict.PASS and report.reasons == ()


@pytest.mark.parametrize("check", ["archive", "bandit", "heuristics", "advisories"])
@pytest.mark.parametrize("how", ["skipped", "error", "raised", "absent"])
def test_a_required_check_that_did_not_run_is_an_error(check, how):
    given = {"skipped": CheckResult(check, Status.SKIPPED, reason="tool not found"),
             "error": CheckResult(check, Status.ERROR, reason="timed out"),
             "raised": crashed(check), "absent": None}[how]
    report = make_report(**{check: given})
    assert report.verdict is Verdict.ERROR
    (reason,) = report.reasons
    assert reason.check == check and reason.verdict is Verdict.ERROR
    if check == "advisories" and how in ("skipped", "error"):  # the sources' own one line
        assert reason.message == given.reason
    else:
        assert reason.message.startswith(f"{check} could not check this release (")
    assert reason.allowable is False


@pytest.mark.parametrize("check", ["typosquat", "metadata"])
def test_an_informative_check_that_raised_or_returned_skipped_gives_the_same_verdict(check):
    raised = make_report(**{check: crashed(check)})
    skipped = make_report(**{check: CheckResult(check, Status.SKIPPED, reason="no data")})
    assert raised.verdict is skipped.verdict is Verdict.WARN  # never a silent pass


def test_one_cause_is_one_reason():
    root = "extract_artifact"
    report = make_report(archive=crashed("archive", "archive_check", root),
                         bandit=crashed("bandit", "bandit_scan", root),
                         heuristics=crashed("heuristics", "heuristics_scan", root))
    (reason,) = report.reasons
    assert reason.message.startswith("archive, bandit, heuristics could not check this release")
    assert set(report.checks) >= {"archive", "bandit", "heuristics"}
    assert report.checks["bandit"].status is Status.ERROR


def test_fail_outranks_error():
    advisory = Advisory(VulnId("PYSEC-1"), frozenset({"CVE-1"}), "bad", fixed_versions=("1.1",))
    report = make_report(bandit=CheckResult("bandit", Status.ERROR, reason="crashed"), advisory_list=(advisory,))
    assert report.verdict is Verdict.FAIL
    assert report.reasons[0].evidence == "PYSEC-1 (CVE-1); fixed in: 1.1"
    assert exit_code_for([report.verdict, Verdict.ERROR]) == 1
    assert exit_code_for([Verdict.PASS, Verdict.ERROR, Verdict.WARN]) == 3
    assert exit_code_for([Verdict.PASS, Verdict.WARN]) == 0
    assert exit_code_for([Verdict.FAIL], bad_input=True) == 2


def test_heuristic_severity_decides_and_file_names_do_not():
    def finding(sev, weight=1.0, file="setup.py"):
        return Finding("heuristics", "process-spawn", sev, "spawns a process", file, 3, weight=weight)

    def verdict(*findings):
        return make_report(heuristics=CheckResult("heuristics", Status.OK, findings)).verdict

    assert verdict(finding(Severity.HIGH)) is Verdict.FAIL
    assert verdict(finding(Severity.MEDIUM)) is Verdict.WARN
    assert verdict(finding(Severity.LOW)) is Verdict.PASS
    # the scanner decides severity from where code runs; the verdict does not re-weigh by path
    assert verdict(finding(Severity.HIGH, 0.25, "tests/test_x.py")) is Verdict.FAIL
    info = make_report(heuristics=CheckResult("heuristics", Status.OK, (finding(Severity.LOW),)))
    assert info.reasons[0].verdict is Verdict.PASS and info.reasons[0].evidence == "setup.py:3"


def test_bandit_findings_are_information_unless_the_policy_counts_them():
    many = tuple(Finding("bandit", "B602", Severity.HIGH, "shell=True", f"m{i}.py", 1, Severity.HIGH)
                 for i in range(187))
    bandit = CheckResult("bandit", Status.OK, many)
    quiet = make_report(bandit=bandit)
    assert quiet.verdict is Verdict.PASS
    assert len(quiet.reasons) == 21 and quiet.reasons[-1].message.startswith("and 167 more bandit")
    strict = make_report(bandit=bandit, policy=Policy(bandit_warn_high=5, bandit_fail_high=500))
    assert strict.verdict is Verdict.WARN
    assert "187 high-severity bandit findings" in strict.reasons[0].message


def test_old_advisory_data_is_said_not_warned_and_the_policy_decides_when():
    old = datetime.now(timezone.utc) - timedelta(days=782)
    answers = (AdvisoryAnswer("local-osv", Status.OK, data_time=old),)
    report = make_report(answers=answers)
    assert report.verdict is Verdict.PASS
    (note,) = report.reasons
    assert note.check == "advisory-data" and "782 days old" in note.message
    assert make_report(answers=answers, policy=Policy(advisory_max_age_days=1000)).reasons == ()


def test_risk_gates_only_when_the_policy_sets_a_maximum():
    risk = RiskScore(90.0, ("metadata.release_count=1 (+1.20)",))
    assert make_report(risk=risk).verdict is Verdict.PASS
    assert make_report(risk=risk, policy=Policy(max_risk_score=80)).verdict is Verdict.FAIL


def test_policy_file_overrides_and_rejects(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.shouldi]\nadvisory_fail = 'critical'\nbandit_warn_high = 3\n")
    policy = load_policy(tmp_path)
    assert policy.advisory_fail is Severity.CRITICAL and policy.bandit_warn_high == 3
    (tmp_path / "shouldi.toml").write_text("advisory_fail = 'urgent'\n")
    with pytest.raises(PolicyError, match="advisory_fail = 'urgent': expected one of info, low, medium, high, critical"):
        load_policy(tmp_path)
    (tmp_path / "shouldi.toml").write_text("advisory_fail = [\n")
    with pytest.raises(PolicyError, match="invalid TOML"):
        load_policy(tmp_path)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("shouldi.toml", b"\x89PNG\r\n\x1a\n\x00\xff", "not UTF-8 text"),
    ("pyproject.toml", b"tool = 5\n", r"\[tool\] must be a table"),
    ("pyproject.toml", b"[tool]\nshouldi = 5\n", r"\[tool.shouldi\] must be a table, not a number"),
    ("shouldi.toml", b"max_risk_score = nan\n", "expected a finite number"),
    ("shouldi.toml", b"max_risk_score = inf\n", "expected a finite number"),
    ("shouldi.toml", b"max_risk_score = 101\n", "a risk score is 0 to 100"),
    ("shouldi.toml", b"bandit_warn_high = -1\n", "expected a finite number, 0 or more"),
    ("shouldi.toml", b"metadata_fail = 'yes'\n", "expected true or false"),
    ("shouldi.toml", b"heuristic_fail = 'high'\n", "unknown policy setting 'heuristic_fail'"),
], ids=["binary", "tool-int", "shouldi-int", "nan", "inf", "over-100", "negative", "not-bool", "typo"])
def test_bad_policy_files_are_one_line_usage_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(PolicyError, match=message) as info:
        load_policy(path=path)
    assert info.value.exit_code == 2 and "\n" not in str(info.value)


def test_a_fifo_policy_is_refused_without_blocking(tmp_path):
    import os

    fifo = tmp_path / "shouldi.toml"
    os.mkfifo(fifo)
    with pytest.raises(PolicyError, match="named pipe .FIFO.; a policy file must be a regular file"):
        load_policy(path=fifo)


def test_every_policy_key_is_read_by_the_verdict_module():
    import dataclasses
    import inspect

    import shouldi.verdict.rules as rules

    source = inspect.getsource(rules)
    unused = [f.name for f in dataclasses.fields(Policy) if f"policy.{f.name}" not in source]
    assert unused == []
