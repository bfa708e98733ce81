"""Resolving whole dependency trees from metadata only: nothing is built, nothing runs.

:func:`resolve_tree` resolves requirements with resolvelib (pip's resolver) for a
:class:`~shouldi.index.TargetEnvironment`, reading each release's dependencies from the
index's PEP 658 ``.metadata`` files, a wheel's METADATA, an sdist's static PKG-INFO or its
static pyproject ``[project]`` table; when none of those can tell, the node says so. Each
node is the :class:`~shouldi.results.Release` (the file pip would install) the flow judges.

Names load on first use (as in :mod:`shouldi.index`): :class:`Requirer` alone does not
import resolvelib or httpx, so a reused whole-tree answer stays cheap.

Errors (see :mod:`shouldi.resolve.errors`)::

    ResolveError            exit 3: gave up, or a downloaded file could not be read
    └── Unresolvable        exit 2: a conflict or an unmet requirement, with the chain
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shouldi.lazy import lazy_exports

if TYPE_CHECKING:
    from shouldi.cache.resolve import ResolveCache
    from shouldi.resolve.errors import ResolveError, Unresolvable
    from shouldi.resolve.metadata import UNKNOWN, Dependencies
    from shouldi.resolve.requirer import Requirer
    from shouldi.resolve.tree import MAX_ROUNDS, Node, Tree, resolve_tree

_LAZY = {
    "MAX_ROUNDS": "shouldi.resolve.tree",
    "UNKNOWN": "shouldi.resolve.metadata",
    "Dependencies": "shouldi.resolve.metadata",
    "Node": "shouldi.resolve.tree",
    "Requirer": "shouldi.resolve.requirer",
    "ResolveCache": "shouldi.cache.resolve",
    "ResolveError": "shouldi.resolve.errors",
    "Tree": "shouldi.resolve.tree",
    "Unresolvable": "shouldi.resolve.errors",
    "resolve_tree": "shouldi.resolve.tree",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
del TYPE_CHECKING, lazy_exports

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
