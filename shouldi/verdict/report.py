"""What an answer is: a verdict, its reasons, the state of every check, and the evidence.

Plain frozen dataclasses, cheap to import (the warm path of ``shouldi install`` loads only
this, the answer cache and the renderer). :func:`report_to_dict` is the one JSON form of a
report: the CLI, the answer cache, the HTTP service and the scan records all use it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shouldi.errors import EXIT_BAD_INPUT, EXIT_ERROR, EXIT_FAIL, EXIT_OK
from shouldi.results import Advisory, AdvisoryAnswer, Artifact, CheckResult, Severity, Status

__all__ = ["CheckSummary", "PackageReport", "Reason", "RiskScore", "Verdict", "exit_code_for",
           "report_to_dict"]


class Verdict(str, enum.Enum):
    """Ordered ``pass < warn < error < fail``: a fail outranks "could not check"."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    WARN = "warn"
    ERROR = "error"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return list(Verdict).index(self)


@dataclass(frozen=True)
class Reason:
    """One reason for the verdict: which check, how severe, what, and where (the evidence).

    ``verdict`` is what this reason alone makes of the package: ``pass`` for information,
    ``warn``, ``error`` (could not check) or ``fail``. ``allowable`` is false for reasons an
    allowlist must never cover: "could not check", "no such project", bad input.
    """

    check: str
    severity: Severity
    message: str
    evidence: str | None = None
    verdict: Verdict = Verdict.WARN
    allowable: bool = True


@dataclass(frozen=True)
class CheckSummary:
    """How one check ended (``ok`` only when it really looked), its counts and tool version."""

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
    """The risk model's score (0-100) and what drove it."""

    score: float
    top_features: tuple[str, ...] = ()
    reliable: bool = True
    drift: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackageReport:
    """The answer for one requested spec.

    ``version`` is None when no release was resolved; ``input_error`` then says why when the
    spec named nothing real (exit 2). ``artifact_reason`` says why that file was judged.
    """

    name: str
    version: str | None
    verdict: Verdict
    reasons: tuple[Reason, ...]
    checks: Mapping[str, CheckSummary]
    requested: str = ""
    artifact: Artifact | None = None
    advisories: tuple[Advisory, ...] = ()
    risk: RiskScore | None = None
    artifact_reason: str = ""
    input_error: str | None = None
    advisory_answers: tuple[AdvisoryAnswer, ...] = ()  # what each advisory source said (-v, JSON)

    @property
    def counted_reasons(self) -> tuple[Reason, ...]:
        """The reasons that are more than information (warn, error, fail)."""
        return tuple(r for r in self.reasons if r.verdict is not Verdict.PASS)


def exit_code_for(verdicts: list[Verdict], bad_input: bool = False) -> int:
    """2 for bad input (fix that first); else 1 if anything fails; else 3 if anything could not
    be checked; else 0."""
    if bad_input:
        return EXIT_BAD_INPUT
    if Verdict.FAIL in verdicts:
        return EXIT_FAIL
    if Verdict.ERROR in verdicts:
        return EXIT_ERROR
    return EXIT_OK


def report_to_dict(report: PackageReport) -> dict[str, Any]:
    """The JSON form of a report (the inverse is ``shouldi.cache.codec.report_from_dict``)."""
    from shouldi.dataflow.results import to_jsonable

    out: dict[str, Any] = to_jsonable(report)
    return out
