"""The orchestrator: runs a DataFlow over many contexts concurrently.

Within a context, an operation is dispatched as soon as every input has a value, once per new
combination of input values (the value that arrived last completes the combination, so each
combination runs exactly once). The dispatch cost is a dictionary look-up per consumer of the new
value: nothing walks a value's ancestry, so the cost per operation does not grow with the run.

When a context goes quiet (nothing running), operations still waiting only on *optional*
inputs run with their defaults; what remains is recorded as skipped, with the reason; then
the cleanup stage runs. Cleanup also runs after failures and on cancellation (Ctrl-C).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
from collections.abc import AsyncIterator, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from shouldi.dataflow.definition import Definition, definition_for
from shouldi.dataflow.errors import DataFlowError
from shouldi.dataflow.flow import DataFlow
from shouldi.dataflow.inputs import Missing
from shouldi.dataflow.operation import Operation, call_in_executor
from shouldi.dataflow.results import ContextResult, Failure, RunResult, Skip, Value

__all__ = ["Orchestrator", "run_flow"]

Seeds = Mapping[Any, Any]
_MISSING = object()
_COLLECT = object()


class Orchestrator:
    """Runs a flow. Use as ``async with Orchestrator(flow) as o: await o.run(contexts)``.

    ``max_contexts`` bounds how many contexts are in flight at once; ``process_workers`` sizes
    the process pool used by operations declared with ``executor="process"``. The pool is made
    on the first call that needs it (none for a run whose process calls are all small enough
    to run here, see ``op(here_when=...)``) and its workers serve every context of the run.
    """

    def __init__(
        self, flow: DataFlow, *, max_contexts: int = 64, process_workers: int | None = None
    ) -> None:
        if max_contexts < 1:
            raise DataFlowError("max_contexts must be at least 1")
        self.flow = flow
        self.max_contexts = max_contexts
        self.process_workers = process_workers
        self._pool: ProcessPoolExecutor | None = None
        self._ids = itertools.count(1)
        self._names: dict[Any, str] = {}
        # Dispatch tables, computed once per orchestrator.
        self._processing = [o for o in flow.operations if o.stage == "processing"]
        self._cleanup = [o for o in flow.operations if o.stage == "cleanup"]
        self._sources = [o for o in self._processing if not o.inputs and not o.conditions]
        self._waiting_order = _topological(flow, self._processing)
        self._consumers: dict[str, list[Operation]] = {}
        for o in self._processing:
            for dname in {i.definition.name for i in o.inputs} | {c.name for c in o.conditions}:
                self._consumers.setdefault(dname, []).append(o)

    async def __aenter__(self) -> Orchestrator:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def process_pool(self) -> ProcessPoolExecutor:
        """The pool, made on first use (see :mod:`shouldi.dataflow.pool`: its workers die with us)."""
        if self._pool is None:
            from shouldi.dataflow.pool import make_process_pool

            self._pool = make_process_pool(self.process_workers)
        return self._pool

    async def run(self, contexts: Mapping[str, Seeds] | Iterable[tuple[str, Seeds]]) -> RunResult:
        """Run every context; results keep the order in which contexts were given."""
        items = list(contexts.items()) if isinstance(contexts, Mapping) else list(contexts)
        results = {r.context: r async for r in self.run_iter(items)}
        return RunResult({name: results[name] for name, _ in items})

    async def run_iter(self, contexts: Iterable[tuple[str, Seeds]]) -> AsyncIterator[ContextResult]:
        """Yield each context's result as soon as it is complete, at most ``max_contexts`` at once."""
        source = iter(contexts)
        loop = asyncio.get_running_loop()
        active: set[asyncio.Task[ContextResult]] = set()
        finished: collections.deque[asyncio.Task[ContextResult]] = collections.deque()
        wake: list[asyncio.Future[None]] = []

        def on_done(task: asyncio.Task[ContextResult]) -> None:
            finished.append(task)
            if wake and not wake[0].done():
                wake[0].set_result(None)

        try:
            while True:
                for name, seeds in itertools.islice(source, self.max_contexts - len(active)):
                    task = loop.create_task(self.run_context(name, seeds))
                    task.add_done_callback(on_done)
                    active.add(task)
                if not active:
                    return
                if not finished:
                    wake[:] = [loop.create_future()]
                    await wake[0]
                while finished:
                    task = finished.popleft()
                    active.discard(task)
                    yield task.result()
        finally:
            if active:
                for task in active:
                    task.cancel()
                await asyncio.gather(*active, return_exceptions=True)

    async def run_context(self, name: str, seeds: Seeds) -> ContextResult:
        return await _ContextRun(self, name).run(seeds)

    def definition_name(self, hint: Any) -> str:
        name = self._names.get(hint)
        if name is None:
            name = hint.name if isinstance(hint, Definition) else definition_for(hint).name
            self._names[hint] = name
        return name


_Job = tuple[Operation, tuple[Any, ...], list[Value]]


class _ContextRun:
    """The state of one context while it runs.

    One driver coroutine per context dispatches ready jobs: a job runs inline when it is the only
    thing to do (no task is created: the common chained case costs a function call), and as a
    task when several are ready, so independent operations overlap.
    """

    def __init__(self, orch: Orchestrator, name: str) -> None:
        self.orch = orch
        self.flow = orch.flow
        self.name = name
        self.values: list[Value] = []
        self.by_def: dict[str, list[Value]] = {}
        self.failures: list[Failure] = []
        self.skipped: list[Skip] = []
        self.failed_ops: set[str] = set()
        self.skipped_ops: set[str] = set()
        self.dispatched: set[str] = set()
        self.ready: list[_Job] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.locks: dict[int, asyncio.Lock] = {}
        self.wake: asyncio.Future[None] | None = None

    async def run(self, seeds: Seeds) -> ContextResult:
        cancelled = False
        try:
            for hint, value in seeds.items():
                self.add(self.orch.definition_name(hint), value, None, ())
            for o in self.orch._sources:
                self.try_dispatch(o, None, None)
            await self.drive()
            # Operations waiting only on optional inputs run with defaults once all is quiet.
            while self.dispatch_waiting():
                await self.drive()
            self.record_skips()
        except asyncio.CancelledError:
            cancelled = True
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
        finally:
            await self.run_cleanup()
        result = ContextResult(self.name, self.values, self.failures, self.skipped, cancelled)
        if cancelled:
            raise asyncio.CancelledError
        return result

    async def drive(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if self.ready:
                if len(self.ready) == 1 and not self.tasks:
                    await self.execute(*self.ready.pop())
                    continue
                for job in self.ready:
                    task = loop.create_task(self.execute(*job))
                    self.tasks.add(task)
                    task.add_done_callback(self.task_done)
                self.ready.clear()
            if not self.tasks:
                return
            self.wake = loop.create_future()
            await self.wake

    def task_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if (self.ready or not self.tasks) and self.wake is not None and not self.wake.done():
            self.wake.set_result(None)

    def add(self, dname: str, value: Any, op_name: str | None, parents: tuple[int, ...]) -> None:
        v = Value(next(self.orch._ids), dname, value, op_name, parents)
        self.values.append(v)
        self.by_def.setdefault(dname, []).append(v)
        for consumer in self.orch._consumers.get(dname, ()):
            self.try_dispatch(consumer, dname, v)

    def try_dispatch(self, o: Operation, trigger: str | None, new: Value | None,
                     quiet: bool = False) -> None:
        choices: list[list[Any]] = []
        for i in o.inputs:
            dname = i.definition.name
            if i.collect:  # every value, once nothing else can produce one
                if not quiet:
                    return
                choices.append([_COLLECT])
            elif dname == trigger:
                choices.append([new])
            elif dname in self.by_def:
                choices.append(self.by_def[dname])
            elif i.optional and (trigger is None or dname not in self.flow.producers):
                choices.append([_MISSING])
            else:
                return
        conds: list[Value] = []
        for c in o.conditions:
            if c.name == trigger and new is not None:
                conds.append(new)
            elif c.name in self.by_def:
                conds.append(self.by_def[c.name][-1])
            else:
                return
        if any(not cv.value for cv in conds):
            if o.name not in self.skipped_ops:
                self.skipped_ops.add(o.name)
                falsy = next(cv.definition for cv in conds if not cv.value)
                self.skipped.append(Skip(o.name, f"condition {falsy!r} is false"))
            return
        self.dispatched.add(o.name)
        if all(len(c) == 1 for c in choices):
            self.ready.append((o, tuple(c[0] for c in choices), conds))
        else:
            self.ready.extend((o, combo, conds) for combo in itertools.product(*choices))

    async def execute(self, o: Operation, combo: tuple[Any, ...], conds: list[Value]) -> None:
        kwargs: dict[str, Any] = {}
        parents: list[int] = []
        locked: list[Value] = []
        for i, v in zip(o.inputs, combo, strict=True):
            if v is _COLLECT:
                found = self.by_def.get(i.definition.name, [])
                kwargs[i.param] = tuple(x.value for x in found) + (
                    self.explain_each(i.definition.name, found) if i.explain else ())
                parents.extend(x.id for x in found)
                continue
            if v is _MISSING:
                kwargs[i.param] = self.explain(i.definition.name) if i.explain else i.default
                continue
            kwargs[i.param] = v.value
            parents.append(v.id)
            if i.definition.lock:
                locked.append(v)
        parents.extend(c.id for c in conds)
        if locked:
            await self.call_locked(o, kwargs, tuple(parents), sorted(locked, key=_value_id))
        else:
            await self.call(o, kwargs, tuple(parents))

    async def call_locked(
        self, o: Operation, kwargs: dict[str, Any], parents: tuple[int, ...], locked: list[Value]
    ) -> None:
        locks = [self.locks.setdefault(v.id, asyncio.Lock()) for v in locked]
        for lock in locks:  # always in value-id order: no deadlock between operations
            await lock.acquire()
        try:
            await self.call(o, kwargs, parents)
        finally:
            for lock in reversed(locks):
                lock.release()

    async def call(self, o: Operation, kwargs: dict[str, Any], parents: tuple[int, ...]) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                if o.is_async and o.timeout is None:
                    result = await o.func(**kwargs)
                else:
                    result = await self.invoke(o, kwargs)
            except asyncio.CancelledError:
                raise
            except BaseException as e:
                retryable = isinstance(e, o.retry_on) or (
                    isinstance(e, TimeoutError) and o.timeout is not None
                )
                if attempt <= o.retries and retryable:
                    await asyncio.sleep(o.retry_backoff * 2 ** (attempt - 1))
                    continue
                if not isinstance(e, Exception):
                    raise
                self.fail(o, e, parents, attempt)
                return
            if result is not None and o.output is not None:
                self.add(o.output.name, result, o.name, parents)
            return

    async def invoke(self, o: Operation, kwargs: dict[str, Any]) -> Any:
        if o.is_async:
            coro = o.func(**kwargs)
        else:
            pool = None if o.runs_here(kwargs) else self.orch.process_pool()
            coro = call_in_executor(o, kwargs, pool)
        if o.timeout is None:
            return await coro
        try:
            return await asyncio.wait_for(coro, o.timeout)
        except asyncio.TimeoutError as e:
            raise TimeoutError(f"timed out after {o.timeout:g} s") from e

    def fail(self, o: Operation, e: BaseException, parents: tuple[int, ...], attempts: int) -> None:
        self.failed_ops.add(o.name)
        message = str(e) or type(e).__name__
        self.failures.append(Failure(o.name, type(e).__name__, message, parents, attempts, e))

    def dispatch_waiting(self) -> bool:
        """Dispatch the first operation (in the flow's topological order) whose only missing
        inputs are optional or collected; True if one started.

        One at a time: an operation downstream of another waiting one must see what that one
        produces, so the context is driven to quiet again before the next is tried.
        """
        for o in self.orch._waiting_order:
            if o.name in self.dispatched or o.name in self.skipped_ops:
                continue
            self.try_dispatch(o, None, None, quiet=True)
            if o.name in self.dispatched:
                return True
        return False

    def record_skips(self) -> None:
        for o in self.orch._processing:
            if o.name in self.dispatched or o.name in self.skipped_ops:
                continue
            missing = [i.definition.name for i in o.inputs if i.definition.name not in self.by_def]
            missing += [c.name for c in o.conditions if c.name not in self.by_def]
            self.skipped_ops.add(o.name)
            self.skipped.append(Skip(o.name, self.why_missing(missing), missing[0] if missing else None))

    def explain(self, dname: str, depth: int = 0) -> Missing:
        """Why ``dname`` has no value: a producer failed, was skipped (and why, down to the
        first cause), or ran and returned nothing."""
        producers = self.flow.producers.get(dname, ())
        names = {p.name for p in producers}
        failure = next((f for f in self.failures if f.operation in names), None)
        if failure is not None:
            return Missing(dname, "failed", f"{failure.operation} failed: {failure.message}",
                           failure.operation, failure.error_type, failure.operation,
                           failure.exception)
        recorded = {s.operation: s for s in self.skipped if s.operation in names}
        skips = [k for p in producers if (k := recorded.get(p.name) or self.pending_skip(p))]
        causes = [(k, self.explain(k.cause, depth + 1) if k.cause and depth < 32 else None)
                  for k in skips]
        for skip, root in causes:
            if root is not None and root.why == "failed":
                return Missing(dname, "failed", root.message, skip.operation, root.error_type,
                               root.root, root.exception)
        if causes:
            skip, root = causes[0]
            return Missing(dname, "skipped", f"{skip.operation} did not run: {skip.reason}",
                           skip.operation, None, root.root if root else skip.operation)
        if producers:
            return Missing(dname, "not produced", f"{producers[0].name} produced no {dname}",
                           producers[0].name, None, producers[0].name)
        return Missing(dname, "not given", f"no value of {dname!r} was given")

    def explain_each(self, dname: str, found: list[Value]) -> tuple[Missing, ...]:
        """A :class:`Missing` for each producer of ``dname`` that gave no value."""
        gave = {v.operation for v in found}
        out = []
        for p in self.flow.producers.get(dname, ()):
            if p.name in gave:
                continue
            failure = next((f for f in self.failures if f.operation == p.name), None)
            if failure is not None:
                out.append(Missing(dname, "failed", f"{p.name} failed: {failure.message}", p.name,
                                   failure.error_type, p.name, failure.exception))
                continue
            skip = next((s for s in self.skipped if s.operation == p.name), None)
            skip = skip or self.pending_skip(p)
            if skip is not None:
                root = self.explain(skip.cause, 1) if skip.cause else None
                if root is not None and root.why == "failed":
                    out.append(Missing(dname, "failed", root.message, p.name, root.error_type,
                                       root.root, root.exception))
                else:
                    out.append(Missing(dname, "skipped", f"{p.name} did not run: {skip.reason}",
                                       p.name, None, root.root if root else p.name))
            else:
                out.append(Missing(dname, "not produced", f"{p.name} produced no {dname}",
                                   p.name, None, p.name))
        return tuple(out)

    def pending_skip(self, o: Operation) -> Skip | None:
        """The skip ``o`` will get, if it cannot run for want of an input or a condition."""
        if o.name in self.dispatched:
            return None
        for c in o.conditions:
            vals = self.by_def.get(c.name)
            if vals and not vals[-1].value:
                return Skip(o.name, f"condition {c.name!r} is false")
        for i in o.inputs:
            if not i.optional and i.definition.name not in self.by_def:
                return Skip(o.name, self.why_missing([i.definition.name]), i.definition.name)
        return None

    def why_missing(self, missing: list[str]) -> str:
        reasons = []
        for dname in dict.fromkeys(missing):
            producers = self.flow.producers.get(dname, ())
            failed = [p.name for p in producers if p.name in self.failed_ops]
            skipped = [p.name for p in producers if p.name in self.skipped_ops]
            if failed:
                reasons.append(f"{dname!r} was not produced: {', '.join(failed)} failed")
            elif skipped:
                reasons.append(f"{dname!r} was not produced: {', '.join(skipped)} was skipped")
            elif producers:
                reasons.append(f"{dname!r} was not produced by {producers[0].name}")
            else:
                reasons.append(f"no value of {dname!r} was given")
        return "; ".join(reasons)

    async def run_cleanup(self) -> None:
        for o in self.orch._cleanup:
            choices: list[list[Any]] = []
            for i in o.inputs:
                vals = self.by_def.get(i.definition.name)
                if vals:
                    choices.append(vals)
                elif i.optional:
                    choices.append([_MISSING])
                else:
                    break
            else:
                for combo in itertools.product(*choices):
                    kwargs = {
                        i.param: (i.default if v is _MISSING else v.value)
                        for i, v in zip(o.inputs, combo, strict=True)
                    }
                    parents = tuple(v.id for v in combo if v is not _MISSING)
                    await _shielded(self.call(o, kwargs, parents))


async def _shielded(coro: Any) -> None:
    """Await ``coro`` to the end even if we are cancelled meanwhile (then re-raise)."""
    task = asyncio.ensure_future(coro)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError


def _topological(flow: DataFlow, ops: list[Operation]) -> list[Operation]:
    """``ops`` ordered so that every producer comes before its consumers."""
    import graphlib

    by_name = {o.name: o for o in ops}
    deps: dict[str, set[str]] = {o.name: set() for o in ops}
    for o in ops:
        for dname in {i.definition.name for i in o.inputs} | {c.name for c in o.conditions}:
            deps[o.name] |= {p.name for p in flow.producers.get(dname, ()) if p.name in by_name}
    return [by_name[n] for n in graphlib.TopologicalSorter(deps).static_order()]


def _value_id(v: Value) -> int:
    return v.id


def run_flow(
    flow: DataFlow,
    contexts: Mapping[str, Seeds] | Iterable[tuple[str, Seeds]],
    **options: Any,
) -> RunResult:
    """Run a flow to completion from synchronous code."""

    async def main() -> RunResult:
        async with Orchestrator(flow, **options) as orch:
            return await orch.run(contexts)

    return asyncio.run(main())
