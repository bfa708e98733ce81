"""The resolvelib provider: pip's model of requirements, candidates and extras, on metadata.

Shaped like pip's (``pip._internal.resolution.resolvelib``): an identifier is a project
name, or ``name[extra1,extra2]`` for the same project with extras; an extras candidate
depends on the plain candidate pinned to its own version (so both resolve to one release)
plus the dependencies its extras add. A file's ``Requires-Python`` becomes a requirement on
the ``<python>`` identifier, whose one candidate is the target's Python, so a release that
excludes the target is backtracked over exactly as pip does. Candidates are the versions
with a file the target may install, newest first, and the file each would install is
chosen by :mod:`shouldi.index.select` (the same choice as ``shouldi install``).

Why a thread: resolvelib is synchronous, and our index client is an injected
``httpx.AsyncClient``. The provider runs in one worker thread, and each question that needs
the network is handed to the event loop (:class:`Bridge`, ``run_coroutine_threadsafe``)
where :class:`~shouldi.resolve.fetch.Fetcher` answers it with shared tasks, a few
concurrent requests and prefetching ahead of the resolver. A sync ``httpx.Client`` in the
thread would bypass the injected client (its transport, retries, the tests' servers) and
fetch strictly one request at a time; prefetching everything first cannot know which
versions backtracking will need.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import operator
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from resolvelib import AbstractProvider

from shouldi.index.errors import NotFound
from shouldi.index.select import Choice, candidates, choose_file, matching_versions
from shouldi.index.spec import normalize_name
from shouldi.index.target import TargetEnvironment, marker_applies
from shouldi.resolve.fetch import Fetcher
from shouldi.resolve.metadata import Dependencies
from shouldi.results import Artifact, Release

if TYPE_CHECKING:
    from resolvelib.providers import Preference
    from resolvelib.structs import RequirementInformation

__all__ = ["PYTHON", "Bridge", "Candidate", "Provider", "Req", "Stopped", "ident"]

PYTHON = "<python>"
T = TypeVar("T")


def ident(name: str, extras: Iterable[str] = ()) -> str:
    """``name`` or ``name[a,b]``: what resolvelib keys requirements and candidates by."""
    extras = sorted(extras)
    return f"{name}[{','.join(extras)}]" if extras else name


@dataclass(frozen=True)
class Req:
    """One requirement: a normalised name, extras, a specifier and the text as written."""

    name: str
    extras: frozenset[str]
    specifier: SpecifierSet
    text: str

    @property
    def ident(self) -> str:
        return ident(self.name, self.extras)


@dataclass(frozen=True)
class Candidate:
    """A version of a project (with extras), and the release it would install."""

    name: str
    version: Version
    extras: frozenset[str] = frozenset()
    release: Release | None = field(default=None, compare=False)

    @property
    def ident(self) -> str:
        return ident(self.name, self.extras)

    def __str__(self) -> str:
        return f"{ident(self.name, self.extras)} {self.version}"


class Stopped(Exception):
    """The resolution was abandoned (cancelled or closed) while the thread waited."""


class Bridge:
    """Runs coroutines in the event loop on behalf of the resolver thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._waiting: set[concurrent.futures.Future[Any]] = set()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` in the loop and wait for it (from the resolver thread only)."""
        if self._closed.is_set():
            coro.close()
            raise Stopped("the resolution was stopped")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        with self._lock:
            self._waiting.add(future)
        try:
            return future.result()
        except concurrent.futures.CancelledError as e:
            raise Stopped("the resolution was stopped") from e
        finally:
            with self._lock:
                self._waiting.discard(future)

    def soon(self, fn: Callable[..., object], *args: object) -> None:
        """Call ``fn(*args)`` in the loop without waiting."""
        if not self._closed.is_set():
            self._loop.call_soon_threadsafe(fn, *args)

    def close(self) -> None:
        """Make the thread's current and next waits raise :class:`Stopped`."""
        self._closed.set()
        with self._lock:
            for future in self._waiting:
                future.cancel()


def _pins(specifier: SpecifierSet) -> set[Version]:
    out = set()
    for spec in specifier:
        if spec.operator in ("==", "===") and "*" not in spec.version:
            try:
                out.add(Version(spec.version))
            except InvalidVersion:
                continue
    return out


class Provider(AbstractProvider[Req, Candidate, str]):
    """Answers resolvelib's questions from the index and the files' metadata."""

    def __init__(
        self,
        bridge: Bridge,
        fetcher: Fetcher,
        target: TargetEnvironment,
        *,
        hashes: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.bridge, self.fetcher, self.target = bridge, fetcher, target
        self.hashes = {normalize_name(k): frozenset(h.lower() for h in v)
                       for k, v in (hashes or {}).items()}
        self.missing: dict[str, str] = {}  # project -> why the index has none
        self.files: dict[str, tuple[Artifact, ...]] = {}
        self._grouped: dict[str, dict[Version, tuple[Artifact, ...]]] = {}
        self.dependencies: dict[tuple[str, Version], Dependencies] = {}
        self.problems: dict[tuple[str, Version], list[str]] = {}  # the tree may miss something
        self.notes: dict[tuple[str, Version], list[str]] = {}  # nothing is missed
        self.first_parent: dict[str, tuple[Candidate | None, Req]] = {}

    # --- resolvelib's interface -----------------------------------------------------------
    def identify(self, requirement_or_candidate: Req | Candidate) -> str:
        return requirement_or_candidate.ident

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[RequirementInformation[Req, Candidate]]],
        backtrack_causes: Sequence[RequirementInformation[Req, Candidate]],
    ) -> Preference:
        """Python first (one candidate); then backtrack causes, exact pins, roots (as pip)."""
        if identifier == PYTHON:
            return (0, False, False, False, identifier)
        infos = list(information[identifier])
        cause = any(
            c.requirement.ident == identifier or (c.parent is not None and c.parent.ident == identifier)
            for c in backtrack_causes
        )
        pinned = any(_pins(i.requirement.specifier) for i in infos)
        root = any(i.parent is None for i in infos)
        return (1, not cause, not pinned, not root, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> Callable[[], Iterator[Candidate]]:
        reqs = list(requirements.get(identifier, ()))
        bad = {c.version for c in incompatibilities.get(identifier, ())}
        name = reqs[0].name if reqs else identifier.split("[", 1)[0]
        extras = reqs[0].extras if reqs else frozenset()
        if name == PYTHON:
            version = Version(self.target.python_version)
            ok = version not in bad and all(
                r.specifier.contains(version, prereleases=True) for r in reqs
            )
            return lambda: iter([Candidate(PYTHON, version)] if ok else [])
        grouped = self._project(name)
        spec = functools.reduce(operator.and_, (r.specifier for r in reqs), SpecifierSet())
        allowed = self.hashes.get(name)
        # PEP 592: a yanked file only for an exact == pin, or a --hash naming it
        pins = set(grouped) if allowed is not None else set().union(*(_pins(r.specifier) for r in reqs))
        how = "--hash" if allowed is not None else "=="

        def matches() -> Iterator[Candidate]:
            live = []
            for version in matching_versions(grouped, spec, self.target, hashes=allowed, exclude=bad):
                live.append(version)
                yield self._candidate(name, extras, version, yanked=False, how=how)
            for version in sorted(pins & set(grouped) - bad - set(live), reverse=True):
                if spec.contains(version, prereleases=True) and candidates(
                    grouped[version], self.target, yanked=True, hashes=allowed
                ):
                    yield self._candidate(name, extras, version, yanked=True, how=how)

        return matches

    def is_satisfied_by(self, requirement: Req, candidate: Candidate) -> bool:
        return candidate.name == requirement.name and requirement.specifier.contains(
            candidate.version, prereleases=True
        )

    def get_dependencies(self, candidate: Candidate) -> list[Req]:
        if candidate.name == PYTHON or candidate.release is None:
            return []
        key = (candidate.name, candidate.version)
        deps = self.bridge.call(self.fetcher.dependencies(
            candidate.release.artifact, candidate.name, str(candidate.version)
        ))
        self.dependencies[key] = deps
        problems = self.problems.setdefault(key, [])
        notes = self.notes.setdefault(key, [])
        out: list[Req] = []
        if candidate.extras:
            pin = f"{candidate.name}=={candidate.version}"
            out.append(Req(candidate.name, frozenset(), SpecifierSet(f"=={candidate.version}"), pin))
            self._check_extras(candidate, deps, problems, notes)
        if deps.requires_python:
            try:
                python = SpecifierSet(deps.requires_python)
            except InvalidSpecifier:
                notes.append(f"Requires-Python {deps.requires_python!r} does not parse: ignored")
            else:
                out.append(Req(PYTHON, frozenset(), python, f"Python {deps.requires_python}"))
        for text in deps.requires:
            req = self._requirement(text, candidate, problems)
            if req is not None:
                out.append(req)
                self.first_parent.setdefault(req.ident, (candidate, req))
                self.bridge.soon(self.fetcher.prefetch, text, candidate.extras)
        return out

    # --- helpers --------------------------------------------------------------------------
    def _project(self, name: str) -> dict[Version, tuple[Artifact, ...]]:
        if name not in self._grouped:
            try:
                self.files[name] = self.bridge.call(self.fetcher.files(name))
                self._grouped[name] = self.fetcher.grouped[name]
            except NotFound as e:
                self.missing[name] = str(e)
                self.files[name], self._grouped[name] = (), {}
        return self._grouped[name]

    def _candidate(
        self, name: str, extras: frozenset[str], version: Version, *, yanked: bool, how: str
    ) -> Candidate:
        grouped = self._grouped[name]
        allowed = self.hashes.get(name)
        found = candidates(grouped[version], self.target, yanked=yanked, hashes=allowed)
        note = f"yanked release, pinned by {how}" if yanked else ""
        choice = Choice(version, grouped[version], found, tuple(sorted(grouped)), note,
                        allowed is not None)
        artifact, reason = choose_file(choice, self.target)
        release = Release(
            name=name,
            version=str(version),
            index_url=self.fetcher.index_url,
            artifact=artifact,
            artifact_reason=reason,
            all_versions=tuple(str(v) for v in choice.all_versions),
            files=choice.files,
            target=self.target.description,
        )
        return Candidate(name, version, extras, release)

    def _requirement(self, text: str, parent: Candidate, problems: list[str]) -> Req | None:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            problems.append(f"Requires-Dist {text!r} does not parse: not followed")
            return None
        if not marker_applies(req.marker, self.target, parent.extras):
            return None
        if req.url:
            problems.append(f"Requires-Dist {text!r} is a direct URL: not followed")
            return None
        extras = frozenset(normalize_name(e) for e in req.extras)
        return Req(normalize_name(req.name), extras, req.specifier, text)

    def _check_extras(self, candidate: Candidate, deps: Dependencies, problems: list[str],
                      notes: list[str]) -> None:
        if not deps.known:
            return
        if not deps.extras_known:
            problems.append(
                f"the dependencies of extras {', '.join(sorted(candidate.extras))} are dynamic: "
                "only running the build would tell"
            )
        offered = {normalize_name(e) for e in deps.provides_extra}
        markers = []
        for text in deps.requires:
            try:
                markers.append(Requirement(text).marker)
            except InvalidRequirement:
                continue
        for extra in sorted(candidate.extras - offered):
            used = any(m is not None and marker_applies(m, self.target, [extra])
                       and not marker_applies(m, self.target) for m in markers)
            if not used:
                notes.append(f"{candidate.name} {candidate.version} has no extra {extra!r}")
