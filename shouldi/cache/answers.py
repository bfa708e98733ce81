"""Whole answers, reused for a short while: asking twice in a row is near-instant.

A package's answer (its :class:`~shouldi.verdict.PackageReport`) depends on the spec, the
index, the policy, which advisory sources are on (and the local store's contents), the risk
model and shouldi's own code; the key holds all of them (:func:`package_fingerprint` for the
code and model). An answer is reused for ``max_age`` seconds (``--max-age``; 600 by default,
the time PyPI lets clients cache its simple pages). Within that window a new advisory or a
new release of an unpinned spec is not seen; ``--max-age 0`` always asks again.

Only answers that would come out the same when asked again are stored: an ``error`` verdict
(a timeout, an unreachable source), a reason that says a check could not run, or a spec that
named nothing is always asked again. On read the entry must be about this spec and settings,
and its report about the package the spec names (and the pinned version): an entry copied or
edited to answer for another package is a miss.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shouldi.cache.codec import from_json, to_json
from shouldi.cache.entries import EntryStore, digest
from shouldi.verdict.report import PackageReport, Verdict

__all__ = ["DEFAULT_MAX_AGE", "AnswerCache", "CachedAnswer", "cacheable", "package_fingerprint"]

DEFAULT_MAX_AGE = 600.0
_PINNED = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?:===?\s*([^\s,;*]+))?\s*$")


@dataclass(frozen=True)
class CachedAnswer:
    report: PackageReport
    answered_at: float  # seconds since the epoch

    @property
    def age_s(self) -> float:
        return max(0.0, time.time() - self.answered_at)


@functools.lru_cache(maxsize=1)
def package_fingerprint() -> str:
    """A digest of shouldi's installed files (names, sizes, mtimes): code or model changes
    make every stored answer a miss."""
    package = str(Path(__file__).resolve().parent.parent)
    entries: list[str] = []
    pending = [package]
    while pending:
        with os.scandir(pending.pop()) as found:
            for entry in found:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        pending.append(entry.path)
                elif entry.name.endswith((".py", ".zip", ".txt", ".json")):
                    st = entry.stat()
                    entries.append(f"{os.path.relpath(entry.path, package)}\0{st.st_size}\0{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()[:16]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names_it(spec: str, report: PackageReport) -> bool:
    """Whether ``report`` is an answer about what ``spec`` names (name, and a pinned version)."""
    m = _PINNED.match(spec)
    if m is None:  # a range: the name must still match
        head = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
        return head is not None and _canonical(head.group(1)) == report.name
    name, version = m.group(1), m.group(2)
    if _canonical(name) != report.name:
        return False
    return version is None or version == report.version or _same_version(version, report.version)


def _same_version(a: str, b: str | None) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return b is not None and Version(a) == Version(b)
    except InvalidVersion:
        return False


class AnswerCache:
    """Answers by spec and settings under ``root``, each reused for ``max_age`` seconds."""

    def __init__(self, root: Path, settings: Mapping[str, Any], max_age: float = DEFAULT_MAX_AGE) -> None:
        self.settings, self.max_age = dict(settings), max_age
        self.entries = EntryStore(root, "answer")

    def _about(self, spec: str) -> dict[str, Any]:
        return {"spec": spec.strip(), "settings": self.settings, "code": package_fingerprint()}

    def path_for(self, spec: str) -> Path:
        """Where the entry for ``spec`` lives (whether or not it is there)."""
        return self.entries.path_for(digest(self._about(spec)))

    def get(self, spec: str) -> CachedAnswer | None:
        """The stored answer for ``spec`` if younger than ``max_age``; else ``None``."""
        about = self._about(spec)
        entry = self.entries.get(digest(about), about)
        if entry is None or not 0 <= time.time() - entry.stored_at < self.max_age:
            return None
        try:
            report = from_json(PackageReport, entry.body)
        except ValueError:
            return None
        if not cacheable(report) or not _names_it(spec, report):
            return None
        return CachedAnswer(report, entry.stored_at)

    def put(self, spec: str, report: PackageReport) -> bool:
        """Store ``report`` when asking again would give the same answer; returns whether it was."""
        if not cacheable(report):
            return False
        about = self._about(spec)
        return self.entries.put(digest(about), about, to_json(report))


def cacheable(report: PackageReport) -> bool:
    """Only a complete answer is reused: nothing in it says a check could not run."""
    if report.version is None or report.artifact is None or report.input_error:
        return False
    return report.verdict is not Verdict.ERROR and all(r.verdict is not Verdict.ERROR for r in report.reasons)
