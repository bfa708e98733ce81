"""The public API: ``shouldi.check(specs, **settings) -> list[PackageReport]``.

The CLI, the HTTP service and anyone's Python code call the same function; it runs the flow
(:mod:`shouldi.flow`) once per spec, concurrently, and returns what the flow answered — no
layer edits a report afterwards.

>>> import shouldi
>>> report = shouldi.check(["six==1.17.0"])[0]      # doctest: +SKIP
>>> report.verdict                                  # doctest: +SKIP
<Verdict.PASS: 'pass'>

:func:`answer` is the richer form: each :class:`Answer` also says whether it was reused from
the answer cache (and when it was given) and, with ``trace=True``, holds the run's trace:
every value the flow produced, with its provenance (:func:`trace_to_dict`).

Answers given less than ``settings.max_age`` seconds ago are reused (see
:mod:`shouldi.cache.answers`): then nothing is imported, fetched or scanned for them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shouldi.results import Release
from shouldi.settings import Settings, check_index_url
from shouldi.verdict.report import PackageReport

if TYPE_CHECKING:  # the engine and the operations load only when something must be scanned
    from pathlib import Path

    from shouldi.cache.answers import AnswerCache
    from shouldi.dataflow import ContextResult
    from shouldi.resolve.requirer import Requirer

__all__ = ["Answer", "Request", "acheck", "answer", "answer_async", "check", "trace_to_dict"]


@dataclass(frozen=True)
class Request:
    """One thing to check: a spec, the ``--hash`` values its requirement pins, and its index
    (None: the settings' index). ``planned``: the release and file already chosen for it (a
    file of ``--all-files``, a node of a dependency tree; see :mod:`shouldi.plan`)."""

    spec: str
    hashes: frozenset[str] = frozenset()
    index_url: str | None = None
    planned: Release | None = None


@dataclass(frozen=True)
class Answer:
    """The flow's answer for one request."""

    request: Request
    report: PackageReport
    reused_from: float | None = None  # when a reused answer was given (seconds since the epoch)
    trace: ContextResult | None = None
    recorded: bool = False  # already in the scan output given as ``recorded=``: not checked again
    #: who required this package, when it is a node of a dependency tree (see shouldi.plan)
    required_by: tuple[Requirer, ...] = ()

    @property
    def spec(self) -> str:
        return self.request.spec

    @property
    def bad_input(self) -> bool:
        return self.report.input_error is not None


def check(specs: str | Iterable[str], settings: Settings | None = None, **overrides: Any
          ) -> list[PackageReport]:
    """Should I install these? One report per spec, in order (duplicates answered once each).

    ``settings`` or keyword overrides of it (``shouldi.check(["six"], index_url=..., jobs=2)``).
    """
    return [a.report for a in answer(_requests(specs), _settings(settings, overrides))]


async def acheck(specs: str | Iterable[str], settings: Settings | None = None, **overrides: Any
                 ) -> list[PackageReport]:
    """:func:`check` for code already running an event loop."""
    answers = await answer_async(_requests(specs), _settings(settings, overrides))
    return [a.report for a in answers]


def answer(requests: Sequence[Request | str], settings: Settings | None = None, *,
           trace: bool = False, on_answer: Callable[[Answer], None] | None = None,
           recorded: frozenset[tuple[str, str, str]] = frozenset()) -> list[Answer]:
    """Answers in the order of ``requests``; ``on_answer`` sees each as soon as it is ready.

    ``recorded``: releases (name, version, index root) a resumed scan already has; they are
    resolved and answered with ``Answer.recorded`` set, without being checked again. With
    ``settings.all_files`` a request gives one answer per file of its release.
    """
    reqs = _requests(requests)
    settings = settings or Settings()
    if settings.dask_scheduler is not None:  # tasks on Dask workers (shouldi.distributed)
        from shouldi.distributed.run import answer_on_dask

        return answer_on_dask(reqs, settings, trace=trace, on_answer=on_answer, recorded=recorded)
    if settings.all_files:
        import asyncio

        return asyncio.run(answer_async(reqs, settings, trace=trace, on_answer=on_answer,
                                        recorded=recorded))
    answers, todo = _reused(reqs, settings, trace, on_answer, recorded)
    if todo:
        import asyncio

        answers.update(asyncio.run(_run(todo, settings, trace, _storing(settings, on_answer),
                                        recorded)))
    return [answers[_key(r, settings)] for r in reqs]


async def answer_async(requests: Sequence[Request | str], settings: Settings | None = None, *,
                       trace: bool = False, on_answer: Callable[[Answer], None] | None = None,
                       recorded: frozenset[tuple[str, str, str]] = frozenset()) -> list[Answer]:
    """:func:`answer` for code already running an event loop."""
    reqs = _requests(requests)
    settings = settings or Settings()
    if settings.dask_scheduler is not None:  # the Dask client blocks: in a thread
        import asyncio

        from shouldi.distributed.run import answer_on_dask

        return await asyncio.to_thread(answer_on_dask, reqs, settings, trace=trace,
                                       on_answer=on_answer, recorded=recorded)
    if settings.all_files:
        from shouldi.plan import every_file

        reqs = await every_file(reqs, settings)
    answers, todo = _reused(reqs, settings, trace, on_answer, recorded)
    if todo:
        answers.update(await _run(todo, settings, trace, _storing(settings, on_answer), recorded))
    return [answers[_key(r, settings)] for r in reqs]


def _settings(settings: Settings | None, overrides: dict[str, Any]) -> Settings:
    base = settings or Settings()
    return base.replace(**overrides) if overrides else base


def _requests(specs: str | Iterable[str | Request]) -> list[Request]:
    items = [specs] if isinstance(specs, str) else list(specs)
    return [r if isinstance(r, Request) else Request(str(r)) for r in items]


def _index(request: Request, settings: Settings) -> str:
    return check_index_url(request.index_url) if request.index_url else settings.index_url


def _key(request: Request, settings: Settings) -> str:
    planned = request.planned.artifact.filename if request.planned else ""
    return "\0".join((_index(request, settings), request.spec.strip(), planned,
                      *sorted(request.hashes)))


def _answer_cache(settings: Settings, index_url: str, hashes: frozenset[str],
                  planned: Release | None = None) -> AnswerCache | None:
    if settings.no_cache or settings.max_age <= 0:
        return None
    from shouldi.cache import Cache

    cache = Cache(settings.cache_dir)
    file = [planned.version, planned.artifact.filename, planned.artifact.sha256] if planned else None
    key = {**settings.answer_key(), "index_url": index_url, "hashes": sorted(hashes),
           "plugins": list(_installed_plugins(cache.root)), "file": file}
    return cache.answers(key, settings.max_age)


@functools.lru_cache(maxsize=4)
def _installed_plugins(root: Path) -> tuple[str, ...]:
    """The plugins installed (entry points and their distributions' versions), read from
    metadata without importing them: installing or upgrading one makes answers a miss. The
    list is memoised under the cache root (:mod:`shouldi.cache.plugins`)."""
    from shouldi.cache.plugins import installed_plugins
    from shouldi.dataflow.plugins import ENTRY_POINT_GROUP

    return tuple(installed_plugins(ENTRY_POINT_GROUP, root))


def _reused(reqs: list[Request], settings: Settings, trace: bool,
            on_answer: Callable[[Answer], None] | None,
            recorded: frozenset[tuple[str, str, str]] = frozenset()
            ) -> tuple[dict[str, Answer], list[Request]]:
    """Answers the answer cache still holds, and the requests left to run."""
    answers: dict[str, Answer] = {}
    todo: dict[str, Request] = {}
    for r in reqs:
        key = _key(r, settings)
        if key in answers or key in todo:
            continue
        cache = None if trace else _answer_cache(settings, _index(r, settings), r.hashes, r.planned)
        hit = cache.get(r.spec) if cache is not None else None
        if hit is None:
            todo[key] = r
            continue
        release = (hit.report.name, hit.report.version or "", _index(r, settings))
        answers[key] = Answer(r, hit.report, reused_from=hit.answered_at,
                              recorded=release in recorded)
        if on_answer is not None:
            on_answer(answers[key])
    return answers, list(todo.values())


def _storing(settings: Settings, on_answer: Callable[[Answer], None] | None
             ) -> Callable[[Answer], None]:
    def store(a: Answer) -> None:
        cache = None if a.recorded else _answer_cache(settings, _index(a.request, settings),
                                                      a.request.hashes, a.request.planned)
        if cache is not None:
            cache.put(a.spec, a.report)
        if on_answer is not None:
            on_answer(a)

    return store


async def _run(reqs: list[Request], settings: Settings, trace: bool,
               on_answer: Callable[[Answer], None],
               recorded: frozenset[tuple[str, str, str]] = frozenset()) -> dict[str, Answer]:
    # A bandit interpreter starts importing bandit now, on another core, while this one
    # imports the flow and resolves: a cold check of a small package then waits ~0.5 s less
    # for bandit. Killed unused at exit when every code scan came from the cache.
    from shouldi.scanners.bandit import prestart_ahead

    prestart_ahead()
    from shouldi.index.client import prepare_ssl_context

    prepare_ssl_context()  # the CA bundle loads while the flow is imported
    from shouldi.cache import Cache
    from shouldi.dataflow import Orchestrator
    from shouldi.dataflow.pool import stop_on_signals
    from shouldi.flow import build_flow, reads_tree
    from shouldi.index import make_client
    from shouldi.operations import definitions as d
    from shouldi.policy import Policy

    flow = build_flow()
    by_key = {_key(r, settings): r for r in reqs}
    # SIGINT/SIGTERM stop the run in order: children stopped, cleanup (scratch removal) run,
    # then shouldi.dataflow.pool.Interrupted (a KeyboardInterrupt) with the signal's number.
    async with stop_on_signals(), make_client(timeout=settings.timeout) as client:
        shared: dict[Any, Any] = {
            d.HttpClient: client,
            Policy: settings.policy,
            Cache: Cache(settings.cache_dir, enabled=not settings.no_cache),
            d.ScanLimits: d.ScanLimits(settings.scan_timeout, settings.max_download),
            d.AdvisoryConfig: d.AdvisoryConfig(settings.advisory_db, settings.pip_audit,
                                               settings.pip_audit_osv_url, settings.safety_cli,
                                               min(settings.scan_timeout, 120.0), settings.osv),
            d.RiskConfig: d.RiskConfig(settings.risk),
            d.TreeForPlugins: reads_tree(flow),
        }
        if settings.osv:
            from shouldi.advisories.osv_api import OsvBatcher

            shared[OsvBatcher] = OsvBatcher(client, settings.osv_url)
        if settings.pip_audit:
            from shouldi.advisories.pip_audit import PipAuditBatcher, PipAuditSource

            source = PipAuditSource(osv_url=settings.pip_audit_osv_url,
                                    timeout=min(settings.scan_timeout, 120.0))
            shared[PipAuditBatcher] = PipAuditBatcher(source, _known_pins(reqs, settings, recorded))
        if settings.now is not None:
            shared[d.Now] = settings.now
        if recorded:
            shared[d.Recorded] = recorded
        if settings.target is not None:
            from shouldi.index.target import TargetEnvironment

            shared[TargetEnvironment] = settings.target

        def seeds(r: Request) -> dict[Any, Any]:
            own: dict[Any, Any] = {d.RequirementSpec: r.spec.strip(), d.IndexUrl: _index(r, settings)}
            if r.hashes:
                own[d.HashPins] = frozenset(h.lower() for h in r.hashes)
            if r.planned is not None:
                own[d.PlannedRelease] = r.planned
            return {**shared, **own}

        out: dict[str, Answer] = {}
        async with Orchestrator(flow, max_contexts=settings.jobs, process_workers=2) as orch:
            async for ctx in orch.run_iter((k, seeds(r)) for k, r in by_key.items()):
                report = ctx.get(PackageReport)  # judge_release answers every context
                again = ctx.get(d.Wanted, True) is False or ctx.get(d.SpecWanted, True) is False
                out[ctx.context] = Answer(by_key[ctx.context], report, None,
                                          ctx if trace else None, again)
                on_answer(out[ctx.context])
    return out


def _known_pins(reqs: Sequence[Request], settings: Settings,
                recorded: frozenset[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """The releases a run will look up, as far as known before it resolves anything: planned
    ones (tree nodes, files of --all-files) and exact pins (``name==1.2``, as in a locked
    requirements file); never one a resumed scan already has."""
    from packaging.requirements import InvalidRequirement, Requirement

    pins = []
    for r in reqs:
        if r.planned is not None:
            pin = (r.planned.name, r.planned.version)
        else:
            try:
                req = Requirement(r.spec.strip())
            except InvalidRequirement:
                continue
            (spec,) = req.specifier if len(req.specifier) == 1 else (None,)
            if spec is None or spec.operator != "==" or spec.version.endswith(".*"):
                continue
            pin = (req.name, spec.version)
        if (*pin, _index(r, settings)) not in recorded:
            pins.append(pin)
    return pins


def trace_to_dict(answer: Answer) -> dict[str, Any]:
    """Every value the flow produced for this answer: ``id``, ``definition``, ``operation``
    (``"seed"`` for seeds), ``inputs`` (the ids it was computed from) and ``value``; plus the
    failures and skips. A reused answer has one value, the report, from ``answer-cache``."""
    from shouldi.dataflow.results import to_jsonable

    if answer.trace is None:
        values = [{"id": 1, "definition": "PackageReport",
                   "operation": "answer-cache" if answer.reused_from is not None else "seed",
                   "inputs": [], "value": to_jsonable(answer.report)}]
        return {"spec": answer.spec, "reused_from": answer.reused_from, "values": values,
                "failures": [], "skipped": []}
    ctx = answer.trace
    return {
        "spec": answer.spec,
        "reused_from": None,
        "values": [{"id": v.id, "definition": v.definition, "operation": v.operation or "seed",
                    "inputs": list(v.parents), "value": to_jsonable(v.value)} for v in ctx.values],
        "failures": [f.to_dict() for f in ctx.failures],
        "skipped": [{"operation": s.operation, "reason": s.reason} for s in ctx.skipped],
    }
