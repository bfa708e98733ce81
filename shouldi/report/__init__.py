"""The triage report: scan records in (any source format), one self-contained HTML file out.

``shouldi report SCANS... --output report.html`` (:mod:`shouldi.cli.report`) is
:func:`load_scans` → :func:`prepare` → :func:`render_html`:

- :mod:`shouldi.report.load` reads records with :func:`shouldi.sources.open_source` and
  checks that they are shouldi's (a foreign file is an error, never an empty report);
- :mod:`shouldi.report.data` prepares what is shown: verdict counts, time range, tool
  versions, the package table, advisories with fixed-in versions, evidence with file:line;
- :mod:`shouldi.report.charts` computes the inline-SVG charts' geometry;
- :mod:`shouldi.report.render` writes the HTML with Jinja2 (autoescaped: every value comes
  from untrusted packages) under a strict Content-Security-Policy.

Errors: :class:`ReportError` and :class:`~shouldi.sources.SourceError`, both exit 2.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from shouldi.report.data import AdvisoryRow, EvidenceRow, PackageRow, TriageData, prepare
from shouldi.report.errors import ReportError
from shouldi.report.load import RISK_RELIABLE, RISK_SCORE, Loaded, ScanRecord, load_scans
from shouldi.report.render import render_html

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "RISK_RELIABLE",
    "RISK_SCORE",
    "AdvisoryRow",
    "EvidenceRow",
    "Loaded",
    "PackageRow",
    "ReportError",
    "ScanRecord",
    "TriageData",
    "build_report",
    "load_scans",
    "prepare",
    "render_html",
]


def build_report(paths: Sequence[Path], *, generated_at: datetime | None = None) -> str:
    """The HTML report of the scan records in ``paths`` (see the module docstring)."""
    return render_html(prepare(load_scans(paths)), generated_at=generated_at)
