"""The cache layer: exact round trips, entries checked against what they are about, and a
cache that can only ever cost speed — never an answer, never a hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

import pytest

from shouldi.cache import Cache
from shouldi.cache.answers import AnswerCache, cacheable
from shouldi.cache.artifacts import ArtifactCache
from shouldi.cache.codec import from_json, to_json
from shouldi.cache.entries import EntryStore, digest
from shouldi.cache.files import read_regular, write_atomic
from shouldi.cache.scans import CodeScan, ScanCache, code_fingerprint
from shouldi.cache.scores import ScoreCache
from shouldi.results import Advisory, Artifact, CheckResult, Finding, Severity, Status, VulnId
from shouldi.verdict import CheckSummary, PackageReport, Reason, RiskScore, Verdict

SETTINGS = {"index_url": "https://index.example/simple/", "policy": {"heuristics_fail": "high"}}
SHA = "ab" * 32


def report(verdict=Verdict.WARN, reason_verdict=Verdict.WARN, name="demo", version="1.2"):
    return PackageReport(
        name=name, version=version, verdict=verdict,
        reasons=(Reason("heuristics", Severity.MEDIUM, "network: socket", "demo/run.py:4", reason_verdict),),
        checks={"bandit": CheckSummary(Status.OK, None, {"high_high": 1}, "1.8.0", ("a warning",)),
                "advisories": CheckSummary(Status.OK, "answered by pypi-json")},
        requested=f"{name}=={version}",
        artifact=Artifact(f"{name}-{version}.tar.gz", f"https://files.example/{name}-{version}.tar.gz",
                          SHA, "sdist", 1234, datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)),
        advisories=(Advisory(VulnId("PYSEC-2024-1"), frozenset({"CVE-2024-1", "GHSA-x"}), "bad",
                             ("<1.3",), ("1.3",), frozenset({"pypi-json", "osv"}), None,
                             Severity.HIGH),),
        risk=RiskScore(42.5, ("release_age_days", "bandit.high_high"), False, ("release_count",)),
        artifact_reason="sdist: no wheel fits",
    )


FINDING = Finding("bandit", "B602", Severity.HIGH, "shell=True", "pkg/x.py", 3, Severity.MEDIUM, 0.25)
SCAN = CodeScan(
    CheckResult("archive", Status.OK, (), "tar.gz", {"members": 3, "bytes": 120}),
    CheckResult("bandit", Status.OK, (FINDING,), None, {"high_medium": 1, "loc": 10}, "1.9.4",
                ("a warning",), 0.8),
    CheckResult("heuristics", Status.OK, (Finding("heuristics", "network", Severity.MEDIUM, "socket"),),
                None, {"network": 1}),
)


# -- files and entries ----------------------------------------------------------------------

def test_a_report_survives_json_exactly():
    assert from_json(PackageReport, json.loads(json.dumps(to_json(report())))) == report()


def test_write_atomic_replaces_whole_and_appends(tmp_path):
    path = tmp_path / "out.txt"
    write_atomic(path, "one\n")
    write_atomic(path, "two\n", append=True)
    assert path.read_text() == "one\ntwo\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temp file left


def test_an_entry_about_something_else_is_a_miss(tmp_path):
    store = EntryStore(tmp_path, "answer")
    about = {"spec": "demo==1.2"}
    key = digest(about)
    assert store.put(key, about, {"x": 1})
    assert store.get(key, about).body == {"x": 1}
    assert store.get(key, {"spec": "other==1"}) is None
    assert EntryStore(tmp_path, "code-scan").get(key, about) is None  # another kind


def test_a_fifo_in_place_of_an_entry_is_a_miss_not_a_hang(tmp_path):
    store = EntryStore(tmp_path, "answer")
    about = {"spec": "demo"}
    path = store.path_for(digest(about))
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    found: list[object] = []
    reader = threading.Thread(target=lambda: found.append(store.get(digest(about), about)), daemon=True)
    reader.start()
    reader.join(5)
    assert not reader.is_alive(), "reading a FIFO entry blocked"
    assert found == [None]


def test_links_devices_and_oversized_files_are_refused(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("{}")
    (tmp_path / "link.json").symlink_to(target)
    with pytest.raises(OSError):
        read_regular(tmp_path / "link.json")
    with pytest.raises(OSError, match="not a regular file"):
        read_regular(type(tmp_path)("/dev/zero"))
    with pytest.raises(OSError, match="larger than"):
        read_regular(target, limit=1)


def test_an_unwritable_cache_costs_speed_not_the_answer(tmp_path):
    root = tmp_path / "not-a-dir"
    root.write_text("a file where the cache dir should be")
    assert not AnswerCache(root, SETTINGS).put("demo==1.2", report())
    assert not ScanCache(root, fingerprint="aaaa").put(SHA, SCAN)
    source = tmp_path / "artifact"
    source.write_bytes(b"x")
    assert ArtifactCache(root).put(SHA, source) is None
    model = tmp_path / "model.zip"
    model.write_bytes(b"model")
    assert not ScoreCache(root, model).put({"a": 1}, RiskScore(1.0))


def test_cache_off_gives_no_caches(tmp_path):
    off = Cache(tmp_path, enabled=False)
    assert off.artifacts is None and off.scans is None and off.answers(SETTINGS, 60) is None
    assert Cache(tmp_path).answers(SETTINGS, 0) is None  # max-age 0: never reused


# -- answers --------------------------------------------------------------------------------

def test_put_then_get_within_max_age(tmp_path):
    cache = AnswerCache(tmp_path, SETTINGS, max_age=60)
    assert cache.get("demo==1.2") is None
    assert cache.put("demo==1.2", report())
    hit = cache.get("demo==1.2")
    assert hit is not None and hit.report == report() and 0 <= hit.age_s < 60


def test_an_old_answer_is_a_miss(tmp_path):
    cache = AnswerCache(tmp_path, SETTINGS, max_age=60)
    cache.put("demo==1.2", report())
    path = cache.path_for("demo==1.2")
    body = json.loads(path.read_text())
    for stored_at in (time.time() - 61, time.time() + 3600):  # too old; a wrong clock
        body["stored_at"] = stored_at
        path.write_text(json.dumps(body))
        assert cache.get("demo==1.2") is None


def test_other_settings_or_spec_are_other_questions(tmp_path):
    AnswerCache(tmp_path, SETTINGS).put("demo==1.2", report())
    assert AnswerCache(tmp_path, {**SETTINGS, "policy": {}}).get("demo==1.2") is None
    assert AnswerCache(tmp_path, SETTINGS).get("demo") is None


def test_another_packages_answer_copied_into_place_is_a_miss(tmp_path):
    """An entry edited or copied to answer for another spec never prints that package's PASS."""
    cache = AnswerCache(tmp_path, SETTINGS)
    cache.put("evil==6.6", report(Verdict.FAIL, Verdict.FAIL, "evil", "6.6"))
    cache.put("demo==1.2", report())
    evil = json.loads(cache.path_for("evil==6.6").read_text())
    demo_path = cache.path_for("demo==1.2")
    demo = json.loads(demo_path.read_text())
    # the whole file copied: its "about" names another spec
    demo_path.write_text(json.dumps(evil))
    assert cache.get("demo==1.2") is None
    # only the report swapped in: it is about another package
    demo_path.write_text(json.dumps({**demo, "body": evil["body"]}))
    assert cache.get("demo==1.2") is None
    # another version of the same package under a pinned spec
    other = to_json(report(version="1.3"))
    demo_path.write_text(json.dumps({**demo, "body": other}))
    assert cache.get("demo==1.2") is None


@pytest.mark.parametrize("broken", [b"", b"{", b'{"format": 2}', b"[1, 2]", b"\xff\xfe"])
def test_a_broken_entry_is_a_miss(tmp_path, broken):
    cache = AnswerCache(tmp_path, SETTINGS)
    cache.put("demo==1.2", report())
    cache.path_for("demo==1.2").write_bytes(broken)
    assert cache.get("demo==1.2") is None


def test_a_tampered_report_is_a_miss(tmp_path):
    cache = AnswerCache(tmp_path, SETTINGS)
    cache.put("demo==1.2", report())
    path = cache.path_for("demo==1.2")
    body = json.loads(path.read_text())
    body["body"]["verdict"] = "maybe"
    path.write_text(json.dumps(body))
    assert cache.get("demo==1.2") is None


def test_only_complete_answers_are_stored(tmp_path):
    cache = AnswerCache(tmp_path, SETTINGS)
    assert not cacheable(report(Verdict.ERROR, Verdict.ERROR))
    assert not cacheable(report(Verdict.FAIL, Verdict.ERROR))  # a fail that could not run a check
    assert cacheable(report(Verdict.FAIL, Verdict.FAIL))
    assert not cache.put("demo==1.2", report(Verdict.ERROR, Verdict.ERROR))
    assert not cache.path_for("demo==1.2").exists()


def test_a_reused_answer_loads_neither_the_engine_nor_httpx_nor_sklearn(tmp_path):
    """The warm path's speed comes from what it does not import (bench/install.py times it)."""
    body = json.dumps(to_json(report()))
    code = f"""
import json, sys
from pathlib import Path
import shouldi
from shouldi.cache.codec import from_json
from shouldi.verdict import PackageReport
settings = shouldi.Settings(index_url="https://index.example/simple/", cache_dir=Path({str(tmp_path)!r}),
                            max_age=60)
from shouldi.api import _answer_cache
_answer_cache(settings, settings.index_url, frozenset()).put("demo==1.2", from_json(PackageReport, json.loads({body!r})))
(answer,) = shouldi.answer(["demo==1.2"], settings)
assert answer.reused_from is not None, answer
heavy = [m for m in ("httpx", "sklearn", "shouldi.dataflow.orchestrator", "shouldi.operations",
                     "asyncio", "bandit") if m in sys.modules]
print(heavy)
"""
    env = {**os.environ, "SHOULDI_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- code scans and scores -----------------------------------------------------------------

def test_scan_round_trip_is_exact_and_private(tmp_path):
    cache = ScanCache(tmp_path)
    assert cache.get(SHA) is None
    assert cache.put(SHA.upper(), SCAN) is True
    assert cache.get(SHA) == SCAN
    path = cache.path_for(SHA)
    assert path.relative_to(tmp_path).parts[0] == code_fingerprint()
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"


def test_scan_results_that_could_change_are_never_stored(tmp_path):
    cache = ScanCache(tmp_path)
    timed_out = CodeScan(SCAN.archive, CheckResult("bandit", Status.ERROR, reason="timed out"), SCAN.heuristics)
    not_run = CodeScan(SCAN.archive, SCAN.bandit, CheckResult("heuristics", Status.SKIPPED, reason="disabled"))
    assert not cache.put(SHA, timed_out) and not cache.put(SHA, not_run)
    assert cache.get(SHA) is None and not any(tmp_path.rglob("*.json"))


def test_a_refused_archive_is_a_stable_answer(tmp_path):
    refused = CodeScan(
        CheckResult("archive", Status.OK, (Finding("archive", "archive-traversal", Severity.CRITICAL, "../x"),),
                    "refused", {"refused": 1}),
        CheckResult("bandit", Status.SKIPPED, reason="nothing to scan: the archive was refused"),
        CheckResult("heuristics", Status.SKIPPED, reason="nothing to scan: the archive was refused"),
    )
    cache = ScanCache(tmp_path)
    assert cache.put(SHA, refused) and cache.get(SHA) == refused


def test_scan_entries_of_another_artifact_or_fingerprint_miss(tmp_path):
    cache = ScanCache(tmp_path, fingerprint="aaaa")
    cache.put(SHA, SCAN)
    other = "cd" * 32
    other_path = cache.path_for(other)
    other_path.parent.mkdir(parents=True, exist_ok=True)
    other_path.write_bytes(cache.path_for(SHA).read_bytes())  # copied under another sha256
    assert cache.get(other) is None
    assert ScanCache(tmp_path, fingerprint="bbbb").get(SHA) is None
    data = json.loads(cache.path_for(SHA).read_text())
    data["body"]["bandit"]["findings"][0]["severity"] = "apocalyptic"
    cache.path_for(SHA).write_text(json.dumps(data))
    assert cache.get(SHA) is None


def test_scores_by_model_and_features(tmp_path):
    one, two = tmp_path / "one.zip", tmp_path / "two.zip"
    one.write_bytes(b"model one")
    two.write_bytes(b"model two")
    features = {"bandit.high_high": 2, "metadata.release_count": 14, "metadata.yanked": None}
    score = RiskScore(37.5, ("bandit.high_high",), False, ("archive.bytes",))
    cache = ScoreCache(tmp_path / "risk", one)
    assert cache.get(features) is None
    cache.put(features, score)
    assert cache.get(dict(reversed(features.items()))) == score
    assert ScoreCache(tmp_path / "risk", two).get(features) is None
    assert cache.get({**features, "metadata.yanked": 0}) is None  # unknown is not zero


def test_the_flow_skips_the_scanners_on_a_hit():
    from shouldi.flow import build_flow

    flow = build_flow()
    assert [c.name for c in flow.operation("make_scratch").conditions] == ["TreeNeeded"]
    assert [c.name for c in flow.operation("bandit_scan").conditions] == ["ScanNeeded"]
    assert {p.name for p in flow.producers["BanditResult"]} == {"bandit_scan", "cached_bandit"}


def test_a_shard_replaced_by_a_link_is_never_written_through(tmp_path):
    """A shard directory that is a symlink (planted, or left by a tool) makes puts fail and
    gets miss: nothing is written where it points. The root may be the user's own link."""
    outside = tmp_path / "outside"
    outside.mkdir()
    real_root = tmp_path / "real-cache"
    real_root.mkdir()
    root = tmp_path / "cache-link"
    root.symlink_to(real_root)  # the user's ~/.cache on another disk: fine
    key = digest("k")
    entries = EntryStore(root / "results", "scan")
    assert entries.put(key, {"a": 1}, {"x": 1})
    assert entries.get(key, {"a": 1}) is not None
    sha = "ab" + "0" * 62
    artifacts = ArtifactCache(root / "artifacts")
    src = tmp_path / "f.whl"
    src.write_bytes(b"wheel")
    assert artifacts.put(sha, src) is not None
    # now the shards are links to a directory outside the cache
    for shard in (entries.path_for(key).parent, artifacts.path_for(sha).parent):
        for child in shard.iterdir():
            child.unlink()
        shard.rmdir()
        shard.symlink_to(outside)
    (outside / f"{key}.json").write_text(entries.path_for(key).name)
    assert entries.get(key, {"a": 1}) is None
    assert not entries.put(key, {"a": 1}, {"x": 2})
    assert artifacts.put(sha, src) is None and artifacts.get(sha) is None
    assert sorted(p.name for p in outside.iterdir()) == [f"{key}.json"]  # only what the test put
