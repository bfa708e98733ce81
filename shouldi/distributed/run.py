"""The client side: send requests to Dask workers as tasks, stream their answers back.

:func:`answer_on_dask` is what :func:`shouldi.api.answer` calls when
``Settings.dask_scheduler`` is set. It returns what a local run returns (one answer per
request, in order; with ``all_files`` one per file) and calls ``on_answer`` for each as soon
as its task is done (``distributed.as_completed``), in this thread, so a scan's ``-o`` sink
writes (and checkpoints) answers as they arrive and a killed client loses only the answers
still in flight. Resuming works as locally: the releases already recorded travel with the
tasks that may meet them (filtered by project name) and the worker's flow skips them.

**Tasks.** A task answers a batch of requests with one run of the flow. One request per
task would cost each package a new flow run's fixed price (the scanners' process pool is
spawned per run: 1-3 s measured on this 2-core VM, against ~1 s for a small package), so
requests go in batches of ``ceil(n / (4 x worker threads))``, at most ``settings.jobs``
(which the worker's flow then runs at once, as ``--jobs`` does locally) and at least 1:
big batches while there is much to do, single requests when there are few. A worker with
more threads (``dask worker --nthreads K``) runs K tasks at once.

**Failures are said, never a gap.** A worker that dies has its tasks run again elsewhere by
Dask (up to ``distributed.scheduler.allowed-failures`` times, 3 by default); a task that
still cannot finish, raises, or comes back unreadable makes each of its requests an
``error`` answer ("not checked: ...", :func:`shouldi.distributed.tasks.not_run`; no record
is written for it, so a resumed scan checks it again). :class:`~shouldi.distributed.session.RunStats`
counts the deaths (from the scheduler's ``remove-worker`` events that held our tasks), the
tasks run again and the requests not checked.

``trace=True`` is refused: a trace holds the live values of the worker's run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import math
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from packaging.utils import canonicalize_name

from shouldi import __version__
from shouldi.api import Answer, Request
from shouldi.distributed.errors import ClusterUnfitError
from shouldi.distributed.session import DaskSession, RunStats, active_session, dask_session
from shouldi.distributed.tasks import decode, not_run, run_batch
from shouldi.errors import UsageError
from shouldi.settings import Settings

__all__ = ["answer_on_dask", "batch_size"]

Recorded = frozenset[tuple[str, str, str]]


def batch_size(requests: int, threads: int, jobs: int) -> int:
    """Requests per task (see the module doc)."""
    return max(1, min(jobs, math.ceil(requests / (4 * max(1, threads)))))


def answer_on_dask(requests: Sequence[Request], settings: Settings, *, trace: bool = False,
                   on_answer: Callable[[Answer], None] | None = None,
                   recorded: Recorded = frozenset()) -> list[Answer]:
    """:func:`shouldi.api.answer` on the workers of ``settings.dask_scheduler``."""
    if settings.dask_scheduler is None:
        raise ValueError("answer_on_dask needs settings.dask_scheduler")
    if trace:
        raise ClusterUnfitError("--trace is not available with --dask-scheduler (a trace holds "
                                "the live values of a worker's run): drop one of the two")
    unique = list(dict.fromkeys(requests))
    session = active_session(settings.dask_scheduler)
    if session is not None:
        answers = _run(session, unique, settings, on_answer, recorded)
    else:
        with dask_session(settings.dask_scheduler, settings.timeout) as own:
            answers = _run(own, unique, settings, on_answer, recorded)
    return [a for r in requests for a in answers[r]]


def _names(batch: Sequence[Request]) -> set[str]:
    from shouldi.index import parse_spec

    names: set[str] = set()
    for r in batch:
        if r.planned is not None:
            names.add(canonicalize_name(r.planned.name))
            continue
        try:
            names.add(canonicalize_name(parse_spec(r.spec).name))
        except UsageError:
            continue
    return names


def _recorded_for(batch: Sequence[Request], recorded: Recorded) -> Recorded:
    if not recorded:
        return recorded
    names = _names(batch)
    return frozenset(r for r in recorded if canonicalize_name(r[0]) in names)


def _run(session: DaskSession, requests: list[Request], settings: Settings,
         on_answer: Callable[[Answer], None] | None, recorded: Recorded) -> dict[Request, list[Answer]]:
    as_completed = importlib.import_module("distributed").as_completed

    client = session.client()
    advisories = session.advisory_data(settings.advisory_db)
    stats = session.stats
    size = batch_size(len(requests), stats.threads, settings.jobs)
    batches = [requests[i:i + size] for i in range(0, len(requests), size)]
    run_id = uuid.uuid4().hex[:12]
    futures = {}
    for i, batch in enumerate(batches):
        key = f"shouldi-check-{run_id}-{i}"
        future = client.submit(run_batch, batch, settings, _recorded_for(batch, recorded),
                               __version__, advisories, key=key, pure=False)
        futures[future] = (key, batch)
    stats.tasks += len(batches)
    answers: dict[Request, list[Answer]] = {}
    failed: set[str] = set()
    try:
        for future in as_completed(list(futures), loop=client.loop):  # not the default client
            key, batch = futures[future]
            got, ok = _answers(future, batch, settings)
            future.release()
            if not ok:
                failed.add(key)
            for request, found in got.items():
                answers[request] = found
                stats.packages += len(found)
                stats.not_checked += 0 if ok else len(found)
                for a in found:
                    if on_answer is not None:
                        on_answer(a)
    except BaseException:  # Ctrl-C, or the sink failed: nothing more is wanted
        client.cancel(list(futures))
        raise
    _count_deaths(client, {k for k, _ in futures.values()}, failed, stats)
    return answers


def _answers(future: Any, batch: Sequence[Request], settings: Settings
             ) -> tuple[dict[Request, list[Answer]], bool]:
    """The batch's answers by request and True, or each request's "not checked" and False."""
    try:
        payload = future.result()
        decoded = [decode(item) for item in payload]
    except (Exception, asyncio.CancelledError) as e:
        return {r: [not_run(r, _why(e))] for r in batch}, False
    if not settings.all_files:
        if len(decoded) != len(batch):
            return {r: [not_run(r, "the worker's answers do not match its requests")]
                    for r in batch}, False
        return {r: [a] for r, a in zip(batch, decoded, strict=True)}, True
    # With all_files a request the worker had to plan comes back once per file (its request
    # then names the file); one planned already (a tree node's file) comes back as it went.
    own = set(batch)
    unplanned = {r for r in batch if r.planned is None}
    by_request: dict[Request, list[Answer]] = {}
    for a in decoded:
        bare = dataclasses.replace(a.request, planned=None)
        owner = a.request if a.request in own else bare if bare in unplanned else None
        if owner is None:
            return {r: [not_run(r, "the worker's answers do not match its requests")]
                    for r in batch}, False
        by_request.setdefault(owner, []).append(a)
    if any(r not in by_request for r in batch):
        return {r: [not_run(r, "the worker gave no answer for it")] for r in batch}, False
    return by_request, True


def _why(error: BaseException) -> str:
    name = type(error).__name__
    if name == "KilledWorker":
        return ("every Dask worker that ran it died (KilledWorker; Dask runs a task again "
                "distributed.scheduler.allowed-failures times)")
    if isinstance(error, asyncio.CancelledError) or "Cancelled" in name:
        return "its Dask task was cancelled (the scheduler lost it)"
    if isinstance(error, ValueError) and str(error).startswith("not an encoded answer"):
        return f"the worker's answer could not be read ({error})"
    text = " ".join(str(error).split())[:200]
    return f"its Dask task failed: {name}: {text}" if text else f"its Dask task failed: {name}"


def _count_deaths(client: Any, keys: set[str], failed: set[str], stats: RunStats) -> None:
    """Workers that died holding our tasks, and the tasks then run again and answered (from
    the scheduler's events; ``failed``: tasks that gave no answers)."""
    try:
        events = client.get_events("all")
    except Exception:  # the scheduler is gone: nothing more to learn
        return
    for _, msg in events:
        if not isinstance(msg, dict) or msg.get("action") != "remove-worker" or msg.get("expected"):
            continue
        ours = keys.intersection(str(k) for k in msg.get("processing-tasks") or ())
        if ours:
            stats.workers_lost.add(str(msg.get("worker")))
            stats.rerun |= ours - failed
