"""Advisory operations: one per source, then a merge that decides the known-vulnerabilities check.

The check holds only when at least one source vouched for this exact release (see
:mod:`shouldi.advisories.interface`); otherwise it is SKIPPED, with every source's reason, and
the verdict is ``error``. Matches are reported whichever source found them.
"""

from __future__ import annotations

from shouldi.dataflow import op
from shouldi.operations.definitions import (
    AdvisoryConfig,
    AdvisoryReport,
    LocalAnswer,
    PipAuditAnswer,
    PypiJsonAnswer,
    SafetyAnswer,
)
from shouldi.results import AdvisoryAnswer, CheckResult, PackageMetadata, Release, Status

__all__ = ["local_advisories", "merge_advisory_answers", "pip_audit_advisories",
           "pypi_json_advisories", "safety_advisories"]


@op
async def pypi_json_advisories(release: Release, metadata: PackageMetadata) -> PypiJsonAnswer:
    """PyPI's JSON ``vulnerabilities``: they describe the latest release only."""
    from shouldi.advisories.pypi_json import PypiJsonSource

    source = PypiJsonSource.from_metadata(metadata)
    return PypiJsonAnswer(await source.lookup(release.name, release.version, metadata.release_time))


@op
async def local_advisories(release: Release, metadata: PackageMetadata, config: AdvisoryConfig) -> LocalAnswer:
    """The local OSV store (``shouldi db import``)."""
    from shouldi.advisories.local import LocalOsvSource
    from shouldi.advisories.store import AdvisoryStore

    store = AdvisoryStore(config.advisory_db) if config.advisory_db else AdvisoryStore()
    when = metadata.release_time or release.artifact.upload_time
    return LocalAnswer(await LocalOsvSource(store).lookup(release.name, release.version, when))


@op
async def safety_advisories(release: Release, metadata: PackageMetadata, config: AdvisoryConfig) -> SafetyAnswer:
    """The safety CLI when it can run here, else the safety-db package's database."""
    from shouldi.advisories.safety import SafetySource
    from shouldi.advisories.safety_db import SafetyDbSource

    when = metadata.release_time or release.artifact.upload_time
    source = SafetySource() if config.safety_cli else SafetyDbSource()
    return SafetyAnswer(await source.lookup(release.name, release.version, when))


@op
async def pip_audit_advisories(release: Release, metadata: PackageMetadata, config: AdvisoryConfig) -> PipAuditAnswer:
    """pip-audit on ``name==version`` only (never resolving or building anything)."""
    if not config.pip_audit:
        return PipAuditAnswer(AdvisoryAnswer("pip-audit", Status.SKIPPED, reason="disabled by option"))
    from shouldi.advisories.pip_audit import PipAuditSource

    when = metadata.release_time or release.artifact.upload_time
    source = PipAuditSource(osv_url=config.pip_audit_osv_url, timeout=config.timeout)
    return PipAuditAnswer(await source.lookup(release.name, release.version, when))


@op
def merge_advisory_answers(
    pypi_json: PypiJsonAnswer,
    local: LocalAnswer,
    safety: SafetyAnswer,
    pip_audit: PipAuditAnswer,
) -> AdvisoryReport:
    """De-duplicate by id and aliases; the check is OK only if some source vouched."""
    from shouldi.advisories.merge import merge_answers

    answers = (pypi_json, local, safety, pip_audit)
    merged = merge_answers(answers)
    counts = {f"source_{a.source.replace('-', '_')}_{a.status.value}": 1 for a in answers}
    counts["advisories"] = len(merged.advisories)
    if merged.answered:
        note = "answered by " + ", ".join(merged.answered_by)
        status = Status.OK
    else:
        note = "no advisory source could vouch for this release: " + "; ".join(
            f"{a.source}: {a.reason}" for a in answers
        )
        status = Status.SKIPPED
    # Old data is a warning where it vouched; a source that could not vouch is in the note.
    warnings = tuple(f"{a.source}: {w}" for a in answers if a.status is Status.OK for w in a.warnings)
    check = CheckResult("advisories", status, (), note, counts, warnings=warnings)
    return AdvisoryReport(check, merged.advisories, answers)
