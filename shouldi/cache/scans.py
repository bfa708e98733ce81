"""Code-scan results by artifact, so a second scan of the same file runs no scanner.

What is cached: the archive check, bandit and our heuristics of one artifact, keyed by its
sha256 and a *fingerprint* of the code that produced them: shouldi's version, bandit's
version, the Python version (bandit parses with this interpreter's ``ast``) and a digest of
the source of the scanners and the archive layer (so a development checkout never reads
results of older code).

Not cached: advisory look-ups, metadata, typosquatting and plugin checks: cheap, or their
answer changes over time without the artifact changing. Results that could change if run
again (an ``error`` such as a timeout, a scanner ``skipped`` for a reason other than a refused
archive) are never stored: a one-off failure must not become permanent, nor an unchecked
package a checked one.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from shouldi import __version__
from shouldi.cache.codec import from_json, to_json
from shouldi.cache.entries import EntryStore, digest
from shouldi.results import CheckResult, Status

__all__ = ["CodeScan", "ScanCache", "code_fingerprint"]

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


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A short digest of everything that decides a code-scan result (see the module doc)."""
    try:
        bandit = version("bandit")
    except PackageNotFoundError:
        bandit = "none"
    h = hashlib.sha256()
    h.update(f"{__version__}\0{bandit}\0{sys.version_info[:2]}\0".encode())
    package = Path(__file__).resolve().parent.parent
    for rel in _SCANNING_CODE:
        path = package / rel
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            h.update(file.relative_to(package).as_posix().encode() + b"\0")
            h.update(file.read_bytes() + b"\0")
    return h.hexdigest()[:16]


class ScanCache:
    """Code-scan results by artifact sha256 under ``root``."""

    def __init__(self, root: Path, fingerprint: str | None = None) -> None:
        self.fingerprint = fingerprint or code_fingerprint()
        self.entries = EntryStore(root / self.fingerprint, "code-scan")

    def _about(self, sha256: str) -> dict[str, str]:
        return {"sha256": sha256.lower(), "fingerprint": self.fingerprint}

    def path_for(self, sha256: str) -> Path:
        """Where the entry for ``sha256`` lives (whether or not it is there)."""
        return self.entries.path_for(digest(self._about(sha256)))

    def get(self, sha256: str) -> CodeScan | None:
        """The stored results for this artifact, or ``None`` (absent, unreadable, malformed,
        about another artifact)."""
        about = self._about(sha256)
        entry = self.entries.get(digest(about), about)
        if entry is None:
            return None
        try:
            return from_json(CodeScan, entry.body)
        except ValueError:
            return None

    def put(self, sha256: str, scan: CodeScan) -> bool:
        """Store ``scan`` if it is :attr:`~CodeScan.cacheable`; returns whether it was stored."""
        if not scan.cacheable:
            return False
        about = self._about(sha256)
        return self.entries.put(digest(about), about, to_json(scan))
