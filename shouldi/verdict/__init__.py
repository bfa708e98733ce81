"""The verdict: reasons from check results, and the report that carries them.

- :mod:`shouldi.verdict.report`: the answer's types (cheap to import);
- :mod:`shouldi.verdict.rules`: every rule, in one place;
- :mod:`shouldi.verdict.judge`: a :class:`CheckSet` in, a :class:`PackageReport` out.
"""

from __future__ import annotations

from shouldi.verdict.report import (
    CheckSummary,
    PackageReport,
    Reason,
    RiskScore,
    Verdict,
    exit_code_for,
    report_to_dict,
)

__all__ = ["CheckSummary", "PackageReport", "Reason", "RiskScore", "Verdict", "exit_code_for",
           "report_to_dict"]
