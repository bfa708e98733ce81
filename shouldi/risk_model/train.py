"""Training: a features file in, a fitted :class:`~shouldi.risk_model.predict.RiskModel` out.

1. Grouped cross-validation (by project) of the chosen pipeline gives out-of-fold
   probabilities: the decision threshold is the cut with the best F1 on them, and the metrics
   (beside both baselines) go into the manifest, so ``model info`` says how good the model is.
2. The pipeline is refitted on every row.
3. The manifest records everything needed to use and audit the model: the feature schema
   (names, types, order), the training data's sha256 and size, the label definition, the
   estimator and its parameters, metrics, threshold, and per-feature training ranges.
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
from shouldi.risk_model.data import LABEL, FeatureTable
from shouldi.risk_model.drift import feature_ranges
from shouldi.risk_model.errors import TrainingDataError
from shouldi.risk_model.evaluate import cross_validate
from shouldi.risk_model.pipeline import build_pipeline, estimator_params, single_threaded
from shouldi.risk_model.predict import RiskModel

__all__ = ["LABEL_DEFINITION", "MIN_ROWS", "train"]

MIN_ROWS = 20
LABEL_DEFINITION = (
    "1 = at least one known vulnerability affects this exact release, per public advisory data "
    "(PyPA advisory database, safety-db, PyPI JSON vulnerabilities); 0 = no advisory known "
    "to those sources when the dataset was built"
)
EXPLANATION = {
    "logistic": "coefficient x standardised value, in log-odds (exact for the linear model)",
    "gradient-boosting": "marginal occlusion: log-odds minus its mean over the feature's training deciles",
    "random-forest": "marginal occlusion: log-odds minus its mean over the feature's training deciles",
}


def _check(table: FeatureTable, cv: int) -> None:
    assert table.y is not None
    if table.n < MIN_ROWS:
        raise TrainingDataError(f"{table.path}: {table.n} rows; at least {MIN_ROWS} are needed")
    counts = np.bincount(table.y, minlength=2)
    if counts.min() < 2:
        raise TrainingDataError(f"{table.path}: both labels are needed (0: {counts[0]}, 1: {counts[1]})")
    if cv < 2:
        raise UsageError("--cv must be at least 2")


def train(table: FeatureTable, estimator: str = "logistic", params: Mapping[str, Any] | None = None,
          cv: int = 5) -> RiskModel:
    """Cross-validate, then fit on all rows. Raises :class:`TrainingDataError`/``UsageError``."""
    params = dict(params or {})
    full_params = estimator_params(estimator, params)  # validates names before any work
    _check(table, cv)
    assert table.y is not None
    y = table.y
    try:
        evaluation, _ = cross_validate(table, estimator, params, cv)
        folds = max(2, min(5, int(np.bincount(y, minlength=2).min())))
        pipeline = build_pipeline(estimator, params, calibration_folds=folds)
        with single_threaded():
            pipeline.fit(table.x, y)
    except ValueError as e:  # sklearn's InvalidParameterError is a ValueError
        raise UsageError(f"cannot train {estimator}: {' '.join(str(e).split())[:300]}") from e
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
        "label": {"column": LABEL, "definition": LABEL_DEFINITION},
        "estimator": {"name": estimator, "params": params, "resolved_params": full_params,
                      "pipeline": [name for name, _ in pipeline.steps],
                      "calibration": {"method": "sigmoid", "folds": folds}},
        "explanation": EXPLANATION[estimator],
        "threshold": evaluation.model.threshold,
        "metrics": evaluation.to_json(),
        "training_ranges": [r.to_json() for r in feature_ranges(table.x, table.features)],
    }
    return RiskModel(pipeline, manifest)
