"""``shouldi model``: train, accuracy, predict (dataset and real scans), info, and errors."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from stores import store_option
from test_risk_model_data import write_features

import shouldi.risk_model.predict as predict_module
from shouldi.cli.main import cli
from shouldi.risk_model import load_model

REPO = Path(__file__).resolve().parent.parent


def invoke(*args: str):
    return CliRunner().invoke(cli, ["model", *args])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    features = write_features(root / "features.csv", projects=50, seed=0)
    holdout = write_features(root / "holdout.jsonl", projects=30, seed=1)
    model = root / "model.tar.gz"
    result = invoke("train", str(features), "--output", str(model))
    assert result.exit_code == 0, result.output
    return features, holdout, model, result.output


def test_train_reports_grouped_cv_beside_baselines(files) -> None:
    features, _, model, output = files
    lines = output.splitlines()
    assert lines[0].startswith("trained logistic on ") and "from 50 projects" in lines[0]
    assert lines[1].startswith("grouped 5-fold cross-validation by project")
    assert [line.split()[0] for line in lines[3:6]] == ["model", "majority", "dffml-rule"]
    assert lines[-1] == f"saved {model}"
    assert load_model(model).estimator == "logistic"


def test_accuracy_on_training_data_is_grouped_cv(files) -> None:
    features, _, model, _ = files
    result = invoke("accuracy", "--model", str(model), str(features), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["method"] == "grouped-cv" and data["folds"] == 5
    assert {"roc_auc", "pr_auc", "precision", "recall", "n"} <= set(data)
    assert set(data["baselines"]) == {"majority", "dffml-rule"}
    manifest = load_model(model).manifest["metrics"]
    assert data["roc_auc"] == manifest["roc_auc"]  # the same CV as at training time


def test_accuracy_on_a_held_out_file_scores_it(files) -> None:
    _, holdout, model, _ = files
    data = json.loads(invoke("accuracy", "--model", str(model), str(holdout), "--format", "json").stdout)
    assert data["method"] == "holdout" and data["n"] == data["baselines"]["majority"]["n"]
    assert data["roc_auc"] > 0.8
    forced = invoke("accuracy", "--model", str(model), str(holdout), "--cv", "3")
    assert forced.exit_code == 0 and "grouped 3-fold cross-validation" in forced.output


def test_predict_dataset_and_info(files) -> None:
    _, holdout, model, _ = files
    result = invoke("predict", "--model", str(model), "--dataset", str(holdout), "--format", "json")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)["scores"]
    assert scores and all(0 <= s["score"] <= 100 for s in scores)
    assert all(len(s["top_features"]) <= 3 for s in scores)
    assert {"feature", "value", "contribution"} == set(scores[0]["top_features"][0])
    text = invoke("predict", "--model", str(model), "--dataset", str(holdout), "--top", "1").stdout
    assert text.splitlines()[0].split()[1].startswith("proj-1-")
    info = invoke("info", str(model))
    assert info.exit_code == 0
    assert info.stdout.startswith("shouldi risk model (format 1), created ")
    assert "model.skops  sha256 " in info.stdout and "bandit.high_high" in info.stdout
    assert json.loads(invoke("info", str(model), "--format", "json").stdout)["format_version"] == 1


def test_predict_scans_a_spec_on_the_local_index(files, local_index, tmp_path: Path) -> None:
    model = files[2]
    result = invoke("predict", "--model", str(model), "cleanpkg==1.0.0", "nosuchpkg",
                    "--index-url", local_index.url, "--cache-dir", str(tmp_path / "cache"),
                    *store_option(tmp_path / "adv.sqlite"), "--no-pip-audit",
                    "--no-safety-cli", "--timeout", "5", "--format", "json")
    (scored,) = json.loads(result.stdout)["scores"]
    assert (scored["name"], scored["version"]) == ("cleanpkg", "1.0.0")
    assert 0 <= scored["score"] <= 100
    assert result.exit_code == 2 and "error: nosuchpkg" in result.stderr


def test_errors_are_one_line_with_exit_codes(files, tmp_path: Path, monkeypatch) -> None:
    features, _, model, _ = files
    tampered = tmp_path / "model.zip"
    with zipfile.ZipFile(tampered, "w") as zf:
        zf.writestr("manifest.json", "{}")
        zf.writestr("model.skops", b"\x80\x04junk")
    result = invoke("info", str(tampered))
    assert result.exit_code == 2
    assert result.stderr == "error: manifest.json is not a shouldi-risk-model manifest\n"
    bad_ext = invoke("train", str(features), "--output", str(tmp_path / "m.pkl"))
    assert bad_ext.exit_code == 2 and "must end in .zip or .tar.gz" in bad_ext.stderr
    bad_param = invoke("train", str(features), "-o", str(tmp_path / "m.zip"), "--param", "bogus=1")
    assert bad_param.exit_code == 2 and "unknown parameter(s) for logistic: bogus" in bad_param.stderr
    neither = invoke("predict", "--model", str(model))
    assert neither.exit_code == 2 and "give SPECs to scan or --dataset FILE" in neither.stderr
    monkeypatch.setattr(predict_module, "shipped_model_path", lambda: None)
    assert "no --model given" in invoke("info").stderr


def test_default_model_is_the_shipped_one(files, monkeypatch) -> None:
    monkeypatch.setattr(predict_module, "shipped_model_path", lambda: files[2])
    result = invoke("info")
    assert result.exit_code == 0
    assert "training data: features.csv sha256" in result.stdout


def test_shipped_model_was_trained_on_the_committed_dataset() -> None:
    from shouldi.risk_model.data import file_sha256

    path = predict_module.shipped_model_path()
    assert path is not None and path.name == "model.zip"
    shipped = load_model(path)
    features = REPO / "datasets" / "features.csv"
    assert shipped.training_sha256 == file_sha256(features)
    metrics = shipped.manifest["metrics"]
    assert metrics["method"] == "grouped-cv"
    assert metrics["roc_auc"] > metrics["baselines"]["dffml-rule"]["roc_auc"] > 0.5
    assert metrics["pr_auc"] > metrics["baselines"]["majority"]["pr_auc"]
    assert predict_module.default_model() is not None
