"""Who asked for a node of a dependency tree: a value cheap to import.

:class:`Requirer` travels beyond the resolver (each answer of ``shouldi install`` says who
required its package, and a lock file says ``# via flask``), so it lives apart from
:mod:`shouldi.resolve.tree`: importing it loads neither resolvelib nor httpx, and the warm
path of ``shouldi install`` (a whole-tree answer reused from the cache) stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Requirer"]


@dataclass(frozen=True)
class Requirer:
    """Who asked for a node: ``parent`` at ``parent_version``, or the user (``parent=None``)."""

    requirement: str  # as written, e.g. "werkzeug>=3.0.0"
    parent: str | None = None
    parent_version: str | None = None

    def __str__(self) -> str:
        if self.parent is None:
            return f"you asked for {self.requirement!r}"
        return f"{self.parent} {self.parent_version} needs {self.requirement!r}"

    @property
    def by_user(self) -> bool:
        return self.parent is None
