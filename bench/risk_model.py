"""Risk-model quality on the committed dataset: the time split beside the baselines, per estimator.

For each estimator, every report of :func:`shouldi.risk_model.assess.assess` (train on releases
whose 12-month window closed before the cutoff, test on later uploads; ``time+project`` keeps
every tested project out of training; ``advisory-projects`` repeats it among projects with at
least one advisory in the label data, where "has this project ever had an advisory" cannot be
what the model learnt), on all rows and on the advisory projects' rows alone (which also
changes the training rows of the ``time`` split). Quality numbers only, no timing.

    .venv/bin/python bench/risk_model.py --json
    .venv/bin/python bench/risk_model.py --features-set all --features /tmp/scan_features.csv --json
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _advisory_projects(labels: Path) -> set[str]:
    from packaging.utils import canonicalize_name

    with labels.open(encoding="utf-8") as f:
        return {canonicalize_name(r["name"]) for r in csv.DictReader(f) if r.get("project_advisories")}


def _subset(table: Any, keep: set[str]) -> Any:
    rows = np.array([g in keep for g in table.groups])
    return dataclasses.replace(
        table, x=table.x[rows], y=table.y[rows], groups=tuple(g for g, k in zip(table.groups, rows, strict=True) if k),
        releases=tuple(r for r, k in zip(table.releases, rows, strict=True) if k),
        rule_counts=table.rule_counts[rows], uploaded=table.uploaded[rows],
        extra={c: v[rows] for c, v in table.extra.items()},
        advised=None if table.advised is None else table.advised[rows])


def _summary(reports: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"notes": notes}
    for name, r in reports.items():
        out[name] = {"train_rows": r.train_rows, "test_rows": r.test_rows,
                     "test_positives": r.test_positives, "test_projects": r.test_projects,
                     "model": {k: getattr(r.model, k) for k in ("roc_auc", "pr_auc", "brier", "pairwise")}
                     | {"roc_auc_95": r.model.intervals.get("roc_auc")},
                     "baselines": {b: s.roc_auc for b, s in r.baselines.items()},
                     "best_baseline": r.best_baseline, "margin": r.margin,
                     "margin_95": r.margin_interval}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, default=ROOT / "datasets" / "features.csv")
    parser.add_argument("--labels", type=Path, default=ROOT / "datasets" / "labels.csv")
    parser.add_argument("--features-set", choices=("history", "code", "all", "capabilities"), default="history")
    parser.add_argument("--estimators", default="logistic,gradient-boosting")
    parser.add_argument("--cutoff", default="2022-01-01")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from shouldi.record import CAPABILITY_FEATURES, CODE_FEATURES, HISTORY_COLUMNS, MODEL_FEATURES
    from shouldi.risk_model import load_table
    from shouldi.risk_model.assess import assess

    columns = {"history": HISTORY_COLUMNS, "code": CODE_FEATURES, "all": MODEL_FEATURES,
               "capabilities": CAPABILITY_FEATURES}[args.features_set]
    table = load_table(args.features, columns)
    subsets = {"all projects": table, "advisory projects only": _subset(table, _advisory_projects(args.labels))}
    result: dict[str, Any] = {"features": str(args.features), "feature_set": args.features_set,
                              "rows": table.n, "positives": int(table.y.sum()), "cutoff": args.cutoff}
    for estimator in args.estimators.split(","):
        for label, data in subsets.items():
            reports, notes = assess(data, estimator, {}, args.cutoff)
            result[f"{estimator} / {label}"] = _summary(reports, notes)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            if isinstance(value, dict):
                main_split = value["time+project"]
                print(f"{key}: ROC AUC {main_split['model']['roc_auc']} {main_split['model']['roc_auc_95']}, "
                      f"best baseline {main_split['best_baseline']}, margin {main_split['margin']} "
                      f"{main_split['margin_95']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
