"""Real reports for tests: check results through the verdict module (shouldi.verdict.judge)."""

from __future__ import annotations

from shouldi.dataflow import Missing
from shouldi.policy import Policy
from shouldi.results import Artifact, CheckResult, Release, Status
from shouldi.verdict.judge import CheckOutcome, CheckSet, judge

REQUIRED = ("archive", "bandit", "heuristics", "advisories")
ARTIFACT = Artifact("pkg-1.0.tar.gz", "https://files.example/pkg-1.0.tar.gz", "0" * 64, "sdist")


def release(name="pkg", version="1.0", artifact=ARTIFACT):
    return Release(name, version, "https://index.example/simple/", artifact, "sdist", (), f"{name}=={version}")


def make_report(name="pkg", version="1.0", policy=None, advisory_list=(), risk=None, answers=(),
                **checks):
    """``checks``: name -> CheckResult, a Missing, or None (did not run). Required checks not
    given are ``ok``; ``metadata``/``typosquat`` only when given."""
    given = {c: CheckResult(c, Status.OK) for c in REQUIRED}
    given.update(checks)
    outcomes = []
    for c, value in given.items():
        if value is None:
            value = Missing(c, "not produced", f"{c} did not run")
        outcomes.append(CheckOutcome(c, value, c in REQUIRED))
    return judge(release(name, version), CheckSet(tuple(outcomes), tuple(advisory_list), tuple(answers)),
                 policy or Policy(), risk)
