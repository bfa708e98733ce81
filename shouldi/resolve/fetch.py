"""The asynchronous half of the resolver: pages and dependencies, fetched once, concurrently.

Everything here runs in the event loop. Each project page and each file's dependencies is
one memoised task, so the resolver thread asking twice, or asking for something a prefetch
already started, waits for the same request. At most ``concurrency`` requests are in flight
(a few: the index is shared with everyone else).

:meth:`Fetcher.prefetch` runs ahead of the resolver: for a requirement it fetches the
project page, picks the version the resolver will most likely try first (the one
:func:`~shouldi.index.select.choose_version` picks), and when the index serves that file's
``.metadata`` (cheap: a few KiB) it reads it and prefetches those dependencies too. So the
tree is fetched in about as many round trips as it is deep, while resolvelib itself works
one package at a time. Whole wheels and sdists are downloaded only when the resolver asks.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import itertools
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import Version

from shouldi.archive.scratch import remove_tree
from shouldi.cache.artifacts import ArtifactCache
from shouldi.cache.resolve import ResolveCache
from shouldi.index.client import get_page
from shouldi.index.downloader import DEFAULT_MAX_SIZE, download
from shouldi.index.errors import IntegrityError, PackageIndexError
from shouldi.index.resolver import index_root, project_files
from shouldi.index.select import by_version, choose_file, choose_version
from shouldi.index.spec import normalize_name
from shouldi.index.target import TargetEnvironment, marker_applies
from shouldi.resolve.metadata import (
    METADATA_LIMIT,
    Dependencies,
    MetadataProblem,
    from_core_metadata,
    sdist_dependencies,
    wheel_metadata,
)
from shouldi.results import Artifact

__all__ = ["DEFAULT_CONCURRENCY", "Fetcher"]

DEFAULT_CONCURRENCY = 6
T = TypeVar("T")


class Fetcher:
    """Pages and dependencies of one resolution. Create, use and close it in the loop."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        index_url: str,
        target: TargetEnvironment,
        scratch: Path,
        *,
        cache: ResolveCache | None = None,
        artifacts: ArtifactCache | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_download: int = DEFAULT_MAX_SIZE,
    ) -> None:
        self.client, self.index_url, self.target = client, index_root(index_url), target
        self.scratch, self.cache, self.artifacts = scratch, cache, artifacts
        self.max_download = max_download
        self._limit = asyncio.Semaphore(max(1, concurrency))
        self._pages: dict[str, asyncio.Task[tuple[Artifact, ...]]] = {}
        self.grouped: dict[str, dict[Version, tuple[Artifact, ...]]] = {}  # filled with _pages
        self._deps: dict[str, asyncio.Task[Dependencies]] = {}
        self._prefetching: set[str] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._names = itertools.count()
        self.requests = 0  # pages, .metadata files and downloads asked of the network

    # --- memoised tasks -------------------------------------------------------------------
    def _task(self, memo: dict[str, asyncio.Task[T]], key: str,
              make: Callable[[], Coroutine[Any, Any, T]]) -> asyncio.Task[T]:
        task = memo.get(key)
        if task is None:
            task = memo[key] = asyncio.ensure_future(make())
            task.add_done_callback(_retrieve)
        return task

    async def files(self, name: str) -> tuple[Artifact, ...]:
        """Every file of ``name`` on the index (:class:`~shouldi.index.NotFound` if none)."""
        name = normalize_name(name)
        make = functools.partial(self._load_files, name)
        return await asyncio.shield(self._task(self._pages, name, make))

    async def dependencies(self, artifact: Artifact, name: str, version: str) -> Dependencies:
        """What ``artifact`` (a file of ``name`` ``version``) says it depends on."""
        make = functools.partial(self._load_dependencies, artifact, name, version)
        return await asyncio.shield(self._task(self._deps, artifact.url, make))

    # --- prefetching ----------------------------------------------------------------------
    def prefetch(self, requirement: str, extras: frozenset[str] = frozenset()) -> None:
        """Start fetching what resolving ``requirement`` will need; never raises."""
        try:
            req = Requirement(requirement)
        except InvalidRequirement:
            return
        key = f"{normalize_name(req.name)}[{','.join(sorted(req.extras))}]"
        if key in self._prefetching or not marker_applies(req.marker, self.target, extras):
            return
        self._prefetching.add(key)
        task = asyncio.ensure_future(self._prefetch(req))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_retrieve)

    async def _prefetch(self, req: Requirement) -> None:
        name = normalize_name(req.name)
        try:
            await self.files(name)
        except PackageIndexError:
            return  # the resolver will ask again and say what went wrong
        choice = choose_version(self.grouped[name], name, req.specifier, self.target)
        if choice is None:
            return
        artifact, _ = choose_file(choice, self.target)
        cached = self.cache.dependencies(artifact.sha256) if self.cache else None
        if cached is None and not artifact.core_metadata:
            return  # a whole download: only when the resolver really asks
        try:
            deps = cached or await self.dependencies(artifact, name, str(choice.version))
        except PackageIndexError:
            return
        extras = frozenset(req.extras)
        for text in deps.requires:
            self.prefetch(text, extras)

    async def aclose(self) -> None:
        """Cancel whatever is still running (speculative prefetches) and wait for it."""
        pending = [t for t in (*self._background, *self._pages.values(), *self._deps.values())
                   if not t.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    # --- loading ----------------------------------------------------------------------------
    async def _net(self, make: Callable[[], Awaitable[T]]) -> T:
        async with self._limit:
            self.requests += 1
            return await make()

    async def _load_files(self, name: str) -> tuple[Artifact, ...]:
        files = self.cache.files(self.index_url, name) if self.cache else None
        if files is None:
            files = await self._net(lambda: project_files(self.client, self.index_url, name))
            if self.cache is not None:
                self.cache.store_files(self.index_url, name, files)
        self.grouped[name] = by_version(files, name)  # once: both threads read it
        return files

    async def _load_dependencies(self, artifact: Artifact, name: str, version: str) -> Dependencies:
        cached = self.cache.dependencies(artifact.sha256) if self.cache else None
        if cached is not None:
            return cached
        deps = await self._read_dependencies(artifact, name, version)
        if self.cache is not None:
            self.cache.store_dependencies(artifact.sha256, deps)
        return deps

    async def _read_dependencies(self, artifact: Artifact, name: str, version: str) -> Dependencies:
        note = ""
        if artifact.core_metadata:
            found = await self._core_metadata(artifact, name, version)
            if isinstance(found, Dependencies):
                return found
            note = f" ({found})"
        work = self.scratch / f"f{next(self._names)}"
        path = await self._net(lambda: download(
            self.client, artifact, work, max_size=self.max_download, cache=self.artifacts
        ))
        try:
            if artifact.filename.endswith(".whl"):
                return await asyncio.to_thread(self._from_wheel, path, name, version, note)
            tree = work / "tree"
            tree.mkdir()
            return await asyncio.to_thread(sdist_dependencies, path, name, version, tree)
        finally:
            await asyncio.to_thread(remove_tree, work)  # the artifact cache keeps a copy

    def _from_wheel(self, path: Path, name: str, version: str, note: str) -> Dependencies:
        detail = f"the wheel's METADATA{note}"
        try:
            data = wheel_metadata(path, name)
        except MetadataProblem as e:
            return Dependencies.unknown(f"{detail} could not be read: {e}")
        try:
            return from_core_metadata(data, name, version, source="wheel", detail=detail)
        except MetadataProblem as e:  # its message names the detail
            return Dependencies.unknown(str(e))

    async def _core_metadata(self, artifact: Artifact, name: str, version: str) -> Dependencies | str:
        """Dependencies from the PEP 658 file, or why we fall back to the file itself."""
        url = f"{artifact.url}.metadata"
        page = await self._net(lambda: get_page(self.client, url, limit=METADATA_LIMIT))
        if page.status in (404, 410):
            return f"the announced .metadata file answered HTTP {page.status}"
        if page.status != 200:
            raise PackageIndexError(f"{url}: HTTP {page.status}")
        expected = artifact.core_metadata_sha256
        if expected is not None:
            actual = hashlib.sha256(page.body).hexdigest()
            if actual != expected:
                raise IntegrityError(
                    f"{artifact.filename}.metadata: sha256 mismatch "
                    f"(index says {expected}, got {actual})"
                )
        detail = "the index's .metadata file (PEP 658" + (", sha256 checked)" if expected else ")")
        try:
            return from_core_metadata(page.body, name, version, source="core-metadata",
                                      detail=detail)
        except MetadataProblem as e:  # its message names the detail
            return Dependencies.unknown(str(e))


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a task's exception as seen: whoever needs the result gets it by awaiting."""
    if not task.cancelled():
        task.exception()
