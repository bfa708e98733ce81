"""How good is a risk model: metrics, grouped cross-validation, and the two baselines.

Two ways to measure:

- **grouped cross-validation** (the training set, or any labelled file with ``--cv``): folds
  from :class:`~sklearn.model_selection.StratifiedGroupKFold` with the project name as the
  group, so releases of one project never sit on both sides (they share code and history; a
  model could otherwise recognise the project instead of the risk). Each fold refits the
  model's pipeline (same estimator and parameters) on the other folds.
- **held-out scoring**: the given model scores a file it was not trained on.

The metrics are always reported beside two baselines scored on the same rows:
``majority`` (always answer the training majority class; a constant score) and
``dffml-rule`` (DFFML's old rule: positive when bandit found more than 5 high-severity,
high-confidence issues; the count is its score; unknown counts cannot fire the rule).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

from shouldi.risk_model.data import FeatureTable
from shouldi.risk_model.errors import TrainingDataError

__all__ = [
    "DFFML_RULE_LIMIT",
    "Evaluation",
    "Metrics",
    "baseline_metrics",
    "best_threshold",
    "compute_metrics",
    "grouped_folds",
    "out_of_fold",
]

DFFML_RULE_LIMIT = 5
Folds = list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]]


@dataclass(frozen=True)
class Metrics:
    """Scores of one predictor on ``n`` rows. AUCs are ``None`` when only one class is present."""

    roc_auc: float | None
    pr_auc: float | None
    precision: float
    recall: float
    n: int
    positives: int
    threshold: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Evaluation:
    """A model's metrics and the baselines', measured the same way on the same rows."""

    method: str  # "grouped-cv" | "holdout"
    model: Metrics
    baselines: dict[str, Metrics]
    folds: int | None = None
    projects: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {**self.model.to_json(), "method": self.method, "folds": self.folds,
                "projects": self.projects,
                "baselines": {k: m.to_json() for k, m in self.baselines.items()},
                "notes": list(self.notes)}


def compute_metrics(y: npt.NDArray[np.int64], score: npt.NDArray[np.float64], threshold: float,
                    predicted: npt.NDArray[np.int64] | None = None) -> Metrics:
    """ROC AUC and PR AUC of ``score``; precision and recall of ``score >= threshold``."""
    pred = predicted if predicted is not None else (score >= threshold).astype(np.int64)
    both = len(np.unique(y)) == 2
    return Metrics(
        roc_auc=round(float(roc_auc_score(y, score)), 4) if both else None,
        pr_auc=round(float(average_precision_score(y, score)), 4) if y.any() else None,
        precision=round(float(precision_score(y, pred, zero_division=0)), 4),
        recall=round(float(recall_score(y, pred, zero_division=0)), 4),
        n=int(y.size), positives=int(y.sum()), threshold=threshold)


def grouped_folds(y: npt.NDArray[np.int64], groups: Sequence[str], k: int) -> Folds:
    """``k`` stratified folds that never split a project; refuses when there are too few."""
    projects = len(set(groups))
    for label in (0, 1):
        with_label = len({g for g, v in zip(groups, y, strict=True) if v == label})
        if with_label < k:
            raise TrainingDataError(
                f"{k}-fold grouped cross-validation needs at least {k} projects with label "
                f"{label}; there are {with_label} (of {projects} projects): use a smaller --cv")
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=0)
    return [(train, test) for train, test in splitter.split(np.zeros(len(y)), y, list(groups))]


def out_of_fold(table: FeatureTable, folds: Folds, fit_predict: Any) -> npt.NDArray[np.float64]:
    """Each row's score from the model fitted without its fold: ``fit_predict(train, test)``."""
    assert table.y is not None
    scores = np.full(table.n, math.nan)
    for train, test in folds:
        scores[test] = fit_predict(train, test)
    return scores


def baseline_metrics(table: FeatureTable, train_majority: npt.NDArray[np.int64],
                     rows: npt.NDArray[np.intp] | None = None) -> dict[str, Metrics]:
    """Both baselines on ``rows`` (default: all); ``train_majority`` is the majority class the
    majority baseline would have learnt for each row (its training fold's, or the training set's)."""
    assert table.y is not None
    idx = rows if rows is not None else np.arange(table.n)
    y = table.y[idx]
    counts = np.nan_to_num(table.rule_counts[idx], nan=-1.0)
    constant = train_majority[idx].astype(np.float64)
    return {
        "majority": compute_metrics(y, constant, 0.5, train_majority[idx]),
        "dffml-rule": compute_metrics(y, counts, DFFML_RULE_LIMIT + 1,
                                      (counts > DFFML_RULE_LIMIT).astype(np.int64)),
    }


def best_threshold(y: npt.NDArray[np.int64], score: npt.NDArray[np.float64]) -> float:
    """The probability cut with the best F1 on out-of-fold scores (0.5 if nothing beats it)."""
    best, best_f1 = 0.5, -1.0
    for cut in np.unique(np.round(score, 3)):
        pred = score >= cut
        tp = float((pred & (y == 1)).sum())
        f1 = 2 * tp / (pred.sum() + (y == 1).sum()) if pred.any() else 0.0
        if f1 > best_f1 + 1e-12:
            best, best_f1 = float(cut), f1
    return round(best, 3)


def _calibration_folds(y: npt.NDArray[np.int64]) -> int:
    return max(2, min(5, int(np.bincount(y, minlength=2).min())))


def cross_validate(table: FeatureTable, estimator: str, params: dict[str, Any], k: int,
                   threshold: float | None = None) -> tuple[Evaluation, npt.NDArray[np.float64]]:
    """Grouped ``k``-fold CV of a fresh pipeline; ``threshold`` None picks the best-F1 cut.

    Returns the evaluation and the out-of-fold scores (probabilities)."""
    from shouldi.risk_model.pipeline import build_pipeline, single_threaded

    assert table.y is not None
    y = table.y
    folds = grouped_folds(y, table.groups, k)

    def fit_predict(train: npt.NDArray[np.intp], test: npt.NDArray[np.intp]) -> Any:
        pipeline = build_pipeline(estimator, params, calibration_folds=_calibration_folds(y[train]))
        with single_threaded():
            pipeline.fit(table.x[train], y[train])
            return pipeline.predict_proba(table.x[test])[:, 1]

    scores = out_of_fold(table, folds, fit_predict)
    cut = best_threshold(y, scores) if threshold is None else threshold
    majority = np.zeros(table.n, dtype=np.int64)
    for train, test in folds:
        majority[test] = int(y[train].mean() > 0.5)
    evaluation = Evaluation("grouped-cv", compute_metrics(y, scores, cut),
                            baseline_metrics(table, majority), folds=k,
                            projects=len(set(table.groups)))
    return evaluation, scores


def evaluate_holdout(model: Any, table: FeatureTable) -> Evaluation:
    """Score a held-out file with a fitted :class:`~shouldi.risk_model.predict.RiskModel`."""
    assert table.y is not None
    if table.features != model.features:
        raise TrainingDataError("the table was not loaded with the model's features")
    scores = model.probabilities(table.x)
    majority = np.full(table.n, int(model.training_majority), dtype=np.int64)
    notes: tuple[str, ...] = ()
    if table.sha256 == model.training_sha256:
        notes = ("this is the training data: held-out scoring overstates accuracy; use --cv",)
    return Evaluation("holdout", compute_metrics(table.y, scores, model.threshold),
                      baseline_metrics(table, majority), projects=len(set(table.groups)),
                      notes=notes)
