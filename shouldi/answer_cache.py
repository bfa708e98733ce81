"""Whole answers, reused for a short while: asking twice in a row is near-instant.

A package's answer (its :class:`~shouldi.verdict.PackageReport`) depends on the spec, the
index, the policy, which advisory sources are on (and the local store's contents), the risk
model and shouldi's own code; the key holds all of them (see :func:`settings_fingerprint`).
An answer is reused for ``max_age`` seconds (``--max-age``; 600 by default, the time PyPI lets
clients cache its simple pages). Within that window a new advisory or a new release of an
unpinned spec is not seen; ``--max-age 0`` always asks again.

Only answers that would come out the same when asked again are stored: an ``error`` verdict
(a timeout, an unreachable source) or a spec that named nothing is always asked again.

Layout: ``<root>/<key[:2]>/<key>.json``, written atomically; an unreadable, malformed or
expired entry is a miss, never an error.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import dacite

from shouldi.dataflow.results import to_jsonable
from shouldi.paths import store_json
from shouldi.verdict import PackageReport, Verdict

__all__ = ["DEFAULT_MAX_AGE", "AnswerCache", "CachedAnswer", "cacheable", "key_for", "package_fingerprint",
           "report_from_json", "report_to_json"]

DEFAULT_MAX_AGE = 600.0
_FORMAT = 1
_DACITE = dacite.Config(
    type_hooks={datetime: datetime.fromisoformat},
    cast=[enum.Enum, tuple, frozenset],
    strict=True,
)


@dataclass(frozen=True)
class CachedAnswer:
    report: PackageReport
    answered_at: float  # seconds since the epoch

    @property
    def age_s(self) -> float:
        return max(0.0, time.time() - self.answered_at)


def report_to_json(report: PackageReport) -> dict[str, Any]:
    out: dict[str, Any] = to_jsonable(report)
    return out


def report_from_json(data: Mapping[str, Any]) -> PackageReport:
    """The inverse of :func:`report_to_json` (raises ``dacite.DaciteError`` or ``ValueError``)."""
    return dacite.from_dict(PackageReport, dict(data), config=_DACITE)


@functools.lru_cache(maxsize=1)
def package_fingerprint() -> str:
    """A digest of shouldi's installed files (names, sizes, mtimes): code or model changes
    make every stored answer a miss."""
    package = str(Path(__file__).resolve().parent)
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


def key_for(spec: str, settings: Mapping[str, Any]) -> str:
    body = json.dumps({"spec": spec.strip(), "settings": settings, "code": package_fingerprint()},
                      sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


class AnswerCache:
    """Answers by spec and settings under ``root``, each reused for ``max_age`` seconds."""

    def __init__(self, root: Path, settings: Mapping[str, Any], max_age: float = DEFAULT_MAX_AGE) -> None:
        self.root, self.settings, self.max_age = root, dict(settings), max_age

    def path_for(self, spec: str) -> Path:
        key = key_for(spec, self.settings)
        return self.root / key[:2] / f"{key}.json"

    def get(self, spec: str) -> CachedAnswer | None:
        """The stored answer for ``spec`` if younger than ``max_age``; else ``None``."""
        try:
            data = json.loads(self.path_for(spec).read_bytes())
            if data.get("format") != _FORMAT or data.get("spec") != spec.strip():
                return None
            answered_at = float(data["answered_at"])
            if not 0 <= time.time() - answered_at < self.max_age:
                return None
            return CachedAnswer(report_from_json(data["report"]), answered_at)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, dacite.DaciteError):
            return None

    def put(self, spec: str, report: PackageReport) -> bool:
        """Store ``report`` when asking again would give the same answer; returns whether it was."""
        if not cacheable(report):
            return False
        body = {"format": _FORMAT, "spec": spec.strip(), "answered_at": time.time(),
                "report": report_to_json(report)}
        return store_json(self.path_for(spec), body)


def cacheable(report: PackageReport) -> bool:
    """Only a complete answer is reused: nothing in it says a check could not run."""
    if report.version is None or report.artifact is None:
        return False
    return report.verdict is not Verdict.ERROR and all(r.verdict is not Verdict.ERROR for r in report.reasons)
