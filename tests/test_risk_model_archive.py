"""The model archive: round trips, fresh-process reproducibility, and every refusal."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io
from sklearn.preprocessing import FunctionTransformer
from test_risk_model_data import write_features

from shouldi.risk_model import (
    ModelArchiveError,
    RiskModel,
    UnsafeModelError,
    load_model,
    load_table,
    save_model,
    train,
)
from shouldi.risk_model.archive import read_manifest


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[RiskModel, Path]:
    features = write_features(tmp_path_factory.mktemp("features") / "features.csv", projects=50)
    return train(load_table(features), "logistic"), features


def members_of(path: Path) -> dict[str, bytes]:
    if path.name.endswith(".zip"):
        with zipfile.ZipFile(path) as zf:
            return {n: zf.read(n) for n in zf.namelist()}
    with tarfile.open(path) as tf:
        return {m.name: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}


def write_members(path: Path, members: dict[str, bytes]) -> Path:
    if path.name.endswith(".zip"):
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in members.items():
                zf.writestr(name, data)
    else:
        with tarfile.open(path, "w:gz") as tf:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return path


def rehash(members: dict[str, bytes], blob: bytes, **manifest_changes: object) -> dict[str, bytes]:
    """Replace model.skops by ``blob`` with a *matching* hash: only the content checks can refuse."""
    manifest = json.loads(members["manifest.json"])
    manifest["members"]["model.skops"] = {"sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob)}
    manifest.update(manifest_changes)
    return {"manifest.json": json.dumps(manifest).encode(), "model.skops": blob}


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz"])
def test_round_trip_predicts_identically(trained, tmp_path: Path, suffix: str) -> None:
    model, features = trained
    path = save_model(model, tmp_path / f"model{suffix}")
    assert sorted(members_of(path)) == ["manifest.json", "model.skops"]
    kind = zipfile.is_zipfile(path)
    assert kind == (suffix == ".zip")
    loaded = load_model(path)
    table = load_table(features)
    assert np.array_equal(loaded.probabilities(table.x), model.probabilities(table.x))
    assert loaded.score(table.x[:5]) == model.score(table.x[:5])
    manifest = loaded.manifest
    assert manifest["format"] == "shouldi-risk-model" and manifest["format_version"] == 1
    assert set(manifest["versions"]) >= {"shouldi", "scikit-learn", "python"}
    assert manifest["training_data"]["sha256"] == table.sha256
    assert manifest["training_data"]["rows"] == table.n
    assert [f["name"] for f in manifest["features"]] == list(table.features)
    assert {f["type"] for f in manifest["features"]} == {"float"}
    assert manifest["label"]["column"] == "label" and manifest["label"]["definition"]
    assert manifest["estimator"]["name"] == "logistic"
    assert 0 < manifest["threshold"] < 1 and "time+project" in manifest["metrics"]["time_split"]
    assert manifest["question"].startswith("will an advisory affecting this release")
    loc = next(r for r in manifest["training_ranges"] if r["name"] == "bandit.loc")
    assert loc["min"] <= loc["q01"] <= loc["q50"] <= loc["q99"] <= loc["max"]
    blob = members_of(path)["model.skops"]
    assert manifest["members"]["model.skops"]["sha256"] == hashlib.sha256(blob).hexdigest()
    assert not blob.startswith(b"\x80")  # skops (a zip), not a pickle


def test_fresh_process_predicts_identically(trained, tmp_path: Path) -> None:
    model, features = trained
    path = save_model(model, tmp_path / "model.zip")
    code = ("import json, sys; from pathlib import Path; "
            "from shouldi.risk_model import load_model, load_table; "
            "m = load_model(Path(sys.argv[1])); t = load_table(Path(sys.argv[2]), m.features); "
            "print(json.dumps([repr(p) for p in m.probabilities(t.x)]))")
    out = subprocess.run([sys.executable, "-c", code, str(path), str(features)], capture_output=True,
                         text=True, check=True, timeout=120)
    here = [repr(p) for p in model.probabilities(load_table(features).x)]
    assert json.loads(out.stdout) == here


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz"])
def test_edited_member_is_refused(trained, tmp_path: Path, suffix: str) -> None:
    path = save_model(trained[0], tmp_path / f"model{suffix}")
    members = members_of(path)
    blob = bytearray(members["model.skops"])
    blob[len(blob) // 2] ^= 0xFF
    write_members(path, {**members, "model.skops": bytes(blob)})
    with pytest.raises(UnsafeModelError, match="does not match its sha256 in manifest.json: tampered"):
        load_model(path)


@pytest.mark.parametrize("extra", ["notes.txt", "model.pkl", "sub/model.skops"])
def test_extra_member_is_refused(trained, tmp_path: Path, extra: str) -> None:
    path = save_model(trained[0], tmp_path / "model.zip")
    write_members(path, {**members_of(path), extra: pickle.dumps({"x": 1})})
    expected = "pickle member refused" if extra.endswith(".pkl") else "unexpected member"
    with pytest.raises(UnsafeModelError, match=expected):
        load_model(path)


def test_missing_member_and_unknown_version_are_refused(trained, tmp_path: Path) -> None:
    path = save_model(trained[0], tmp_path / "model.tar.gz")
    members = members_of(path)
    write_members(path, {"manifest.json": members["manifest.json"]})
    with pytest.raises(UnsafeModelError, match="missing member"):
        load_model(path)
    write_members(path, rehash(members, members["model.skops"], format_version=2))
    with pytest.raises(UnsafeModelError, match=r"unknown model format version 2 \(this shouldi reads 1\)"):
        load_model(path)


class _Sentinel:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):  # unpickling would create the file
        return (open, (str(self.path), "w"))


def test_pickle_smuggled_as_the_model_is_refused_unread(trained, tmp_path: Path) -> None:
    sentinel = tmp_path / "unpickled"
    path = save_model(trained[0], tmp_path / "model.zip")
    write_members(path, rehash(members_of(path), pickle.dumps(_Sentinel(sentinel))))
    with pytest.raises(UnsafeModelError, match="model.skops is a pickle: refused"):
        load_model(path)
    assert not sentinel.exists()


def test_untrusted_type_in_the_skops_file_is_refused(trained, tmp_path: Path) -> None:
    evil = skops.io.dumps(FunctionTransformer(func=os.system))
    assert "posix.system" in skops.io.get_untrusted_types(data=evil) or any(
        "system" in t for t in skops.io.get_untrusted_types(data=evil))
    path = save_model(trained[0], tmp_path / "model.zip")
    write_members(path, rehash(members_of(path), evil))
    with pytest.raises(UnsafeModelError, match=r"untrusted type\(s\) in the model: .*system"):
        load_model(path)


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz"])
def test_traversal_inside_the_archive_is_refused(trained, tmp_path: Path, suffix: str) -> None:
    (tmp_path / "deep").mkdir()
    path = save_model(trained[0], tmp_path / "deep" / f"model{suffix}")
    write_members(path, {**members_of(path), "../escaped.txt": b"x"})
    with pytest.raises(UnsafeModelError, match=r"archive refused \[traversal\]"):
        load_model(path)
    assert not (tmp_path / "escaped.txt").exists()


def test_symlink_member_is_refused(trained, tmp_path: Path) -> None:
    path = save_model(trained[0], tmp_path / "model.tar.gz")
    members = members_of(path)
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("alias.skops")
        link.type, link.linkname = tarfile.SYMTYPE, "model.skops"
        tf.addfile(link)
    with pytest.raises(UnsafeModelError, match="unexpected member"):
        load_model(path)


def test_not_a_model_file(tmp_path: Path) -> None:
    junk = tmp_path / "model.zip"
    junk.write_bytes(b"hello, not an archive")
    with pytest.raises(UnsafeModelError, match="unknown-format"):
        load_model(junk)
    with pytest.raises(ModelArchiveError, match="no such model file"):
        load_model(tmp_path / "absent.zip")
    bad_json = write_members(tmp_path / "m.zip", {"manifest.json": b"{", "model.skops": b"PK"})
    with pytest.raises(UnsafeModelError, match="manifest.json is not JSON"):
        read_manifest(bad_json)


def test_save_is_atomic(trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_model(trained[0], tmp_path / "model.zip")
    before = path.read_bytes()

    def broken(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", broken)
    with pytest.raises(OSError, match="No space left"):
        save_model(trained[0], path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.zip"]
    with pytest.raises(ModelArchiveError, match=r"must end in \.zip or \.tar\.gz"):
        save_model(trained[0], tmp_path / "model.pkl")


def test_wrong_object_or_malformed_manifest_is_refused(trained, tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    path = save_model(trained[0], tmp_path / "model.zip")
    members = members_of(path)
    write_members(path, rehash(members, skops.io.dumps(LogisticRegression())))
    with pytest.raises(UnsafeModelError, match="holds a LogisticRegression, not a Pipeline"):
        load_model(path)
    write_members(path, rehash(members, members["model.skops"], threshold="high"))
    with pytest.raises(UnsafeModelError, match="malformed model or manifest"):
        load_model(path)
    write_members(path, rehash(members, members["model.skops"], features=[{"name": "only.one"}]))
    with pytest.raises(UnsafeModelError, match="malformed|does not take"):
        load_model(path)


def test_preloading_never_waits_for_a_load_in_progress(monkeypatch):
    """Concurrent packages must not each hold a worker thread while one thread loads the model."""
    import threading

    from shouldi.risk_model import predict
    from shouldi.risk_model.skill import Skill

    calls = []
    monkeypatch.setattr(predict, "_load_default_model", lambda: calls.append(1))
    monkeypatch.setattr(predict, "shipped_skill", lambda: Skill(True, "skilled: test"))
    with predict._DEFAULT_LOCK:  # another thread is loading
        done = threading.Event()
        worker = threading.Thread(target=lambda: (predict.preload_default_model(), done.set()))
        worker.start()
        assert done.wait(5), "preload waited for the lock"
    worker.join()
    assert calls == []
    predict.preload_default_model()
    assert calls == [1]


def test_an_unskilled_shipped_model_is_never_loaded_for_scoring(monkeypatch):
    from shouldi.risk_model import predict
    from shouldi.risk_model.skill import Skill

    calls = []
    monkeypatch.setattr(predict, "_load_default_model", lambda: calls.append(1))
    monkeypatch.setattr(predict, "shipped_skill", lambda: Skill(False, "no score: test"))
    assert predict.default_model() is None
    predict.preload_default_model()
    assert calls == []
