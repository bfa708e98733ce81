"""Errors of the resolver layer::

    ShouldiError                   (shouldi.errors)
    └── ResolveError               exit 3: the tree could not be resolved (gave up, a
        │                          file could not be read)
        └── Unresolvable           exit 2: the requirements cannot all be met from this
                                   index for this target: a conflict, no such project, no
                                   matching release or file; the message names the chain

Network trouble while resolving is the index layer's
:class:`~shouldi.index.PackageIndexError` (exit 3), raised as it is.
"""

from __future__ import annotations

from shouldi.errors import EXIT_BAD_INPUT, ShouldiError

__all__ = ["ResolveError", "Unresolvable"]


class ResolveError(ShouldiError):
    """The dependency tree could not be resolved."""


class Unresolvable(ResolveError):
    """No set of releases meets every requirement: what was asked for is not there.

    ``roots`` are the root requirements (as written) whose chains meet in the conflict, so a
    caller reading several files can say which lines to look at.
    """

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, roots: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.roots = roots
