"""Which releases and files to judge, when a request stands for more than one.

The flow judges one release's one file per context. Some requests name several: every file
of a release (``--all-files``: an attack may sit in one wheel, or only in the sdist), and
every node of a dependency tree (``shouldi install X`` installs X and what it pulls in).
Planning resolves them first and gives each context its
:class:`~shouldi.operations.definitions.PlannedRelease`, which ``resolve_release`` takes as it
is (the trace shows it as a seed). Planning never builds or runs anything.

Trees (:func:`plan_tree`, :func:`judge_tree`, :func:`answer_tree` and, inside an event loop,
:func:`answer_tree_async`):

- the roots are resolved together with :func:`shouldi.resolve.resolve_tree` (resolvelib on
  metadata only) for the settings' target, and each node becomes one request, its spec the
  user's for a root and ``name==version`` for the rest;
- the flow answers every node on its own (each answer is cached per file as usual);
- :func:`judge_tree` adds what only the whole tree tells, with the rules of
  :mod:`shouldi.verdict.rules`: a node whose dependencies are unknown warns, and a package
  fails when something below it fails (``depends on evil 1.0, which fails``) — the one place
  answers are combined, because one flow context cannot see another's verdict;
- the whole answer is reused for ``--max-age`` seconds (:mod:`shouldi.resolve.answers`,
  keyed on the roots, the target and every setting), so asking again reads one file.

A requirement that cannot be met (a conflict, no such project) is
:class:`~shouldi.resolve.Unresolvable` (exit 2, the chain in one line). A tree that cannot be
resolved for another reason (the index failed) is not fatal: each root is judged alone and
says that its dependencies were not judged (``error``), so nothing reads as a pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shouldi.api import Answer, Request
from shouldi.errors import ShouldiError
from shouldi.settings import Settings

if TYPE_CHECKING:
    from shouldi.resolve import Node, Tree
    from shouldi.results import Release
    from shouldi.verdict import Reason, Verdict

__all__ = ["TreeAnswers", "TreePlan", "answer_tree", "answer_tree_async", "every_file",
           "every_file_of", "judge_tree", "plan_tree"]

#: ``progress(total)`` gives the callback that sees each answer (see shouldi.cli.progress).
Progress = Callable[[int], AbstractContextManager[Callable[[Answer], None]]]


async def every_file(requests: Sequence[Request], settings: Settings) -> list[Request]:
    """Each request once per file of the release it resolves to (the file pip would install
    first), for the settings' target. A request that cannot be planned is passed on
    unchanged, so the flow itself says why (no such project, ...)."""
    from shouldi.index import make_client, parse_spec, resolve

    out: list[Request] = []
    async with make_client(timeout=settings.timeout) as client:
        for r in requests:
            if r.planned is not None:
                out.append(r)
                continue
            try:
                releases = await resolve(client, r.index_url or settings.index_url,
                                         parse_spec(r.spec), target=settings.target,
                                         hashes=_sha256s(r.hashes) or None, all_files=True)
            except ShouldiError:
                out.append(r)
                continue
            out += [dataclasses.replace(r, planned=release) for release in releases]
    return out


def _sha256s(hashes: frozenset[str]) -> list[str]:
    return sorted(h.split(":", 1)[1].lower() for h in hashes if h.lower().startswith("sha256:"))


# --- trees -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TreePlan:
    """What to judge for a whole install: one request per node (per file with
    ``--all-files``), roots first. ``tree`` is None when it could not be resolved; then the
    requests are the roots and ``problem`` says why."""

    roots: tuple[Request, ...]
    requests: tuple[Request, ...]
    tree: Tree | None = None
    problem: str | None = None


async def plan_tree(roots: Sequence[Request], settings: Settings,
                    index_url: str | None = None) -> TreePlan:
    """Resolve the tree of ``roots`` (all on ``index_url``, default the settings') for the
    settings' target, with the resolve and artifact caches of the settings.

    Raises :class:`~shouldi.resolve.Unresolvable` (exit 2) when the requirements cannot be
    met and :class:`~shouldi.index.BadSpec` for a root that does not parse.
    """
    from shouldi.cache import Cache
    from shouldi.index import PackageIndexError, make_client
    from shouldi.resolve import ResolveCache, ResolveError, Unresolvable, resolve_tree

    index = index_url or settings.index_url
    cache = Cache(settings.cache_dir, enabled=not settings.no_cache)
    resolve_cache = None if settings.no_cache else ResolveCache(cache.root / "resolve",
                                                                max_age=settings.max_age)
    pins: dict[str, list[str]] = {}
    for r in roots:
        if _sha256s(r.hashes):
            pins.setdefault(_name(r.spec), []).extend(_sha256s(r.hashes))
    try:
        async with make_client(timeout=settings.timeout) as client:
            tree = await resolve_tree(client, index, [r.spec for r in roots], settings.target,
                                      cache=resolve_cache, artifacts=cache.artifacts,
                                      hashes=pins or None, max_download=settings.max_download)
    except Unresolvable:
        raise
    except (ResolveError, PackageIndexError) as e:
        return TreePlan(tuple(roots), tuple(roots), None, str(e))
    return TreePlan(tuple(roots), tuple(_node_requests(tree, roots, index, settings)), tree)


def _name(spec: str) -> str:
    from shouldi.index import normalize_name, parse_spec

    return normalize_name(parse_spec(spec).name)


def _node_requests(tree: Tree, roots: Sequence[Request], index_url: str,
                   settings: Settings) -> Iterator[Request]:
    by_name: dict[str, Request] = {}
    for r in roots:
        by_name.setdefault(_name(r.spec), r)
    for node in tree.nodes:
        root = by_name.get(node.name)
        spec = root.spec if root is not None else f"{node.name}=={node.version}"
        hashes = root.hashes if root is not None else frozenset()
        releases = every_file_of(node.release, tree.target, hashes) if settings.all_files else [node.release]
        for release in releases:
            yield Request(spec, hashes, index_url, planned=release)


def every_file_of(release: Release, target: str, hashes: frozenset[str] = frozenset()) -> list[Release]:
    """The release pip would install, then each other file of it (those a hash pin allows)."""
    allowed = set(_sha256s(hashes))
    others = [a for a in release.files if a != release.artifact
              and (not allowed or (a.sha256 or "").lower() in allowed)]
    why = f"judged as one of all the files of the release (pip would install {release.artifact.filename} on {target})"
    return [release, *(dataclasses.replace(release, artifact=a, artifact_reason=f"{a.kind}: {why}")
                       for a in others)]


def judge_tree(plan: TreePlan, answers: Sequence[Answer]) -> list[Answer]:
    """The answers of a tree's nodes, with what the tree says of each (see the module doc)."""
    from shouldi.verdict import rules
    from shouldi.verdict.judge import with_reasons

    if plan.tree is None:
        extra = [rules.unresolved_tree_reason(plan.problem)] if plan.problem else []
        return [dataclasses.replace(a, report=with_reasons(a.report, extra)) for a in answers]
    tree = plan.tree
    nodes = {n.name: n for n in tree.nodes}
    own: list[Answer] = []
    for a in answers:
        node = nodes[a.request.planned.name] if a.request.planned is not None else None
        if node is None:
            own.append(a)
            continue
        deps = node.dependencies
        reasons = rules.tree_node_reasons(deps.known, deps.detail, node.warnings, node.notes)
        own.append(dataclasses.replace(a, report=with_reasons(a.report, reasons),
                                       required_by=node.required_by))
    worst = _worst_by_node(own)
    out = []
    for a in own:
        node = nodes.get(a.report.name)
        if node is None:
            out.append(a)
            continue
        below = [(who, *worst[name]) for name, who in _below(node, nodes) if name in worst]
        out.append(dataclasses.replace(
            a, report=with_reasons(a.report, rules.dependency_verdict_reasons(below))))
    return out


def _worst_by_node(answers: Sequence[Answer]) -> dict[str, tuple[Verdict, Reason | None]]:
    """Each node's worst verdict over its files, and the first reason that made it."""
    from shouldi.verdict import Verdict

    worst: dict[str, tuple[Verdict, Reason | None]] = {}
    for a in answers:
        r = a.report
        verdict = Verdict.ERROR if r.input_error else r.verdict
        if r.name not in worst or verdict.rank > worst[r.name][0].rank:
            counted = r.counted_reasons
            worst[r.name] = (verdict, counted[0] if counted else None)
    return worst


def _below(node: Node, nodes: dict[str, Node]) -> list[tuple[str, str]]:
    """Every node ``node`` pulls in, directly or not: (name, "evil 1.0 (through mid 2.0)"),
    each by its shortest path, nearest first."""
    through: dict[str, list[str]] = {node.name: []}
    queue = [node.name]
    out = []
    while queue:
        name = queue.pop(0)
        for child in nodes[name].depends_on:
            if child in through or child not in nodes:
                continue
            through[child] = [*through[name], *([name] if name != node.name else [])]
            queue.append(child)
            c = nodes[child]
            path = " -> ".join(f"{n} {nodes[n].version}" for n in through[child])
            out.append((child, f"{c.name} {c.version}" + (f" (through {path})" if path else "")))
    return out


@dataclass(frozen=True)
class TreeAnswers:
    """A whole install's answers, roots first. ``target`` names the environment judged for;
    ``ignored`` are root requirements whose markers exclude it; ``problem`` says why the tree
    could not be resolved (then only the roots were judged); ``reused_from`` is when a
    reused answer was given."""

    answers: tuple[Answer, ...]
    target: str
    ignored: tuple[str, ...] = ()
    problem: str | None = None
    reused_from: float | None = None


def answer_tree(roots: Sequence[Request], settings: Settings, *, trace: bool = False,
                progress: Progress | None = None,
                on_resolve: Callable[[], None] | None = None) -> TreeAnswers:
    """Judge ``roots`` and everything they pull in: :func:`plan_tree`, the flow on each node,
    :func:`judge_tree`; a whole answer given less than ``settings.max_age`` ago is reused.

    ``progress(total)`` is entered once the nodes are known; ``on_resolve`` is called before
    resolving (not when the answer is reused).
    """
    from shouldi.resolve.answers import TreeAnswerCache

    cache = None if trace else TreeAnswerCache.for_settings(roots, settings)
    hit = cache.get() if cache is not None else None
    if hit is not None:  # the warm path: nothing else is imported
        with _progress(progress, len(hit.answers)) as tick:
            for a in hit.answers:
                tick(a)
        return hit
    import asyncio

    from shouldi.api import answer
    if on_resolve is not None:
        on_resolve()
    plan = asyncio.run(plan_tree(roots, settings))
    with _progress(progress, len(plan.requests)) as tick:
        answers = answer(list(plan.requests), settings, trace=trace, on_answer=tick)
    result = _judged(plan, answers, settings)
    if cache is not None:
        cache.put(result)
    return result


async def answer_tree_async(roots: Sequence[Request], settings: Settings, *,
                            trace: bool = False) -> TreeAnswers:
    """:func:`answer_tree` for code already running an event loop (the HTTP service): the
    same plan, flow, judgement and whole-answer cache (read and written in a thread: an
    entry holds every node's report, and decoding a large tree's would hold the loop up)."""
    import asyncio

    from shouldi.resolve.answers import TreeAnswerCache

    cache = None if trace else TreeAnswerCache.for_settings(roots, settings)
    hit = await asyncio.to_thread(cache.get) if cache is not None else None
    if hit is not None:
        return hit
    from shouldi.api import answer_async

    plan = await plan_tree(roots, settings)
    answers = await answer_async(list(plan.requests), settings, trace=trace)
    result = _judged(plan, answers, settings)
    if cache is not None:
        await asyncio.to_thread(cache.put, result)
    return result


def _judged(plan: TreePlan, answers: Sequence[Answer], settings: Settings) -> TreeAnswers:
    """The tree's answers (:func:`judge_tree`), with the target they were judged for."""
    from shouldi.index import TargetEnvironment

    tree = plan.tree
    target = tree.target if tree else (settings.target or TargetEnvironment.current()).description
    return TreeAnswers(tuple(judge_tree(plan, answers)), target,
                       tree.ignored if tree else (), plan.problem)


def _progress(progress: Progress | None, total: int
              ) -> AbstractContextManager[Callable[[Answer], None]]:
    import contextlib

    if progress is None:
        return contextlib.nullcontext(lambda _a: None)
    return progress(total)
