"""Feature tables, and the synthetic feature files the risk-model tests train on.

:func:`write_features` writes a real features file (the real record columns, through the real
sources layer) where the label depends on a few features, releases of one project share a
project-level risk, and some values are unknown, as after a scanner error.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from shouldi.record import FEATURE_COLUMNS, MODEL_FEATURES
from shouldi.risk_model import TrainingDataError, load_table, records_matrix
from shouldi.sources import open_source


def synthetic_records(projects: int = 60, seed: int = 0, shift: float = 0.0,
                      signal: str = "code") -> list[dict[str, object]]:
    """Records for ``projects`` projects (2-6 releases each, uploaded 2014-2023).

    ``signal`` says what the label depends on: ``"code"`` (the file's size and network use:
    learnable, and no baseline column knows it), ``"past-advisories"`` (exactly what that
    baseline reads: a model cannot beat it), ``"pool"`` (only whether the project is one with
    advisories, which ``history.releases_prev_year`` gives away: random within those projects),
    or ``"none"`` (noise). ``shift`` moves the bandit high/high counts of positives (the DFFML
    rule's column). About 60% of projects are "advisory projects" (``project_advisories``)."""
    rng = np.random.default_rng(seed)
    records: list[dict[str, object]] = []
    for p in range(projects):
        size = rng.normal()  # a project-level trait the code columns show
        advised = bool(rng.random() < 0.6)
        for r in range(int(rng.integers(2, 7))):
            uploaded = datetime(2014, 1, 1, tzinfo=timezone.utc) + timedelta(days=float(rng.uniform(0, 3650)))
            past = int(rng.poisson(1.5))
            loc_z = size + 0.3 * rng.normal()
            network = int(rng.poisson(3 if loc_z > 0 else 0.5))
            if signal == "code":
                risk = 2.2 * loc_z + 0.5 * network - 2.5
            elif signal == "past-advisories":
                risk = 3.0 * (past >= 2) - 1.5
            elif signal == "pool":
                risk = 0.0 if advised else -6.0
            else:
                risk = -0.5
            label = int(rng.random() < 1 / (1 + math.exp(-risk)))
            rec: dict[str, object] = {"name": f"proj-{seed}-{p}", "version": f"1.{r}.0",
                                      "label": label, "label_source": "synthetic",
                                      "date": uploaded.isoformat(timespec="seconds"),
                                      "project_advisories": "2010-01-01T00:00:00+00:00" if advised else ""}
            for column in FEATURE_COLUMNS:
                rec[column] = int(rng.poisson(2))
            rec["history.past_advisories"] = past
            rec["history.popularity"] = int(rng.integers(1, 5002))
            rec["history.newer_existed"] = int(rng.random() < 0.1)
            rec["bandit.loc"] = int(10 ** (3.5 + 0.6 * loc_z))
            rec["heuristics.cap_network"] = network
            if signal == "pool":
                rec["history.releases_prev_year"] = int(rng.poisson(9 if advised else 1))
            rec["bandit.high_high"] = int(rng.poisson(2) + shift * label)
            rec["advisories.count"] = label * 3  # leakage bait: the model must not read it
            if rng.random() < 0.08:  # bandit did not run: its features are unknown
                for column in FEATURE_COLUMNS:
                    if column.startswith("bandit."):
                        rec[column] = None
            records.append(rec)
    return records


def write_features(path: Path, projects: int = 60, seed: int = 0, shift: float = 0.0,
                   signal: str = "code") -> Path:
    with open_source(path).writer() as writer:
        for record in synthetic_records(projects, seed, shift, signal):
            writer.write(record)  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".sqlite"])
def test_load_table_any_format(tmp_path: Path, suffix: str) -> None:
    path = write_features(tmp_path / f"f{suffix}", projects=10)
    table = load_table(path)
    assert table.features == MODEL_FEATURES
    assert "advisories.count" not in table.features
    assert table.x.shape == (table.n, len(MODEL_FEATURES))
    assert table.y is not None and set(table.y.tolist()) <= {0, 1}
    assert len(table.groups) == table.n and table.groups[0].startswith("proj-0-")
    assert np.isnan(table.x).any()  # unknown bandit counts stay unknown, not 0
    assert len(table.sha256) == 64


def test_csv_without_type_sidecar_is_parsed(tmp_path: Path) -> None:
    path = write_features(tmp_path / "f.csv", projects=5)
    typed = load_table(path)
    path.with_name("f.csv.types.json").unlink()
    untyped = load_table(path)
    assert np.array_equal(typed.x, untyped.x, equal_nan=True)
    assert np.array_equal(typed.y, untyped.y)


def test_bad_label_and_missing_columns_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,version,label,bandit.loc\nx,1,maybe,3\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"bad.csv: record 1: 'label' must be 0 or 1"):
        load_table(bad)
    nofeat = tmp_path / "nofeat.csv"
    nofeat.write_text("name,version,label\nx,1,1\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="none of the model's"):
        load_table(nofeat)
    text = tmp_path / "text.csv"
    text.write_text("name,version,label,bandit.loc\nx,1,1,lots\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"column 'bandit.loc' is not a number: 'lots'"):
        load_table(text)
    with pytest.raises(TrainingDataError, match="no such features file"):
        load_table(tmp_path / "absent.csv")


def test_records_matrix_unknowns_are_nan() -> None:
    x = records_matrix([{"a": 1, "b": None}, {"a": True, "c": 5}], ["a", "b"])
    assert x[0, 0] == 1 and math.isnan(x[0, 1]) and x[1, 0] == 1 and math.isnan(x[1, 1])


def test_dates_and_baseline_columns_are_kept(tmp_path: Path) -> None:
    path = write_features(tmp_path / "f.csv", projects=5)
    table = load_table(path)
    records = list(open_source(path).read())
    assert table.uploaded is not None
    first = datetime.fromisoformat(str(records[0]["date"])).timestamp()
    assert table.uploaded[0] == first
    assert table.extra["history.past_advisories"][0] == records[0]["history.past_advisories"]


def test_an_infinite_cell_is_refused_not_imputed(tmp_path: Path) -> None:
    bad = tmp_path / "inf.csv"
    bad.write_text("name,version,label,bandit.loc\nx,1,1,inf\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"record 1: column 'bandit.loc' is not finite: 'inf'"):
        load_table(bad)
    with pytest.raises(TrainingDataError, match="not finite"):
        records_matrix([{"a": float("-inf")}], ["a"])
    assert math.isnan(records_matrix([{"a": "nan"}], ["a"])[0, 0])  # NaN text: unknown


def test_a_bad_date_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "date.csv"
    bad.write_text("name,version,label,bandit.loc,date\nx,1,1,3,yesterday\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="'date' is not an ISO date"):
        load_table(bad)
