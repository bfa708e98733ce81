"""Where shouldi keeps its files (the user cache and data dirs): cheap to import."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["DATA_DIR_ENV", "cache_root", "data_dir", "default_store_path"]

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
