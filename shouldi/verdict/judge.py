"""The verdict: every check's outcome in, one :class:`PackageReport` out.

The flow gathers what each check gave — a :class:`~shouldi.results.CheckResult`, or the
engine's :class:`~shouldi.dataflow.Missing` saying why there is none — into a
:class:`CheckSet`; :func:`judge` turns it into reasons with :mod:`shouldi.verdict.rules` and
takes the worst (``pass < warn < error < fail``). A check that raised and one that returned
"could not check" reach the rules the same way, so they give the same verdict.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shouldi.dataflow.inputs import Missing
from shouldi.errors import EXIT_BAD_INPUT
from shouldi.policy import Policy
from shouldi.results import Advisory, AdvisoryAnswer, CheckResult, Release, Severity, Status
from shouldi.verdict import rules
from shouldi.verdict.report import CheckSummary, PackageReport, Reason, RiskScore, Verdict

__all__ = ["CheckOutcome", "CheckSet", "judge", "not_checked", "not_resolved", "with_reasons"]


@dataclass(frozen=True)
class CheckOutcome:
    """What one check gave: a result, or why there is none. ``required``: a check that could
    not run makes the verdict ``error`` (otherwise ``warn``)."""

    name: str
    given: CheckResult | Missing
    required: bool = True


@dataclass(frozen=True)
class CheckSet:
    """Every check of one release, with the advisories found and each source's answer."""

    checks: tuple[CheckOutcome, ...]
    advisories: tuple[Advisory, ...] = ()
    advisory_answers: tuple[AdvisoryAnswer, ...] = ()

    def result(self, name: str) -> CheckResult | None:
        """The result of ``name`` if it ran (whatever its status)."""
        for c in self.checks:
            if c.name == name and isinstance(c.given, CheckResult):
                return c.given
        return None


def _summary(given: CheckResult | Missing) -> CheckSummary:
    if isinstance(given, CheckResult):
        return CheckSummary.of(given)
    status = Status.ERROR if given.why == "failed" else Status.SKIPPED
    return CheckSummary(status, given.message)


def judge(release: Release, checks: CheckSet, policy: Policy,
          risk: RiskScore | None = None, risk_problem: str | None = None) -> PackageReport:
    """The report of a resolved release. ``risk_problem``: why there is no risk score although
    one was asked for (a warning: the score informs, it is not a check)."""
    reasons: list[Reason] = []
    reasons += rules.unchecked_reasons((c.name, c.given, c.required) for c in checks.checks)
    for c in checks.checks:
        if (isinstance(c.given, CheckResult) and c.given.status is Status.OK
                and c.name not in rules.INFORMS_ONLY):
            reasons += rules.finding_reasons(c.given, policy)
    reasons += rules.advisory_reasons(checks.advisories, policy)
    reasons += rules.staleness_reasons(checks.advisory_answers, policy)
    reasons += rules.risk_reasons(risk, policy)
    if risk_problem:
        reasons.append(Reason("risk", Severity.LOW, risk_problem, None, Verdict.WARN))
    verdict = _worst(reasons)
    reasons.sort(key=_order)
    summaries: Mapping[str, CheckSummary] = {c.name: _summary(c.given) for c in checks.checks}
    return PackageReport(release.name, release.version, verdict, tuple(reasons), summaries,
                         release.requested, release.artifact, checks.advisories, risk,
                         release.artifact_reason, None, checks.advisory_answers)


def _worst(reasons: Sequence[Reason]) -> Verdict:
    return max((r.verdict for r in reasons), key=lambda v: v.rank, default=Verdict.PASS)


def _order(r: Reason) -> tuple[int, int]:
    return (-r.verdict.rank, -r.severity.rank)


def with_reasons(report: PackageReport, reasons: Sequence[Reason]) -> PackageReport:
    """``report`` with more reasons, its verdict the worst of all again.

    For what only the whole of several answers tells, such as a dependency tree (a failing
    dependency fails what pulls it in, see :func:`rules.dependency_verdict_reasons`): each
    package's own answer is judged by the flow, and this adds what its tree says.
    """
    if not reasons:
        return report
    merged = sorted((*report.reasons, *reasons), key=_order)
    worst = _worst(reasons)
    verdict = worst if worst.rank > report.verdict.rank else report.verdict
    return dataclasses.replace(report, verdict=verdict, reasons=tuple(merged))


def not_resolved(spec: str, missing: Missing) -> PackageReport:
    """The report of a spec that resolved to nothing: bad input (exit 2) when the spec named
    nothing real, else "could not check" (the index could not be asked)."""
    bad = getattr(missing.exception, "exit_code", None) == EXIT_BAD_INPUT
    message = str(missing.exception) if bad and missing.exception else missing.message
    reason = Reason("resolve", Severity.HIGH, message, None, Verdict.ERROR, allowable=False)
    return PackageReport(spec, None, Verdict.ERROR, (reason,), {}, spec,
                         input_error=message if bad else None)


def not_checked(name: str, spec: str, why: str, where: str | None) -> PackageReport:
    """The report of a dependency shouldi cannot look up (an editable checkout, a direct URL):
    "could not check", never allowable."""
    reason = Reason("input", Severity.HIGH, f"not checked: {why}", where, Verdict.ERROR,
                    allowable=False)
    return PackageReport(name, None, Verdict.ERROR, (reason,), {}, spec)
