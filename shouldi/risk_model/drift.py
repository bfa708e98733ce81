"""Training ranges, and drift: recent packages whose features differ from what the model saw.

Two questions, two answers:

- **One row outside the range** (:func:`drifted`). A model extrapolates badly: a release with
  40,000 lines flagged by bandit when the largest training row had 900 gets a number, but not
  one the training data supports. Each feature's training range (min, max, a few quantiles,
  the share of unknowns) goes into the manifest; at prediction time a known value outside
  ``[min, max]`` names that feature and makes the score "less reliable". Unknown values (NaN)
  are not drift: they are imputed and flagged as unknown.
- **A population that moved** (:func:`check_drift`, ``shouldi model drift``). The manifest
  also keeps, per feature, the training deciles as bin edges (``bins``: the distinct deciles,
  so a count that is 0 on most rows gives one edge, not nine equal ones) and the training
  share of known values in each bin (``shares``; bins are ``(-inf, e1], (e1, e2], ...,
  (ek, inf)``). Recent records are binned the same way and compared:

  * PSI (population stability index) = sum over bins of ``(a - e) * ln(a / e)``, ``e`` the
    training share, ``a`` the recent one; an empty bin counts as a share of ``PSI_FLOOR``
    (1e-4, the usual convention: PSI is infinite otherwise). Rules of thumb: < 0.1 stable,
    0.1-0.2 some shift, > 0.2 a shift worth acting on (the CLI's default threshold).
  * KS: the largest gap between the two cumulative distributions, read at the bin edges
    (the summary keeps no more): a lower bound of the two-sample Kolmogorov-Smirnov
    statistic, exact when the feature takes no values between the edges.

  Both are over *known* values; the unknown shares are reported beside them. A feature
  unknown in every recent record is said ("unknown in the recent data"), never scored as no
  drift. Archives written before the bins existed have none: :func:`check_drift` raises
  :class:`NoDriftSummary` and the CLI says to retrain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from shouldi.risk_model.errors import ModelArchiveError

__all__ = ["PSI_FLOOR", "DriftReport", "FeatureDrift", "FeatureRange", "NoDriftSummary", "bin_shares",
           "check_drift", "drifted", "feature_ranges", "ks_at_edges", "psi", "ranges_from_json"]

PSI_FLOOR = 1e-4

_QUANTILES = (0.01, 0.5, 0.99)
_DECILES = tuple(i / 10 for i in range(1, 10))


@dataclass(frozen=True)
class FeatureRange:
    """What the training data held for one feature (``None``: no known value at all)."""

    name: str
    min: float | None
    max: float | None
    q01: float | None
    q50: float | None
    q99: float | None
    unknown_share: float
    deciles: tuple[float, ...] = ()  # q10..q90 of known values: references for explanations
    bins: tuple[float, ...] = ()  # the distinct deciles: bin edges for drift (none: old archive)
    shares: tuple[float, ...] = ()  # training share of known values per bin (len(bins) + 1)

    def contains(self, value: float) -> bool:
        if math.isnan(value) or self.min is None or self.max is None:
            return True
        return self.min <= value <= self.max

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "deciles": list(self.deciles), "bins": list(self.bins),
                "shares": list(self.shares)}


def _clean(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def feature_ranges(x: npt.NDArray[np.float64], names: Sequence[str]) -> tuple[FeatureRange, ...]:
    """Per-column ranges of the training matrix ``x``."""
    out = []
    for j, name in enumerate(names):
        column = x[:, j]
        known = column[~np.isnan(column)]
        share = 1.0 - known.size / column.size if column.size else 1.0
        if known.size == 0:
            out.append(FeatureRange(name, None, None, None, None, None, share))
            continue
        q01, q50, q99 = (float(q) for q in np.quantile(known, _QUANTILES))
        deciles = tuple(float(q) for q in np.quantile(known, _DECILES))
        edges = tuple(sorted(set(deciles)))
        shares = tuple(round(float(v), 6) for v in bin_shares(known, edges))
        out.append(FeatureRange(name, float(known.min()), float(known.max()), _clean(q01),
                                _clean(q50), _clean(q99), round(share, 6), deciles, edges, shares))
    return tuple(out)


def ranges_from_json(items: Sequence[Mapping[str, Any]]) -> tuple[FeatureRange, ...]:
    """Ranges as stored in a manifest (raises ``KeyError``/``TypeError``/``ValueError`` if malformed)."""

    def num(value: object) -> float | None:
        return None if value is None else float(value)  # type: ignore[arg-type]

    return tuple(
        FeatureRange(str(i["name"]), num(i["min"]), num(i["max"]), num(i["q01"]), num(i["q50"]),
                     num(i["q99"]), float(i["unknown_share"]),
                     tuple(float(q) for q in i.get("deciles") or ()),
                     tuple(float(q) for q in i.get("bins") or ()),
                     tuple(float(q) for q in i.get("shares") or ()))
        for i in items
    )


def drifted(row: npt.NDArray[np.float64], ranges: Sequence[FeatureRange]) -> tuple[str, ...]:
    """Names of the features of ``row`` whose known value is outside the training range."""
    return tuple(r.name for r, value in zip(ranges, row, strict=True) if not r.contains(float(value)))


# --- population drift (shouldi model drift) -----------------------------------------------------
class NoDriftSummary(ModelArchiveError):
    """The model archive keeps no training bins (written by an older shouldi): exit 2."""


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's drift. ``psi``/``ks`` are None when it could not be measured (``note``
    says why: never read that as "no drift")."""

    name: str
    psi: float | None
    ks: float | None
    recent_known: int
    recent_unknown_share: float
    training_unknown_share: float
    over: bool = False
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DriftReport:
    """Every feature's drift for ``records`` recent records, against ``threshold`` (PSI)."""

    records: int
    threshold: float
    features: tuple[FeatureDrift, ...]

    @property
    def over(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features if f.over)

    @property
    def measured(self) -> int:
        return sum(1 for f in self.features if f.psi is not None)

    def to_json(self) -> dict[str, Any]:
        return {"records": self.records, "threshold": self.threshold, "over": list(self.over),
                "measured": self.measured, "features": [f.to_json() for f in self.features]}


def bin_shares(values: npt.NDArray[np.float64], edges: Sequence[float]) -> npt.NDArray[np.float64]:
    """Share of ``values`` (known, non-empty) in each bin ``(-inf, e1], ..., (ek, inf)``."""
    index = np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="left")
    counts: npt.NDArray[np.float64] = np.bincount(index, minlength=len(edges) + 1).astype(np.float64)
    shares: npt.NDArray[np.float64] = counts / counts.sum()
    return shares


Shares = Sequence[float] | npt.NDArray[np.float64]


def psi(expected: Shares, actual: Shares, floor: float = PSI_FLOOR) -> float:
    """Population stability index of two share vectors over the same bins."""
    e = np.maximum(np.asarray(expected, dtype=np.float64), floor)
    a = np.maximum(np.asarray(actual, dtype=np.float64), floor)
    return float(np.sum((a - e) * np.log(a / e)))


def ks_at_edges(expected: Shares, actual: Shares) -> float:
    """Largest gap between the cumulative shares, read at the bin edges."""
    gap = np.cumsum(np.asarray(expected, dtype=np.float64)) - np.cumsum(np.asarray(actual, dtype=np.float64))
    return float(np.max(np.abs(gap[:-1]))) if gap.size > 1 else 0.0


def _one(r: FeatureRange, column: npt.NDArray[np.float64], threshold: float) -> FeatureDrift:
    known = column[~np.isnan(column)]
    unknown = round(1.0 - known.size / column.size, 6) if column.size else 1.0

    def said(psi_value: float | None = None, ks: float | None = None, note: str | None = None
             ) -> FeatureDrift:
        over = psi_value is not None and psi_value > threshold
        return FeatureDrift(r.name, psi_value, ks, int(known.size), unknown, r.unknown_share, over, note)

    if not r.shares:
        return said(note="no known value in the training data")
    if known.size == 0:
        return said(note="unknown in the recent data (not measured)")
    actual = bin_shares(known, r.bins)
    return said(round(psi(r.shares, actual), 6), round(ks_at_edges(r.shares, actual), 6))


def check_drift(ranges: Sequence[FeatureRange], columns: Mapping[str, npt.NDArray[np.float64]],
                records: int, threshold: float = 0.2) -> DriftReport:
    """Each training feature's drift in ``columns`` (recent values by feature name, NaN
    unknown; a feature missing from ``columns`` is unknown). :class:`NoDriftSummary` when the
    archive predates the bins."""
    if ranges and not any(r.bins or r.shares for r in ranges):
        raise NoDriftSummary("this model archive keeps no training bins (saved by an older "
                             "shouldi): retrain it with `shouldi model train` to check drift")
    empty = np.full(records, math.nan)
    return DriftReport(records, threshold,
                       tuple(_one(r, columns.get(r.name, empty), threshold) for r in ranges))
