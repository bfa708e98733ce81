"""The package firewall: a simple index that proxies an upstream and lets through only what
shouldi judged fit to install.

- **Listing.** ``/simple/<project>/`` is the upstream's page as shouldi reads it
  (:func:`shouldi.index.resolver.project_files`: the files the resolver would see), less
  every file of a release one of whose files was judged ``fail`` (a release with one
  malicious file is a compromised release). Files the upstream gives no sha256 for are not
  listed: nothing would tie the bytes judged to the bytes served.
- **Download.** ``/files/<project>/<sha256>/<filename>`` judges the file the first time it
  is asked for (:func:`shouldi.api.answer_async` with the file as the request's planned
  release: the same flow, the same answer as ``shouldi install``), waiting at most
  ``judge_wait`` seconds (10 by default: under pip's 15-second read timeout, so pip sees
  the answer and not a timeout), then 503 with ``Retry-After`` while the judgement goes on
  (pip retries a 503 five times by default, sleeping ``Retry-After`` seconds each time). ``fail`` is 403 with the reason. ``error``
  is 503 "could not check": **a firewall that lets through what it could not check is a
  hole**, so it never does; the next request judges again.
- **Bytes.** A file is first fetched into the verified artifact cache
  (:func:`shouldi.index.download` checks the upstream's sha256 before anything is stored;
  a mismatch is 502 and nothing is cached), judged from there, and served from there after
  hashing it again from the very file handle that is then sent: the client never gets a
  byte whose sha256 differs from the upstream's.
- **Metadata.** PEP 658 ``.metadata`` files are proxied (checked against their announced
  sha256) for listed files, not judged: pip reads them to resolve, before choosing a file.

A judgement runs once per file and process at a time (later requests wait on the same
task). Pages are re-read from the upstream after ``page_ttl`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from shouldi.api import Request, answer_async
from shouldi.cache import Cache
from shouldi.cache.artifacts import ArtifactCache
from shouldi.errors import ShouldiError
from shouldi.index.errors import IntegrityError, PackageIndexError
from shouldi.index.errors import NotFound as IndexNotFound
from shouldi.results import Artifact, Release
from shouldi.service.checks import Checker
from shouldi.service.config import ServiceConfig
from shouldi.service.errors import NotFound, Refused, Unavailable, UpstreamError
from shouldi.service.pages import Hidden, Listed, file_url
from shouldi.service.state import FileVerdict, State
from shouldi.verdict import PackageReport, Verdict

__all__ = ["Firewall", "Judged", "ProjectFiles", "reason_of"]

_METADATA_LIMIT = 16 << 20
_MAX_NAME = 200
_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
_ROOT_TTL = 600.0


def reason_of(report: PackageReport) -> str:
    """The worst reason of a report, in one line."""
    for r in report.counted_reasons:
        return f"{r.check}: {r.message}" + (f" [{r.evidence}]" if r.evidence else "")
    return report.input_error or report.verdict.value


@dataclass(frozen=True)
class ProjectFiles:
    """One project's files as the upstream lists them, grouped by version (oldest first)."""

    name: str
    by_version: dict[str, tuple[Artifact, ...]]
    fetched_at: float

    def find(self, sha256: str, filename: str) -> tuple[str, Artifact] | None:
        for version, files in self.by_version.items():
            for a in files:
                if a.sha256 == sha256 and a.filename == filename:
                    return version, a
        return None


@dataclass(frozen=True)
class Judged:
    verdict: Verdict
    reason: str


class Firewall:
    """The index side of the service; one per worker process."""

    def __init__(self, config: ServiceConfig, state: State, checker: Checker,
                 client: httpx.AsyncClient) -> None:
        self.config, self.state, self.checker, self.client = config, state, checker, client
        cache = Cache(config.settings.cache_dir)
        artifacts = cache.artifacts
        assert artifacts is not None  # ServiceConfig.check refuses --no-cache
        self.artifacts: ArtifactCache = artifacts
        self.verdict_key = _verdict_key(config)
        self._pages: dict[str, ProjectFiles] = {}
        self._root: tuple[float, list[str]] | None = None
        self._judging: dict[str, asyncio.Task[Judged]] = {}

    # --- pages --------------------------------------------------------------------------
    async def files(self, project: str) -> ProjectFiles:
        """The upstream's files of ``project`` (read again after ``page_ttl`` seconds)."""
        from shouldi.index.resolver import project_files
        from shouldi.index.select import by_version

        project = project_name(project)
        known = self._pages.get(project)
        if known is not None and time.monotonic() - known.fetched_at < self.config.page_ttl:
            return known
        try:
            listed = await project_files(self.client, self.config.upstream, project)
        except IndexNotFound as e:
            raise NotFound(f"no project named {project!r} on the upstream index") from e
        except PackageIndexError as e:
            raise UpstreamError(f"the upstream index failed: {e}") from e
        grouped = by_version([a for a in listed if a.sha256], project)
        files = ProjectFiles(project, {str(v): fs for v, fs in sorted(grouped.items())},
                             time.monotonic())
        if len(self._pages) > 1024:
            self._pages.clear()
        self._pages[project] = files
        return files

    def hidden(self, project: str) -> dict[str, Hidden]:
        """Releases of ``project`` hidden by a stored ``fail``, by version."""
        out: dict[str, Hidden] = {}
        for v in self.state.files_of(project, self.verdict_key):
            if v.verdict == Verdict.FAIL.value:
                out.setdefault(v.version, Hidden(v.version, v.verdict, f"{v.filename}: {v.reason}"))
        return out

    async def listing(self, project: str) -> tuple[list[Listed], list[str], list[Hidden]]:
        files = await self.files(project)
        project = files.name
        hidden = self.hidden(project)
        listed = [Listed(a, file_url(project, a)) for v, fs in files.by_version.items()
                  if v not in hidden for a in fs]
        versions = [v for v in files.by_version if v not in hidden]
        return listed, versions, list(hidden.values())

    async def root(self) -> list[str]:
        from shouldi.index.client import get_page
        from shouldi.index.simple import ACCEPT, parse_project_names

        if self._root is not None and time.monotonic() - self._root[0] < _ROOT_TTL:
            return self._root[1]
        try:
            page = await get_page(self.client, self.config.upstream, accept=ACCEPT)
        except PackageIndexError as e:
            raise UpstreamError(f"the upstream index failed: {e}") from e
        if page.status != 200:
            raise UpstreamError(f"the upstream index answered HTTP {page.status}")
        names = parse_project_names(page.content_type, page.body, page.url)
        self._root = (time.monotonic(), names)
        return names

    # --- files --------------------------------------------------------------------------
    async def locate(self, project: str, sha256: str, filename: str) -> tuple[str, Artifact]:
        files = await self.files(project)
        project = files.name
        found = files.find(sha256, filename)
        if found is None:
            raise NotFound(f"{filename}: not a file of {project} with that sha256 upstream")
        return found

    async def judge(self, project: str, sha256: str, filename: str) -> tuple[str, Artifact]:
        """Judge a file (waiting at most ``judge_wait`` seconds); raises unless it may be
        served: 403 ``fail``, 503 not judged yet or ``error``, 502 upstream trouble."""
        project = project_name(project)
        version, artifact = await self.locate(project, sha256, filename)
        hidden = self.hidden(project).get(version)
        if hidden is not None:
            raise Refused(f"{project} {version} is refused by shouldi ({hidden.verdict}): "
                          f"{hidden.reason}")
        task = self._judging.get(sha256)
        if task is None:
            task = asyncio.create_task(self._judge(project, version, artifact))
            self._judging[sha256] = task
            task.add_done_callback(lambda t: self._done(sha256, t))
        try:
            judged = await asyncio.wait_for(asyncio.shield(task), self.config.judge_wait)
        except asyncio.TimeoutError:
            raise Unavailable(f"{filename} is being judged by shouldi; ask again shortly",
                              retry_after=max(1.0, self.config.judge_wait)) from None
        if judged.verdict is Verdict.FAIL:
            raise Refused(f"{project} {version} is refused by shouldi (fail): {judged.reason}")
        if judged.verdict is Verdict.ERROR:
            raise Unavailable(f"{filename}: shouldi could not check it, so it is not served: "
                              f"{judged.reason}", retry_after=30)
        return version, artifact

    def _done(self, sha256: str, task: asyncio.Task[Judged]) -> None:
        self._judging.pop(sha256, None)
        if not task.cancelled():
            task.exception()  # retrieved: a judgement nobody waited for any more is not an error

    async def _judge(self, project: str, version: str, artifact: Artifact) -> Judged:
        await self._fetch(artifact)  # 502 on a mismatch, before anything is judged or kept
        files = await self.files(project)
        release = Release(
            name=project, version=version, index_url=self.config.upstream, artifact=artifact,
            artifact_reason="the file a client asked the shouldi firewall for",
            all_versions=tuple(files.by_version), requested=f"{project}=={version}",
            files=files.by_version.get(version, (artifact,)))
        request = Request(f"{project}=={version}", planned=release)
        try:
            async with self.checker.gate.slot():
                (answer,) = await answer_async([request], self.config.settings)
        except Unavailable:
            raise
        except ShouldiError as e:
            return Judged(Verdict.ERROR, str(e))
        self.checker.record([answer])  # kept for GET /v1/packages (judged alone: no memo)
        report = answer.report
        judged = Judged(report.verdict, reason_of(report))
        if report.verdict is not Verdict.ERROR:
            self.state.put_file(self.verdict_key, FileVerdict(
                artifact.sha256 or "", project, version, artifact.filename,
                report.verdict.value, judged.reason, answer.reused_from or time.time()))
        return judged

    async def _fetch(self, artifact: Artifact) -> Path:
        """The verified cached copy of ``artifact`` (downloaded when absent)."""
        from shouldi.index import download

        assert artifact.sha256
        cached = self.artifacts.get(artifact.sha256)
        if cached is not None:
            return cached
        with tempfile.TemporaryDirectory(prefix="shouldi-serve-") as tmp:
            try:
                await download(self.client, artifact, Path(tmp), cache=self.artifacts,
                               max_size=self.config.settings.max_download)
            except IntegrityError as e:
                raise UpstreamError(f"the upstream served other bytes than it lists: {e}") from e
            except PackageIndexError as e:
                raise UpstreamError(f"the upstream index failed: {e}") from e
        cached = self.artifacts.get(artifact.sha256)
        if cached is None:
            raise Unavailable("the artifact cache cannot be written; not serving files",
                              retry_after=60)
        return cached

    async def open_verified(self, artifact: Artifact) -> IO[bytes]:
        """An open handle on the cached file, positioned at 0, whose bytes were just hashed
        and match the upstream's sha256 (a bad entry is discarded and fetched again)."""
        for _ in range(2):
            path = await self._fetch(artifact)
            handle = await asyncio.to_thread(_open_if_hash, path, artifact.sha256 or "")
            if handle is not None:
                return handle
            self.artifacts.discard(artifact.sha256 or "")
        raise UpstreamError(f"{artifact.filename}: the cached copy does not match its sha256")

    async def metadata(self, project: str, sha256: str, filename: str) -> bytes:
        """A listed file's PEP 658 core metadata, checked against its announced sha256."""
        from shouldi.index.client import get_page

        project = project_name(project)
        version, artifact = await self.locate(project, sha256, filename)
        if not artifact.core_metadata:
            raise NotFound(f"{filename}: the upstream serves no core metadata for it")
        hidden = self.hidden(project).get(version)
        if hidden is not None:
            raise Refused(f"{project} {version} is refused by shouldi ({hidden.verdict}): "
                          f"{hidden.reason}")
        try:
            page = await get_page(self.client, artifact.url + ".metadata", limit=_METADATA_LIMIT)
        except PackageIndexError as e:
            raise UpstreamError(f"the upstream index failed: {e}") from e
        if page.status != 200:
            raise UpstreamError(f"the upstream answered HTTP {page.status} for {filename}.metadata")
        expected = artifact.core_metadata_sha256
        if expected and hashlib.sha256(page.body).hexdigest() != expected:
            raise UpstreamError(f"{filename}.metadata: sha256 mismatch with the upstream's listing")
        return page.body


def project_name(name: str) -> str:
    """``name`` normalised (PEP 503), or :class:`NotFound` when it is not a project name: a
    path segment such as ``..`` is never joined to the upstream's URL."""
    from shouldi.index.spec import normalize_name

    if len(name) > _MAX_NAME or not _NAME.fullmatch(name):
        raise NotFound(f"{name[:80]!r} is not a project name")
    return normalize_name(name)


def _open_if_hash(path: Path, sha256: str) -> IO[bytes] | None:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        handle = os.fdopen(os.open(path, flags), "rb")
    except OSError:
        return None
    digest = hashlib.sha256()
    try:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
        handle.seek(0)
    except OSError:
        handle.close()
        return None
    if digest.hexdigest() != sha256:
        handle.close()
        return None
    return handle


def iter_file(handle: IO[bytes]) -> Iterator[bytes]:
    with contextlib.closing(handle):
        while chunk := handle.read(1 << 16):
            yield chunk


def _verdict_key(config: ServiceConfig) -> str:
    """What decides a stored file verdict: the settings' answer key without the advisory
    store's state, so a release found failing stays hidden across a ``db import`` (a
    download is judged again every time, through the answer cache, whatever is stored)."""
    key: dict[str, Any] = dict(config.settings.answer_key())
    key.pop("advisory_store", None)
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
