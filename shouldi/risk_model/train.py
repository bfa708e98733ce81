"""Training: a features file in, a fitted :class:`~shouldi.risk_model.predict.RiskModel` out.

1. The time-split assessment (:func:`shouldi.risk_model.assess.assess`): train on releases
   whose label window closed before the cutoff, test on later uploads, on new projects and on
   all projects, beside every baseline; its reports go into the manifest, and so does the
   verdict on skill (:func:`~shouldi.risk_model.assess.skill`): only a skilled model's score is
   ever shown.
2. The pipeline is refitted on every row (every label in the file is observed).
3. The manifest records everything needed to use and audit the model: the question, the
   feature schema (names, types, order), the training data's sha256 and size, the label
   definition, the estimator and its parameters, metrics, the training scores' percentiles
   (a shown score is placed among them), and per-feature training ranges.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import numpy as np
import sklearn

from shouldi import __version__
from shouldi.errors import UsageError
from shouldi.risk_model.assess import DEFAULT_CUTOFF, assess, skill
from shouldi.risk_model.data import LABEL, FeatureTable
from shouldi.risk_model.drift import feature_ranges
from shouldi.risk_model.errors import TrainingDataError
from shouldi.risk_model.labels import QUESTION
from shouldi.risk_model.pipeline import build_pipeline, estimator_params, single_threaded
from shouldi.risk_model.predict import RiskModel

__all__ = ["LABEL_DEFINITION", "MIN_ROWS", "train"]

MIN_ROWS = 20
LABEL_DEFINITION = (
    "1 = an advisory affecting this exact release was published within 365 days after its first "
    "upload (PyPA advisory database, dated by 'published'); 0 = none was, and that window ended "
    "before the label data's time; releases whose window was not yet observed are not labelled"
)
PERCENTILES = 101
EXPLANATION = {
    "logistic": "coefficient x standardised value, in log-odds (exact for the linear model)",
    "gradient-boosting": "marginal occlusion: log-odds minus its mean over the feature's training deciles",
    "random-forest": "marginal occlusion: log-odds minus its mean over the feature's training deciles",
}


def _check(table: FeatureTable) -> None:
    assert table.y is not None
    if table.n < MIN_ROWS:
        raise TrainingDataError(f"{table.path}: {table.n} rows; at least {MIN_ROWS} are needed")
    counts = np.bincount(table.y, minlength=2)
    if counts.min() < 2:
        raise TrainingDataError(f"{table.path}: both labels are needed (0: {counts[0]}, 1: {counts[1]})")
    empty = [f for j, f in enumerate(table.features) if np.isnan(table.x[:, j]).all()]
    if empty:
        raise TrainingDataError(
            f"{table.path}: {len(empty)} feature(s) unknown on every row (e.g. {empty[0]!r}): a "
            "model must not claim to read what it never saw; choose another feature set "
            "(--features history) or build the file with scans")


def train(table: FeatureTable, estimator: str = "logistic", params: Mapping[str, Any] | None = None,
          cutoff: str = DEFAULT_CUTOFF) -> RiskModel:
    """Assess on the time split, then fit on all rows. Raises :class:`TrainingDataError`/``UsageError``."""
    params = dict(params or {})
    full_params = estimator_params(estimator, params)  # validates names before any work
    _check(table)
    assert table.y is not None
    y = table.y
    try:
        reports, notes = assess(table, estimator, params, cutoff)
        folds = max(2, min(5, int(np.bincount(y, minlength=2).min())))
        pipeline = build_pipeline(estimator, params, calibration_folds=folds)
        with single_threaded():
            pipeline.fit(table.x, y)
            scores = pipeline.predict_proba(table.x)[:, 1]
    except ValueError as e:  # sklearn's InvalidParameterError is a ValueError
        raise UsageError(f"cannot train {estimator}: {' '.join(str(e).split())[:300]}") from e
    percentiles = [round(float(q), 6) for q in np.quantile(scores, np.linspace(0, 1, PERCENTILES))]
    metrics: dict[str, Any] = {"time_split": {k: r.to_json() for k, r in reports.items()},
                               "notes": notes}
    judged = skill({"metrics": metrics})
    metrics["skill"] = {"skilled": judged.skilled, "reason": judged.reason}
    manifest: dict[str, Any] = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": {"shouldi": __version__, "scikit-learn": sklearn.__version__,
                     "numpy": np.__version__, "python": platform.python_version()},
        "features": [{"name": f, "type": "float", "position": i} for i, f in enumerate(table.features)],
        "training_data": {
            "file": table.path.name, "sha256": table.sha256, "rows": table.n,
            "positives": int(y.sum()), "projects": len(set(table.groups)),
            "majority": int(y.mean() > 0.5),
        },
        "question": QUESTION,
        "label": {"column": LABEL, "definition": LABEL_DEFINITION},
        "estimator": {"name": estimator, "params": params, "resolved_params": full_params,
                      "pipeline": [name for name, _ in pipeline.steps],
                      "calibration": {"method": "sigmoid", "folds": folds}},
        "explanation": EXPLANATION[estimator],
        "threshold": percentiles[90],  # the top-10% cut: "review priority: high"
        "score_percentiles": percentiles,
        "metrics": metrics,
        "training_ranges": [r.to_json() for r in feature_ranges(table.x, table.features)],
    }
    return RiskModel(pipeline, manifest)
