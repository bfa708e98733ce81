"""Drift: PSI and KS on constructed distributions of known PSI, and ``shouldi model drift``.

The expected numbers are worked by hand from the definition (PSI = sum (a - e) ln(a / e)),
not by calling the code under test.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from test_risk_model_data import synthetic_records, write_features

from shouldi.cli.main import cli
from shouldi.risk_model import load_model, save_model
from shouldi.risk_model.drift import (
    NoDriftSummary,
    bin_shares,
    check_drift,
    feature_ranges,
    ks_at_edges,
    psi,
)
from shouldi.sources import open_source


def test_psi_of_two_known_share_vectors() -> None:
    # 0.25 ln 2 + 0.25 ln 1.5
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.274653, abs=1e-6)
    assert psi([0.1] * 10, [0.1] * 10) == 0.0
    # an empty bin counts as 1e-4, not as an infinite PSI
    assert psi([0.5, 0.5], [1.0, 0.0]) == pytest.approx(0.5 * math.log(2) + 0.4999 * math.log(0.5 / 1e-4),
                                                        abs=1e-6)


def test_ks_at_edges_is_the_largest_gap_of_the_cumulative_shares() -> None:
    assert ks_at_edges([0.1] * 10, [0.2, 0.05, 0.05] + [0.1] * 7) == pytest.approx(0.1)
    assert ks_at_edges([1.0], [1.0]) == 0.0


def uniform_training() -> np.ndarray:
    return np.arange(1000, dtype=np.float64).reshape(-1, 1)  # deciles 99.9, 199.8, ...: 10% a bin


def test_training_deciles_are_the_bins_and_each_holds_a_tenth() -> None:
    (r,) = feature_ranges(uniform_training(), ["f"])
    assert len(r.bins) == 9 and r.bins[0] == pytest.approx(99.9)
    assert r.shares == pytest.approx((0.1,) * 10)


def test_a_constructed_shift_has_its_known_psi_and_ks() -> None:
    (r,) = feature_ranges(uniform_training(), ["f"])
    # bin shares 0.2, 0.05, 0.05, then 0.1 x 7: PSI = 0.1 ln 2 + 2 x 0.05 ln 2 = 0.2 ln 2
    recent = np.array([50.0] * 200 + [150.0] * 50 + [250.0] * 50
                      + [v for b in range(3, 10) for v in [100.0 * b + 50] * 100])
    report = check_drift([r], {"f": recent}, recent.size, threshold=0.1)
    (f,) = report.features
    assert f.psi == pytest.approx(0.2 * math.log(2), abs=1e-6)
    assert f.ks == pytest.approx(0.1, abs=1e-9)
    assert f.over and report.over == ("f",)
    assert not check_drift([r], {"f": recent}, recent.size, threshold=0.2).over  # 0.139 < 0.2


def test_the_same_distribution_has_no_drift_and_unknowns_are_counted_apart() -> None:
    (r,) = feature_ranges(uniform_training(), ["f"])
    recent = np.concatenate([np.arange(1000, dtype=np.float64), np.full(250, math.nan)])
    (f,) = check_drift([r], {"f": recent}, recent.size).features
    assert f.psi == 0.0 and f.ks == 0.0 and not f.over
    assert f.recent_known == 1000 and f.recent_unknown_share == pytest.approx(0.2)


def test_ties_make_fewer_bins_with_their_real_shares() -> None:
    # 90% zeros, 10% ones: deciles 0 (x8) and 0.1 -> bins (-inf, 0], (0, 0.1], (0.1, inf)
    x = np.array([0.0] * 900 + [1.0] * 100).reshape(-1, 1)
    (r,) = feature_ranges(x, ["count"])
    assert r.bins == pytest.approx((0.0, 0.1)) and r.shares == pytest.approx((0.9, 0.0, 0.1))
    same = check_drift([r], {"count": x[:, 0]}, 1000).features[0]
    assert same.psi == 0.0
    half = np.array([0.0] * 500 + [1.0] * 500)
    # (0.5 - 0.9) ln(0.5 / 0.9) + 0 + (0.5 - 0.1) ln(5)
    assert check_drift([r], {"count": half}, 1000).features[0].psi == pytest.approx(0.878890, abs=1e-6)
    assert bin_shares(half, r.bins) == pytest.approx([0.5, 0.0, 0.5])


def test_a_feature_unknown_in_the_recent_data_is_said_not_scored() -> None:
    ranges = feature_ranges(np.column_stack([np.arange(100.0), np.arange(100.0)]), ["a", "b"])
    report = check_drift(ranges, {"a": np.arange(100.0), "b": np.full(100, math.nan)}, 100)
    by = {f.name: f for f in report.features}
    assert by["b"].psi is None and by["b"].ks is None and not by["b"].over
    assert by["b"].note == "unknown in the recent data (not measured)"
    assert report.measured == 1
    missing = check_drift(ranges, {"a": np.arange(100.0)}, 100).features[1]  # no column at all
    assert missing.psi is None and missing.note is not None


def test_an_archive_without_bins_is_refused_with_the_way_out() -> None:
    (r,) = feature_ranges(uniform_training(), ["f"])
    from dataclasses import replace

    old = replace(r, bins=(), shares=())
    with pytest.raises(NoDriftSummary, match="retrain it with `shouldi model train`"):
        check_drift([old], {"f": np.arange(10.0)}, 10)


# --- the command -----------------------------------------------------------------------------
def invoke(*args: str):
    return CliRunner().invoke(cli, ["model", *args])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("drift")
    features = write_features(root / "features.csv", projects=50, seed=0)
    model = root / "model.zip"
    result = invoke("train", str(features), "--output", str(model))
    assert result.exit_code == 0, result.output
    return features, model


def write_records(path: Path, records: list[dict[str, object]]) -> Path:
    with open_source(path).writer() as writer:
        for record in records:
            writer.write(record)  # type: ignore[arg-type]
    return path


def test_drift_on_the_training_data_is_none(trained) -> None:
    features, model = trained
    result = invoke("drift", "--model", str(model), str(features), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["over"] == [] and data["records"] > 100
    measured = [f for f in data["features"] if f["psi"] is not None]
    assert measured and all(f["psi"] < 0.01 for f in measured)


def test_a_shifted_feature_is_named_and_exits_1(trained, tmp_path: Path) -> None:
    _, model = trained
    records = synthetic_records(projects=40, seed=7)
    for r in records:
        if r["bandit.loc"] is not None:
            r["bandit.loc"] = int(r["bandit.loc"]) * 50  # type: ignore[call-overload]
    recent = write_records(tmp_path / "recent.jsonl", records)
    result = invoke("drift", "--model", str(model), str(recent), "--format", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert "bandit.loc" in data["over"]
    loc = next(f for f in data["features"] if f["name"] == "bandit.loc")
    assert loc["psi"] > 1.0 and loc["ks"] > 0.5
    text = invoke("drift", "--model", str(model), str(recent)).stdout
    assert "DRIFT" in text and "drift over the threshold: " in text and "bandit.loc" in text.splitlines()[-1]
    # a threshold above every PSI: no drift, exit 0
    assert invoke("drift", "--model", str(model), str(recent), "--threshold", "99").exit_code == 0


def test_unknown_features_are_listed_and_partial_data_still_scored(trained, tmp_path: Path) -> None:
    _, model = trained
    records = [{k: v for k, v in r.items() if not k.startswith("bandit.")}
               for r in synthetic_records(projects=20, seed=3)]
    recent = write_records(tmp_path / "partial.csv", records)
    result = invoke("drift", "--model", str(model), str(recent), "--format", "json")
    assert result.exit_code in (0, 1), result.output
    by = {f["name"]: f for f in json.loads(result.stdout)["features"]}
    assert by["bandit.loc"]["psi"] is None and "unknown in the recent data" in by["bandit.loc"]["note"]
    assert by["history.popularity"]["psi"] is not None


@pytest.mark.parametrize("case", ["missing-file", "no-features", "no-records", "bad-threshold",
                                  "not-a-number", "old-archive"])
def test_bad_input_exits_2_with_one_line(trained, tmp_path: Path, case: str) -> None:
    features, model = trained
    args = ["drift", "--model", str(model)]
    if case == "missing-file":
        args.append(str(tmp_path / "nope.jsonl"))
    elif case == "no-features":
        args.append(str(write_records(tmp_path / "x.jsonl", [{"name": "a", "version": "1"}])))
    elif case == "no-records":
        (tmp_path / "empty.jsonl").write_text("")
        args.append(str(tmp_path / "empty.jsonl"))
    elif case == "bad-threshold":
        args += ["--threshold", "nan", str(features)]
    elif case == "not-a-number":
        args.append(str(write_records(tmp_path / "nan.jsonl", [{"name": "a", "version": "1", "bandit.loc": "lots"}])))
    else:
        loaded = load_model(model)
        for r in loaded.manifest["training_ranges"]:
            r.pop("bins"), r.pop("shares")
        old = save_model(loaded, tmp_path / "old.zip")
        args = ["drift", "--model", str(old), str(features)]
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.lower().startswith(("error", "usage"))]
    assert errors, result.output
    if case == "old-archive":
        assert "retrain it with `shouldi model train`" in result.output
