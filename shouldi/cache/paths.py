"""Where shouldi keeps its files, and how its caches write them: cheap to import."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import platformdirs

__all__ = ["DATA_DIR_ENV", "cache_root", "data_dir", "default_store_path", "store_json"]

DATA_DIR_ENV = "SHOULDI_DATA_DIR"


def cache_root() -> Path:
    """The user cache dir (platformdirs): ``artifacts/``, ``results/`` and ``answers/`` live here."""
    return Path(platformdirs.user_cache_dir("shouldi"))


def data_dir() -> Path:
    """``$SHOULDI_DATA_DIR``, else the user data dir (platformdirs)."""
    return Path(os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir("shouldi"))


def default_store_path() -> Path:
    """The local advisory store: ``advisories.sqlite`` in :func:`data_dir`."""
    return data_dir() / "advisories.sqlite"


def store_json(dest: Path, body: object) -> bool:
    """Write ``body`` as JSON to ``dest`` atomically (temp file in the same dir, then
    ``os.replace``), creating private (0700) parent dirs. For caches: returns ``False``
    instead of raising when the file cannot be written; a cache costs speed, never an answer."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-", suffix=".json")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(body, out, separators=(",", ":"))
        Path(tmp).replace(dest)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        return False
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
