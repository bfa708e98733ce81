"""Resolving a whole dependency tree from metadata only: :func:`resolve_tree`.

No package code runs and nothing is built: dependencies come from files (see
:mod:`shouldi.resolve.metadata`), the resolver is resolvelib (pip's), fed by
:mod:`shouldi.resolve.provider` in a worker thread while the event loop fetches (see its
docstring for why). Every node is a :class:`~shouldi.results.Release` chosen exactly as
``shouldi install`` chooses one (the file pip would install for the target), with who
required it and whether its own dependencies are known and from where. A node whose
dependencies are unknown is kept and says so ("only running the build would tell"): its
subtree is missing, and the report must say that the tree is incomplete.

A conflict or an unmet requirement is :class:`~shouldi.resolve.errors.Unresolvable`,
naming the chain (``app 1.0 -> flask 3.0.0 needs 'werkzeug>=3.0.0' and you asked for
'werkzeug<3', but ...``). Cycles are fine: resolvelib pins each project once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import httpx
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from resolvelib import BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver

from shouldi.archive import ArchiveError, scratch_dir
from shouldi.cache.artifacts import ArtifactCache
from shouldi.cache.resolve import ResolveCache
from shouldi.index.downloader import DEFAULT_MAX_SIZE
from shouldi.index.errors import BadSpec
from shouldi.index.select import by_version, explain_no_match
from shouldi.index.spec import normalize_name, parse_spec
from shouldi.index.target import TargetEnvironment, marker_applies
from shouldi.resolve.errors import ResolveError, Unresolvable
from shouldi.resolve.fetch import DEFAULT_CONCURRENCY, Fetcher
from shouldi.resolve.metadata import Dependencies
from shouldi.resolve.provider import PYTHON, Bridge, Candidate, Provider, Req
from shouldi.resolve.requirer import Requirer
from shouldi.results import Artifact, Release

if TYPE_CHECKING:
    from resolvelib.resolvers import Result
    from resolvelib.structs import RequirementInformation

__all__ = ["MAX_ROUNDS", "Node", "Requirer", "Tree", "resolve_tree"]

#: resolvelib rounds before giving up (pip allows 200,000; trees from metadata are smaller).
MAX_ROUNDS = 20_000


@dataclass(frozen=True)
class Node:
    """One release of the tree.

    ``release.artifact`` is the file pip would install; ``dependencies`` says whether this
    file's own dependencies are known and where they were read; ``depends_on`` names the
    nodes it pulled in; ``warnings`` are what could not be followed, so the tree below may
    be incomplete (an unparseable or direct-URL requirement, dynamic optional
    dependencies); ``notes`` are oddities that leave nothing out (an extra the release does
    not have, which pip too only warns about; a ``Requires-Python`` that does not parse).
    """

    name: str
    version: str
    release: Release
    required_by: tuple[Requirer, ...]
    dependencies: Dependencies
    depends_on: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def artifact(self) -> Artifact:
        return self.release.artifact


@dataclass(frozen=True)
class Tree:
    """A resolved tree: roots first, then breadth-first.

    ``ignored`` are the root requirements whose markers exclude the target; ``requests``
    counts the network requests made (pages, ``.metadata`` files, downloads).
    """

    roots: tuple[str, ...]
    nodes: tuple[Node, ...]
    target: str
    ignored: tuple[str, ...] = ()
    requests: int = 0

    def node(self, name: str) -> Node:
        """The node of ``name`` (any spelling); :class:`KeyError` when it is not in the tree."""
        wanted = normalize_name(name)
        for node in self.nodes:
            if node.name == wanted:
                return node
        raise KeyError(name)

    @property
    def unknown(self) -> tuple[Node, ...]:
        """Nodes whose dependencies are unknown: the tree below them is missing."""
        return tuple(n for n in self.nodes if not n.dependencies.known)

    @property
    def complete(self) -> bool:
        return not self.unknown


async def resolve_tree(
    client: httpx.AsyncClient,
    index_url: str,
    roots: Sequence[Requirement | str],
    target: TargetEnvironment | None = None,
    *,
    cache: ResolveCache | None = None,
    artifacts: ArtifactCache | None = None,
    hashes: Mapping[str, Iterable[str]] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    max_rounds: int = MAX_ROUNDS,
    max_download: int = DEFAULT_MAX_SIZE,
) -> Tree:
    """Resolve ``roots`` and everything they need for ``target``, from metadata only.

    ``target`` defaults to the running interpreter. ``cache`` keeps pages and dependencies
    for the next run; ``artifacts`` keeps the wheels and sdists downloaded for their
    metadata (so the scan does not download them again); ``hashes`` maps project names to
    the only sha256 digests allowed for them (a hashed requirements file).

    Raises :class:`~shouldi.index.BadSpec` for a root that does not parse,
    :class:`Unresolvable` (exit 2) when the requirements cannot be met,
    :class:`ResolveError` when resolution gives up or a downloaded file cannot be read, and
    :class:`~shouldi.index.PackageIndexError` on network trouble.
    """
    target = target or TargetEnvironment.current()
    wanted, ignored = _roots(roots, target)
    loop = asyncio.get_running_loop()
    executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="shouldi-resolve")
    with scratch_dir("shouldi-resolve-") as scratch:
        fetcher = Fetcher(client, index_url, target, scratch, cache=cache, artifacts=artifacts,
                          concurrency=concurrency, max_download=max_download)
        bridge = Bridge(loop)
        provider = Provider(bridge, fetcher, target,
                            hashes={k: frozenset(v) for k, v in (hashes or {}).items()})
        for req in wanted:
            provider.first_parent.setdefault(req.ident, (None, req))
            fetcher.prefetch(req.text)
        work = executor.submit(_run, provider, wanted, max_rounds)
        try:
            result = await asyncio.wrap_future(work)
        except ResolutionImpossible as e:
            raise Unresolvable(_impossible(e.causes, provider, target),
                               roots=_roots_involved(e.causes, provider)) from None
        except ResolutionTooDeep as e:
            raise ResolveError(
                f"gave up resolving after {e.round_count} rounds of backtracking; "
                "pin some of the requirements to help"
            ) from None
        except ArchiveError as e:
            raise ResolveError(f"a downloaded file could not be read for its metadata: {e}") from e
        finally:
            bridge.close()
            await fetcher.aclose()
            if not work.done():  # cancelled: the thread stops at its next wait
                stopping = asyncio.wrap_future(work)
                await asyncio.wait([stopping])
                if not stopping.cancelled():  # its Stopped is our cancellation, not news:
                    stopping.exception()  # retrieved, not "Future exception was never retrieved"
            executor.shutdown(wait=False)
    return _tree(result, provider, wanted, target, ignored, fetcher.requests)


def _roots(
    roots: Sequence[Requirement | str], target: TargetEnvironment
) -> tuple[list[Req], tuple[str, ...]]:
    wanted, ignored = [], []
    for root in roots:
        req = parse_spec(root) if isinstance(root, str) else root
        if req.url:
            raise BadSpec(f"invalid requirement spec {str(req)!r}: direct URL references are not supported")
        if not marker_applies(req.marker, target):
            ignored.append(str(req))
            continue
        extras = frozenset(normalize_name(e) for e in req.extras)
        wanted.append(Req(normalize_name(req.name), extras, req.specifier, str(req)))
    return wanted, tuple(ignored)


def _run(provider: Provider, roots: list[Req], max_rounds: int) -> Result[Req, Candidate, str]:
    resolver: Resolver[Req, Candidate, str] = Resolver(provider, BaseReporter())
    return resolver.resolve(roots, max_rounds=max_rounds)


# --- the tree --------------------------------------------------------------------------------
def _tree(
    result: Result[Req, Candidate, str],
    provider: Provider,
    roots: list[Req],
    target: TargetEnvironment,
    ignored: tuple[str, ...],
    requests: int,
) -> Tree:
    mapping = result.mapping
    pinned = {c.name: c for c in mapping.values() if c.name != PYTHON and not c.extras}
    required_by: dict[str, dict[Requirer, None]] = {name: {} for name in pinned}
    children: dict[str, dict[str, None]] = {name: {} for name in pinned}
    extras: dict[str, set[str]] = {name: set() for name in pinned}
    for ident, criterion in result.criteria.items():
        child = mapping.get(ident)
        if child is None or child.name == PYTHON:
            continue
        extras[child.name] |= child.extras
        for info in criterion.information:
            parent = info.parent
            if parent is None:
                required_by[child.name][Requirer(info.requirement.text)] = None
            elif parent.name != child.name and mapping.get(parent.ident) == parent:
                who = Requirer(info.requirement.text, parent.name, str(parent.version))
                required_by[child.name][who] = None
                children[parent.name][child.name] = None
    nodes = {}
    for name, cand in pinned.items():
        pin = (name, cand.version)
        asked = list(required_by[name])
        assert cand.release is not None
        deps = provider.dependencies.get(pin) or Dependencies.unknown("its metadata was never read")
        nodes[name] = Node(
            name=name,
            version=str(cand.version),
            release=replace(cand.release, requested=asked[0].requirement if asked else name),
            required_by=tuple(asked),
            dependencies=deps,
            depends_on=tuple(sorted(children[name])),
            extras=tuple(sorted(extras[name])),
            warnings=tuple(dict.fromkeys(provider.problems.get(pin, ()))),
            notes=tuple(dict.fromkeys(provider.notes.get(pin, ()))),
        )
    root_names = tuple(dict.fromkeys(r.name for r in roots))
    return Tree(root_names, _breadth_first(root_names, nodes), target.description, ignored,
                requests)


def _breadth_first(roots: Sequence[str], nodes: Mapping[str, Node]) -> tuple[Node, ...]:
    order: dict[str, None] = {}
    queue = [r for r in roots if r in nodes]
    while queue:
        name = queue.pop(0)
        if name in order:
            continue
        order[name] = None
        queue += [c for c in nodes[name].depends_on if c not in order]
    order.update(dict.fromkeys(sorted(nodes)))  # nothing should be left, but never drop one
    return tuple(nodes[n] for n in order)


# --- why it cannot be resolved -----------------------------------------------------------------
def _chain(candidate: Candidate | None, provider: Provider) -> str:
    """``app 1.0 -> flask 3.0.0``: how the resolver got to ``candidate`` from a root."""
    steps: list[str] = []
    seen: set[str] = set()
    while candidate is not None and candidate.ident not in seen and len(steps) < 20:
        seen.add(candidate.ident)
        steps.append(f"{candidate.name} {candidate.version}")
        candidate = provider.first_parent.get(candidate.ident, (None, None))[0]
    return " -> ".join(reversed(steps))


def _roots_involved(
    causes: Iterable[RequirementInformation[Req, Candidate]], provider: Provider
) -> tuple[str, ...]:
    """The root requirements (as written) at the start of each chain of the conflict."""
    found: dict[str, None] = {}
    for info in causes:
        candidate, req = info.parent, info.requirement
        seen: set[str] = set()
        while candidate is not None and candidate.ident not in seen:
            seen.add(candidate.ident)
            candidate, req = provider.first_parent.get(candidate.ident, (None, req))
        found[req.text] = None
    return tuple(found)


def _asked(info: RequirementInformation[Req, Candidate], provider: Provider) -> str:
    if info.parent is None:
        return f"you asked for {info.requirement.text!r}"
    return f"{_chain(info.parent, provider)} needs {info.requirement.text!r}"


def _impossible(
    causes: Iterable[RequirementInformation[Req, Candidate]],
    provider: Provider,
    target: TargetEnvironment,
) -> str:
    by_ident: dict[str, list[RequirementInformation[Req, Candidate]]] = {}
    for cause in causes:
        by_ident.setdefault(cause.requirement.ident, []).append(cause)
    parts = []
    for infos in by_ident.values():
        req = infos[0].requirement
        asks = " and ".join(dict.fromkeys(_asked(i, provider) for i in infos))
        if req.name == PYTHON:
            parts.append(f"{asks}, but the target is Python {target.python_version}")
            continue
        parts.append(f"{asks}, but {_why_none(req.name, infos, provider, target)}")
    return "cannot resolve the dependency tree: " + "; ".join(parts)


def _why_none(
    name: str,
    infos: Sequence[RequirementInformation[Req, Candidate]],
    provider: Provider,
    target: TargetEnvironment,
) -> str:
    if name in provider.missing:
        return provider.missing[name]
    files = provider.files.get(name, ())
    spec = functools.reduce(operator.and_, (i.requirement.specifier for i in infos), SpecifierSet())
    versions = sorted(by_version(files, name))
    if len(infos) > 1 and versions and not list(spec.filter(versions, prereleases=True)):
        newest = ", ".join(str(v) for v in versions[-5:])
        return f"no release of {name!r} meets them all (newest on the index: {newest})"
    return explain_no_match(files, name, spec, target, hashes=provider.hashes.get(name))
