"""Benchmark: recall and false positives of the heuristics on an annotated corpus.

``bench/corpus/malicious/*.snippet`` are modelled on public reports of PyPI malware (each
starts with a ``# provenance:`` line and an ``# expect:`` line naming the rules that should
catch it); ``bench/corpus/benign/*.snippet`` are real-world-looking code that must not fail.
Every snippet is placed three ways and built into real archives with ``tests/builders.py``:

* ``setup_top``: the top level of ``setup.py`` (sdist),
* ``setup_command``: the ``run`` method of an ``install`` command in ``cmdclass`` (sdist),
* ``init``: a package ``__init__.py``, as an sdist and as a wheel.

A snippet can narrow that with ``# placements:`` when its code only means something in some
(a ``cmdclass`` command does nothing in an ``__init__.py``).

Each archive is extracted with :func:`shouldi.archive.extract_archive` and scanned by
:class:`~shouldi.scanners.heuristics.HeuristicsScanner`. An archive *fails* when a finding
is ``high`` or ``critical``, *warns* when the worst is ``medium``.

A fixed ~30% of the snippets (by a hash of the name) is held out: tuning looks only at the
other part (``--details`` lists the misses and false fails of the tuning part only); the
held-out part is reported in aggregate. Targets: >= 90% of malicious archives fail, <= 5%
of benign archives fail.

    python bench/heuristics.py --json
    python bench/heuristics.py --details
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import textwrap
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from builders import make_sdist, make_wheel  # noqa: E402

from shouldi.archive import extract_archive  # noqa: E402
from shouldi.results import Severity  # noqa: E402
from shouldi.scanners.heuristics import RULES, HeuristicsScanner  # noqa: E402
from shouldi.scanners.heuristics.rules import Kind  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "corpus"
PACKAGE = "corpuspkg"
PLACEMENTS = ("setup_top", "setup_command", "init_sdist", "init_wheel")
HELD_OUT_PERCENT = 30


@dataclass(frozen=True)
class Snippet:
    name: str
    label: str  # "malicious" or "benign"
    code: str
    provenance: str
    expect: tuple[str, ...]
    placements: tuple[str, ...] = PLACEMENTS

    @property
    def held_out(self) -> bool:
        return hashlib.sha256(self.name.encode()).digest()[0] * 100 // 256 < HELD_OUT_PERCENT


def load(corpus: Path = CORPUS) -> list[Snippet]:
    snippets = []
    for label in ("malicious", "benign"):
        for path in sorted((corpus / label).glob("*.snippet")):
            code = path.read_text(encoding="utf-8")
            header = dict(
                line[2:].split(":", 1) for line in code.splitlines()
                if line.startswith("# ") and ":" in line[:20]
            )
            expect = tuple(header.get("expect", "").split())
            unknown = [r for r in expect if r not in RULES]
            if unknown:
                raise SystemExit(f"{path}: unknown rules {unknown}")
            if label == "malicious" and not expect:
                raise SystemExit(f"{path}: a malicious snippet needs an '# expect:' line")
            placements = tuple(p for p in header.get("placements", "").split() if p in PLACEMENTS)
            snippets.append(Snippet(path.stem, label, code, header["provenance"].strip(), expect,
                                    placements or PLACEMENTS))
    return snippets


def _setup_call(code: str, cmdclass: str | None) -> str:
    extra = f", cmdclass={cmdclass}" if cmdclass else ""
    return f'\nfrom setuptools import setup  # noqa: E402\n\nsetup(name="{PACKAGE}", ' \
           f'version="1.0", packages=["{PACKAGE}"]{extra})\n'


def files_for(snippet: Snippet, placement: str) -> dict[str, str]:
    code = snippet.code
    init = "VERSION = '1.0'\n"
    if placement == "setup_top":
        setup = code + _setup_call(code, "CMDCLASS" if "CMDCLASS" in code else None)
        return {"setup.py": setup, f"{PACKAGE}/__init__.py": init}
    if placement == "setup_command":
        body = textwrap.indent(code, " " * 8)
        setup = ("from setuptools.command.install import install as _base_install\n\n\n"
                 "class _Install(_base_install):\n    def run(self):\n"
                 "        _base_install.run(self)\n" + body
                 + _setup_call(code, '{"install": _Install}'))
        return {"setup.py": setup, f"{PACKAGE}/__init__.py": init}
    return {"setup.py": _setup_call("", None), f"{PACKAGE}/__init__.py": code}


def scan(snippet: Snippet, placement: str, work: Path) -> list[tuple[str, Severity]]:
    files = files_for(snippet, placement)
    out = work / "dist"
    if placement == "init_wheel":
        archive = make_wheel(out, PACKAGE, "1.0", {f"{PACKAGE}/__init__.py": snippet.code})
    else:
        archive = make_sdist(out, PACKAGE, "1.0", files)
    tree = work / "tree"
    tree.mkdir()
    extract_archive(archive, tree)
    result = HeuristicsScanner().scan(tree)
    if result.status.value != "ok":
        raise SystemExit(f"{snippet.name}/{placement}: scanner {result.status.value}: "
                         f"{result.reason}")
    return [(f.rule, f.severity) for f in result.findings]


def _floor(rule: str) -> Severity:
    kind = RULES[rule].kind
    return Severity.HIGH if kind is Kind.EVIDENCE else (
        Severity.MEDIUM if kind is Kind.CAPABILITY else Severity.LOW)


def run(snippets: list[Snippet]) -> dict[str, object]:
    rows = []
    started = time.process_time()
    for snippet in snippets:
        for placement in snippet.placements:
            with tempfile.TemporaryDirectory(prefix="shouldi-bench-") as tmp:
                found = scan(snippet, placement, Path(tmp))
            worst = max((s for _, s in found), key=lambda s: s.rank, default=Severity.INFO)
            rows.append((snippet, placement, found, worst))
    cpu = time.process_time() - started

    def rates(part: str, label: str) -> dict[str, object]:
        mine = [r for r in rows if r[0].label == label and (r[0].held_out == (part == "held_out"))]
        snippet_names = {r[0].name for r in mine}
        fails = [r for r in mine if r[3].rank >= Severity.HIGH.rank]
        warns = [r for r in mine if r[3] is Severity.MEDIUM]
        by_placement = {p: round(sum(1 for r in fails if r[1] == p) / max(1, sum(
            1 for r in mine if r[1] == p)), 3) for p in PLACEMENTS}
        everywhere = {r[0].name for r in mine} - {r[0].name for r in mine
                                                   if r[3].rank < Severity.HIGH.rank}
        return {"snippets": len(snippet_names), "archives": len(mine),
                "fail_rate": round(len(fails) / max(1, len(mine)), 3),
                "warn_rate": round(len(warns) / max(1, len(mine)), 3),
                "fail_rate_by_placement": by_placement,
                "snippets_failing_in_every_placement": len(everywhere)}

    per_rule: dict[str, dict[str, dict[str, float | int]]] = defaultdict(dict)
    for part in ("tuning", "held_out"):
        mine = [r for r in rows if r[0].held_out == (part == "held_out")]
        expected: Counter[str] = Counter()
        caught: Counter[str] = Counter()
        benign_fail: Counter[str] = Counter()
        benign_warn: Counter[str] = Counter()
        for snippet, _, found, _ in mine:
            fired = {rule for rule, sev in found if sev.rank >= _floor(rule).rank}
            if snippet.label == "malicious":
                for rule in snippet.expect:
                    expected[rule] += 1
                    caught[rule] += rule in fired
            else:
                for rule in {r for r, s in found if s.rank >= Severity.HIGH.rank}:
                    benign_fail[rule] += 1
                for rule in {r for r, s in found if s is Severity.MEDIUM}:
                    benign_warn[rule] += 1
        for rule in sorted(set(expected) | set(benign_fail) | set(benign_warn)):
            per_rule[rule][part] = {
                "expected": expected[rule], "caught": caught[rule],
                "recall": round(caught[rule] / expected[rule], 3) if expected[rule] else None,
                "benign_fail": benign_fail[rule], "benign_warn": benign_warn[rule]}
    return {
        "corpus": {"malicious": sum(s.label == "malicious" for s in snippets),
                   "benign": sum(s.label == "benign" for s in snippets),
                   "held_out": sum(s.held_out for s in snippets),
                   "placements": list(PLACEMENTS)},
        "tuning": {"malicious": rates("tuning", "malicious"), "benign": rates("tuning", "benign")},
        "held_out": {"malicious": rates("held_out", "malicious"),
                     "benign": rates("held_out", "benign")},
        "rules": dict(per_rule),
        "targets": {"malicious_fail_rate_min": 0.9, "benign_fail_rate_max": 0.05},
        "cpu_seconds": round(cpu, 2),
        "_rows": rows,
    }


def details(report: dict[str, object]) -> list[str]:
    """Misses and false fails of the *tuning* part only."""
    out = []
    for snippet, placement, found, worst in report["_rows"]:  # type: ignore[attr-defined]
        if snippet.held_out:
            continue
        fired = sorted({f"{r}:{s.value}" for r, s in found if s.rank >= Severity.MEDIUM.rank})
        if snippet.label == "malicious" and worst.rank < Severity.HIGH.rank:
            out.append(f"MISS  {snippet.name} [{placement}] worst={worst.value} {fired}")
        if snippet.label == "benign" and worst.rank >= Severity.MEDIUM.rank:
            tag = "FAIL " if worst.rank >= Severity.HIGH.rank else "warn "
            out.append(f"{tag} {snippet.name} [{placement}] {fired}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--details", action="store_true",
                        help="list misses and false fails of the tuning part")
    args = parser.parse_args()
    report = run(load())
    if args.details:
        print("\n".join(details(report)))
    report.pop("_rows")
    if args.json or not args.details:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
