"""The time-split assessment, its metrics and intervals, the skill bar, and plain-language scores."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score
from test_risk_model_data import write_features

from shouldi.risk_model import load_table, train
from shouldi.risk_model.assess import SKILL_MARGIN, assess, skill
from shouldi.risk_model.timesplit import (
    average_precision,
    pairwise_accuracy,
    roc_auc,
    split_rows,
    time_project_scores,
)
from shouldi.risk_model.words import phrase, placement, priority_line

CUT = datetime(2022, 1, 1, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize("seed", range(5))
def test_fast_metrics_match_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 200)
    p = np.round(rng.random(200), 1)  # many ties
    assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p))
    assert average_precision(y, p) == pytest.approx(average_precision_score(y, p))
    assert roc_auc(np.zeros(3, dtype=np.int64), p[:3]) is None


def test_pairwise_accuracy_by_hand() -> None:
    y = np.array([1, 0, 0, 1, 0, 1])
    p = np.array([0.9, 0.2, 0.9, 0.1, 0.5, 0.7])
    groups = ["a", "a", "a", "b", "b", "c"]
    # a: (0.9 > 0.2) right, (0.9 = 0.9) half; b: (0.1 < 0.5) wrong; c: no pair
    assert pairwise_accuracy(y, p, groups) == (round(1.5 / 3, 4), 3)


def test_split_trains_only_on_closed_windows() -> None:
    day = 86400.0
    uploaded = np.array([CUT - 400 * day, CUT - 200 * day, CUT, CUT + day, np.nan])
    train, test = split_rows(uploaded, CUT)
    assert train.tolist() == [0] and test.tolist() == [2, 3]


def test_time_project_scores_never_train_on_a_tested_project() -> None:
    groups = [f"p{i % 17}" for i in range(120)]
    train, test = np.arange(0, 60), np.arange(60, 120)
    seen = []

    def fit_predict(tr, te):
        seen.append(({groups[i] for i in tr}, {groups[i] for i in te}))
        return np.full(te.size, 0.5)

    scores = time_project_scores(groups, train, test, 5, fit_predict)
    assert not np.isnan(scores).any() and len(seen) == 5
    assert all(trained and not trained & tested for trained, tested in seen)


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    root = tmp_path_factory.mktemp("ts")
    return {signal: load_table(write_features(root / f"{signal}.csv", projects=70, seed=5, signal=signal))
            for signal in ("code", "past-advisories", "pool")}


def test_a_model_that_learns_what_no_baseline_knows_is_skilled(tables) -> None:
    reports, notes = assess(tables["code"], "logistic", {})
    assert list(reports) == ["time+project", "time", "advisory-projects"] and not notes
    pool = reports["advisory-projects"]
    assert pool.test_rows < reports["time"].test_rows and pool.margin is not None and pool.margin >= SKILL_MARGIN
    main = reports["time+project"]
    assert set(main.baselines) == {"release-age", "newer-existed", "popularity", "past-advisories", "dffml-rule"}
    assert main.model.roc_auc is not None and main.model.roc_auc > 0.75
    assert main.margin is not None and main.margin >= SKILL_MARGIN
    lo, hi = main.model.intervals["roc_auc"]
    assert lo < main.model.roc_auc < hi
    assert main.margin_interval and main.margin_interval[0] > 0
    assert 0 <= main.model.brier <= 0.25 and main.model.pr_auc is not None


def test_a_model_no_better_than_a_baseline_is_not_skilled(tables) -> None:
    model = train(tables["past-advisories"], "logistic")
    split = model.manifest["metrics"]["time_split"]["time+project"]
    assert split["best_baseline"] == "past-advisories"
    assert split["margin"] < SKILL_MARGIN
    assert not model.skill.skilled
    assert model.skill.reason.startswith("no score: the model does not beat its best baseline by 0.05")
    assert model.manifest["metrics"]["skill"] == {"skilled": False, "reason": model.skill.reason}


def test_telling_advisory_projects_apart_is_not_skill(tables) -> None:
    model = train(tables["pool"], "logistic")
    splits = model.manifest["metrics"]["time_split"]
    assert splits["time+project"]["margin"] >= SKILL_MARGIN  # the shortcut works across projects
    assert splits["advisory-projects"]["margin"] < SKILL_MARGIN  # and is worth nothing within them
    assert not model.skill.skilled
    assert "but not among projects with advisories" in model.skill.reason


def test_skill_of_an_old_or_malformed_manifest() -> None:
    assert not skill({}).skilled
    assert "no time-split evaluation" in skill({"metrics": {"roc_auc": 0.9}}).reason
    broken = {"metrics": {"time_split": {"time+project": {"model": {"roc_auc": None}}}}}
    assert not skill(broken).skilled


def test_history_only_data_says_the_dffml_rule_is_not_available(tmp_path: Path) -> None:
    from test_risk_model_data import synthetic_records

    from shouldi.record import HISTORY_COLUMNS
    from shouldi.sources import open_source

    path = tmp_path / "h.csv"
    with open_source(path).writer() as writer:
        for record in synthetic_records(50, seed=2, signal="past-advisories"):
            writer.write({k: v for k, v in record.items() if not k.startswith("bandit.")})  # type: ignore[misc]
    reports, notes = assess(load_table(path, HISTORY_COLUMNS), "logistic", {})
    assert "dffml-rule" not in reports["time"].baselines
    assert notes[0] == "baseline dffml-rule not available: bandit.high_high unknown on every test row"


def test_priority_sentence_is_plain_language() -> None:
    percentiles = [i / 100 for i in range(101)]
    assert placement(0.955, percentiles) == 95.0 and placement(-1, percentiles) == 0.0
    reasons = [("history.past_advisories", 4.0, 1.2), ("history.newer_existed", 1.0, 0.6),
               ("bandit.loc", 300.0, -0.4), ("history.popularity", 40.0, 0.1)]
    priority, text = priority_line(0.955, percentiles, reasons)
    assert priority == "high"
    assert text == ("review priority: high \u2014 top 5% of releases scanned for training; because: "
                    "the project had 4 advisories before this release, a maintenance release: a "
                    "higher version already existed, one of the 100 most downloaded projects")
    low, said = priority_line(0.2, percentiles, reasons)
    assert low == "low" and said.endswith("because: 300 lines of code")
    assert "(+" not in text and "coef" not in text  # never raw contributions
    assert phrase("heuristics.cap_network", 3) == "the code uses the network (3 places)"
    assert phrase("history.past_advisories", None) == "past advisories unknown"
    assert [phrase("history.popularity", r) for r in (7, 1200, 5000, 5001)] == [
        "one of the 100 most downloaded projects", "one of the 5,000 most downloaded projects",
        "one of the 5,000 most downloaded projects", "not among the 5,000 most downloaded projects"]
