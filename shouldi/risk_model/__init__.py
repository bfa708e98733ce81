"""The risk model: train on labelled scan records, evaluate honestly, score releases 0-100.

``train`` fits a calibrated scikit-learn pipeline on a features file (``shouldi dataset
build``), ``evaluate`` measures it with cross-validation grouped by project beside two
baselines, ``predict`` scores releases and explains the score, and ``archive`` saves and loads
the portable, verified model file (skops inside a zip or tar.gz, never pickle)::

    table = load_table(Path("features.csv"))
    model = train(table, "logistic")
    save_model(model, Path("model.zip"))
    load_model(Path("model.zip")).score_records(records)  # -> [RiskScore, ...]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shouldi.lazy import lazy_exports

if TYPE_CHECKING:
    from shouldi.risk_model.archive import TRUSTED_TYPES, load_model, read_manifest, save_model
    from shouldi.risk_model.data import FeatureTable, load_table, records_matrix
    from shouldi.risk_model.errors import (
        ModelArchiveError,
        ModelError,
        TrainingDataError,
        UnsafeModelError,
    )
    from shouldi.risk_model.evaluate import (
        Evaluation,
        Metrics,
        cross_validate,
        evaluate_holdout,
        grouped_folds,
    )
    from shouldi.risk_model.pipeline import ESTIMATORS, build_pipeline, parse_params
    from shouldi.risk_model.predict import Contribution, RiskModel, default_model, score_report
    from shouldi.risk_model.train import train

# Names load on first use: `shouldi.risk_model.score_cache` alone does not import scikit-learn.
_LAZY = {
    "Contribution": "shouldi.risk_model.predict",
    "ESTIMATORS": "shouldi.risk_model.pipeline",
    "Evaluation": "shouldi.risk_model.evaluate",
    "FeatureTable": "shouldi.risk_model.data",
    "Metrics": "shouldi.risk_model.evaluate",
    "ModelArchiveError": "shouldi.risk_model.errors",
    "ModelError": "shouldi.risk_model.errors",
    "RiskModel": "shouldi.risk_model.predict",
    "TRUSTED_TYPES": "shouldi.risk_model.archive",
    "TrainingDataError": "shouldi.risk_model.errors",
    "UnsafeModelError": "shouldi.risk_model.errors",
    "build_pipeline": "shouldi.risk_model.pipeline",
    "cross_validate": "shouldi.risk_model.evaluate",
    "default_model": "shouldi.risk_model.predict",
    "evaluate_holdout": "shouldi.risk_model.evaluate",
    "grouped_folds": "shouldi.risk_model.evaluate",
    "load_model": "shouldi.risk_model.archive",
    "load_table": "shouldi.risk_model.data",
    "parse_params": "shouldi.risk_model.pipeline",
    "read_manifest": "shouldi.risk_model.archive",
    "records_matrix": "shouldi.risk_model.data",
    "save_model": "shouldi.risk_model.archive",
    "score_report": "shouldi.risk_model.predict",
    "train": "shouldi.risk_model.train",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
del TYPE_CHECKING, lazy_exports

__all__ = [
    "ESTIMATORS",
    "TRUSTED_TYPES",
    "Contribution",
    "Evaluation",
    "FeatureTable",
    "Metrics",
    "ModelArchiveError",
    "ModelError",
    "RiskModel",
    "TrainingDataError",
    "UnsafeModelError",
    "build_pipeline",
    "cross_validate",
    "default_model",
    "evaluate_holdout",
    "grouped_folds",
    "load_model",
    "load_table",
    "parse_params",
    "read_manifest",
    "records_matrix",
    "save_model",
    "score_report",
    "train",
]
