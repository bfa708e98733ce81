"""The scoring operation: every result in, one :class:`~shouldi.verdict.PackageReport` out.

Every input but the release is optional: a check whose operation failed or was skipped
arrives as ``None`` and makes the verdict ``error`` (never ``pass``).
"""

from __future__ import annotations

import contextlib

from shouldi.dataflow import op
from shouldi.operations.definitions import (
    AdvisoryReport,
    ArchiveCheck,
    BanditResult,
    HeuristicsResult,
    MetadataResult,
    ScanNeeded,
    Session,
    TyposquatResult,
)
from shouldi.results import Release
from shouldi.verdict import PackageReport, score

__all__ = ["preload_risk_model", "score_release"]


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


@op(conditions=[ScanNeeded])
def preload_risk_model(archive: ArchiveCheck, session: Session) -> None:
    """Load the shipped risk model (scikit-learn, ~3 s) in a thread while the release is
    scanned, so scoring the report afterwards is immediate.

    Only when the release is scanned now: a release whose scan is cached usually has its
    score cached too (see :mod:`shouldi.risk_model.score_cache`). It waits for the archive
    check (after extraction, which is Python code in this process that the import would
    slow down); bandit and the heuristics run in other processes. A bad spec never gets
    here. A model that cannot load is reported when the report is scored, not here."""
    if not session.risk_model:
        return
    from shouldi.risk_model import ModelError
    from shouldi.risk_model.predict import preload_default_model

    with contextlib.suppress(ModelError):
        preload_default_model()
