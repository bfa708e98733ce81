"""A loaded risk model: a 0-100 score per release, the features that drove it, and drift.

The score is ``100 * P(a known vulnerability affects this release)``, from the calibrated
pipeline. Explanations are per-feature contributions in log-odds, computed exactly and
without permutations:

- ``logistic``: coefficient x standardised value (after arcsinh, imputation and scaling) of the
  single fitted linear model; a feature's missing-indicator term is added to the feature.
  These sum (with the intercept) to the model's log-odds before calibration.
- tree models: marginal occlusion: ``logit p(x)`` minus the mean of ``logit p(x with feature j
  set to each training decile of j)``. Single-value occlusion (e.g. the median) reads 0 where a
  tree ensemble is saturated; averaging over the feature's training distribution does not.
  Unknown values count (the unknown is compared with known values).

Drift (see :mod:`shouldi.risk_model.drift`): known values outside the training range make
the score ``reliable=False`` and are named in :attr:`RiskScore.drift`.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.pipeline import Pipeline

from shouldi.risk_model.data import Matrix, records_matrix
from shouldi.risk_model.drift import drifted, ranges_from_json
from shouldi.risk_model.pipeline import single_threaded
from shouldi.risk_model.shipped import shipped_model_path
from shouldi.verdict import PackageReport, RiskScore

__all__ = ["Contribution", "RiskModel", "default_model", "preload_default_model", "score_report",
           "shipped_model_path"]

_EPS = 1e-6
_CHUNK = 64
_SHOWN = 0.005  # smaller contributions are not worth naming


@dataclass(frozen=True)
class Contribution:
    feature: str
    value: float | None  # None: unknown
    contribution: float  # log-odds; > 0 raises the risk

    def describe(self) -> str:
        shown = "unknown" if self.value is None else f"{self.value:g}"
        return f"{self.feature}={shown} ({self.contribution:+.2f})"


def _logit(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    clipped = np.clip(p, _EPS, 1 - _EPS)
    return np.asarray(np.log(clipped / (1 - clipped)), dtype=np.float64)


class RiskModel:
    """A fitted pipeline and its manifest (what a model archive holds)."""

    def __init__(self, pipeline: Pipeline, manifest: Mapping[str, Any],
                 warnings: tuple[str, ...] = ()) -> None:
        self.pipeline = pipeline
        self.manifest = dict(manifest)
        self.features: tuple[str, ...] = tuple(str(f["name"]) for f in manifest["features"])
        self.threshold = float(manifest["threshold"])
        self.ranges = ranges_from_json(manifest["training_ranges"])
        self.estimator = str(manifest["estimator"]["name"])
        self.warnings = warnings
        if [r.name for r in self.ranges] != list(self.features):
            raise ValueError("training ranges do not match the feature schema")

    @property
    def training_sha256(self) -> str:
        return str(self.manifest["training_data"]["sha256"])

    @property
    def training_majority(self) -> int:
        return int(self.manifest["training_data"]["majority"])

    def probabilities(self, x: Matrix) -> npt.NDArray[np.float64]:
        with single_threaded():
            return np.asarray(self.pipeline.predict_proba(x)[:, 1], dtype=np.float64)

    def contributions(self, x: Matrix) -> Matrix:
        """Rows x features, in log-odds (see the module docstring for the method)."""
        inner = self.pipeline[-1].calibrated_classifiers_[0].estimator
        if hasattr(inner, "coef_"):  # the fitted object decides, not the manifest's claim
            return self._linear_contributions(x)
        return self._marginal_contributions(x)

    def _marginal_contributions(self, x: Matrix) -> Matrix:
        """One prediction batch per chunk of rows: every (feature, decile) substitution at once."""
        refs = [(j, q) for j, r in enumerate(self.ranges)
                for q in (r.deciles or ((r.q50,) if r.q50 is not None else ()))]
        out = np.zeros(x.shape)
        if not refs:
            return out
        columns = np.array([j for j, _ in refs])
        values = np.array([q for _, q in refs], dtype=np.float64)
        counts = np.bincount(columns, minlength=x.shape[1])
        known = counts > 0
        starts = np.concatenate(([0], np.cumsum(counts[known])[:-1]))
        for start in range(0, x.shape[0], _CHUNK):
            rows = x[start:start + _CHUNK]
            batch = np.repeat(rows, len(refs), axis=0)  # row i, substitution k at i*len(refs)+k
            batch[np.arange(batch.shape[0]), np.tile(columns, rows.shape[0])] = np.tile(values, rows.shape[0])
            moved = _logit(self.probabilities(batch)).reshape(rows.shape[0], len(refs))
            base = _logit(self.probabilities(rows))
            sums = np.add.reduceat(moved, starts, axis=1)  # refs are grouped by feature, in order
            out[start:start + rows.shape[0], known] = base[:, None] - sums / counts[known]
        return out

    def _linear_contributions(self, x: Matrix) -> Matrix:
        prep = self.pipeline[:-1]
        z = prep.transform(x)
        names = list(prep.get_feature_names_out(list(self.features)))
        linear = self.pipeline[-1].calibrated_classifiers_[0].estimator
        terms = z * linear.coef_[0]
        index = {f: j for j, f in enumerate(self.features)}
        out = np.zeros(x.shape)
        for col, name in enumerate(names):
            out[:, index[str(name).removeprefix("missingindicator_")]] += terms[:, col]
        return out

    def explain(self, x: Matrix, top: int = 3) -> list[list[Contribution]]:
        """The ``top`` features by absolute contribution, per row."""
        contrib = self.contributions(x)
        out = []
        for i in range(x.shape[0]):
            order = [j for j in np.argsort(-np.abs(contrib[i]), kind="stable")[:top]
                     if abs(contrib[i, j]) >= _SHOWN]
            out.append([Contribution(self.features[j], None if math.isnan(x[i, j]) else float(x[i, j]),
                                     round(float(contrib[i, j]), 4)) for j in order])
        return out

    def score(self, x: Matrix, top: int = 3) -> list[RiskScore]:
        probabilities = self.probabilities(x)
        reasons = self.explain(x, top)
        out = []
        for i, p in enumerate(probabilities):
            drift = drifted(x[i], self.ranges)
            out.append(RiskScore(round(100 * float(p), 1), tuple(c.describe() for c in reasons[i]),
                                 reliable=not drift, drift=drift))
        return out

    def matrix(self, records: Iterable[Mapping[str, object]]) -> Matrix:
        return records_matrix(records, self.features)

    def score_records(self, records: Iterable[Mapping[str, object]], top: int = 3) -> list[RiskScore]:
        return self.score(self.matrix(records), top)


def score_report(report: PackageReport, model: RiskModel | None = None) -> RiskScore | None:
    """The risk score of a scanned release (``None`` when no model is given or shipped)."""
    from shouldi.record import report_to_record

    model = model or default_model()
    if model is None or report.version is None:
        return None
    return model.score_records([report_to_record(report, "")])[0]


def default_model() -> RiskModel | None:
    """The shipped model, verified and loaded once per process (``None`` if not shipped).

    Thread-safe: the flow loads it in a thread while packages are scanned
    (:func:`~shouldi.operations.score.preload_risk_model`), and a caller that asks meanwhile
    waits for that load instead of starting a second one."""
    with _DEFAULT_LOCK:
        return _load_default_model()


def preload_default_model() -> None:
    """Load the shipped model now, unless another thread already is: never waits, so
    concurrent packages do not each hold a worker thread for the ~3 s import."""
    if _DEFAULT_LOCK.acquire(blocking=False):
        try:
            _load_default_model()
        finally:
            _DEFAULT_LOCK.release()


_DEFAULT_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _load_default_model() -> RiskModel | None:
    from shouldi.risk_model.archive import load_model

    path = shipped_model_path()
    return load_model(path) if path else None
