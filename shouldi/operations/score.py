"""The scoring operation: every result in, one :class:`~shouldi.verdict.PackageReport` out.

Every input but the release is optional: a check whose operation failed or was skipped
arrives as ``None`` and makes the verdict ``error`` (never ``pass``).
"""

from __future__ import annotations

from shouldi.dataflow import op
from shouldi.operations.definitions import (
    AdvisoryReport,
    ArchiveCheck,
    BanditResult,
    HeuristicsResult,
    MetadataResult,
    Session,
    TyposquatResult,
)
from shouldi.results import Release
from shouldi.verdict import PackageReport, score

__all__ = ["score_release"]


@op
def score_release(
    release: Release,
    session: Session,
    archive: ArchiveCheck | None = None,
    bandit: BanditResult | None = None,
    heuristics: HeuristicsResult | None = None,
    advisories: AdvisoryReport | None = None,
    metadata: MetadataResult | None = None,
    typosquat: TyposquatResult | None = None,
) -> PackageReport:
    return score(
        name=release.name,
        version=release.version,
        requested=release.requested,
        artifact=release.artifact,
        policy=session.policy,
        archive=archive,
        bandit=bandit,
        heuristics=heuristics,
        advisories=advisories.check if advisories else None,
        advisory_list=advisories.advisories if advisories else (),
        metadata=metadata,
        typosquat=typosquat,
    )
