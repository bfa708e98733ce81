"""A cache of code-scan results, so a second scan of the same artifact runs no scanner.

What is cached: the archive check, bandit and our heuristics for one artifact, keyed by its
sha256. These depend only on the artifact's bytes and on the scanning code, so the key also
holds a *fingerprint* of that code: shouldi's version, bandit's version, the Python version
(bandit parses with this interpreter's ``ast``) and a digest of the source of the scanners
and the archive layer (so a development checkout never reads results of older code).

What is not cached: advisory look-ups, metadata and typosquatting. They are cheap and their
answer changes over time without the artifact changing; they run on every scan. Results
that could change if run again (an ``error`` such as a timeout, a scanner ``skipped`` for a
reason other than a refused archive) are never stored: a cache must not turn a one-off
failure into a permanent one, nor an unchecked package into a checked one.

Layout: ``<root>/<fingerprint>/<ab>/<sha256>.json``, written atomically (temp file and
``os.replace``); an unreadable or malformed entry is a miss and a cache that cannot be written
is skipped, never an error.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from shouldi import __version__
from shouldi.paths import cache_root, store_json
from shouldi.results import CheckResult, Finding, Severity, Status

__all__ = ["CodeScan", "ResultCache", "code_fingerprint", "default_results_root"]

_FORMAT = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: The code whose output is cached, relative to the ``shouldi`` package.
_SCANNING_CODE = ("scanners", "archive", "operations/scan.py", "operations/fetch.py", "results.py")


@dataclass(frozen=True)
class CodeScan:
    """The code-scan results of one artifact: what the cache stores and returns."""

    archive: CheckResult
    bandit: CheckResult
    heuristics: CheckResult

    @property
    def cacheable(self) -> bool:
        """True when running the scan again would give the same answer.

        Every check ended ``ok``, or the archive was refused (then bandit and heuristics are
        ``skipped``: there was nothing to scan, and there never will be).
        """
        if self.archive.status is not Status.OK:
            return False
        refused = bool(self.archive.counts.get("refused"))
        return all(c.status is Status.OK or (refused and c.status is Status.SKIPPED)
                   for c in (self.bandit, self.heuristics))


def default_results_root() -> Path:
    """``<user cache dir>/shouldi/results``."""
    return cache_root() / "results"


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A short digest of everything that decides a code-scan result (see the module doc)."""
    try:
        bandit = version("bandit")
    except PackageNotFoundError:
        bandit = "none"
    digest = hashlib.sha256()
    digest.update(f"{__version__}\0{bandit}\0{sys.version_info[:2]}\0".encode())
    package = Path(__file__).parent
    for rel in _SCANNING_CODE:
        path = package / rel
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(package).as_posix().encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


class ResultCache:
    """Code-scan results by artifact sha256 under ``root`` (default: the user cache dir)."""

    def __init__(self, root: Path | None = None, fingerprint: str | None = None) -> None:
        self.root = root if root is not None else default_results_root()
        self.fingerprint = fingerprint or code_fingerprint()

    def path_for(self, sha256: str) -> Path:
        key = sha256.lower()
        if not _SHA256.fullmatch(key):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / self.fingerprint / key[:2] / f"{key}.json"

    def get(self, sha256: str) -> CodeScan | None:
        """The stored results for this artifact, or ``None`` (absent, unreadable, malformed)."""
        try:
            data = json.loads(self.path_for(sha256).read_bytes())
            if data.get("format") != _FORMAT or data.get("sha256") != sha256.lower():
                return None
            return CodeScan(*(_check_from(data[k]) for k in ("archive", "bandit", "heuristics")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def put(self, sha256: str, scan: CodeScan) -> bool:
        """Store ``scan`` if it is :attr:`~CodeScan.cacheable`; returns whether it was stored."""
        if not scan.cacheable:
            return False
        body = {"format": _FORMAT, "sha256": sha256.lower(), "fingerprint": self.fingerprint,
                "archive": _check_to(scan.archive), "bandit": _check_to(scan.bandit),
                "heuristics": _check_to(scan.heuristics)}
        return store_json(self.path_for(sha256), body)


def _check_to(c: CheckResult) -> dict[str, Any]:
    return {
        "check": c.check, "status": c.status.value, "reason": c.reason, "counts": dict(c.counts),
        "tool_version": c.tool_version, "warnings": list(c.warnings), "duration_s": c.duration_s,
        "findings": [
            [f.check, f.rule, f.severity.value, f.message, f.file, f.line,
             f.confidence.value if f.confidence else None, f.weight]
            for f in c.findings
        ],
    }


def _check_from(d: dict[str, Any]) -> CheckResult:
    findings = tuple(
        Finding(str(check), str(rule), Severity(sev), str(msg), file, line,
                Severity(conf) if conf else None, float(weight))
        for check, rule, sev, msg, file, line, conf, weight in d["findings"]
    )
    counts = {str(k): int(v) for k, v in d["counts"].items()}
    return CheckResult(str(d["check"]), Status(d["status"]), findings, d["reason"], counts,
                       d["tool_version"], tuple(map(str, d["warnings"])), d["duration_s"])
