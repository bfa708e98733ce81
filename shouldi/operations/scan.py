"""Scanner operations: bandit, our heuristics, metadata signals and typosquatting.

Scanners read files only. Each returns a :class:`~shouldi.results.CheckResult`; when the
archive was refused there is nothing to scan, which is SKIPPED (the archive finding fails the
verdict on its own).
"""

from __future__ import annotations

import functools
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from shouldi.dataflow import op
from shouldi.operations.definitions import (
    AdvisoryConfig,
    BanditResult,
    Extraction,
    HeuristicsResult,
    HistoryResult,
    MetadataResult,
    Now,
    ScanLimits,
    ScanNeeded,
    TyposquatResult,
    Wanted,
)
from shouldi.results import CheckResult, PackageMetadata, Release, Status

if TYPE_CHECKING:
    from shouldi.scanners.typosquat import PopularNames

__all__ = ["bandit_scan", "heuristics_scan", "history_scan", "metadata_scan", "prestart_bandit", "typosquat_scan"]


def _nothing_to_scan(check: str) -> CheckResult:
    return CheckResult(check, Status.SKIPPED, reason="nothing to scan: the archive was refused")


@op(executor="inline", conditions=[ScanNeeded])
def prestart_bandit(needed: ScanNeeded) -> None:
    """Start a bandit interpreter as soon as the release is known to need scanning: its
    start-up (~0.5 s, importing bandit's plugins) overlaps the download and extraction, on
    another core. Inline: spares must be started from the loop's (main) thread."""
    from shouldi.scanners.bandit import prestart

    prestart()


@op(conditions=[ScanNeeded])
def bandit_scan(extraction: Extraction, limits: ScanLimits) -> BanditResult:
    """bandit over the tree, split across worker processes (bandit has no parallel mode)."""
    if extraction.tree is None:
        return BanditResult(_nothing_to_scan("bandit"))
    from shouldi.scanners.bandit import BanditScanner

    return BanditResult(BanditScanner(timeout=limits.scan_timeout).scan(extraction.tree.root))


#: Trees smaller than this (bytes extracted) are scanned by the heuristics in a thread here:
#: they cost ~0.8 s of CPU per MB, less than a spawned worker's start below 1 MB.
HEURISTICS_HERE_BELOW = 1 << 20


def _small_tree(extraction: Extraction) -> bool:
    return extraction.tree is None or extraction.tree.total_size < HEURISTICS_HERE_BELOW


@op(executor="process", conditions=[ScanNeeded], here_when=_small_tree)
def heuristics_scan(extraction: Extraction) -> HeuristicsResult:
    """Our AST heuristics for install-time and malicious code (CPU-bound: in a worker process,
    or in a thread here for a tree under :data:`HEURISTICS_HERE_BELOW`)."""
    if extraction.tree is None:
        return HeuristicsResult(_nothing_to_scan("heuristics"))
    from shouldi.scanners.heuristics import HeuristicsScanner

    return HeuristicsResult(HeuristicsScanner().scan(extraction.tree.root))


@op
def metadata_scan(release: Release, metadata: PackageMetadata, now: Now | None = None
                  ) -> MetadataResult:
    """Age, release history, missing project information, yanked."""
    from shouldi.scanners.metadata import metadata_signals

    return MetadataResult(metadata_signals(metadata, release, now or datetime.now(timezone.utc)))


@op
def history_scan(release: Release, metadata: PackageMetadata, config: AdvisoryConfig) -> HistoryResult:
    """The project's history as of this release's upload (releases before it, cadence, its
    advisories published before it): the risk model's inputs; it never judges."""
    from shouldi.advisories.errors import AdvisoryError
    from shouldi.advisories.store import AdvisoryStore
    from shouldi.risk_model.features import history_check

    store = AdvisoryStore(config.advisory_db) if config.advisory_db else AdvisoryStore()
    try:
        times = store.published_times(release.name) if store.exists() else None
    except AdvisoryError:
        times = None  # a broken store is said by the advisories check; here it is "unknown"
    return HistoryResult(history_check(metadata, release.version, times, metadata.requires_dist))


@functools.lru_cache(maxsize=1)
def _popular() -> PopularNames:
    from shouldi.scanners.typosquat import PopularNames

    return PopularNames.load()


@op(conditions=[Wanted])
def typosquat_scan(release: Release) -> TyposquatResult:
    """Names one or two edits away from a popular package, or a known confusion of one."""
    from shouldi.scanners.typosquat import typosquat_check

    return TyposquatResult(typosquat_check(release.name, _popular()))
