"""Result-cache operations: skip download, extraction and code scans for an artifact seen before.

The wiring (in :func:`shouldi.flow.build_flow`)::

    Release ─ lookup_cached_scan ─ CacheLookup ─┬─ scan_needed ─ ScanNeeded ─ (condition of the scanners)
                                                ├─ tree_needed ─ TreeNeeded ─ (condition of make_scratch)
                                                ├─ cached_archive / cached_bandit / cached_heuristics
                                                └─ store_cached_scan (after a real scan)

On a hit the three cached ops produce ``ArchiveCheck``, ``BanditResult`` and
``HeuristicsResult`` and the scanners are skipped; unless a plugin reads the extracted tree
(seed :data:`~shouldi.operations.definitions.TreeForPlugins`), nothing is downloaded or
extracted either. On a miss the cached ops produce nothing and the usual path runs, after which
``store_cached_scan`` stores what it found. Advisories, metadata and typosquatting run either
way (see :mod:`shouldi.cache.scans`).
"""

from __future__ import annotations

from dataclasses import dataclass

from shouldi.cache import Cache
from shouldi.cache.scans import CodeScan
from shouldi.dataflow import op
from shouldi.operations.definitions import (
    ArchiveCheck,
    BanditResult,
    HeuristicsResult,
    ScanNeeded,
    TreeForPlugins,
    TreeNeeded,
    Wanted,
)
from shouldi.results import Release

__all__ = ["CacheLookup", "cached_archive", "cached_bandit", "cached_heuristics",
           "lookup_cached_scan", "scan_needed", "store_cached_scan", "tree_needed"]


@dataclass(frozen=True)
class CacheLookup:
    """What the result cache holds for the release's artifact (``hit`` is None on a miss)."""

    hit: CodeScan | None


@op(conditions=[Wanted])
def lookup_cached_scan(release: Release, cache: Cache) -> CacheLookup:
    """A hit needs a cache and a published sha256 (what the earlier download verified)."""
    scans, sha256 = cache.scans, release.artifact.sha256
    if scans is None or not sha256:
        return CacheLookup(None)
    return CacheLookup(scans.get(sha256))


@op(executor="inline")
def scan_needed(lookup: CacheLookup) -> ScanNeeded:
    return ScanNeeded(lookup.hit is None)


@op(executor="inline")
def tree_needed(lookup: CacheLookup, plugins: TreeForPlugins | None = None) -> TreeNeeded:
    return TreeNeeded(lookup.hit is None or bool(plugins))


@op(executor="inline")
def cached_archive(lookup: CacheLookup) -> ArchiveCheck | None:
    return ArchiveCheck(lookup.hit.archive) if lookup.hit else None


@op(executor="inline")
def cached_bandit(lookup: CacheLookup) -> BanditResult | None:
    return BanditResult(lookup.hit.bandit) if lookup.hit else None


@op(executor="inline")
def cached_heuristics(lookup: CacheLookup) -> HeuristicsResult | None:
    return HeuristicsResult(lookup.hit.heuristics) if lookup.hit else None


@op
def store_cached_scan(release: Release, cache: Cache, lookup: CacheLookup,
                      archive: ArchiveCheck, bandit: BanditResult,
                      heuristics: HeuristicsResult) -> None:
    """After a real scan, keep its results (only those that would not change if run again).

    Never raises for the cache's sake: a cache that cannot be written costs speed only."""
    scans, sha256 = cache.scans, release.artifact.sha256
    if lookup.hit is None and scans is not None and sha256:
        scans.put(sha256, CodeScan(archive, bandit, heuristics))
