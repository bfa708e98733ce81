"""Fetch operations: resolve a spec, read metadata, download, extract into a private scratch dir.

Nothing here runs package code: artifacts are only downloaded, verified and extracted as
hostile archives. A refused archive is a finding (the verdict fails), not a crash.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from shouldi.archive import ArchiveRefused, extract_archive
from shouldi.archive.scratch import remove_tree
from shouldi.dataflow import op
from shouldi.index import download, fetch_metadata, parse_spec, resolve
from shouldi.operations.definitions import (
    ArchiveCheck,
    ArtifactPath,
    Extraction,
    RequirementSpec,
    ScanNeeded,
    ScratchDir,
    Session,
)
from shouldi.results import (
    CheckResult,
    ExtractedTree,
    Finding,
    PackageMetadata,
    Release,
    Severity,
    Status,
)

__all__ = ["archive_check", "download_artifact", "extract_artifact", "fetch_package_metadata",
           "make_scratch", "remove_scratch", "resolve_release"]


@op
async def resolve_release(spec: RequirementSpec, session: Session) -> Release:
    """The newest release matching the spec, and the artifact to scan."""
    release = await resolve(session.client, session.index_url, parse_spec(spec))
    return Release(**{**release.__dict__, "requested": str(spec)})


@op
async def fetch_package_metadata(release: Release, session: Session) -> PackageMetadata:
    """What the index's JSON API says (``available=False`` when it has none)."""
    return await fetch_metadata(session.client, session.index_url, release.name, release.version)


@op(conditions=[ScanNeeded])
def make_scratch(release: Release) -> ScratchDir:
    """A private (0700) directory for this release, removed by :func:`remove_scratch`.

    Runs only when the result cache does not already hold this artifact's code scans.
    """
    safe = "".join(c if c.isalnum() else "-" for c in release.name)[:40]
    return ScratchDir(Path(tempfile.mkdtemp(prefix=f"shouldi-{safe}-")))


@op(stage="cleanup")
def remove_scratch(scratch: ScratchDir) -> None:
    """Always runs: after success, failures and cancellation."""
    remove_tree(scratch)


@op(retries=1, retry_on=(OSError,))
async def download_artifact(release: Release, scratch: ScratchDir, session: Session) -> ArtifactPath:
    """Stream, size-cap and sha256-verify the chosen artifact (from the cache when it has it)."""
    path = await download(session.client, release.artifact, scratch / "download",
                          max_size=session.max_download, cache=session.cache)
    return ArtifactPath(path)


@op
async def extract_artifact(artifact: ArtifactPath, scratch: ScratchDir, release: Release) -> Extraction:
    """Extract as a hostile archive; a refusal becomes a critical finding of the archive check."""
    dest = scratch / "tree"
    dest.mkdir()
    try:
        stats = await asyncio.to_thread(extract_archive, artifact, dest)
    except ArchiveRefused as e:
        finding = Finding("archive", f"archive-{e.kind}", Severity.CRITICAL,
                          str(e), e.member)
        check = CheckResult("archive", Status.OK, (finding,), str(e), {"refused": 1})
        return Extraction(check, None)
    tree = ExtractedTree(dest, release.artifact, stats.member_count, stats.total_size)
    counts = {"members": stats.member_count, "bytes": stats.total_size}
    return Extraction(CheckResult("archive", Status.OK, (), stats.format, counts), tree)


@op
def archive_check(extraction: Extraction) -> ArchiveCheck:
    return ArchiveCheck(extraction.check)
