"""The time-split assessment of an estimator on a features file, and the skill it shows.

:func:`assess` runs both splits of :mod:`shouldi.risk_model.timesplit` for one estimator and
its parameters (a fresh pipeline per fit, as training would build it) beside every baseline
whose column is known on the test rows (a history-only file has no bandit counts: the DFFML
rule is then *not available*, said in ``notes``, never scored as zeros).

:func:`skill` reads a manifest: a model is **skilled** when, on the ``time+project`` split,
its ROC AUC beats the best single baseline's by at least :data:`SKILL_MARGIN` (0.05). Only a
skilled model's score may be shown or gated on; otherwise the one-line reason says why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from shouldi.risk_model.data import FeatureTable
from shouldi.risk_model.errors import TrainingDataError
from shouldi.risk_model.timesplit import (
    BASELINES,
    Array,
    Rows,
    SplitReport,
    fit_baseline,
    split_rows,
    summarise,
    time_project_scores,
)

__all__ = ["DEFAULT_CUTOFF", "SKILL_MARGIN", "Skill", "assess", "baseline_values", "holdout_report",
           "skill"]

DEFAULT_CUTOFF = "2022-01-01"
SKILL_MARGIN = 0.05
PRIMARY = "time+project"
FOLDS = 5


@dataclass(frozen=True)
class Skill:
    skilled: bool
    reason: str  # one line: why a score is (not) shown


def cutoff_seconds(text: str) -> float:
    try:
        when = datetime.fromisoformat(text)
    except ValueError as e:
        raise TrainingDataError(f"cutoff {text!r} is not an ISO date") from e
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


def baseline_values(table: FeatureTable, name: str) -> Array:
    """The raw column a baseline ranks by (release age: older is higher)."""
    column = BASELINES[name][0]
    if column == "date":
        assert table.uploaded is not None
        return -table.uploaded
    if column in table.extra:
        return table.extra[column]
    return table.rule_counts if column == "bandit.high_high" else np.full(table.n, math.nan)


def _fit_predict(table: FeatureTable, estimator: str, params: Mapping[str, Any]) -> Any:
    from shouldi.risk_model.pipeline import build_pipeline, single_threaded

    assert table.y is not None
    y = table.y

    def run(train: Rows, test: Rows) -> Array:
        folds = max(2, min(5, int(np.bincount(y[train], minlength=2).min())))
        pipeline = build_pipeline(estimator, params, calibration_folds=folds)
        with single_threaded():
            pipeline.fit(table.x[train], y[train])
            return np.asarray(pipeline.predict_proba(table.x[test])[:, 1], dtype=np.float64)

    return run


def assess(table: FeatureTable, estimator: str, params: Mapping[str, Any],
           cutoff: str = DEFAULT_CUTOFF) -> tuple[dict[str, SplitReport], list[str]]:
    """Both splits' reports (``time+project`` first) and notes on baselines left out."""
    if table.y is None or table.uploaded is None or np.isnan(table.uploaded).all():
        raise TrainingDataError(f"{table.path}: no 'date' column (upload times): a time split "
                                "needs them; build the labels with datasets/build_labels.py")
    y = table.y
    train, test = split_rows(table.uploaded, cutoff_seconds(cutoff))
    if train.size == 0 or len(np.unique(y[train])) < 2:
        raise TrainingDataError(f"{table.path}: too few releases with both labels whose window "
                                f"closed before {cutoff} to train on ({train.size} rows)")
    notes: list[str] = []
    columns = {}
    for name in BASELINES:
        values = baseline_values(table, name)
        if np.isnan(values[test]).all():
            notes.append(f"baseline {name} not available: {BASELINES[name][0]} unknown on every test row")
        else:
            columns[name] = values
    model_fit = _fit_predict(table, estimator, params)
    groups = table.groups

    def baseline_fit(values: Array) -> Any:
        return lambda a, b: fit_baseline(values[a], y[a], values[b])

    reports = {
        PRIMARY: summarise(PRIMARY, cutoff, y, groups, train, test,
                           time_project_scores(groups, train, test, FOLDS, model_fit),
                           {n: time_project_scores(groups, train, test, FOLDS, baseline_fit(v))
                            for n, v in columns.items()}),
        "time": summarise("time", cutoff, y, groups, train, test, model_fit(train, test),
                          {n: baseline_fit(v)(train, test) for n, v in columns.items()}),
    }
    return reports, notes


def holdout_report(model: Any, table: FeatureTable) -> SplitReport:
    """A fitted model on a labelled file it was not trained on, beside the baselines (each
    fitted on that file itself: in-sample, which can only favour them)."""
    if table.y is None:
        raise TrainingDataError(f"{table.path}: no 'label' column")
    if table.features != model.features:
        raise TrainingDataError("the table was not loaded with the model's features")
    y = table.y
    rows = np.arange(table.n, dtype=np.intp)
    columns = {n: baseline_values(table, n) for n in BASELINES}
    baselines = {n: fit_baseline(v, y, v) for n, v in columns.items() if not np.isnan(v).all()}
    return summarise("holdout", "-", y, table.groups, rows, rows, model.probabilities(table.x), baselines)


def skill(manifest: Mapping[str, Any]) -> Skill:
    """Whether the manifest's measured skill allows showing (and gating on) a score."""
    metrics = manifest.get("metrics")
    split = metrics.get("time_split", {}).get(PRIMARY) if isinstance(metrics, dict) else None
    if not isinstance(split, dict):
        return Skill(False, "no score: this model has no time-split evaluation (an older model format)")
    model_auc = split.get("model", {}).get("roc_auc")
    best = split.get("best_baseline")
    best_auc = split.get("baselines", {}).get(best, {}).get("roc_auc") if best else None
    if not isinstance(model_auc, (int, float)) or not isinstance(best_auc, (int, float)):
        return Skill(False, "no score: the time-split evaluation has no ROC AUC to compare")
    margin = float(model_auc) - float(best_auc)
    where = (f"time split after {split.get('cutoff')}, new projects: ROC AUC {model_auc:.3f} vs "
             f"{best} {best_auc:.3f}")
    if margin >= SKILL_MARGIN:
        return Skill(True, f"skilled: {where} (+{margin:.3f}, bar +{SKILL_MARGIN})")
    return Skill(False, f"no score: the model does not beat its best baseline by {SKILL_MARGIN} "
                        f"ROC AUC ({where}, {margin:+.3f})")
