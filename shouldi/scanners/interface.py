"""The one interface every code scanner implements.

A scanner reads an already-extracted tree (never runs, builds or imports it) and turns
whatever happened into a :class:`~shouldi.results.CheckResult`. Trouble is a value:
``Status.ERROR`` with a reason, never an exception and never an empty ``OK``.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Protocol, runtime_checkable

from shouldi.results import CheckResult

__all__ = ["LOW_WEIGHT", "LOW_WEIGHT_DIRS", "CodeScanner", "path_weight", "relative_name"]

#: Findings in these directories are kept, but count less: test fixtures and docs often
#: contain deliberately "dangerous" code. Never excluded: a payload could hide there.
LOW_WEIGHT_DIRS = frozenset({"tests", "test", "testing", "docs", "doc", "examples", "example"})
LOW_WEIGHT = 0.25


@runtime_checkable
class CodeScanner(Protocol):
    """Something that looks at an extracted source tree."""

    name: str
    #: A required scanner that ends SKIPPED or ERROR makes the overall verdict ``error``.
    required: bool

    def scan(self, tree: Path) -> CheckResult:
        """Scan ``tree``; report trouble as ``Status.ERROR``, never by raising."""
        ...


def relative_name(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` in POSIX form, as findings report it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def path_weight(relname: str) -> float:
    """The weight of a finding in file ``relname`` (a POSIX path relative to the tree)."""
    parts = PurePosixPath(relname).parts[:-1]
    return LOW_WEIGHT if any(p.lower() in LOW_WEIGHT_DIRS for p in parts) else 1.0
