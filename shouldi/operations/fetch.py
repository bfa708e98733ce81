"""Fetch operations: resolve a spec, read metadata, download, extract into a private scratch dir.

Nothing here runs package code: artifacts are only downloaded, verified and extracted as
hostile archives. A refused archive is a finding (the verdict fails), not a crash.
"""

from __future__ import annotations

import asyncio
import dataclasses

from shouldi.archive import ArchiveRefused, extract_archive
from shouldi.archive.scratch import private_dir, remove_tree
from shouldi.cache import Cache
from shouldi.dataflow import op
from shouldi.index import download, fetch_metadata, parse_spec, resolve
from shouldi.index.target import TargetEnvironment
from shouldi.operations.definitions import (
    ArchiveCheck,
    ArtifactPath,
    Extraction,
    HashPins,
    HttpClient,
    IndexUrl,
    PlannedRelease,
    Recorded,
    RequirementSpec,
    ScanLimits,
    ScanNeeded,
    ScratchDir,
    SpecWanted,
    TreeNeeded,
    Wanted,
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
           "make_scratch", "pinned_release", "release_wanted", "remove_scratch", "resolve_release",
           "spec_wanted"]


def pinned_release(spec: str) -> tuple[str, str] | None:
    """(normalised name, version) of a spec pinned with ``==`` (no wildcard), else None."""
    req = parse_spec(spec)
    pins = list(req.specifier)
    if len(pins) != 1 or pins[0].operator != "==" or "*" in pins[0].version:
        return None
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    try:
        return str(canonicalize_name(req.name)), str(Version(pins[0].version))
    except InvalidVersion:
        return None


@op(executor="inline")
def spec_wanted(spec: RequirementSpec, index_url: IndexUrl, recorded: Recorded | None = None
                ) -> SpecWanted:
    """False for a pinned spec whose release is already recorded (``shouldi scan -o``
    resuming): it is not even resolved. A bad spec is wanted (resolving it says why)."""
    if not recorded:
        return SpecWanted(True)
    try:
        pinned = pinned_release(spec)
    except Exception:
        return SpecWanted(True)
    return SpecWanted(pinned is None or (*pinned, str(index_url)) not in recorded)


@op(conditions=[SpecWanted])
async def resolve_release(spec: RequirementSpec, client: HttpClient, index_url: IndexUrl,
                          target: TargetEnvironment | None = None, pins: HashPins | None = None,
                          planned: PlannedRelease | None = None) -> Release:
    """The newest release matching the spec, and the file pip would install on the target
    (the running interpreter unless one is given); a ``--hash`` pin decides the file. A
    release already planned (a file of ``--all-files``, a node of a dependency tree) is taken
    as it is."""
    if planned is not None:
        return dataclasses.replace(planned, requested=str(spec))
    hashes = [h.split(":", 1)[1] for h in pins or () if h.startswith("sha256:")]
    release = await resolve(client, index_url, parse_spec(spec), target=target,
                            hashes=hashes or None)
    return dataclasses.replace(release, requested=str(spec))


@op(executor="inline")
def release_wanted(release: Release, index_url: IndexUrl, recorded: Recorded | None = None) -> Wanted:
    """False for a release already recorded in a scan's output (``shouldi scan -o`` resuming):
    everything after resolving is then skipped."""
    return Wanted(not recorded or (release.name, release.version, str(index_url)) not in recorded)


@op(conditions=[Wanted])
async def fetch_package_metadata(release: Release, client: HttpClient, index_url: IndexUrl
                                 ) -> PackageMetadata:
    """What the index's JSON API says (``available=False`` when it has none)."""
    return await fetch_metadata(client, index_url, release.name, release.version)


@op(conditions=[TreeNeeded])
def make_scratch(release: Release) -> ScratchDir:
    """A private (0700) directory for this release, removed by :func:`remove_scratch`.

    Runs only when the tree is needed: the result cache does not hold this artifact's code
    scans, or a plugin reads the tree.
    """
    return ScratchDir(private_dir(release.name))


@op(stage="cleanup")
def remove_scratch(scratch: ScratchDir) -> None:
    """Always runs: after success, failures and cancellation."""
    remove_tree(scratch)


@op(retries=1, retry_on=(OSError,))
async def download_artifact(release: Release, scratch: ScratchDir, client: HttpClient,
                            limits: ScanLimits, cache: Cache) -> ArtifactPath:
    """Stream, size-cap and sha256-verify the chosen artifact (from the cache when it has it)."""
    path = await download(client, release.artifact, scratch / "download",
                          max_size=limits.max_download, cache=cache.artifacts)
    return ArtifactPath(path)


@op
async def extract_artifact(artifact: ArtifactPath, scratch: ScratchDir, release: Release) -> Extraction:
    """Extract as a hostile archive; a refusal becomes a critical finding of the archive check,
    an ambiguity (a file installers may read differently) a high or medium one."""
    dest = scratch / "tree"
    dest.mkdir()
    artifact_info = release.artifact
    try:
        stats = await asyncio.to_thread(extract_archive, artifact, dest, kind=artifact_info.kind,
                                        filename=artifact_info.filename)
    except ArchiveRefused as e:
        finding = Finding("archive", f"archive-{e.kind}", Severity.CRITICAL,
                          str(e), e.member)
        check = CheckResult("archive", Status.OK, (finding,), str(e), {"refused": 1})
        return Extraction(check, None)
    tree = ExtractedTree(dest, release.artifact, stats.member_count, stats.total_size)
    counts = {"members": stats.member_count, "bytes": stats.total_size,
              "ambiguities": len(stats.ambiguities)}
    findings = tuple(a.finding() for a in stats.ambiguities)  # installers may disagree on these
    return Extraction(CheckResult("archive", Status.OK, findings, stats.format, counts), tree)


@op(executor="inline", conditions=[ScanNeeded])
def archive_check(extraction: Extraction) -> ArchiveCheck:
    return ArchiveCheck(extraction.check)
