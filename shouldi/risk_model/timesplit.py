"""An evaluation release age cannot fool: train on the past, test on the future, new projects.

**Split.** Training rows are releases whose whole label window closed before the cutoff
(uploaded at least a year before it): exactly what a model trained *at* the cutoff could have
known. Test rows are releases uploaded on or after the cutoff. Two variants, both reported:

- ``time+project`` (the one the skill bar reads): projects are dealt into ``folds`` groups
  (seeded); each group's test rows are scored by a model fitted on the training rows of the
  *other* groups, so no project is on both sides;
- ``time``: one model on every training row scores every test row (a project's past may
  inform its future, as it would in use).

**Baselines**, on the same test rows, each a one-feature logistic regression fitted on the same
training rows (so its direction and its probabilities are learnt, not assumed): release age
(older first), "a higher version already existed at upload", popularity rank, the project's
advisories published before the upload, and DFFML's rule (bandit high/high count).

**Metrics:** ROC AUC, PR AUC (average precision), Brier score, and within-project pairwise
accuracy (for every pair of test releases of one project with different labels, does the
positive score higher; ties count half). 95% intervals come from a bootstrap over test
projects (a project's releases are drawn together), 1,000 draws, seeded; the model's ROC AUC
margin over the best baseline (the one with the highest point ROC AUC) gets its own interval
from the same draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

from shouldi.risk_model.errors import TrainingDataError

__all__ = ["BASELINES", "Scored", "SplitReport", "average_precision", "pairwise_accuracy", "roc_auc",
           "split_rows", "summarise"]

Array = npt.NDArray[np.float64]
Rows = npt.NDArray[np.intp]
#: baseline name -> (column it reads, what it is)
BASELINES: dict[str, tuple[str, str]] = {
    "release-age": ("date", "days since upload (older first)"),
    "newer-existed": ("history.newer_existed", "a higher version existed at upload"),
    "popularity": ("history.popularity", "log10 download rank"),
    "past-advisories": ("history.past_advisories", "the project's advisories before upload"),
    "dffml-rule": ("bandit.high_high", "bandit high-severity, high-confidence findings"),
}
DRAWS = 1000
DAY = 86400.0


@dataclass(frozen=True)
class Scored:
    """One predictor's point metrics and 95% intervals (``None``: not defined on these rows)."""

    roc_auc: float | None
    pr_auc: float | None
    brier: float | None
    pairwise: float | None
    pairs: int
    intervals: Mapping[str, tuple[float, float] | None]

    def to_json(self) -> dict[str, Any]:
        return {"roc_auc": self.roc_auc, "pr_auc": self.pr_auc, "brier": self.brier,
                "pairwise": self.pairwise, "pairs": self.pairs,
                "intervals": {k: list(v) if v else None for k, v in self.intervals.items()}}


@dataclass(frozen=True)
class SplitReport:
    """Every predictor on one split's test rows."""

    split: str
    cutoff: str
    train_rows: int
    test_rows: int
    test_positives: int
    test_projects: int
    model: Scored
    baselines: Mapping[str, Scored]
    best_baseline: str
    margin: float | None  # model ROC AUC minus the best baseline's
    margin_interval: tuple[float, float] | None

    def to_json(self) -> dict[str, Any]:
        return {"split": self.split, "cutoff": self.cutoff, "train_rows": self.train_rows,
                "test_rows": self.test_rows, "test_positives": self.test_positives,
                "test_projects": self.test_projects, "model": self.model.to_json(),
                "baselines": {k: v.to_json() for k, v in self.baselines.items()},
                "best_baseline": self.best_baseline, "margin": self.margin,
                "margin_interval": list(self.margin_interval) if self.margin_interval else None}


def split_rows(uploaded: Array, cutoff: float) -> tuple[Rows, Rows]:
    """(training rows: window closed before ``cutoff``; test rows: uploaded at/after it)."""
    known = ~np.isnan(uploaded)
    train = np.flatnonzero(known & (uploaded + 365 * DAY <= cutoff))
    test = np.flatnonzero(known & (uploaded >= cutoff))
    return train, test


def _project_pairs(y: npt.NDArray[np.int64], score: Array,
                   groups: Sequence[str]) -> tuple[list[str], Array, Array]:
    """Per project: (names, pairs ranked right (ties half), pairs)."""
    by: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        by.setdefault(g, []).append(i)
    names = sorted(by)
    right, pairs = np.zeros(len(names)), np.zeros(len(names))
    for k, g in enumerate(names):
        rows = np.array(by[g])
        pos, neg = score[rows[y[rows] == 1]], score[rows[y[rows] == 0]]
        if pos.size and neg.size:
            diff = pos[:, None] - neg[None, :]
            right[k] = float((diff > 0).sum() + 0.5 * (diff == 0).sum())
            pairs[k] = float(diff.size)
    return names, right, pairs


def pairwise_accuracy(y: npt.NDArray[np.int64], score: Array, groups: Sequence[str]) -> tuple[float | None, int]:
    """Share of same-project (positive, negative) pairs ranked right; ties count half."""
    _, right, pairs = _project_pairs(y, score, groups)
    total = int(pairs.sum())
    return (round(float(right.sum()) / total, 4) if total else None), total


def roc_auc(y: npt.NDArray[np.int64], p: Array) -> float | None:
    """ROC AUC (Mann-Whitney, ties averaged); None with one class."""
    positives = int(y.sum())
    negatives = y.size - positives
    if positives == 0 or negatives == 0:
        return None
    _, inverse, counts = np.unique(p, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inverse]  # 1-based, ties averaged
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def average_precision(y: npt.NDArray[np.int64], p: Array) -> float | None:
    """Average precision as scikit-learn computes it (steps at distinct scores); None without positives."""
    if not y.any():
        return None
    order = np.argsort(-p, kind="mergesort")
    ys, ps = y[order], p[order]
    last = np.r_[np.diff(ps) != 0, True]
    tps = np.cumsum(ys)[last]
    seen = (np.arange(ys.size) + 1)[last]
    precision, recall = tps / seen, tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _point(y: npt.NDArray[np.int64], p: Array) -> tuple[float | None, float | None, float]:
    return roc_auc(y, p), average_precision(y, p), float(np.mean((p - y) ** 2))


def _interval(values: Sequence[float]) -> tuple[float, float] | None:
    clean = [v for v in values if not math.isnan(v)]
    if len(clean) < DRAWS // 2:
        return None
    lo, hi = np.percentile(clean, [2.5, 97.5])
    return round(float(lo), 4), round(float(hi), 4)


@dataclass(frozen=True)
class _Draws:
    """Bootstrap draws over projects: the rows of each draw, and each project's multiplicity."""

    rows: list[Rows]
    counts: npt.NDArray[np.int64]  # draws x projects (projects in sorted order)


def _draws(groups: Sequence[str], seed: int) -> _Draws:
    names = sorted(set(groups))
    where = {g: k for k, g in enumerate(names)}
    members: list[list[int]] = [[] for _ in names]
    for i, g in enumerate(groups):
        members[where[g]].append(i)
    index = [np.array(m, dtype=np.intp) for m in members]
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(names), (DRAWS, len(names)))
    counts = np.stack([np.bincount(row, minlength=len(names)) for row in picks])
    return _Draws([np.concatenate([index[k] for k in row]) for row in picks], counts)


def _scored(y: npt.NDArray[np.int64], p: Array, groups: Sequence[str], draws: _Draws,
            boot: dict[str, list[float]]) -> Scored:
    roc, pr, brier = _point(y, p)
    pair, pairs = pairwise_accuracy(y, p, groups)
    for rows in draws.rows:
        r, a, b = _point(y[rows], p[rows])
        boot["roc_auc"].append(math.nan if r is None else r)
        boot["pr_auc"].append(math.nan if a is None else a)
        boot["brier"].append(b)
    _, right, total = _project_pairs(y, p, groups)  # pairs never cross projects: sum per draw
    drawn_pairs = draws.counts @ total
    with np.errstate(invalid="ignore", divide="ignore"):
        boot["pairwise"] = list(np.where(drawn_pairs > 0, (draws.counts @ right) / drawn_pairs, np.nan))
    intervals = {k: _interval(v) for k, v in boot.items()}
    return Scored(_round(roc), _round(pr), _round(brier), pair, pairs, intervals)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _baseline_column(x: Array) -> Array:
    """arcsinh (counts and days have long tails), unknown -> the training median later."""
    return np.asarray(np.arcsinh(x), dtype=np.float64)


def fit_baseline(train_x: Array, train_y: npt.NDArray[np.int64], test_x: Array) -> Array:
    """A one-feature logistic regression: learnt direction and probabilities."""
    a, b = _baseline_column(train_x), _baseline_column(test_x)
    known = ~np.isnan(a)
    fill = float(np.median(a[known])) if known.any() else 0.0
    a, b = np.where(np.isnan(a), fill, a), np.where(np.isnan(b), fill, b)
    if np.ptp(a) == 0 or len(np.unique(train_y)) < 2:
        return np.full(b.shape, float(train_y.mean()) if train_y.size else 0.5)
    fitted = LogisticRegression(C=1e3, max_iter=1000).fit(a.reshape(-1, 1), train_y)
    return np.asarray(fitted.predict_proba(b.reshape(-1, 1))[:, 1], dtype=np.float64)


def summarise(split: str, cutoff: str, y: npt.NDArray[np.int64], groups: Sequence[str],
              train: Rows, test: Rows, model_p: Array, baseline_p: Mapping[str, Array],
              seed: int = 0) -> SplitReport:
    """Metrics and intervals of the model's and every baseline's test probabilities."""
    if test.size == 0 or not 0 < int(y[test].sum()) < test.size:
        raise TrainingDataError(f"the {split} split has no test rows of both labels after {cutoff}")
    ty, tg = y[test], [groups[i] for i in test]
    draws = _draws(tg, seed)
    boots: dict[str, dict[str, list[float]]] = {}

    def score(name: str, p: Array) -> Scored:
        boots[name] = {"roc_auc": [], "pr_auc": [], "brier": [], "pairwise": []}
        return _scored(ty, p, tg, draws, boots[name])

    model = score("model", model_p)
    baselines = {name: score(name, p) for name, p in baseline_p.items()}
    ranked = sorted(baselines, key=lambda n: -(baselines[n].roc_auc or 0.0))
    best = ranked[0]
    margin = None if model.roc_auc is None or baselines[best].roc_auc is None else round(
        model.roc_auc - (baselines[best].roc_auc or 0.0), 4)
    diffs = [m - b for m, b in zip(boots["model"]["roc_auc"], boots[best]["roc_auc"], strict=True)]
    return SplitReport(split, cutoff, int(train.size), int(test.size), int(ty.sum()),
                       len(set(tg)), model, baselines, best, margin, _interval(diffs))


def fold_projects(groups: Sequence[str], folds: int, seed: int = 0) -> dict[str, int]:
    """Each project's fold (seeded shuffle, dealt round-robin)."""
    names = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(names))
    return {names[j]: k % folds for k, j in enumerate(order)}


FitPredict = Callable[[Rows, Rows], Array]


def time_project_scores(groups: Sequence[str], train: Rows, test: Rows, folds: int,
                        fit_predict: FitPredict, seed: int = 0) -> Array:
    """Test probabilities where each project's rows come from a model that never saw it."""
    fold = fold_projects(groups, folds, seed)
    out = np.full(test.size, math.nan)
    for k in range(folds):
        tr = np.array([i for i in train if fold[groups[i]] != k], dtype=np.intp)
        mask = np.array([fold[groups[i]] == k for i in test])
        if mask.any():
            out[mask] = fit_predict(tr, test[mask])
    return out
