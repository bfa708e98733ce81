"""Resolving whole dependency trees from metadata only: nothing is built, nothing runs.

:func:`resolve_tree` resolves requirements with resolvelib (pip's resolver) for a
:class:`~shouldi.index.TargetEnvironment`, reading each release's dependencies from the
index's PEP 658 ``.metadata`` files, a wheel's METADATA, an sdist's static PKG-INFO or its
static pyproject ``[project]`` table; when none of those can tell, the node says so. Each
node is the :class:`~shouldi.results.Release` (the file pip would install) the flow judges.

Errors (see :mod:`shouldi.resolve.errors`)::

    ResolveError            exit 3: gave up, or a downloaded file could not be read
    └── Unresolvable        exit 2: a conflict or an unmet requirement, with the chain
"""

from __future__ import annotations

from shouldi.cache.resolve import ResolveCache
from shouldi.resolve.errors import ResolveError, Unresolvable
from shouldi.resolve.metadata import UNKNOWN, Dependencies
from shouldi.resolve.tree import MAX_ROUNDS, Node, Requirer, Tree, resolve_tree

__all__ = [
    "MAX_ROUNDS",
    "UNKNOWN",
    "Dependencies",
    "Node",
    "Requirer",
    "ResolveCache",
    "ResolveError",
    "Tree",
    "Unresolvable",
    "resolve_tree",
]
