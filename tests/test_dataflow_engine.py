"""The engine: wiring, validation, concurrency, locking, failures, cleanup, timeouts, retries."""

import asyncio
import threading
import time
from pathlib import Path
from typing import NewType

import dataflow_ops as ops
import pytest

from shouldi.dataflow import (
    DataFlow,
    FlowValidationError,
    Operation,
    OperationError,
    Orchestrator,
    ResultLookupError,
    define,
    op,
    run_flow,
)

N = ops.Number


def test_wiring_follows_definitions():
    flow = DataFlow.build([ops.double, ops.square, ops.add, ops.label], seeds=[N])
    assert set(flow.graph.successors(("def", "Number"))) == {("op", "double"), ("op", "square")}
    assert [p.name for p in flow.producers["Summed"]] == ["add"]
    result = run_flow(flow, {"three": {N: 3}, "four": {N: 4}})
    assert result["three"].get(ops.Label) == "15:none"  # optional note: nothing produces it
    assert result["four"].get(ops.Summed) == 24
    assert result["four"].ok


def test_provenance_links_each_value_to_its_operation_and_inputs():
    flow = DataFlow.build([ops.double, ops.square, ops.add], seeds=[N])
    ctx = run_flow(flow, {"c": {N: 5}})["c"]
    summed = ctx.value_record(ops.Summed)
    assert summed.operation == "add"
    parents = {ctx.value_record(d).id for d in (ops.Doubled, ops.Squared)}
    assert set(summed.parents) == parents
    lineage = {v.definition for v in ctx.lineage(ops.Summed)}
    assert lineage == {"Summed", "Doubled", "Squared", "Number"}
    assert ctx.value_record(N).operation is None
    assert ctx.group() == {"Number": [5], "Doubled": [10], "Squared": [25], "Summed": [35]}


def test_get_refuses_ambiguity_and_absence():
    flow = DataFlow.build([ops.double], seeds=[N])
    ctx = run_flow(flow, {"c": {N: 1}})["c"]
    with pytest.raises(ResultLookupError, match="has 0 values of 'Squared'"):
        ctx.get(ops.Squared)
    assert ctx.get(ops.Squared, None) is None
    assert ctx.all("Doubled") == [2]


Other = NewType("Other", int)


@pytest.mark.parametrize(
    ("operations", "seeds", "message"),
    [
        (
            [ops.add],
            [N],
            "input 'd' of operation 'add' needs 'Doubled', which no operation produces: add an operation that returns it, or declare it as a seed",
        ),
        (
            [ops.double, ops.slow_a],
            [N],
            "definition 'Doubled' is produced by several operations (double, slow_a): declare it in multiple_producers=[...] if that is intended",
        ),
        ([ops.flagged], [N], "condition 'Flag' of operation 'flagged' is never produced"),
    ],
    ids=["missing-producer", "two-producers", "missing-condition"],
)
def test_validation_messages_say_how_to_fix(operations, seeds, message):
    with pytest.raises(FlowValidationError) as err:
        DataFlow.build(operations, seeds=seeds)
    assert message in str(err.value)


def test_cycle_is_refused():
    A = NewType("A", int)
    B = NewType("B", int)

    @op
    async def a_to_b(a: A) -> B:
        return B(a)

    @op
    async def b_to_a(b: B) -> A:
        return A(b)

    with pytest.raises(
        FlowValidationError, match=r"the flow has a cycle .*an operation cannot need its own output"
    ):
        DataFlow.build([a_to_b, b_to_a], seeds=[A])


def test_multiple_producers_when_declared():
    flow = DataFlow.build([ops.double, ops.slow_a], seeds=[N], multiple_producers=[ops.Doubled])
    assert len(flow.producers["Doubled"]) == 2


def test_unannotated_parameter_is_refused():
    def f(x) -> ops.Label:  # type: ignore[no-untyped-def]
        return ops.Label("")

    with pytest.raises(
        OperationError, match=r"Missing type hint for parameter 'x' of .*f\. Please add one\."
    ):
        op(f)


def test_missing_return_hint_and_vague_types_are_refused():
    def g(n: ops.Number):  # type: ignore[no-untyped-def]
        return n

    with pytest.raises(OperationError, match="Missing return type hint"):
        op(g)

    def h(n: str) -> ops.Label:
        return ops.Label(n)

    with pytest.raises(
        OperationError,
        match="too general to name a definition: declare one, e.g. MyThing = NewType",
    ):
        op(h)


def test_independent_slow_operations_overlap():
    ops.SLOW.peak = 0
    flow = DataFlow.build([ops.slow_a, ops.slow_b], seeds=[N])
    start = time.perf_counter()
    result = run_flow(flow, {"c": {N: 1}})
    elapsed = time.perf_counter() - start
    assert result["c"].ok
    assert ops.SLOW.peak == 2  # both were inside at the same moment
    assert elapsed < 0.39


def test_sync_operation_does_not_block_the_loop():
    ticks = []
    Tick = NewType("Tick", int)

    @op
    async def ticker(n: N) -> Tick:
        for _ in range(5):
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.02)
        return Tick(len(ticks))

    flow = DataFlow.build([ticker, ops.slow_b], seeds=[N])
    assert run_flow(flow, {"c": {N: 1}})["c"].get(Tick) == 5
    assert ticks[-1] - ticks[0] < 0.18  # ticking went on while slow_b slept in its thread


def test_process_executor_runs_in_another_process():
    import os

    flow = DataFlow.build([ops.where_am_i], seeds=[N])
    pid = run_flow(flow, {"c": {N: 1}})["c"].get(ops.Pid)
    assert pid != os.getpid()


def test_locked_value_is_never_used_by_two_operations_at_once(tmp_path):
    probe = ops.Probe()
    A = NewType("A", str)
    B = NewType("B", str)
    C = NewType("C", str)

    def use(shared: Path, tag: str) -> str:
        probe.enter()
        try:
            time.sleep(0.05)  # would overlap if the lock did not hold
            return tag
        finally:
            probe.leave()

    @op
    def first(shared: ops.Shared) -> A:
        return A(use(shared, "a"))

    @op
    def second(shared: ops.Shared) -> B:
        return B(use(shared, "b"))

    @op
    async def third(shared: ops.Shared) -> C:
        probe.enter()
        await asyncio.sleep(0.05)
        probe.leave()
        return C("c")

    flow = DataFlow.build([first, second, third], seeds=[ops.Shared])
    result = run_flow(flow, {"c": {ops.Shared: tmp_path}})["c"]
    assert result.ok and probe.calls == 3
    assert probe.peak == 1


def test_unlocked_definition_allows_overlap(tmp_path):
    probe = ops.Probe()
    Free = NewType("Free", str)
    X = NewType("X", str)
    Y = NewType("Y", str)

    @op
    def x(f: Free) -> X:
        probe.enter()
        time.sleep(0.05)
        probe.leave()
        return X("x")

    @op
    def y(f: Free) -> Y:
        probe.enter()
        time.sleep(0.05)
        probe.leave()
        return Y("y")

    run_flow(DataFlow.build([x, y], seeds=[Free]), {"c": {Free: "f"}})
    assert probe.peak == 2  # the control: without a lock they do overlap


Boom = NewType("Boom", int)
AfterBoom = NewType("AfterBoom", int)


@op
async def explode(n: N) -> Boom:
    if n == 13:
        raise ValueError("unlucky number")
    return Boom(n)


@op
async def after(b: Boom) -> AfterBoom:
    return AfterBoom(b + 1)


def test_failure_is_recorded_downstream_skipped_other_contexts_go_on():
    flow = DataFlow.build([explode, after, ops.double], seeds=[N])
    result = run_flow(flow, {"bad": {N: 13}, "good": {N: 2}})
    bad, good = result["bad"], result["good"]
    assert [(f.operation, f.error_type, f.message) for f in bad.failures] == [
        ("explode", "ValueError", "unlucky number")
    ]
    assert bad.failures[0].input_ids == (bad.value_record(N).id,)
    assert [(s.operation, s.reason) for s in bad.skipped] == [
        ("after", "'Boom' was not produced: explode failed")
    ]
    assert bad.get(ops.Doubled) == 26  # the independent branch still ran
    assert good.ok and good.get(AfterBoom) == 3


def test_skips_propagate_transitively_and_from_missing_seeds():
    Z = NewType("Z", int)

    @op
    async def after_after(a: AfterBoom) -> Z:
        return Z(a)

    flow = DataFlow.build([explode, after, after_after], seeds=[N])
    bad = run_flow(flow, {"bad": {N: 13}})["bad"]
    assert {s.operation: s.reason for s in bad.skipped} == {
        "after": "'Boom' was not produced: explode failed",
        "after_after": "'AfterBoom' was not produced: after was skipped",
    }
    empty = run_flow(flow, {"empty": {}})["empty"]
    assert ("explode", "no value of 'Number' was given") in [
        (s.operation, s.reason) for s in empty.skipped
    ]


def test_optional_input_takes_default_when_its_producer_fails():
    NoteIn = NewType("NoteIn", int)

    @op
    async def make_note(n: NoteIn) -> ops.Note:
        raise RuntimeError("no note today")

    flow = DataFlow.build(
        [ops.double, ops.square, ops.add, ops.label, make_note], seeds=[N, NoteIn]
    )
    ctx = run_flow(flow, {"c": {N: 1, NoteIn: 1}})["c"]
    assert ctx.get(ops.Label) == "3:none"
    assert [f.operation for f in ctx.failures] == ["make_note"]


def test_optional_input_waits_for_its_producer():
    flow = DataFlow.build(
        [ops.double, ops.square, ops.add, ops.label, ops.flagged], seeds=[N, ops.Flag]
    )
    ctx = run_flow(flow, {"c": {N: 2, ops.Flag: True}})["c"]
    assert ctx.get(ops.Label) == "8:flagged 2"
    off = run_flow(flow, {"c": {N: 2, ops.Flag: False}})["c"]
    assert off.get(ops.Label) == "8:none"
    assert [(s.operation, s.reason) for s in off.skipped] == [
        ("flagged", "condition 'Flag' is false")
    ]


Scratch = define(NewType("Scratch", Path), lock=True)
Result = NewType("Result", str)
CLEANED: list[str] = []


@op
def make_scratch(base: N) -> Scratch:
    return Scratch(Path(f"/tmp/never-used-{base}"))


@op
async def work(s: Scratch) -> Result:
    if "13" in str(s):
        raise OSError("disk on fire")
    await asyncio.sleep(10 if "99" in str(s) else 0)
    return Result("done")


@op(stage="cleanup")
def remove_scratch(s: Scratch) -> None:
    CLEANED.append(str(s))


def test_cleanup_runs_after_success_and_after_errors():
    CLEANED.clear()
    flow = DataFlow.build([make_scratch, work, remove_scratch], seeds=[N])
    result = run_flow(flow, {"ok": {N: 1}, "bad": {N: 13}})
    assert result["ok"].get(Result) == "done"
    assert result["bad"].failures[0].message == "disk on fire"
    assert sorted(CLEANED) == ["/tmp/never-used-1", "/tmp/never-used-13"]


def test_cleanup_runs_on_cancellation():
    CLEANED.clear()
    flow = DataFlow.build([make_scratch, work, remove_scratch], seeds=[N])

    async def main() -> None:
        async with Orchestrator(flow) as orch:
            task = asyncio.ensure_future(orch.run({"slow": {N: 99}}))
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    assert CLEANED == ["/tmp/never-used-99"]


def test_timeout_is_a_failure_not_a_hang():
    Slow = NewType("Slow", int)

    @op(timeout=0.05)
    async def sleepy(n: N) -> Slow:
        await asyncio.sleep(5)
        return Slow(n)

    start = time.perf_counter()
    ctx = run_flow(DataFlow.build([sleepy], seeds=[N]), {"c": {N: 1}})["c"]
    assert time.perf_counter() - start < 1
    assert [(f.error_type, f.message) for f in ctx.failures] == [
        ("TimeoutError", "timed out after 0.05 s")
    ]


def test_retries_until_success_and_gives_up_after_the_last():
    calls: list[int] = []
    Flaky = NewType("Flaky", int)

    @op(retries=2, retry_backoff=0.001, retry_on=(ConnectionError,))
    async def flaky(n: N) -> Flaky:
        calls.append(n)
        if len([c for c in calls if c == n]) < n:
            raise ConnectionError(f"try {len(calls)}")
        return Flaky(n)

    flow = DataFlow.build([flaky], seeds=[N])
    result = run_flow(flow, {"two": {N: 2}, "five": {N: 5}})
    assert result["two"].get(Flaky) == 2
    assert result["five"].failures[0].attempts == 3
    assert calls.count(5) == 3


def test_errors_not_listed_in_retry_on_are_not_retried():
    calls = []
    Once = NewType("Once", int)

    @op(retries=3, retry_on=(ConnectionError,))
    async def once(n: N) -> Once:
        calls.append(n)
        raise KeyError("nope")

    ctx = run_flow(DataFlow.build([once], seeds=[N]), {"c": {N: 1}})["c"]
    assert calls == [1] and ctx.failures[0].attempts == 1


def test_contexts_run_concurrently_but_bounded():
    probe = ops.Probe()
    Out = NewType("Out", int)

    @op
    async def hold(n: N) -> Out:
        probe.enter()
        await asyncio.sleep(0.02)
        probe.leave()
        return Out(n)

    flow = DataFlow.build([hold], seeds=[N])
    result = run_flow(flow, ((f"c{i}", {N: i}) for i in range(20)), max_contexts=4)
    assert [r.get(Out) for r in result.values()] == list(range(20))
    assert probe.peak == 4


def test_several_values_of_a_definition_run_every_combination():
    Letter = NewType("Letter", str)
    Pair = NewType("Pair", str)

    @op
    async def pair(n: N, letter: Letter) -> Pair:
        return Pair(f"{n}{letter}")

    @op
    async def letters(n: ops.Doubled) -> Letter:
        return Letter("x")

    flow = DataFlow.build([pair], seeds=[N, Letter])
    ctx = run_flow(flow, {"c": {N: 1, Letter: "a"}})["c"]
    assert ctx.all(Pair) == ["1a"]


def test_operation_is_still_a_plain_function():
    assert isinstance(ops.double, Operation)
    assert asyncio.run(ops.double(ops.Number(4))) == 8
    assert ops.label(ops.Summed(3)) == "3:none"


def test_thread_safety_of_results_under_many_contexts():
    flow = DataFlow.build([ops.double, ops.square, ops.add], seeds=[N])
    result = run_flow(flow, ((str(i), {N: i}) for i in range(500)), max_contexts=100)
    assert all(result[str(i)].get(ops.Summed) == 2 * i + i * i for i in range(500))
    assert threading.active_count() >= 1
