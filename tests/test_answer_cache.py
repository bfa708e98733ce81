"""The answer cache: whole reports reused for a short while, and only complete ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from shouldi.answer_cache import AnswerCache, cacheable, report_from_json, report_to_json
from shouldi.results import Advisory, Artifact, Severity, Status, VulnId
from shouldi.verdict import CheckSummary, PackageReport, Reason, RiskScore, Verdict

SETTINGS = {"index_url": "https://index.example/simple/", "policy": {"bandit_fail": "high"}}


def report(verdict: Verdict = Verdict.WARN, reason_verdict: Verdict = Verdict.WARN) -> PackageReport:
    return PackageReport(
        name="demo", version="1.2", verdict=verdict,
        reasons=(Reason("bandit", Severity.HIGH, "B602: shell", "demo/run.py:4", reason_verdict),),
        checks={"bandit": CheckSummary(Status.OK, None, {"high_high": 1}, "1.8.0", ("a warning",)),
                "advisories": CheckSummary(Status.OK, "answered by pypi-json")},
        requested="demo==1.2",
        artifact=Artifact("demo-1.2.tar.gz", "https://files.example/demo-1.2.tar.gz", "ab" * 32,
                          "sdist", 1234, datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)),
        advisories=(Advisory(VulnId("PYSEC-2024-1"), frozenset({"CVE-2024-1", "GHSA-x"}), "bad",
                             ("<1.3",), ("1.3",), frozenset({"pypi-json", "osv"}), None,
                             Severity.HIGH),),
        risk=RiskScore(42.5, ("release_age_days", "bandit.high_high"), False, ("release_count",)),
    )


def test_a_report_survives_json_exactly():
    original = report()
    assert report_from_json(json.loads(json.dumps(report_to_json(original)))) == original


def test_put_then_get_within_max_age(tmp_path):
    cache = AnswerCache(tmp_path, SETTINGS, max_age=60)
    assert cache.get("demo==1.2") is None
    assert cache.put("demo==1.2", report())
    hit = cache.get("demo==1.2")
    assert hit is not None and hit.report == report()
    assert 0 <= hit.age_s < 60


def test_an_old_answer_is_a_miss(tmp_path):
    cache = AnswerCache(tmp_path, SETTINGS, max_age=60)
    cache.put("demo==1.2", report())
    path = cache.path_for("demo==1.2")
    body = json.loads(path.read_text())
    body["answered_at"] = time.time() - 61
    path.write_text(json.dumps(body))
    assert cache.get("demo==1.2") is None
    body["answered_at"] = time.time() + 3600  # from the future: a wrong clock, not a hit
    path.write_text(json.dumps(body))
    assert cache.get("demo==1.2") is None


def test_other_settings_or_spec_are_other_questions(tmp_path):
    AnswerCache(tmp_path, SETTINGS).put("demo==1.2", report())
    other = AnswerCache(tmp_path, {**SETTINGS, "policy": {"bandit_fail": "medium"}})
    assert other.get("demo==1.2") is None
    assert AnswerCache(tmp_path, SETTINGS).get("demo") is None


@pytest.mark.parametrize("broken", [b"", b"{", b'{"format": 1}', b"[1, 2]",
                                    b'{"format": 1, "spec": "demo==1.2", "answered_at": 1e20, "report": {}}'])
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
    body["report"]["verdict"] = "maybe"
    path.write_text(json.dumps(body))
    assert cache.get("demo==1.2") is None


def test_only_complete_answers_are_stored(tmp_path):
    cache = AnswerCache(tmp_path, SETTINGS)
    assert not cacheable(report(Verdict.ERROR, Verdict.ERROR))
    # a fail that also could not run a check: asking again may give another answer
    assert not cacheable(report(Verdict.FAIL, Verdict.ERROR))
    assert cacheable(report(Verdict.FAIL, Verdict.FAIL))
    assert not cache.put("demo==1.2", report(Verdict.ERROR, Verdict.ERROR))
    assert not cache.path_for("demo==1.2").exists()


def test_an_unwritable_cache_costs_speed_not_the_answer(tmp_path):
    root = tmp_path / "not-a-dir"
    root.write_text("a file where the cache dir should be")
    cache = AnswerCache(root, SETTINGS)
    assert not cache.put("demo==1.2", report())
    assert cache.get("demo==1.2") is None


def test_a_reused_answer_loads_neither_the_engine_nor_httpx_nor_sklearn(tmp_path):
    """The warm path's speed comes from what it does not import (bench/install.py times it)."""
    body = json.dumps(report_to_json(report()))
    code = f"""
import json, sys
from pathlib import Path
from shouldi.answer_cache import AnswerCache, report_from_json
from shouldi.cli.runner import ScanSettings, answer_settings, scan_specs
from shouldi.policy import Policy
settings = ScanSettings(index_url="https://index.example/simple/", policy=Policy(),
                        cache_dir=Path({str(tmp_path)!r}), max_age=60)
answers = AnswerCache(Path({str(tmp_path)!r}) / "answers", answer_settings(settings), 60)
answers.put("demo==1.2", report_from_json(json.loads({body!r})))
(outcome,) = scan_specs(["demo==1.2"], settings)
assert outcome.answered_at is not None, outcome
heavy = [m for m in ("httpx", "sklearn", "shouldi.dataflow.orchestrator", "shouldi.operations",
                     "asyncio", "bandit") if m in sys.modules]
print(heavy)
"""
    env = {**os.environ, "SHOULDI_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
