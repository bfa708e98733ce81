"""The code-scan result cache: exact round trip, what is never stored, what reads as a miss."""

from __future__ import annotations

import json

import pytest

from shouldi.result_cache import CodeScan, ResultCache, code_fingerprint
from shouldi.results import CheckResult, Finding, Severity, Status

SHA = "ab" * 32
FINDING = Finding("bandit", "B602", Severity.HIGH, "shell=True", "pkg/x.py", 3, Severity.MEDIUM, 0.25)
SCAN = CodeScan(
    CheckResult("archive", Status.OK, (), "tar.gz", {"members": 3, "bytes": 120}),
    CheckResult("bandit", Status.OK, (FINDING,), None, {"high_medium": 1, "loc": 10}, "1.9.4",
                ("a warning",), 0.8),
    CheckResult("heuristics", Status.OK, (Finding("heuristics", "network", Severity.MEDIUM, "socket"),),
                None, {"network": 1}),
)


def test_round_trip_is_exact(tmp_path):
    cache = ResultCache(tmp_path)
    assert cache.get(SHA) is None
    assert cache.put(SHA.upper(), SCAN) is True
    assert cache.get(SHA) == SCAN
    path = cache.path_for(SHA)
    assert path.relative_to(tmp_path).parts[:2] == (code_fingerprint(), "ab")
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    assert [p.name for p in path.parent.iterdir()] == [f"{SHA}.json"]  # no temp file left


def test_results_that_could_change_are_never_stored(tmp_path):
    cache = ResultCache(tmp_path)
    timed_out = CodeScan(SCAN.archive, CheckResult("bandit", Status.ERROR, reason="timed out"),
                         SCAN.heuristics)
    not_run = CodeScan(SCAN.archive, SCAN.bandit,
                       CheckResult("heuristics", Status.SKIPPED, reason="disabled"))
    assert not cache.put(SHA, timed_out) and not cache.put(SHA, not_run)
    assert cache.get(SHA) is None
    assert not any(tmp_path.rglob("*.json"))


def test_a_refused_archive_is_a_stable_answer(tmp_path):
    refused = CodeScan(
        CheckResult("archive", Status.OK, (Finding("archive", "archive-traversal", Severity.CRITICAL,
                                                   "../x"),), "refused", {"refused": 1}),
        CheckResult("bandit", Status.SKIPPED, reason="nothing to scan: the archive was refused"),
        CheckResult("heuristics", Status.SKIPPED, reason="nothing to scan: the archive was refused"),
    )
    cache = ResultCache(tmp_path)
    assert cache.put(SHA, refused) and cache.get(SHA) == refused


@pytest.mark.parametrize("damage", ["truncate", "not-json", "other-sha", "old-format", "bad-severity"])
def test_damaged_entries_read_as_a_miss(tmp_path, damage):
    cache = ResultCache(tmp_path)
    cache.put(SHA, SCAN)
    path = cache.path_for(SHA)
    data = json.loads(path.read_text())
    if damage == "truncate":
        path.write_text(path.read_text()[:40])
    elif damage == "not-json":
        path.write_bytes(b"\xff\x00")
    else:
        if damage == "other-sha":
            data["sha256"] = "cd" * 32
        elif damage == "old-format":
            data["format"] = 0
        else:
            data["bandit"]["findings"][0][2] = "apocalyptic"
        path.write_text(json.dumps(data))
    assert cache.get(SHA) is None


def test_another_fingerprint_does_not_see_the_entry(tmp_path):
    ResultCache(tmp_path, fingerprint="aaaa").put(SHA, SCAN)
    assert ResultCache(tmp_path, fingerprint="bbbb").get(SHA) is None
    assert ResultCache(tmp_path, fingerprint="aaaa").get(SHA) == SCAN


def test_fingerprint_covers_the_scanning_code():
    fp = code_fingerprint()
    assert len(fp) == 16 and fp == code_fingerprint()


def test_keys_must_be_sha256(tmp_path):
    with pytest.raises(ValueError, match="not a sha256"):
        ResultCache(tmp_path).path_for("../../etc/passwd")


def test_cached_flow_skips_scratch_on_a_hit():
    from shouldi.flow import build_flow

    flow = build_flow()
    scratch = flow.operation("make_scratch")
    assert [c.name for c in scratch.conditions] == ["ScanNeeded"]
    producers = {p.name for p in flow.producers["BanditResult"]}
    assert producers == {"bandit_scan", "cached_bandit"}


def test_an_unwritable_cache_is_a_miss_not_a_crash(tmp_path):
    """A cache write that fails must not turn the scan it stores into an error verdict."""
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    cache = ResultCache(blocked, fingerprint="aaaa")
    assert cache.put(SHA, SCAN) is False
    assert cache.get(SHA) is None
