"""What a second resolution reuses: project pages for a while, dependencies for good.

- A project's file list (its simple page, parsed) is kept for ``max_age`` seconds (600 by
  default: what PyPI lets clients cache its simple pages, and the answer cache's default),
  keyed by index URL and project name. Within that window a new release is not seen.
- A file's :class:`~shouldi.resolve.metadata.Dependencies` are keyed by the file's sha256:
  the same bytes always say the same thing, so they never expire.

Entries live under ``<user cache dir>/resolve/`` (or ``root``) in the cache layer's checked
store (:mod:`shouldi.cache.entries`): each says what it is about (index and project, or the
file's sha256), and an entry about something else, unreadable, malformed or expired is a
miss, never an error: a cache costs speed, never an answer.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from shouldi.cache.codec import from_json, to_json
from shouldi.cache.entries import EntryStore, digest
from shouldi.cache.paths import cache_root
from shouldi.results import Artifact

if TYPE_CHECKING:
    from shouldi.resolve.metadata import Dependencies

__all__ = ["DEFAULT_MAX_AGE", "ResolveCache"]

DEFAULT_MAX_AGE = 600.0
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ResolveCache:
    """Project pages (``max_age`` seconds) and dependencies by file sha256, on disk."""

    def __init__(self, root: Path | None = None, *, max_age: float = DEFAULT_MAX_AGE) -> None:
        self.root = root if root is not None else cache_root() / "resolve"
        self.max_age = max_age
        self.pages = EntryStore(self.root / "pages", "project-page")
        self.deps = EntryStore(self.root / "deps", "dependencies")

    # --- pages ----------------------------------------------------------------------------
    def files(self, index_url: str, name: str) -> tuple[Artifact, ...] | None:
        """The cached file list of ``name`` if younger than ``max_age``; else None."""
        about = {"index": index_url, "name": name}
        entry = self.pages.get(digest(about), about)
        if entry is None or not 0 <= time.time() - entry.stored_at <= self.max_age:
            return None
        if not isinstance(entry.body, list):
            return None
        try:
            return tuple(from_json(Artifact, a) for a in entry.body)
        except ValueError:
            return None

    def store_files(self, index_url: str, name: str, files: tuple[Artifact, ...]) -> None:
        about = {"index": index_url, "name": name}
        self.pages.put(digest(about), about, to_json(files))

    # --- dependencies ---------------------------------------------------------------------
    def dependencies(self, sha256: str | None) -> Dependencies | None:
        from shouldi.resolve.metadata import Dependencies

        key = (sha256 or "").lower()
        if not _SHA256.fullmatch(key):
            return None
        about = {"sha256": key}
        entry = self.deps.get(digest(about), about)
        if entry is None:
            return None
        try:
            return from_json(Dependencies, entry.body)
        except ValueError:
            return None

    def store_dependencies(self, sha256: str | None, deps: Dependencies) -> None:
        key = (sha256 or "").lower()
        if _SHA256.fullmatch(key):
            about = {"sha256": key}
            self.deps.put(digest(about), about, to_json(deps))
