"""The time-split assessment of an estimator on a features file, and the skill it shows.

:func:`assess` runs both splits of :mod:`shouldi.risk_model.timesplit` for one estimator and
its parameters (a fresh pipeline per fit, as training would build it) beside every baseline
whose column is known on the test rows (a history-only file has no bandit counts: the DFFML
rule is then *not available*, said in ``notes``, never scored as zeros).

When the file says which projects have an advisory in the label data (``project_advisories``),
a third report, ``advisory-projects``, repeats ``time+project`` on those projects only. The
dataset's projects without advisories are all negative *by construction* (and, the snapshot
being a subset of packages, some of them are unknown positives): a model can beat every
baseline by telling those projects from the others (popularity, cadence) without knowing
anything about which release of a project will get an advisory. Among projects that all have
advisories that shortcut is gone.

:func:`skill` reads a manifest: a model is **skilled** when its ROC AUC beats the best single
baseline's by at least :data:`SKILL_MARGIN` (0.05) on the ``time+project`` split (the bar of
issue 14) *and*, when that report exists, on ``advisory-projects`` too. Only a skilled model's
score may be shown or gated on; otherwise the one-line reason says why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import numpy as np

from shouldi.risk_model.data import FeatureTable
from shouldi.risk_model.errors import TrainingDataError
from shouldi.risk_model.skill import POOL, PRIMARY, SKILL_MARGIN, Skill, skill
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
FOLDS = 5


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

    def time_project(name: str, tr: Rows, te: Rows) -> SplitReport:
        return summarise(name, cutoff, y, groups, tr, te,
                         time_project_scores(groups, tr, te, FOLDS, model_fit),
                         {n: time_project_scores(groups, tr, te, FOLDS, baseline_fit(v))
                          for n, v in columns.items()})

    reports = {
        PRIMARY: time_project(PRIMARY, train, test),
        "time": summarise("time", cutoff, y, groups, train, test, model_fit(train, test),
                          {n: baseline_fit(v)(train, test) for n, v in columns.items()}),
    }
    if table.advised is not None:
        tr, te = train[table.advised[train]], test[table.advised[test]]
        if 0 < int(y[te].sum()) < te.size and len(np.unique(y[tr])) == 2:
            reports[POOL] = time_project(POOL, tr, te)
        else:
            notes.append(f"no {POOL} report: too few releases of projects with advisories")
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
