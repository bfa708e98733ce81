"""Tracked training runs: ``model train`` records an MLflow run, ``model runs`` lists them,
``model info`` names the run; without MLflow, ``train`` says so once and still works.

Each test module's store is a SQLite file in a temp dir (the first use creates MLflow's
tables: ~10 s here), never the developer's.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_risk_model_data import write_features

from shouldi.cli.main import cli
from shouldi.risk_model import load_model
from shouldi.risk_model.tracking import (
    NOT_INSTALLED,
    default_tracking_uri,
    flatten_metrics,
    tracking_uri,
)


def invoke(*args: str):
    return CliRunner().invoke(cli, ["model", *args])


def test_store_addresses() -> None:
    assert tracking_uri("relative/runs.db") == f"sqlite:///{Path('relative/runs.db').resolve()}"
    assert tracking_uri("http://127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert tracking_uri(None) == default_tracking_uri()
    assert default_tracking_uri().endswith("/mlflow.db") and default_tracking_uri().startswith("sqlite:///")


def test_flatten_keeps_finite_numbers_by_path() -> None:
    data = {"time+project": {"model": {"roc_auc": 0.8, "intervals": {"roc_auc": [0.7, 0.9]}},
                             "margin": None, "pairs": 12, "split": "x", "ok": True},
            "time": {"brier": float("nan")}}
    assert flatten_metrics(data) == {"time_project.model.roc_auc": 0.8, "time_project.pairs": 12.0}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("mlflow", reason="the tracking extra (mlflow-skinny) is not installed")
    root = tmp_path_factory.mktemp("tracking")
    store = f"sqlite:///{root}/runs.db"
    features = write_features(root / "features.csv", projects=50, seed=0)
    first = root / "first.zip"
    second = root / "second.tar.gz"
    outputs = []
    for model, extra in ((first, []), (second, ["--param", "C=0.5"])):
        result = invoke("train", str(features), "-o", str(model), "--tracking-uri", store, *extra)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    return store, features, (first, second), outputs


def test_train_records_a_run_with_what_decides_the_model(runs) -> None:
    store, features, (first, second), outputs = runs
    result = invoke("runs", "--tracking-uri", store, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["store"] == store and len(data["runs"]) == 2
    newest, oldest = data["runs"]
    manifest = load_model(first).manifest
    assert oldest["run_id"] == manifest["tracking"]["run_id"]
    assert f"run {oldest['run_id']} recorded in {store}" in outputs[0]
    assert oldest["status"] == "FINISHED"
    assert oldest["params"] == {"estimator": "logistic", "feature_set": "all", "cutoff": "2022-01-01",
                                "features": str(len(manifest["features"]))}
    assert newest["params"]["param.C"] == "0.5"
    sha = hashlib.sha256(features.read_bytes()).hexdigest()
    assert oldest["data_sha256"] == sha == manifest["training_data"]["sha256"]
    assert oldest["archive_sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()
    assert newest["archive_sha256"] == hashlib.sha256(second.read_bytes()).hexdigest()
    split = manifest["metrics"]["time_split"]["time+project"]
    assert oldest["metrics"]["time_project.model.roc_auc"] == pytest.approx(split["model"]["roc_auc"])
    assert oldest["metrics"]["training.rows"] == manifest["training_data"]["rows"]
    assert oldest["skilled"] is manifest["metrics"]["skill"]["skilled"]
    assert oldest["skill_reason"] == manifest["metrics"]["skill"]["reason"]


def test_runs_text_compares_them(runs) -> None:
    store, _, (first, second), _ = runs
    result = invoke("runs", "--tracking-uri", store)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"store: {store}"
    assert lines[1].split()[:6] == ["RUN", "STARTED", "STATUS", "ESTIMATOR", "ROWS", "SKILLED"]
    assert "time_project.model.roc_auc" in lines[1]
    ids = {load_model(p).manifest["tracking"]["run_id"] for p in (first, second)}
    assert {line.split()[0] for line in lines[2:]} == ids


def test_info_names_the_run(runs) -> None:
    store, _, (first, _), _ = runs
    run_id = load_model(first).manifest["tracking"]["run_id"]
    text = invoke("info", str(first))
    assert text.exit_code == 0, text.output
    assert f"  training run: {run_id} in {store}" in text.stdout.splitlines()
    data = json.loads(invoke("info", str(first), "--format", "json").stdout)
    assert data["run"] == f"{run_id} in {store}" and data["tracking"]["run_id"] == run_id


def test_an_empty_store_lists_no_runs(runs, tmp_path: Path) -> None:
    result = invoke("runs", "--tracking-uri", str(tmp_path / "empty.db"))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "no training runs recorded"
    assert not (tmp_path / "empty.db").exists()  # listing creates nothing


def test_listing_runs_never_creates_or_changes_a_file(runs, tmp_path: Path, monkeypatch) -> None:
    import sqlite3

    monkeypatch.chdir(tmp_path)
    other = tmp_path / "other.sqlite"
    db = sqlite3.connect(other)
    db.executescript("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT);"
                     "INSERT INTO notes VALUES (1, 'keep me');")
    db.close()
    before = other.read_bytes()
    result = invoke("runs", "--tracking-uri", str(other))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "no training runs recorded"
    assert other.read_bytes() == before
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "::::")
    result = invoke("runs")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.sqlite"]


def test_a_store_that_cannot_be_opened_is_exit_2_before_training(runs, tmp_path: Path) -> None:
    _, features, _, _ = runs
    (tmp_path / "file").write_text("not a directory")
    bad = f"sqlite:///{tmp_path}/file/sub/runs.db"
    result = invoke("train", str(features), "-o", str(tmp_path / "m.zip"), "--tracking-uri", bad)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: tracking store ") and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "m.zip").exists()


def test_without_mlflow_train_says_so_once_and_saves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("mlflow", "mlflow.tracking", "mlflow.entities"):  # None: "import" raises ImportError
        monkeypatch.setitem(sys.modules, name, None)
    features = write_features(tmp_path / "features.csv", projects=40, seed=2)
    model = tmp_path / "m.zip"
    result = invoke("train", str(features), "-o", str(model))
    assert result.exit_code == 0, result.output
    assert result.output.count(NOT_INSTALLED) == 1
    assert "tracking" not in load_model(model).manifest
    info = invoke("info", str(model))
    assert "  training run: none recorded (trained without tracking)" in info.stdout.splitlines()
    runs = invoke("runs")
    assert runs.exit_code == 2 and "needs the tracking extra" in runs.output
