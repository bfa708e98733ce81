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


def test_train_reports_the_time_split_beside_baselines(files) -> None:
    features, _, model, output = files
    lines = [line for line in output.splitlines()  # the tracked run: tests/test_tracking.py
             if not line.startswith(("run ", "note: the training run was not recorded"))]
    assert lines[0].startswith("trained logistic on ") and "from 50 projects" in lines[0]
    assert lines[1].startswith("time split at 2022-01-01 (new projects only): trained on ")
    assert [line.split()[0] for line in lines[3:9]] == [
        "model", "release-age", "newer-existed", "popularity", "past-advisories", "dffml-rule"]
    assert lines[9].startswith("  best baseline: ")
    assert any(line.startswith("time split at 2022-01-01 (all projects)") for line in lines)
    assert lines[-2].startswith("skilled: time split after 2022-01-01, new projects: ROC AUC ")
    assert lines[-1] == f"saved {model}"
    assert load_model(model).estimator == "logistic"


def test_accuracy_repeats_the_training_assessment(files) -> None:
    features, _, model, _ = files
    result = invoke("accuracy", "--model", str(model), str(features), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    main = data["time_split"]["time+project"]
    assert {"roc_auc", "pr_auc", "brier", "pairwise", "intervals"} <= set(main["model"])
    assert main == load_model(model).manifest["metrics"]["time_split"]["time+project"]
    assert data["skill"]["skilled"] is True
    text = invoke("accuracy", "--model", str(model), str(features)).stdout
    assert "95% CI" in text and "pairs right" in text


def test_accuracy_on_a_held_out_file_scores_it(files) -> None:
    _, holdout, model, _ = files
    result = invoke("accuracy", "--model", str(model), str(holdout), "--holdout", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    report = data["time_split"]["holdout"]
    assert report["model"]["roc_auc"] > 0.75 and report["test_rows"] > 50
    assert "baselines are fitted on the scored file itself" in data["notes"][0]


def test_predict_dataset_and_info(files) -> None:
    _, holdout, model, _ = files
    result = invoke("predict", "--model", str(model), "--dataset", str(holdout), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["skilled"] is True and data["question"].startswith("will an advisory affecting")
    scores = data["scores"]
    assert scores and all(0 <= s["score"] <= 100 for s in scores)
    assert all(s["text"].startswith("review priority: ") and s["priority"] in ("high", "medium", "low")
               for s in scores)
    assert {"feature", "value", "contribution"} == set(scores[0]["top_features"][0])
    text = invoke("predict", "--model", str(model), "--dataset", str(holdout)).stdout
    assert text.splitlines()[0].split()[1].startswith("proj-1-")
    assert text.splitlines()[1].strip().startswith("review priority: ")
    info = invoke("info", str(model))
    assert info.exit_code == 0
    lines = info.stdout.splitlines()
    assert lines[0].startswith("shouldi risk model (format 1), created ")
    assert lines[1] == ("  question: will an advisory affecting this release be published within "
                        "12 months of its upload?")
    assert lines[2].startswith("  shown by install/ci: yes: skilled: ")
    assert "model.skops  sha256 " in info.stdout and "bandit.high_high" in info.stdout
    data = json.loads(invoke("info", str(model), "--format", "json").stdout)
    assert data["format_version"] == 1 and data["shown"]["skilled"] is True


def test_a_model_without_skill_says_so_everywhere(tmp_path: Path) -> None:
    features = write_features(tmp_path / "f.csv", projects=50, seed=4, signal="past-advisories")
    model = tmp_path / "m.zip"
    assert invoke("train", str(features), "-o", str(model)).exit_code == 0
    info = invoke("info", str(model)).stdout.splitlines()
    assert info[2].startswith("  shown by install/ci: no: no score: the model does not beat its best baseline")
    predicted = invoke("predict", "--model", str(model), "--dataset", str(features))
    assert predicted.exit_code == 0
    assert predicted.stderr.startswith("warning: no score: the model does not beat")
    loaded = load_model(model)
    from shouldi.verdict import PackageReport, Verdict

    report = PackageReport("proj", "1.0", Verdict.PASS, (), {})
    assert predict_module.score_report(report, loaded) is None  # never shown
    from shouldi.errors import UsageError

    with pytest.raises(UsageError, match="max_risk_score needs a risk model with measured skill; no score"):
        predict_module.check_max_risk_score(50, loaded)


def test_a_skilled_model_scores_only_reports_with_history(files) -> None:
    from shouldi.results import CheckResult, Status
    from shouldi.verdict import CheckSummary, PackageReport, Verdict

    loaded = load_model(files[2])
    bare = PackageReport("proj", "1.0", Verdict.PASS, (), {})
    assert predict_module.score_report(bare, loaded) is None
    history = CheckSummary.of(CheckResult("history", Status.OK, counts={"past_advisories": 3}))
    scored = predict_module.score_report(PackageReport("proj", "1.0", Verdict.PASS, (), {"history": history}),
                                         loaded)
    assert scored is not None and scored.top_features[0].startswith("review priority: ")
    predict_module.check_max_risk_score(50, loaded)  # skilled: accepted
    from shouldi.errors import UsageError

    for bad in (float("nan"), float("inf"), -1, 101):
        with pytest.raises(UsageError, match="max_risk_score must be a number from 0 to 100"):
            predict_module.check_max_risk_score(bad, loaded)
    with pytest.raises(UsageError, match="no risk model is shipped"):
        predict_module.check_max_risk_score(50, None)


def _rewrite_manifest(model: Path, out: Path, text: str) -> Path:
    import hashlib

    with zipfile.ZipFile(model) as zf:
        blob = zf.read("model.skops")
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["members"]["model.skops"]["sha256"] == hashlib.sha256(blob).hexdigest()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("manifest.json", text.replace("@MANIFEST@", json.dumps(manifest)[1:-1]))
        zf.writestr("model.skops", blob)
    return out


def test_hostile_model_inputs_are_one_line_errors_with_exit_2(files, tmp_path: Path) -> None:
    """Issue 13: deep JSON in a manifest, a NaN threshold, an inf cell, C=1e999."""
    from shouldi.risk_model import save_model

    features, _, packed, _ = files
    model = save_model(load_model(packed), tmp_path / "zipped.zip")
    deep = _rewrite_manifest(model, tmp_path / "deep.zip", "{@MANIFEST@, \"x\": " + "[" * 100000 + "]" * 100000 + "}")
    result = invoke("info", str(deep))
    assert (result.exit_code, result.stderr) == (2, "error: manifest.json is nested too deeply to be a model manifest\n")
    nan = _rewrite_manifest(model, tmp_path / "nan.zip", "{@MANIFEST@, \"threshold\": NaN}")
    for fmt in ("json", "text"):
        result = invoke("info", str(nan), "--format", fmt)
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr == "error: manifest.json is not JSON (NaN is not a JSON number)\n"
    cells = tmp_path / "inf.csv"
    cells.write_text("name,version,bandit.loc\nx,1,inf\n", encoding="utf-8")
    result = invoke("predict", "--model", str(model), "--dataset", str(cells))
    assert result.exit_code == 2
    assert result.stderr == "error: record 0: column 'bandit.loc' is not finite: 'inf'\n"
    for value in ("1e999", "-1e999", "NaN", "Infinity"):
        result = invoke("train", str(features), "-o", str(tmp_path / "m.zip"), "--param", f"C={value}")
        assert result.exit_code == 2, value
        assert result.stderr == f"error: --param 'C={value}': the number is not finite\n"
    assert not (tmp_path / "m.zip").exists()


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
    main = metrics["time_split"]["time+project"]
    assert main["test_rows"] >= 500 and main["train_rows"] >= 1000
    assert metrics["skill"]["skilled"] == shipped.skill.skilled
    pool = metrics["time_split"]["advisory-projects"]
    assert shipped.skill.skilled == (main["margin"] >= 0.05 and pool["margin"] >= 0.05)
    assert "dffml-rule" not in main["baselines"]  # history-only data: said, never scored as zeros
    assert metrics["notes"] == ["baseline dffml-rule not available: bandit.high_high unknown on every test row"]
    from shouldi.verdict import PackageReport, Verdict

    if not shipped.skill.skilled:  # then install/ci show no score, whatever the report holds
        report = PackageReport("six", "1.16.0", Verdict.PASS, (), {})
        assert predict_module.score_report(report, shipped) is None
    assert (predict_module.default_model() is not None) == shipped.skill.skilled  # never scores unskilled


def test_shipped_skill_is_known_without_scikit_learn() -> None:
    """The flow can skip scoring an unskilled shipped model without importing scikit-learn."""
    import subprocess
    import sys

    code = ("import sys\nfrom shouldi.risk_model.skill import shipped_skill\n"
            "s = shipped_skill()\nprint(s.skilled, 'sklearn' in sys.modules, 'numpy' in sys.modules)\n"
            "print(s.reason)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    flags, reason = done.stdout.splitlines()
    path = predict_module.shipped_model_path()
    assert path is not None
    shipped = load_model(path).skill
    assert flags == f"{shipped.skilled} False False" and reason == shipped.reason
