"""Advisory operations: one per source, then a merge that decides the known-vulnerabilities check.

The check holds only when at least one source vouched for this exact release (see
:mod:`shouldi.advisories.interface`); otherwise it is SKIPPED, with every source's reason, and
the verdict is ``error``. Matches are reported whichever source found them.
"""

from __future__ import annotations

from shouldi.advisories.osv_api import OsvBatcher
from shouldi.advisories.pip_audit import PipAuditBatcher
from shouldi.dataflow import op
from shouldi.operations.definitions import (
    AdvisoryConfig,
    AdvisoryReport,
    HttpClient,
    IndexUrl,
    LocalAnswer,
    OsvAnswer,
    PipAuditAnswer,
    PypiJsonAnswer,
    SafetyAnswer,
)
from shouldi.results import AdvisoryAnswer, PackageMetadata, Release, Status

__all__ = ["local_advisories", "merge_advisory_answers", "osv_advisories", "pip_audit_advisories",
           "pypi_json_advisories", "safety_advisories"]


@op
async def pypi_json_advisories(release: Release, metadata: PackageMetadata, client: HttpClient,
                               index_url: IndexUrl) -> PypiJsonAnswer:
    """The index's per-version JSON (``/pypi/<name>/<version>/json``): that version's
    ``vulnerabilities``; where it is not served, the project JSON, for the latest release only."""
    from shouldi.advisories.pypi_json import PypiJsonSource, json_root_for

    source = PypiJsonSource(client, json_root_for(index_url), metadata=metadata)
    return PypiJsonAnswer(await source.lookup(release.name, release.version, metadata.release_time))


@op
async def osv_advisories(release: Release, config: AdvisoryConfig,
                         batcher: OsvBatcher | None = None) -> OsvAnswer:
    """The OSV API (``POST /v1/querybatch``), one batch for every package of the run."""
    from shouldi.advisories.osv_api import OsvApiSource

    if not config.osv or batcher is None:
        return OsvAnswer(AdvisoryAnswer("osv", Status.SKIPPED, reason="disabled by option"))
    return OsvAnswer(await OsvApiSource(batcher).lookup(release.name, release.version, None))


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
async def pip_audit_advisories(release: Release, metadata: PackageMetadata, config: AdvisoryConfig,
                               batcher: PipAuditBatcher | None = None) -> PipAuditAnswer:
    """pip-audit on ``name==version`` only (never resolving or building anything): through the
    run's batcher, one pip-audit process for every package of the run."""
    if not config.pip_audit:
        return PipAuditAnswer(AdvisoryAnswer("pip-audit", Status.SKIPPED, reason="disabled by option"))
    from shouldi.advisories.pip_audit import PipAuditSource

    when = metadata.release_time or release.artifact.upload_time
    source = batcher or PipAuditSource(osv_url=config.pip_audit_osv_url, timeout=config.timeout)
    return PipAuditAnswer(await source.lookup(release.name, release.version, when))


@op
def merge_advisory_answers(
    release: Release,
    pypi_json: PypiJsonAnswer,
    local: LocalAnswer,
    safety: SafetyAnswer,
    pip_audit: PipAuditAnswer,
    osv: OsvAnswer,
) -> AdvisoryReport:
    """De-duplicate by id and aliases. The check holds when some source vouched and none is
    broken (a broken source is said and repaired, never outvoted); its reason is one line."""
    from shouldi.advisories.merge import merge_answers

    answers = (pypi_json, local, safety, pip_audit, osv)
    merged = merge_answers(answers)
    return AdvisoryReport(merged.check(release.name, release.version), merged.advisories, answers)
