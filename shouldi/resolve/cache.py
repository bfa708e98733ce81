"""What a second resolution reuses: project pages for a while, dependencies for good.

- A project's file list (its simple page, parsed) is kept for ``max_age`` seconds (600 by
  default: what PyPI lets clients cache its simple pages, and the answer cache's default),
  keyed by index URL and project name. Within that window a new release is not seen.
- A file's :class:`~shouldi.resolve.metadata.Dependencies` are keyed by the file's sha256:
  the same bytes always say the same thing, so they never expire.

Layout under ``<user cache dir>/resolve/`` (or ``root``): ``pages/ab/<key>.json`` and
``deps/ab/<sha256>.json``, written atomically with :func:`shouldi.paths.store_json`. An
unreadable, malformed or expired entry is a miss, never an error: a cache costs speed,
never an answer.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from shouldi.paths import cache_root, store_json
from shouldi.resolve.metadata import Dependencies
from shouldi.results import Artifact

__all__ = ["DEFAULT_MAX_AGE", "ResolveCache"]

DEFAULT_MAX_AGE = 600.0
_FORMAT = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ARTIFACT_FIELDS = {f.name for f in fields(Artifact)}
_DEPS_FIELDS = {f.name for f in fields(Dependencies)}


class ResolveCache:
    """Project pages (``max_age`` seconds) and dependencies by file sha256, on disk."""

    def __init__(self, root: Path | None = None, *, max_age: float = DEFAULT_MAX_AGE) -> None:
        self.root = root if root is not None else cache_root() / "resolve"
        self.max_age = max_age

    # --- pages ----------------------------------------------------------------------------
    def _page_path(self, index_url: str, name: str) -> Path:
        key = hashlib.sha256(f"{_FORMAT}\0{index_url}\0{name}".encode()).hexdigest()
        return self.root / "pages" / key[:2] / f"{key}.json"

    def files(self, index_url: str, name: str) -> tuple[Artifact, ...] | None:
        """The cached file list of ``name`` if younger than ``max_age``; else None."""
        data = _load(self._page_path(index_url, name))
        try:
            if data is None or time.time() - float(data["time"]) > self.max_age:
                return None
            return tuple(_artifact(a) for a in data["files"])
        except (KeyError, TypeError, ValueError):
            return None

    def store_files(self, index_url: str, name: str, files: tuple[Artifact, ...]) -> None:
        body = {"format": _FORMAT, "time": time.time(), "index": index_url, "name": name,
                "files": [_jsonable(asdict(a)) for a in files]}
        store_json(self._page_path(index_url, name), body)

    # --- dependencies ---------------------------------------------------------------------
    def _deps_path(self, sha256: str) -> Path | None:
        key = sha256.lower()
        return self.root / "deps" / key[:2] / f"{key}.json" if _SHA256.fullmatch(key) else None

    def dependencies(self, sha256: str | None) -> Dependencies | None:
        path = self._deps_path(sha256) if sha256 else None
        data = _load(path) if path else None
        if data is None or data.get("format") != _FORMAT:
            return None
        try:
            values = {k: v for k, v in data["deps"].items() if k in _DEPS_FIELDS}
            for key in ("requires", "provides_extra"):
                values[key] = tuple(str(v) for v in values.get(key, ()))
            return Dependencies(**values)
        except (KeyError, TypeError, AttributeError):
            return None

    def store_dependencies(self, sha256: str | None, deps: Dependencies) -> None:
        path = self._deps_path(sha256) if sha256 else None
        if path is not None:
            store_json(path, {"format": _FORMAT, "deps": asdict(deps)})


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def _artifact(data: dict[str, Any]) -> Artifact:
    values = {k: v for k, v in data.items() if k in _ARTIFACT_FIELDS}
    if values.get("upload_time"):
        values["upload_time"] = datetime.fromisoformat(values["upload_time"])
    return Artifact(**values)
