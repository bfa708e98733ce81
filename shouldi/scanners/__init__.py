"""Code scanners: bandit, our own AST heuristics, metadata signals and typosquatting.

Every scanner reads files only; nothing from a scanned package is ever executed, built or
imported. Scanners implementing :class:`CodeScanner` turn trouble into
``CheckResult(status=ERROR)``; the metadata and typosquat checks are plain functions.
"""

from __future__ import annotations

from shouldi.scanners.bandit import BanditScanner
from shouldi.scanners.errors import PopularListError, ScannerError, ScannerTimeout, ToolFailed
from shouldi.scanners.heuristics import HeuristicsScanner
from shouldi.scanners.interface import CodeScanner
from shouldi.scanners.metadata import features, metadata_signals
from shouldi.scanners.popular import PopularNames, refresh_popular
from shouldi.scanners.typosquat import find_typosquats, typosquat_check

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
