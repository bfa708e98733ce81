"""Training, grouped cross-validation, baselines, predictions, explanations and drift."""

from __future__ import annotations

import numpy as np
import pytest
from test_risk_model_data import synthetic_records, write_features

from shouldi.errors import UsageError
from shouldi.risk_model import (
    TrainingDataError,
    cross_validate,
    evaluate_holdout,
    grouped_folds,
    load_table,
    parse_params,
    records_matrix,
    train,
)
from shouldi.risk_model.evaluate import best_threshold, compute_metrics


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    return load_table(write_features(tmp_path_factory.mktemp("t") / "features.csv", projects=60))


@pytest.fixture(scope="module")
def logistic(table):
    return train(table, "logistic")


def test_grouped_folds_never_split_a_project(table) -> None:
    folds = grouped_folds(table.y, table.groups, 5)
    assert len(folds) == 5
    groups = np.array(table.groups)
    seen_test = np.concatenate([test for _, test in folds])
    assert sorted(seen_test.tolist()) == list(range(table.n))  # every row tested exactly once
    multi = {g for g in set(table.groups) if table.groups.count(g) > 1}
    assert multi, "the fixture must have projects with several releases"
    for train_rows, test_rows in folds:
        assert not set(groups[train_rows]) & set(groups[test_rows])
        assert set(table.y[test_rows]) == {0, 1}  # stratified: both classes in every fold


def test_cross_validation_fits_never_see_a_tested_project(table, monkeypatch) -> None:
    """Spy on every pipeline cross_validate fits: the projects it predicts were never trained on."""
    import shouldi.risk_model.pipeline as pipeline_module

    project_of = {row.tobytes(): g for row, g in zip(table.x, table.groups, strict=True)}
    calls = []

    class Spy:
        def fit(self, x, y):
            self.trained = {project_of[row.tobytes()] for row in x}
            return self

        def predict_proba(self, x):
            tested = {project_of[row.tobytes()] for row in x}
            calls.append((self.trained, tested))
            return np.tile([0.5, 0.5], (len(x), 1))

    monkeypatch.setattr(pipeline_module, "build_pipeline", lambda *a, **k: Spy())
    cross_validate(table, "logistic", {}, 4)
    assert len(calls) == 4
    assert all(trained and tested and not trained & tested for trained, tested in calls)
    assert set().union(*(tested for _, tested in calls)) == set(table.groups)


def test_grouped_folds_refuse_too_few_projects(table) -> None:
    with pytest.raises(TrainingDataError, match="needs at least 50 projects with label [01]"):
        grouped_folds(table.y, table.groups, 50)


def test_cross_validation_beats_both_baselines_on_learnable_data(table) -> None:
    evaluation, scores = cross_validate(table, "logistic", {}, 5)
    assert evaluation.method == "grouped-cv" and evaluation.model.n == table.n
    assert not np.isnan(scores).any()
    model, majority, rule = evaluation.model, evaluation.baselines["majority"], evaluation.baselines["dffml-rule"]
    assert majority.roc_auc == 0.5 and majority.recall == 0.0  # negatives are the majority
    assert model.roc_auc > 0.8 > rule.roc_auc  # the rule's column carries no signal here
    assert model.pr_auc > majority.pr_auc
    assert set(evaluation.to_json()) >= {"roc_auc", "pr_auc", "precision", "recall", "n", "baselines"}


def test_dffml_rule_baseline_is_the_rule(table, logistic) -> None:
    evaluation = evaluate_holdout(logistic, table)
    rule = evaluation.baselines["dffml-rule"]
    fires = np.nan_to_num(table.rule_counts, nan=0) > 5
    tp = int((fires & (table.y == 1)).sum())
    assert rule.precision == round(tp / fires.sum(), 4)
    assert rule.recall == round(tp / table.y.sum(), 4)
    assert evaluation.notes and "training data" in evaluation.notes[0]


def test_metrics_by_hand() -> None:
    y = np.array([0, 0, 1, 1])
    m = compute_metrics(y, np.array([0.1, 0.6, 0.4, 0.9]), 0.5)
    assert (m.roc_auc, m.precision, m.recall, m.n, m.positives) == (0.75, 0.5, 0.5, 4, 2)
    assert best_threshold(y, np.array([0.1, 0.2, 0.8, 0.9])) == 0.8
    assert compute_metrics(np.array([0, 0]), np.array([0.1, 0.2]), 0.5).roc_auc is None


def test_training_is_deterministic_and_records_its_data(table, logistic) -> None:
    again = train(table, "logistic")
    assert np.array_equal(again.probabilities(table.x), logistic.probabilities(table.x))
    assert logistic.manifest["training_data"]["projects"] == len(set(table.groups))
    split = logistic.manifest["metrics"]["time_split"]["time+project"]
    assert split["baselines"]["dffml-rule"]["pairs"] == split["model"]["pairs"]  # the same test rows
    assert sorted(logistic.manifest["score_percentiles"]) == logistic.manifest["score_percentiles"]
    assert again.manifest["metrics"] == logistic.manifest["metrics"]  # seeded: the same numbers


def test_no_leakage_from_advisory_columns(logistic) -> None:
    assert not any(f.startswith("advisories.") for f in logistic.features)
    record = synthetic_records(1, seed=7)[0]
    baseline = logistic.score_records([record])[0].score
    assert logistic.score_records([{**record, "advisories.count": 50}])[0].score == baseline


def test_predictions_rank_risky_fixtures_higher(logistic) -> None:
    quiet = {"bandit.loc": 300, "heuristics.cap_network": 0, "history.past_advisories": 1}
    risky = {"bandit.loc": 300_000, "heuristics.cap_network": 9, "history.past_advisories": 1}
    low, high = logistic.score_records([quiet, risky])
    assert 0 <= low.score < 20 < 80 < high.score <= 100
    assert high.top_features[0].startswith("review priority: high")
    assert "300,000 lines of code" in high.top_features[0]
    assert low.top_features[0].startswith("review priority: low")


def test_linear_contributions_sum_to_the_decision_function(table, logistic) -> None:
    x = table.x[:6]
    linear = logistic.pipeline[-1].calibrated_classifiers_[0].estimator
    decision = linear.decision_function(logistic.pipeline[:-1].transform(x))
    contributions = logistic.contributions(x)
    assert np.allclose(contributions.sum(axis=1) + linear.intercept_[0], decision)


def test_drift_names_features_outside_training_ranges(logistic) -> None:
    record = synthetic_records(1, seed=3)[0]
    inside = logistic.score_records([record])[0]
    assert inside.reliable and inside.drift == ()
    outside = logistic.score_records([{**record, "bandit.loc": 100_000_000, "archive.members": -5}])[0]
    assert not outside.reliable
    assert outside.drift == ("bandit.loc", "archive.members")
    unknown = logistic.score_records([{**record, "bandit.loc": None}])[0]
    assert unknown.reliable  # unknown is imputed, not drift


@pytest.mark.parametrize(("estimator", "params"), [
    ("gradient-boosting", {"max_iter": 30}),
    ("random-forest", {"n_estimators": 25}),
], ids=["gradient-boosting", "random-forest"])
def test_tree_estimators_train_and_explain(table, estimator, params) -> None:
    model = train(table, estimator, params)
    assert model.manifest["estimator"]["params"] == params
    assert model.manifest["metrics"]["time_split"]["time+project"]["model"]["roc_auc"] > 0.75
    x = records_matrix(synthetic_records(3, seed=11), model.features)
    contributions = model.contributions(x)
    assert contributions.shape == x.shape and np.abs(contributions).max() > 0.1
    (score,) = model.score(x[:1])
    assert 0 <= score.score <= 100 and score.top_features


def test_bad_training_input_is_refused(tmp_path, table) -> None:
    with pytest.raises(UsageError, match="unknown parameter.*for logistic: nope"):
        train(table, "logistic", {"nope": 1})
    with pytest.raises(UsageError, match="unknown estimator 'svm'"):
        train(table, "svm")
    with pytest.raises(UsageError, match="cannot train logistic"):
        train(table, "logistic", {"C": -1})
    one_class = tmp_path / "one.csv"
    one_class.write_text("name,version,label,bandit.loc\n" + "".join(
        f"p{i},1,0,{i}\n" for i in range(30)), encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"both labels are needed \(0: 30, 1: 0\)"):
        train(load_table(one_class))
    history_only = tmp_path / "history.csv"
    history_only.write_text("name,version,label,history.prior_releases\n" + "".join(
        f"p{i},1,{i % 2},{i}\n" for i in range(30)), encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"feature\(s\) unknown on every row \(e.g. 'history"):
        train(load_table(history_only))
    assert parse_params(["C=0.5", "penalty=l2", "class_weight=null", "x=true"]) == {
        "C": 0.5, "penalty": "l2", "class_weight": None, "x": True}
    with pytest.raises(UsageError, match="expected KEY=VALUE"):
        parse_params(["C"])
