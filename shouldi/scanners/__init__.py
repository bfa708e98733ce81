"""Code scanners: bandit, our own AST heuristics, metadata signals and typosquatting.

Every scanner reads files only; nothing from a scanned package is ever executed, built or
imported. Scanners implementing :class:`CodeScanner` turn trouble into
``CheckResult(status=ERROR)``; the metadata and typosquat checks are plain functions.

Names load on first use (PEP 562): the typosquat check does not import the heuristics, nor
a check in a worker process the scanners it does not run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shouldi.lazy import lazy_exports

if TYPE_CHECKING:
    from shouldi.scanners.bandit import BanditScanner
    from shouldi.scanners.errors import PopularListError, ScannerError, ScannerTimeout, ToolFailed
    from shouldi.scanners.heuristics import HeuristicsScanner
    from shouldi.scanners.interface import CodeScanner
    from shouldi.scanners.metadata import features, metadata_signals
    from shouldi.scanners.popular import PopularNames, refresh_popular
    from shouldi.scanners.typosquat import find_typosquats, typosquat_check

_LAZY = {
    "BanditScanner": "shouldi.scanners.bandit",
    "CodeScanner": "shouldi.scanners.interface",
    "features": "shouldi.scanners.metadata",
    "find_typosquats": "shouldi.scanners.typosquat",
    "HeuristicsScanner": "shouldi.scanners.heuristics",
    "metadata_signals": "shouldi.scanners.metadata",
    "PopularListError": "shouldi.scanners.errors",
    "PopularNames": "shouldi.scanners.popular",
    "refresh_popular": "shouldi.scanners.popular",
    "ScannerError": "shouldi.scanners.errors",
    "ScannerTimeout": "shouldi.scanners.errors",
    "ToolFailed": "shouldi.scanners.errors",
    "typosquat_check": "shouldi.scanners.typosquat",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
del TYPE_CHECKING, lazy_exports

__all__ = [
    "BanditScanner",
    "CodeScanner",
    "HeuristicsScanner",
    "PopularListError",
    "PopularNames",
    "ScannerError",
    "ScannerTimeout",
    "ToolFailed",
    "features",
    "find_typosquats",
    "metadata_signals",
    "refresh_popular",
    "typosquat_check",
]
