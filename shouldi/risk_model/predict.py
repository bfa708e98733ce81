"""A loaded risk model: a 0-100 score per release, the features that drove it, and drift.

The score is ``100 * P(an advisory affecting this release is published within 12 months of its
upload)``, from the calibrated pipeline. It is *shown* only by a skilled model
(:func:`shouldi.risk_model.assess.skill`) and only for a release whose history features are
known (:func:`score_report`), in plain language (:mod:`shouldi.risk_model.words`): the
``RiskScore`` carries the sentence, never coefficients. Explanations are per-feature contributions in log-odds, computed exactly and
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
from shouldi.risk_model.skill import shipped_skill, skill
from shouldi.risk_model.words import priority_line
from shouldi.verdict import PackageReport, RiskScore

__all__ = ["Contribution", "Presented", "RiskModel", "check_max_risk_score", "default_model",
           "preload_default_model", "score_report", "shipped_model_path"]

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


@dataclass(frozen=True)
class Presented:
    """A score as a person reads it."""

    probability: float
    priority: str  # "high" | "medium" | "low"
    text: str  # "review priority: high — top 10% of releases scanned for training; because: ..."


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
        self.percentiles = tuple(float(q) for q in manifest.get("score_percentiles") or ())
        if any(not math.isfinite(q) for q in self.percentiles) or list(self.percentiles) != sorted(self.percentiles):
            raise ValueError("score_percentiles must be finite and sorted")
        self.skill = skill(self.manifest)

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

    def present(self, x: Matrix) -> list[Presented]:
        """Each row's priority sentence (:mod:`shouldi.risk_model.words`)."""
        probabilities = self.probabilities(x)
        contrib = self.contributions(x)
        out = []
        for i, p in enumerate(probabilities):
            reasons = [(f, None if math.isnan(x[i, j]) else float(x[i, j]), float(contrib[i, j]))
                       for j, f in enumerate(self.features) if abs(contrib[i, j]) >= _SHOWN]
            priority, text = priority_line(float(p), self.percentiles, reasons)
            out.append(Presented(float(p), priority, text))
        return out

    def score(self, x: Matrix, top: int = 3) -> list[RiskScore]:
        """Scores with the plain-language sentence as their only "top feature"."""
        out = []
        for i, shown in enumerate(self.present(x)):
            drift = drifted(x[i], self.ranges)
            out.append(RiskScore(round(100 * shown.probability, 1), (shown.text,),
                                 reliable=not drift, drift=drift))
        return out

    def matrix(self, records: Iterable[Mapping[str, object]]) -> Matrix:
        return records_matrix(records, self.features)

    def score_records(self, records: Iterable[Mapping[str, object]], top: int = 3) -> list[RiskScore]:
        return self.score(self.matrix(records), top)


def score_report(report: PackageReport, model: RiskModel | None = None) -> RiskScore | None:
    """The risk score of a scanned release, or ``None``: no model given or shipped, a model
    without measured skill (``model.skill.reason`` says why), or a release whose ``history``
    check did not run or did not know the project's advisories (the model would read imputed
    values: a number that means nothing)."""
    from shouldi.record import report_to_record

    model = model or default_model()
    if model is None or report.version is None or not model.skill.skilled:
        return None
    if any(f.startswith("history.") for f in model.features):
        history = report.checks.get("history")
        if history is None or history.status.value != "ok":
            return None
        if "history.past_advisories" in model.features and "past_advisories" not in history.counts:
            return None  # trained with the advisory history always known: imputing it would mislead
    return model.score_records([report_to_record(report, "")])[0]


def check_max_risk_score(limit: float | None, model: RiskModel | None) -> None:
    """Refuse a policy's ``max_risk_score`` that cannot mean anything (raises ``UsageError``):
    not a finite number in 0-100, no model, or a model without measured skill."""
    from shouldi.errors import UsageError

    if limit is None:
        return
    if not isinstance(limit, (int, float)) or not math.isfinite(limit) or not 0 <= limit <= 100:
        raise UsageError(f"max_risk_score must be a number from 0 to 100, not {limit!r}")
    if model is None:
        raise UsageError("max_risk_score is set but no risk model is shipped")
    if not model.skill.skilled:
        raise UsageError(f"max_risk_score needs a risk model with measured skill; {model.skill.reason}")


def default_model() -> RiskModel | None:
    """The shipped model for scoring, verified and loaded once per process; ``None`` if none
    is shipped **or if it has no measured skill** (its score must not be shown anywhere; the
    reason is :func:`shouldi.risk_model.skill.shipped_skill`). Without skill nothing is
    loaded: scikit-learn is not even imported.

    Thread-safe: the flow loads it in a thread while packages are scanned
    (:func:`~shouldi.operations.score.preload_risk_model`), and a caller that asks meanwhile
    waits for that load instead of starting a second one."""
    judged = shipped_skill()
    if judged is None or not judged.skilled:
        return None
    with _DEFAULT_LOCK:
        return _load_default_model()


def preload_default_model() -> None:
    """Load the shipped model now, unless another thread already is: never waits, so
    concurrent packages do not each hold a worker thread for the ~3 s import."""
    judged = shipped_skill()
    if judged is None or not judged.skilled:
        return
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
