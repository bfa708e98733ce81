"""The gate's decision: which reasons count, per package, and the exit code of the run.

A package's report already carries a verdict and its reasons (:mod:`shouldi.verdict`). The
gate re-reads the reasons under the CI's own options:

- a reason an allowlist entry covers does not count (and says which entry allowed it); an
  *expired* entry allows nothing, and the reason says which entry expired. An allowlist
  covers findings only: "could not check", "no such project", an unresolvable or unreadable
  requirement (reasons that are not ``allowable``) always count, whatever the entry says;
- an advisory below ``severity_floor`` does not count (advisories of unknown severity count
  as high, as in the verdict);
- ``max_risk_score`` fails a package whose risk-model score reaches it (no score: ignored);
- ``fail_on_warn`` makes a counted warning fail.

The package's outcome is the worst counted reason (``pass`` when none counts); the run exits
2 if any requirement named nothing real (bad input), else 1 if any package fails, else 3 if
any could not be checked, else 0 — as ``shouldi install``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from shouldi.errors import EXIT_BAD_INPUT, EXIT_ERROR, EXIT_FAIL, EXIT_OK
from shouldi.gate.allowlist import AllowEntry, Allowlist
from shouldi.inputs import Dependency
from shouldi.results import Severity
from shouldi.verdict import PackageReport, Reason, Verdict

__all__ = ["GateOptions", "GatePackage", "GateReason", "GateResult", "decide"]


@dataclass(frozen=True)
class GateOptions:
    fail_on_warn: bool = False
    max_risk_score: float | None = None
    severity_floor: Severity | None = None


@dataclass(frozen=True)
class GateReason:
    """A report's reason and whether it counts for the gate (and why not)."""

    reason: Reason
    counts: bool = True
    allowed_by: AllowEntry | None = None
    expired_entry: AllowEntry | None = None  # it would be allowed, but the entry has expired
    note: str | None = None  # why it does not count, or how the gate changed it

    @property
    def verdict(self) -> Verdict:
        return self.reason.verdict


@dataclass(frozen=True)
class GatePackage:
    dependency: Dependency
    report: PackageReport | None  # None: excluded by environment markers
    outcome: Verdict | None  # None: excluded
    reasons: tuple[GateReason, ...] = ()

    @property
    def name(self) -> str:
        if self.report is not None:
            return self.report.name
        return self.dependency.name or self.dependency.spec

    @property
    def version(self) -> str | None:
        return self.report.version if self.report is not None else None


@dataclass(frozen=True)
class GateResult:
    packages: tuple[GatePackage, ...]
    options: GateOptions
    allowlist: Allowlist | None = None
    expired: tuple[AllowEntry, ...] = ()  # every expired entry, matching or not
    unused: tuple[AllowEntry, ...] = ()  # live entries that allowed nothing
    warnings: tuple[str, ...] = ()

    @property
    def bad_input(self) -> bool:
        return any(p.report is not None and p.report.input_error for p in self.packages)

    @property
    def exit_code(self) -> int:
        outcomes = [p.outcome for p in self.packages]
        if self.bad_input:
            return EXIT_BAD_INPUT
        if Verdict.FAIL in outcomes:
            return EXIT_FAIL
        return EXIT_ERROR if Verdict.ERROR in outcomes else EXIT_OK

    def count(self, outcome: Verdict) -> int:
        return sum(1 for p in self.packages if p.outcome is outcome)


def _advisory_ids(reason: Reason, report: PackageReport) -> frozenset[str]:
    if reason.check != "advisories":
        return frozenset()
    for a in report.advisories:
        if reason.message.startswith(f"{a.id}:"):
            return a.all_ids
    return frozenset()


def _judge(reason: Reason, report: PackageReport, entries: Sequence[AllowEntry], today: date,
           options: GateOptions, used: set[int]) -> GateReason:
    ids = _advisory_ids(reason, report)
    covering = [e for e in entries if reason.allowable
                and e.matches(report.name, report.version, reason, ids)]
    live = [e for e in covering if not e.expired(today)]
    if live:
        used.add(live[0].number)
        return GateReason(reason, False, allowed_by=live[0], note=f"allowed: {live[0].reason}")
    expired = covering[0] if covering else None
    floor = options.severity_floor
    if ids and floor is not None and reason.severity.rank < floor.rank:
        return GateReason(reason, False, expired_entry=expired,
                          note=f"below the severity floor ({floor.value})")
    if options.fail_on_warn and reason.verdict is Verdict.WARN:
        return GateReason(Reason(reason.check, reason.severity, reason.message, reason.evidence,
                                 Verdict.FAIL), expired_entry=expired,
                          note="a warning fails the gate (--fail-on-warn)")
    return GateReason(reason, expired_entry=expired)


def _risk(report: PackageReport, options: GateOptions) -> Reason | None:
    limit, risk = options.max_risk_score, report.risk
    if limit is None or risk is None or risk.score < limit:
        return None
    return Reason("risk", Severity.HIGH, f"risk score {risk.score:.0f} is at or above {limit:g}",
                  ", ".join(risk.top_features) or None, Verdict.FAIL)


def _package(dep: Dependency, report: PackageReport | None, entries: Sequence[AllowEntry],
             today: date, options: GateOptions, used: set[int]) -> GatePackage:
    if report is None:
        return GatePackage(dep, None, None)
    reasons = list(report.reasons)
    if not reasons and report.verdict is not Verdict.PASS:  # a verdict must have a reason
        reasons.append(Reason("scan", Severity.HIGH, f"verdict {report.verdict.value}", None,
                              report.verdict, allowable=False))
    risk = _risk(report, options)
    if risk is not None:
        reasons.append(risk)
    judged = tuple(_judge(r, report, entries, today, options, used) for r in reasons)
    outcome = max((g.verdict for g in judged if g.counts), key=lambda v: v.rank,
                  default=Verdict.PASS)
    return GatePackage(dep, report, outcome, judged)


def decide(items: Sequence[tuple[Dependency, PackageReport | None]], *,
           allowlist: Allowlist | None = None, options: GateOptions | None = None,
           today: date | None = None, warnings: Sequence[str] = ()) -> GateResult:
    """Judge every (dependency, report) pair; a ``None`` report is an excluded dependency."""
    options = options or GateOptions()
    today = today or date.today()
    entries = allowlist.entries if allowlist else ()
    used: set[int] = set()
    packages = tuple(_package(d, r, entries, today, options, used) for d, r in items)
    expired = tuple(e for e in entries if e.expired(today))
    unused = tuple(e for e in entries if not e.expired(today) and e.number not in used)
    return GateResult(packages, options, allowlist, expired, unused, tuple(warnings))
