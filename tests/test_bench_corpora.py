"""The heuristics' quality targets on the committed corpora, as the bench scripts print them:
a change that lets malware pass or fails a benign package breaks the suite, not only the bench."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def bench(script: str) -> dict:
    done = subprocess.run([sys.executable, str(BENCH / script), "--json"], capture_output=True,
                          text=True, timeout=600, check=True)
    return json.loads(done.stdout)


def test_package_samples_meet_their_targets():
    report = bench("packages.py")
    assert report["malicious"]["samples"] >= 60 and report["benign"]["samples"] >= 20
    assert report["malicious"]["fail_rate"] >= report["targets"]["malicious_fail_rate_min"], report
    assert report["malicious"]["pass"] == 0, report
    assert report["benign"]["fail"] == report["targets"]["benign_fail_max"], report


def test_snippet_corpus_meets_its_targets():
    report = bench("heuristics.py")
    for part in ("tuning", "held_out"):
        assert report[part]["malicious"]["fail_rate"] >= report["targets"]["malicious_fail_rate_min"]
        assert report[part]["benign"]["fail_rate"] <= report["targets"]["benign_fail_rate_max"]
