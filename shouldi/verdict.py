"""Scoring: scanner results in, a verdict with its reasons out.

The verdict is the worst of what the reasons say, ordered ``pass < warn < error < fail``: a
refused archive or a known vulnerability fails even when another check could not run, and a
required check that could not run (skipped or error) makes the verdict ``error`` — never
``pass``. The required checks are the code scan (bandit and our heuristics) and known
vulnerabilities (at least one advisory source must have vouched for this exact release).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from shouldi.errors import EXIT_ERROR, EXIT_FAIL, EXIT_OK
from shouldi.policy import Policy
from shouldi.results import Advisory, Artifact, CheckResult, Finding, Severity, Status

__all__ = ["CheckSummary", "PackageReport", "Reason", "RiskScore", "Verdict", "exit_code_for", "score",
           "with_risk"]


class Verdict(str, enum.Enum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    WARN = "warn"
    ERROR = "error"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return list(Verdict).index(self)


@dataclass(frozen=True)
class Reason:
    """One reason for the verdict: which check, how severe, what, and where (the evidence)."""

    check: str
    severity: Severity
    message: str
    evidence: str | None = None
    verdict: Verdict = Verdict.WARN


@dataclass(frozen=True)
class CheckSummary:
    status: Status
    reason: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    tool_version: str | None = None
    warnings: tuple[str, ...] = ()

    @classmethod
    def of(cls, result: CheckResult) -> CheckSummary:
        return cls(result.status, result.reason, dict(result.counts), result.tool_version,
                   result.warnings)


@dataclass(frozen=True)
class RiskScore:
    """The risk model's score (0-100) and the features that drove it (filled by the model)."""

    score: float
    top_features: tuple[str, ...] = ()
    reliable: bool = True
    drift: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackageReport:
    name: str
    version: str | None
    verdict: Verdict
    reasons: tuple[Reason, ...]
    checks: Mapping[str, CheckSummary]
    requested: str = ""
    artifact: Artifact | None = None
    advisories: tuple[Advisory, ...] = ()
    risk: RiskScore | None = None


def exit_code_for(verdicts: list[Verdict]) -> int:
    if Verdict.FAIL in verdicts:
        return EXIT_FAIL
    if Verdict.ERROR in verdicts:
        return EXIT_ERROR
    return EXIT_OK


def _where(f: Finding) -> str | None:
    if f.file is None:
        return None
    return f"{f.file}:{f.line}" if f.line is not None else f.file


def _unavailable(check: str, result: CheckResult | None, required: bool) -> list[Reason]:
    if result is None:
        why = "did not run"
    elif result.status is Status.OK:
        return []
    else:
        why = f"{result.status.value}: {result.reason or 'no reason given'}"
    verdict = Verdict.ERROR if required else Verdict.WARN
    return [Reason(check, Severity.INFO if not required else Severity.HIGH,
                   f"{check} could not check this release ({why})", None, verdict)]


def _heuristics(result: CheckResult, policy: Policy) -> list[Reason]:
    out = []
    for f in result.findings:
        effective = f.severity
        if f.weight < 1.0 and effective.rank > Severity.LOW.rank:  # tests/, docs/, examples/
            effective = Severity(list(Severity)[effective.rank - 1].value)
        if effective.rank >= policy.heuristics_fail.rank:
            verdict = Verdict.FAIL
        elif effective.rank >= policy.heuristics_warn.rank:
            verdict = Verdict.WARN
        else:
            continue
        out.append(Reason(result.check, f.severity, f"{f.rule}: {f.message}", _where(f), verdict))
    return out


def _bandit(result: CheckResult, policy: Policy) -> list[Reason]:
    serious = [
        f for f in result.findings
        if f.severity.rank >= Severity.HIGH.rank
        and (f.confidence is None or f.confidence.rank >= Severity.MEDIUM.rank)
    ]
    weighted = sum(f.weight for f in serious)
    if weighted < policy.bandit_warn_high:
        return []
    fail = policy.bandit_fail_high is not None and weighted >= policy.bandit_fail_high
    first = sorted(serious, key=lambda f: -f.weight)[:3]
    where = ", ".join(filter(None, (_where(f) for f in first)))
    return [Reason("bandit", Severity.HIGH,
                   f"{len(serious)} high-severity bandit findings (weighted {weighted:g})"
                   f", e.g. {first[0].rule}: {first[0].message}", where or None,
                   Verdict.FAIL if fail else Verdict.WARN)]


def _advisories(advisories: tuple[Advisory, ...], policy: Policy) -> list[Reason]:
    out = []
    for a in advisories:
        severity = a.severity or Severity.HIGH
        fixed = ", ".join(a.fixed_versions) or "no fixed version known"
        aliases = ", ".join(sorted(a.aliases - {a.id}))
        evidence = f"{a.id}" + (f" ({aliases})" if aliases else "") + f"; fixed in: {fixed}"
        verdict = Verdict.FAIL if severity.rank >= policy.advisory_fail.rank else Verdict.WARN
        out.append(Reason("advisories", severity, f"{a.id}: {a.summary or 'known vulnerability'}",
                          evidence, verdict))
    return out


def _signals(result: CheckResult, fail: bool, minimum: Severity = Severity.LOW) -> list[Reason]:
    return [
        Reason(result.check, f.severity, f.message, _where(f),
               Verdict.FAIL if fail and f.severity.rank >= Severity.MEDIUM.rank else Verdict.WARN)
        for f in result.findings if f.severity.rank >= minimum.rank
    ]


def _risk_reasons(risk: RiskScore | None, policy: Policy) -> list[Reason]:
    if risk is None or policy.max_risk_score is None or risk.score < policy.max_risk_score:
        return []
    return [Reason("risk", Severity.HIGH,
                   f"risk score {risk.score:.0f} is at or above {policy.max_risk_score:g}",
                   ", ".join(risk.top_features) or None, Verdict.FAIL)]


def with_risk(report: PackageReport, risk: RiskScore | None, policy: Policy) -> PackageReport:
    """``report`` with the model's risk score, gated by ``policy.max_risk_score``."""
    extra = tuple(_risk_reasons(risk, policy))
    verdict = max((report.verdict, *(r.verdict for r in extra)), key=lambda v: v.rank)
    return dataclasses.replace(report, risk=risk, verdict=verdict, reasons=extra + report.reasons)


def score(
    *,
    name: str,
    version: str | None,
    policy: Policy,
    archive: CheckResult | None,
    bandit: CheckResult | None,
    heuristics: CheckResult | None,
    advisories: CheckResult | None,
    advisory_list: tuple[Advisory, ...] = (),
    metadata: CheckResult | None = None,
    typosquat: CheckResult | None = None,
    requested: str = "",
    artifact: Artifact | None = None,
    risk: RiskScore | None = None,
) -> PackageReport:
    """Turn results into a report. ``None`` means the check did not run at all."""
    reasons: list[Reason] = []
    if archive is not None and archive.findings:
        reasons += [Reason("archive", f.severity, f.message, f.file, Verdict.FAIL)
                    for f in archive.findings]
    reasons += _unavailable("archive", archive, required=True)
    for check, result in (("bandit", bandit), ("heuristics", heuristics)):
        reasons += _unavailable(check, result, required=True)
    if heuristics is not None:
        reasons += _heuristics(heuristics, policy)
    if bandit is not None:
        reasons += _bandit(bandit, policy)
    reasons += _unavailable("advisories", advisories, required=True)
    reasons += _advisories(advisory_list, policy)
    if advisories is not None:
        reasons += [Reason("advisories", Severity.LOW, w, None, Verdict.WARN)
                    for w in advisories.warnings]
    if metadata is not None:
        reasons += _signals(metadata, policy.metadata_fail, Severity.MEDIUM)
    if typosquat is not None:
        reasons += _signals(typosquat, policy.typosquat_fail)
    reasons += _risk_reasons(risk, policy)
    verdict = max((r.verdict for r in reasons), key=lambda v: v.rank, default=Verdict.PASS)
    checks = {
        c: CheckSummary.of(r)
        for c, r in (("archive", archive), ("bandit", bandit), ("heuristics", heuristics),
                     ("advisories", advisories), ("metadata", metadata), ("typosquat", typosquat))
        if r is not None
    }
    reasons.sort(key=lambda r: (-r.verdict.rank, -r.severity.rank))
    return PackageReport(name, version, verdict, tuple(reasons), checks, requested, artifact,
                         advisory_list, risk)
