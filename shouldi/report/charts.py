"""The report's charts as geometry: the template draws them as inline SVG.

No charting library: the report must be one self-contained file under a strict
Content-Security-Policy (no script from a CDN, no ``eval``), and two bar charts are a few
rectangles. Geometry is computed here, in plain numbers, so it is unit-tested without a
browser; the template only writes ``<rect>`` and ``<text>`` elements (presentation
attributes, never ``style=``, which the CSP would block) and colours them with CSS classes.

- :func:`risk_histogram`: the risk scores (0-100) of the packages that have one, in ten bins
  of ten points (100 falls in the last). ``None`` when no package has a score: the model may
  be withheld when it has no measured skill, and an empty chart would look like "no risk".
- :func:`check_chart`: for every check, how many packages it failed, could not check
  (``error``), warned about, passed, or did not run on — one stacked bar per check. A check's
  verdict on a package is the worst verdict of its reasons; with no reason it passed when its
  status column says it ran (``ok``), and did not run when there is no status.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from shouldi.report.load import ScanRecord

__all__ = ["CHECK_ORDER", "Bar", "CheckChart", "CheckRow", "Histogram", "Tick", "check_chart",
           "risk_histogram"]

#: Checks in the order the flow runs them; others (from newer records) follow by name.
CHECK_ORDER = ("archive", "bandit", "heuristics", "advisories", "metadata", "typosquat", "risk")
#: Stacked-bar segments, worst first: a check's verdict on one package, or "not run".
OUTCOMES = ("fail", "error", "warn", "pass", "not run")
WIDTH, HEIGHT = 520, 220
_LEFT, _BOTTOM, _TOP, _RIGHT = 40, 28, 14, 10
_LABEL = 96  # the check chart's label column
_ROW, _GAP = 22, 8


@dataclass(frozen=True)
class Bar:
    """A rectangle with the count it stands for and what to say about it (its tooltip)."""

    x: float
    y: float
    width: float
    height: float
    count: int
    css: str
    title: str


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Histogram:
    width: int
    height: int
    bars: tuple[Bar, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    axis_y: float  # the baseline
    scored: int


@dataclass(frozen=True)
class CheckRow:
    check: str
    y: float
    segments: tuple[Bar, ...]


@dataclass(frozen=True)
class CheckChart:
    width: int
    height: int
    label_width: int
    rows: tuple[CheckRow, ...]
    outcomes: tuple[str, ...]
    total: int


def _risk_class(low: int) -> str:
    return "risk-low" if low < 30 else "risk-mid" if low < 70 else "risk-high"


def risk_histogram(scores: Sequence[float]) -> Histogram | None:
    """Ten bins of ten points; ``None`` when there is no score at all."""
    if not scores:
        return None
    counts = Counter(min(int(s // 10), 9) for s in scores)
    top = max(counts.values())
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    step = plot_w / 10
    base = _TOP + plot_h
    bars = []
    for i in range(10):
        n = counts.get(i, 0)
        h = plot_h * n / top
        low, high = i * 10, i * 10 + 10
        span = f"{low}-{high}" if i < 9 else "90-100"
        bars.append(Bar(_LEFT + i * step + 2, base - h, step - 4, h, n, _risk_class(low),
                        f"risk {span}: {n} package{'' if n == 1 else 's'}"))
    x_ticks = tuple(Tick(_LEFT + i * step, base + 16, str(i * 10)) for i in range(11))
    y_ticks = tuple(Tick(_LEFT - 6, base - plot_h * v / top + 4, str(v))
                    for v in sorted({0, top // 2, top}))
    return Histogram(WIDTH, HEIGHT, tuple(bars), x_ticks, y_ticks, base, len(scores))


def _outcome(record: ScanRecord, check: str) -> str:
    worst = max((r.verdict for r in record.reasons if r.check == check),
                key=lambda v: v.rank, default=None)
    if worst is not None:
        return worst.value
    return "pass" if record.statuses.get(check) == "ok" else "not run"


def check_chart(records: Sequence[ScanRecord]) -> CheckChart:
    """One stacked bar per check that appears in the records (see the module docstring)."""
    seen = {c for r in records for c in r.statuses} | {x.check for r in records for x in r.reasons}
    checks = [c for c in CHECK_ORDER if c in seen] + sorted(seen - set(CHECK_ORDER))
    total = len(records)
    plot_w = WIDTH - _LABEL - _RIGHT
    rows = []
    for i, check in enumerate(checks):
        counts = Counter(_outcome(r, check) for r in records)
        y = _TOP + i * (_ROW + _GAP)
        x = float(_LABEL)
        segments = []
        for outcome in OUTCOMES:
            n = counts.get(outcome, 0)
            if n:
                w = plot_w * n / total
                segments.append(Bar(x, y, w, _ROW, n, f"out-{outcome.replace(' ', '-')}",
                                    f"{check}: {n} {outcome}"))
                x += w
        rows.append(CheckRow(check, y, tuple(segments)))
    height = _TOP + len(checks) * (_ROW + _GAP)
    return CheckChart(WIDTH, height, _LABEL, tuple(rows), OUTCOMES, total)

