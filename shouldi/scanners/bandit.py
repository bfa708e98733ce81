"""Bandit, run as subprocesses over an extracted tree, hardened against the tree itself.

The scanned package must not be able to switch bandit off. So:

* ``--ignore-nosec``: ``# nosec`` comments are honoured by default and would hide payloads;
  we still count the findings they tried to hide (``counts["nosec"]``).
* Bandit reads a ``.bandit`` INI from any directory target (``os.walk``), which can set
  ``skips``/``exclude``/``configfile``. We pass explicit *files*, never directories, and point
  ``--ini`` at our own empty ``[bandit]`` file. Bandit reads ``setup.cfg``/``pyproject.toml``
  only when given ``-c``, which we never pass.
* ``-x ""``: the default exclusions are substring matches (``.git``, ``CVS``, ``.eggs``...)
  that a package could use to hide a module; we exclude nothing.
* ``python -I``: ``-m`` would otherwise put the working directory (the tree) first on
  ``sys.path`` and a ``yaml.py`` in the tree would run when bandit imports PyYAML.

Bandit has no parallel mode, so large trees are split into size-balanced chunks, one
process each, and the JSON reports merged. :func:`prestart` starts a bandit interpreter
ahead of need (a :class:`~shouldi.scanners._procs.Spares`): it imports bandit while the
package downloads, and the first chunk runs in it, the same program with the same arguments.

Large modules that are only literal data are not given to bandit (its time is quadratic in a
literal's size; :mod:`shouldi.scanners.literal_data`): each is named in the check's warnings
and counted (``counts["literal_data_files"]``); the heuristics scan them.

Test, docs, example and benchmark files (:func:`~shouldi.scanners.interface.path_role`: the
heuristics' *aside* files) are not given to bandit either: bandit reads the code that runs when
the package is built, installed or imported. Its findings in such files counted a quarter and
never decided a verdict, and they cost most of its time on an sdist that ships its test suite
(django 5.0.6: 11.6 of 17 MB of Python, ~2/3 of bandit's CPU). They are counted
(``counts["aside_files"]``) and said in the check's note; the heuristics read every one of them
for malicious code, and follow imports into them, so code hidden there is still found.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from shouldi.results import CheckResult, Finding, Severity, Status
from shouldi.scanners._procs import Spares, run_all
from shouldi.scanners.errors import ScannerError, ToolFailed
from shouldi.scanners.interface import PathRole, path_role, path_weight
from shouldi.scanners.literal_data import is_literal_data

__all__ = ["BanditScanner", "plan_chunks", "prestart", "prestart_ahead"]

_SOURCE_SUFFIXES = (".py", ".pyw")
_LEVELS = ("low", "medium", "high")
_SEVERITY = {"LOW": Severity.LOW, "MEDIUM": Severity.MEDIUM, "HIGH": Severity.HIGH}
_NOSEC = re.compile(r"#\s*nosec", re.IGNORECASE)
#: Bytes of file arguments per process: far below ARG_MAX (and MAX_ARG_STRLEN) everywhere.
ARG_BUDGET = 100_000
#: Bytes of Python below which a tree is one bandit process, and the least a chunk holds.
SINGLE_BELOW = 300_000


def plan_chunks(
    files: Sequence[tuple[str, int]],
    workers: int,
    single_below: int = SINGLE_BELOW,
    arg_budget: int = ARG_BUDGET,
    per_worker: int = 3,
) -> list[list[str]]:
    """Split ``(name, size)`` pairs into balanced chunks, one bandit process each.

    Small trees (total size below ``single_below``) get one chunk; otherwise ``per_worker``
    chunks per worker, but never a chunk smaller than ``single_below`` (bandit reads ~0.3 MB
    of Python per second, and each chunk costs one bandit start-up, ~0.5 s of CPU: a 700 KB
    tree in six chunks spent more CPU starting bandit than scanning). Chunks are balanced by
    size (largest file first into the lightest chunk) and returned largest first. Workers
    take the next chunk as they finish one, so a chunk that runs slower than its size
    suggests does not leave a core idle at the end. Any chunk whose arguments exceed
    ``arg_budget`` bytes is cut further, so the command line always fits.
    """
    total = sum(size for _, size in files)
    wanted = 1 if total < single_below or workers <= 1 else workers * max(1, per_worker)
    if single_below > 0:
        wanted = min(wanted, max(1, total // single_below))
    count = max(1, min(wanted, len(files)))
    bins: list[list[str]] = [[] for _ in range(count)]
    loads = [0] * count
    for name, size in sorted(files, key=lambda f: (-f[1], f[0])):
        lightest = loads.index(min(loads))
        bins[lightest].append(name)
        loads[lightest] += size
    chunks: list[list[str]] = []
    for _, chunk in sorted(zip(loads, bins, strict=True), key=lambda lb: -lb[0]):
        current: list[str] = []
        used = 0
        for name in chunk:
            cost = len(os.fsencode(name)) + 1
            if current and used + cost > arg_budget:
                chunks.append(current)
                current, used = [], 0
            current.append(name)
            used += cost
        if current:
            chunks.append(current)
    return chunks


class BanditScanner:
    """Run bandit on every ``.py``/``.pyw`` file of a tree; keep every finding."""

    name = "bandit"
    required = True

    def __init__(
        self, timeout: float = 600, workers: int | None = None,
        single_process_below: int = SINGLE_BELOW, include_aside: bool = False,
    ) -> None:
        self.timeout = timeout
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        #: trees with less Python than this (bytes) use one process, and no chunk holds less:
        #: start-up costs ~0.5 s
        self.single_process_below = single_process_below
        #: give bandit the test, docs, example and benchmark files too (see the module doc)
        self.include_aside = include_aside

    def scan(self, tree: Path) -> CheckResult:
        start = time.monotonic()
        tool_version = _bandit_version()
        try:
            files = list(_python_files(tree))
            aside = [] if self.include_aside else [
                (n, size) for n, size in files if path_role(n) is not PathRole.CODE]
            data = [(n, size) for n, size in files if is_literal_data(tree / n, size)]
            left_out = set(aside) | set(data)
            files = [f for f in files if f not in left_out]
            data = [f for f in data if f not in set(aside)]
            if not files and not data and not aside:
                return CheckResult(
                    check=self.name, status=Status.OK, reason="no Python files to scan",
                    counts=_empty_counts(), tool_version=tool_version,
                    duration_s=time.monotonic() - start,
                )
            chunks = plan_chunks(files, self.workers, self.single_process_below) if files else []
            reports = self._run(tree, chunks) if chunks else []
            result = _merge(reports, tree, len(files) + len(data) + len(aside), data, aside)
        except ScannerError as err:
            result = CheckResult(check=self.name, status=Status.ERROR, reason=str(err))
        except OSError as err:
            result = CheckResult(check=self.name, status=Status.ERROR,
                                 reason=f"cannot read the tree: {err}")
        return replace(result, tool_version=tool_version, duration_s=time.monotonic() - start)

    def _run(self, tree: Path, chunks: list[list[str]]) -> list[dict[str, Any]]:
        with tempfile.TemporaryDirectory(prefix="shouldi-bandit-") as scratch:
            ini = Path(scratch, "bandit.ini")
            ini.write_text("[bandit]\n", encoding="utf-8")
            base = [sys.executable, "-I", "-m", "bandit", "-f", "json", "-q", "-n", "1",
                    "--ignore-nosec", "-x", "", "--ini", str(ini), "--"]
            commands = [base + [f"./{name}" for name in chunk] for chunk in chunks]
            outputs = run_all(commands, cwd=tree, timeout=self.timeout,
                              workers=self.workers, what="bandit", spares=_spares())
        return [_parse(code, out, err) for code, out, err in outputs]


_SPARES: list[Spares] = []


def _spares() -> Spares:
    if not _SPARES:
        _SPARES.append(Spares("bandit", limit=os.cpu_count() or 1, preload="bandit.cli.main"))
    return _SPARES[0]


def prestart() -> bool:
    """Start a bandit interpreter now for a scan that will come (main thread only; at most
    one per core waits). Returns whether one was started."""
    return _spares().prestart()


def prestart_ahead() -> bool:
    """Start a bandit interpreter as a run begins, before it is known to scan anything (see
    :meth:`~shouldi.scanners._procs.Spares.prestart_ahead`). Returns whether one was started."""
    return _spares().prestart_ahead()


def _bandit_version() -> str | None:
    try:
        return version("bandit")
    except PackageNotFoundError:
        return None


def _python_files(tree: Path) -> Iterable[tuple[str, int]]:
    """``(relative posix name, size)`` of regular source files; symlinks are not followed."""
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames.sort()
        for filename in sorted(filenames):
            if not filename.endswith(_SOURCE_SUFFIXES):
                continue
            path = Path(dirpath, filename)
            if path.is_symlink() or not path.is_file():
                continue
            yield path.relative_to(tree).as_posix(), path.stat().st_size


def _parse(code: int, out: bytes, err: bytes) -> dict[str, Any]:
    if code not in (0, 1):
        lines = err.decode("utf-8", "replace").strip().splitlines() or ["(no output)"]
        raise ToolFailed(f"bandit exited with code {code}: {lines[-1]}")
    try:
        report = json.loads(out)
    except ValueError as e:
        raise ToolFailed(f"bandit printed unreadable JSON: {e}") from e
    if not isinstance(report, dict):
        raise ToolFailed("bandit printed JSON that is not a report object")
    return report


def _empty_counts() -> dict[str, int]:
    counts = {f"{s}_{c}": 0 for s in _LEVELS for c in _LEVELS}
    counts.update(loc=0, files=0, skipped_files=0, nosec=0, literal_data_files=0, aside_files=0)
    return counts


def _normalise(name: str) -> str:
    return os.path.normpath(name).replace(os.sep, "/")


def _merge(reports: list[dict[str, Any]], tree: Path, file_count: int,
           data: Sequence[tuple[str, int]] = (), aside: Sequence[tuple[str, int]] = ()
           ) -> CheckResult:
    counts = _empty_counts()
    counts["files"] = file_count
    counts["literal_data_files"] = len(data)
    counts["aside_files"] = len(aside)
    findings: list[Finding] = []
    warnings = [f"bandit skipped {name}: {size // 1024} KB of literal data only, no code (bandit's "
                "time grows quadratically with a literal's size); the heuristics scanned it"
                for name, size in data]
    lines_cache: dict[str, list[str]] = {}
    for report in reports:
        counts["loc"] += int(report.get("metrics", {}).get("_totals", {}).get("loc", 0))
        for error in report.get("errors", []):
            counts["skipped_files"] += 1
            warnings.append(f"bandit could not scan {_normalise(str(error.get('filename')))}: "
                            f"{error.get('reason', 'unknown reason')}")
        for issue in report.get("results", []):
            finding = _finding(issue)
            findings.append(finding)
            sev, conf = str(issue.get("issue_severity")), str(issue.get("issue_confidence"))
            key = f"{sev.lower()}_{conf.lower()}"
            counts[key] = counts.get(key, 0) + 1
            if _has_nosec(tree, finding.file or "", issue.get("line_range") or [], lines_cache):
                counts["nosec"] += 1
    findings.sort(key=lambda f: (f.file or "", f.line or 0, f.rule))
    status, reason = Status.OK, _aside_note(aside)
    given = file_count - len(data) - len(aside)  # the files bandit was given
    if given and counts["skipped_files"] >= given:
        status, reason = Status.ERROR, f"bandit could parse none of the {given} Python files"
    return CheckResult(check="bandit", status=status, findings=tuple(findings), reason=reason,
                       counts=counts, warnings=tuple(sorted(warnings)))


def _aside_note(aside: Sequence[tuple[str, int]]) -> str | None:
    if not aside:
        return None
    kb = sum(size for _, size in aside) // 1024
    files = "file" if len(aside) == 1 else "files"
    return (f"bandit read the code that runs; {len(aside)} test, docs, example or benchmark "
            f"{files} ({kb} KB) were left to the heuristics")


def _finding(issue: dict[str, Any]) -> Finding:
    relname = _normalise(str(issue.get("filename", "")))
    return Finding(
        check="bandit",
        rule=str(issue.get("test_id", "?")),
        severity=_SEVERITY.get(str(issue.get("issue_severity")), Severity.INFO),
        confidence=_SEVERITY.get(str(issue.get("issue_confidence")), Severity.INFO),
        message=str(issue.get("issue_text", "")),
        file=relname,
        line=int(issue["line_number"]) if issue.get("line_number") is not None else None,
        weight=path_weight(relname),
    )


def _has_nosec(tree: Path, relname: str, line_range: list[int], cache: dict[str, list[str]]) -> bool:
    """Did the package put a ``# nosec`` on this finding (which bandit would have hidden)?"""
    if relname not in cache:
        try:
            cache[relname] = (tree / relname).read_text("utf-8", "replace").splitlines()
        except OSError:
            cache[relname] = []
    lines = cache[relname]
    return any(0 < n <= len(lines) and _NOSEC.search(lines[n - 1]) for n in line_range)
