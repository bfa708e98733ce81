"""The shouldi flow: from a requirement spec to a verdict, as one DataFlow.

Code scans of an artifact already seen come from the result cache (keyed by its sha256 and the
scanners' versions): then nothing is downloaded or scanned; advisories are always looked up.

Seeds per context: the requirement spec and the run's :class:`Session`. See the diagram in the
README (``shouldi dataflow diagram``).
"""

from __future__ import annotations

import functools

from shouldi.dataflow import DataFlow, Operation
from shouldi.operations.definitions import (
    ArchiveCheck,
    BanditResult,
    HeuristicsResult,
    RequirementSpec,
    Session,
)

__all__ = ["SEEDS", "build_flow", "builtin_operations"]

SEEDS = (RequirementSpec, Session)
#: Code-scan results come from the scanners, or from the result cache on a hit.
CACHED_RESULTS = (ArchiveCheck, BanditResult, HeuristicsResult)


def builtin_operations() -> list[Operation]:
    import shouldi.operations as ops

    return [getattr(ops, name) for name in ops.__all__]


@functools.lru_cache(maxsize=1)
def build_flow() -> DataFlow:
    return DataFlow.build(builtin_operations(), seeds=SEEDS, multiple_producers=CACHED_RESULTS)
