"""Training ranges, and drift: a scanned package whose features lie outside what the model saw.

A model extrapolates badly: a release with 40,000 lines flagged by bandit when the largest
training row had 900 gets a number, but not one the training data supports. Each feature's
training range (min, max, a few quantiles, the share of unknowns) goes into the manifest; at
prediction time a known value outside ``[min, max]`` names that feature and makes the score
"less reliable". Unknown values (NaN) are not drift: they are imputed and flagged as unknown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["FeatureRange", "drifted", "feature_ranges", "ranges_from_json"]

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

    def contains(self, value: float) -> bool:
        if math.isnan(value) or self.min is None or self.max is None:
            return True
        return self.min <= value <= self.max

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "deciles": list(self.deciles)}


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
        out.append(FeatureRange(name, float(known.min()), float(known.max()), _clean(q01),
                                _clean(q50), _clean(q99), round(share, 6), deciles))
    return tuple(out)


def ranges_from_json(items: Sequence[Mapping[str, Any]]) -> tuple[FeatureRange, ...]:
    """Ranges as stored in a manifest (raises ``KeyError``/``TypeError``/``ValueError`` if malformed)."""

    def num(value: object) -> float | None:
        return None if value is None else float(value)  # type: ignore[arg-type]

    return tuple(
        FeatureRange(str(i["name"]), num(i["min"]), num(i["max"]), num(i["q01"]), num(i["q50"]),
                     num(i["q99"]), float(i["unknown_share"]),
                     tuple(float(q) for q in i.get("deciles") or ()))
        for i in items
    )


def drifted(row: npt.NDArray[np.float64], ranges: Sequence[FeatureRange]) -> tuple[str, ...]:
    """Names of the features of ``row`` whose known value is outside the training range."""
    return tuple(r.name for r, value in zip(ranges, row, strict=True) if not r.contains(float(value)))
