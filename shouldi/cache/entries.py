"""JSON cache entries that say what they are about, checked on every read.

An entry is ``{"format", "kind", "key", "about", "body", "stored_at"}``. ``about`` is what the
caller asked for (a sha256, a spec and the package it names, a model digest and features): an
entry whose ``kind``, ``key`` or ``about`` differ from the request is a miss. So a file copied
or edited to sit under another key — another package's PASS — is never returned.

Layout: ``<root>/<key[:2]>/<key>.json``. Keys are sha256 hex digests.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shouldi.cache.files import read_json, shard_dir, store_json

__all__ = ["Entry", "EntryStore", "digest"]

_FORMAT = 2
_KEY = re.compile(r"[0-9a-f]{64}")


def digest(value: object) -> str:
    """A sha256 hex key of a JSON-able value (sorted keys, ``str`` for the rest)."""
    body = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    body: Any
    stored_at: float


class EntryStore:
    """Entries of one ``kind`` under ``root``."""

    def __init__(self, root: Path, kind: str) -> None:
        self.root, self.kind = root, kind

    def path_for(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a sha256 hex key: {key!r}")
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str, about: Mapping[str, Any]) -> Entry | None:
        """The entry at ``key`` if it is about exactly ``about``; else ``None``."""
        try:
            path = self.path_for(key)
            shard_dir(path.parent, create=False)
            data = read_json(path)
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        expected = json.loads(json.dumps(dict(about), default=str))
        if (data.get("format") != _FORMAT or data.get("kind") != self.kind
                or data.get("key") != key or data.get("about") != expected):
            return None
        stored_at = data.get("stored_at")
        if not isinstance(stored_at, (int, float)) or "body" not in data:
            return None
        return Entry(data["body"], float(stored_at))

    def put(self, key: str, about: Mapping[str, Any], body: Any) -> bool:
        """Store ``body``; ``False`` when it could not be written (never raises)."""
        try:
            path = self.path_for(key)
            entry = {"format": _FORMAT, "kind": self.kind, "key": key,
                     "about": json.loads(json.dumps(dict(about), default=str)),
                     "stored_at": time.time(), "body": body}
        except (ValueError, TypeError):
            return False
        return store_json(path, entry)
