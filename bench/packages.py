"""Benchmark: the heuristics on whole malicious and benign packages (not snippets).

``bench/corpus/packages/*.json`` are package-shaped samples written by a red-team pass on
2026-12-02, each modelled on a publicly reported PyPI malware family or on a legitimate
package that looks like one: its files (text, or ``{"base64": ...}`` for bytes), sdist or
wheel, label and family. ``written`` says how it was made: ``blind`` samples (m01-m52,
b01-b18) were written before any scan result was seen; ``probe`` samples were written
afterwards to probe the gaps found. The heuristics were then fixed on all of them, so these
numbers are **tuned**, not held out (``bench/heuristics.py`` keeps a held-out part; the
reviewers' own corpora are the real test).

Each sample is built into a real archive with ``tests/builders.py`` (tarfile/zipfile only:
nothing in a sample runs), extracted with :func:`shouldi.archive.extract_archive` and
scanned by :class:`~shouldi.scanners.heuristics.HeuristicsScanner`: *fail* when a finding is
``high``/``critical``, *warn* when the worst is ``medium``. Targets: >= 90% of malicious
packages fail, no benign package fails.

    python bench/packages.py --json
    python bench/packages.py --details
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from builders import sdist_bytes, wheel_bytes  # noqa: E402

from shouldi.archive import extract_archive  # noqa: E402
from shouldi.results import Severity  # noqa: E402
from shouldi.scanners.heuristics import HeuristicsScanner  # noqa: E402

CORPUS = ROOT / "bench" / "corpus" / "packages"


def verdict(sample: dict[str, object], work: Path) -> tuple[str, list[str]]:
    files = {path: base64.b64decode(v["base64"]) if isinstance(v, dict) else str(v).encode()
             for path, v in sample["files"].items()}  # type: ignore[attr-defined]
    build = wheel_bytes if sample["format"] == "wheel" else sdist_bytes
    filename, data = build(str(sample["name"]), str(sample["version"]), files)
    archive = work / filename
    archive.write_bytes(data)
    tree = work / "tree"
    tree.mkdir()
    extract_archive(archive, tree)
    findings = HeuristicsScanner().scan(tree).findings
    worst = max((f.severity for f in findings), key=lambda s: s.rank, default=Severity.INFO)
    shown = sorted({f"{f.rule}:{f.severity.value}" for f in findings if f.severity.rank >= Severity.MEDIUM.rank})
    if worst.rank >= Severity.HIGH.rank:
        return "fail", shown
    return ("warn" if worst is Severity.MEDIUM else "pass"), shown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--details", action="store_true", help="list every sample's verdict")
    args = parser.parse_args()
    start = time.process_time()
    counts: dict[str, Counter[str]] = {}
    rows = []
    for path in sorted(CORPUS.glob("*.json")):
        sample = json.loads(path.read_text(encoding="utf-8"))
        with tempfile.TemporaryDirectory() as work:
            outcome, shown = verdict(sample, Path(work))
        for key in (sample["label"], f"{sample['label']}/{sample['written']}"):
            counts.setdefault(key, Counter())[outcome] += 1
        rows.append((path.stem, sample["label"], outcome, shown))
    report = {label: {"samples": sum(c.values()), **{v: c[v] for v in ("fail", "warn", "pass")},
                      "fail_rate": round(c["fail"] / max(1, sum(c.values())), 3)}
              for label, c in sorted(counts.items())}
    report["targets"] = {"malicious_fail_rate_min": 0.9, "benign_fail_max": 0}
    report["cpu_seconds"] = round(time.process_time() - start, 2)
    if args.details:
        for name, label, outcome, shown in rows:
            print(f"{name:42s} {label:9s} {outcome:4s} {' '.join(shown)}")
    if args.json or not args.details:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
