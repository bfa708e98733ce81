"""The one interface every code scanner implements, and the roles of paths in a tree.

A scanner reads an already-extracted tree (never runs, builds or imports it) and turns
whatever happened into a :class:`~shouldi.results.CheckResult`. Trouble is a value:
``Status.ERROR`` with a reason, never an exception and never an empty ``OK``.

Path roles: test fixtures, docs, examples and benchmarks often contain deliberately
"dangerous" code, and run only when a developer runs them. :func:`path_role` says what a
path is by its directories and name (never by content: a payload could hide there, so such
files are still scanned). ``path_weight`` is the older, numeric form of the same idea.
"""

from __future__ import annotations

import enum
from pathlib import Path, PurePosixPath
from typing import Protocol, runtime_checkable

from shouldi.results import CheckResult

__all__ = [
    "LOW_WEIGHT",
    "LOW_WEIGHT_DIRS",
    "CodeScanner",
    "PathRole",
    "path_role",
    "path_weight",
    "relative_name",
]


class PathRole(str, enum.Enum):
    """What a file is by where it sits."""

    CODE = "code"
    TEST = "test"
    DOCS = "docs"
    EXAMPLE = "example"
    BENCH = "bench"


_ROLE_DIRS: dict[str, PathRole] = {
    **dict.fromkeys(("tests", "test", "testing", "unittests", "unit_tests", "t"), PathRole.TEST),
    **dict.fromkeys(("docs", "doc", "documentation", "sphinx"), PathRole.DOCS),
    **dict.fromkeys(("examples", "example", "tutorials", "tutorial"), PathRole.EXAMPLE),
    **dict.fromkeys(("benchmarks", "benchmark", "bench", "asv_bench", "perf"), PathRole.BENCH),
}

_ROLE_PREFIXES = (("test_", PathRole.TEST), ("tests_", PathRole.TEST),
                  ("example", PathRole.EXAMPLE), ("docs_", PathRole.DOCS),
                  ("benchmark", PathRole.BENCH))

#: Findings in these directories are kept, but count less (see :func:`path_weight`).
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


def path_role(relname: str) -> PathRole:
    """The role of ``relname`` (a POSIX path relative to the tree): its first directory
    that names a role (``tests/``, ``docs/``, ``examples/``, ``benchmarks/``, or starts like
    one: ``test_data/``, ``example_config/``...), else a test file name (``test_*.py``,
    ``*_test.py``, ``conftest.py``), else code."""
    path = PurePosixPath(relname)
    for part in path.parts[:-1]:
        lowered = part.lower()
        role = _ROLE_DIRS.get(lowered) or next(
            (r for prefix, r in _ROLE_PREFIXES if lowered.startswith(prefix)), None)
        if role is not None:
            return role
    name = path.name
    if name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")
                                 or name == "conftest.py"):
        return PathRole.TEST
    return PathRole.CODE


def path_weight(relname: str) -> float:
    """The weight of a finding in file ``relname`` (a POSIX path relative to the tree)."""
    parts = PurePosixPath(relname).parts[:-1]
    return LOW_WEIGHT if any(p.lower() in LOW_WEIGHT_DIRS for p in parts) else 1.0
