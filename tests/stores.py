"""The local advisory store in tests: each test has its own data dir (conftest), so the default
store is a fresh, absent one ("no local advisory store": SKIPPED). A store named with
``--advisory-db`` must exist (a named store that is missing is an error), so tests name one
only once they have filled it."""

from __future__ import annotations

from pathlib import Path


def store_option(path: Path) -> list[str]:
    """``--advisory-db PATH`` when the store exists, else nothing (the default store)."""
    return ["--advisory-db", str(path)] if path.exists() else []


def store_setting(path: Path) -> Path | None:
    return path if path.exists() else None
