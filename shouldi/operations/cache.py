"""Result-cache operations: skip download, extraction and code scans for an artifact seen before.

The wiring (in :func:`shouldi.flow.build_flow`)::

    Release ─ lookup_cached_scan ─ CacheLookup ─┬─ scan_needed ─ ScanNeeded ─ (condition of make_scratch)
                                                ├─ cached_archive / cached_bandit / cached_heuristics
                                                └─ store_cached_scan (after a real scan)

On a hit the three cached ops produce ``ArchiveCheck``, ``BanditResult`` and
``HeuristicsResult`` and ``make_scratch`` is skipped, so nothing is downloaded or scanned; on a
miss they produce nothing and the usual path runs, after which ``store_cached_scan`` stores
what it found. Advisories, metadata and typosquatting run either way (see
:mod:`shouldi.result_cache`). The cache lives in ``Session.extra[RESULT_CACHE]``; without it
every look-up misses.
"""

from __future__ import annotations

from dataclasses import dataclass

from shouldi.dataflow import op
from shouldi.operations.definitions import (
    ArchiveCheck,
    BanditResult,
    HeuristicsResult,
    ScanNeeded,
    Session,
)
from shouldi.result_cache import CodeScan, ResultCache
from shouldi.results import Release

__all__ = ["RESULT_CACHE", "CacheLookup", "cached_archive", "cached_bandit", "cached_heuristics",
           "lookup_cached_scan", "scan_needed", "store_cached_scan"]

RESULT_CACHE = "result_cache"


@dataclass(frozen=True)
class CacheLookup:
    """What the result cache holds for the release's artifact (``hit`` is None on a miss)."""

    hit: CodeScan | None


def _cache(session: Session) -> ResultCache | None:
    cache = session.extra.get(RESULT_CACHE)
    return cache if isinstance(cache, ResultCache) else None


@op
def lookup_cached_scan(release: Release, session: Session) -> CacheLookup:
    """A hit needs a cache and a published sha256 (what the earlier download verified)."""
    cache, sha256 = _cache(session), release.artifact.sha256
    if cache is None or not sha256:
        return CacheLookup(None)
    return CacheLookup(cache.get(sha256))


@op(executor="inline")
def scan_needed(lookup: CacheLookup) -> ScanNeeded:
    return ScanNeeded(lookup.hit is None)


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
def store_cached_scan(release: Release, session: Session, lookup: CacheLookup,
                      archive: ArchiveCheck, bandit: BanditResult,
                      heuristics: HeuristicsResult) -> None:
    """After a real scan, keep its results (only those that would not change if run again)."""
    cache, sha256 = _cache(session), release.artifact.sha256
    if lookup.hit is None and cache is not None and sha256:
        cache.put(sha256, CodeScan(archive, bandit, heuristics))
