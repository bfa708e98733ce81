"""The risk model: "will an advisory affecting this release be published within 12 months
of its upload?", learnt from as-of-upload features, measured on a time split, shown only with skill.

``labels`` defines the question and its labels, ``features`` computes the as-of-upload inputs
(the flow calls :func:`history_check`), ``train`` fits a calibrated scikit-learn pipeline on a
features file (``shouldi dataset build``), ``assess``/``timesplit`` measure it on later uploads
of new projects beside five baselines and decide its :func:`skill`, ``predict`` scores releases
in plain language (``words``), and ``archive`` saves and loads the portable, verified model file
(skops inside a zip or tar.gz, never pickle)::

    table = load_table(Path("features.csv"))
    model = train(table, "gradient-boosting")
    save_model(model, Path("model.zip"))
    loaded = load_model(Path("model.zip"))
    loaded.skill                      # Skill(skilled=..., reason="...") -> shown or not
    score_report(report, loaded)      # RiskScore with the priority sentence, or None
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shouldi.lazy import lazy_exports

if TYPE_CHECKING:
    from shouldi.risk_model.archive import TRUSTED_TYPES, load_model, read_manifest, save_model
    from shouldi.risk_model.assess import Skill, assess, skill
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
    from shouldi.risk_model.features import history_check
    from shouldi.risk_model.pipeline import ESTIMATORS, build_pipeline, parse_params
    from shouldi.risk_model.predict import (
        Contribution,
        RiskModel,
        check_max_risk_score,
        default_model,
        score_report,
    )
    from shouldi.risk_model.skill import shipped_skill
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
    "Skill": "shouldi.risk_model.skill",
    "assess": "shouldi.risk_model.assess",
    "check_max_risk_score": "shouldi.risk_model.predict",
    "history_check": "shouldi.risk_model.features",
    "skill": "shouldi.risk_model.skill",
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
    "shipped_skill": "shouldi.risk_model.skill",
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
    "Skill",
    "TrainingDataError",
    "UnsafeModelError",
    "assess",
    "build_pipeline",
    "check_max_risk_score",
    "cross_validate",
    "default_model",
    "evaluate_holdout",
    "grouped_folds",
    "history_check",
    "load_model",
    "load_table",
    "parse_params",
    "read_manifest",
    "records_matrix",
    "save_model",
    "score_report",
    "shipped_skill",
    "skill",
    "train",
]
