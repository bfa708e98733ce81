"""Explained absences (``X | Missing``) and collected inputs (``Annotated[tuple[X, ...], ALL]``)."""

from __future__ import annotations

from typing import Annotated, NewType

import pytest

from shouldi.dataflow import ALL, DataFlow, Missing, OperationError, op, run_flow

Seed = NewType("Seed", int)
Raw = NewType("Raw", int)
Parsed = NewType("Parsed", int)
Extra = NewType("Extra", str)
Summary = NewType("Summary", str)
Gate = NewType("Gate", bool)
Note = NewType("Note", str)


@op
def parse(raw: Raw) -> Parsed:
    if raw < 0:
        raise ValueError("negative input")
    return Parsed(raw)


@op
def read(seed: Seed) -> Raw:
    return Raw(seed)


@op
def gate(seed: Seed) -> Gate:
    return Gate(seed != 7)


@op(conditions=[Gate])
def gated_read(seed: Seed) -> Raw:
    return Raw(seed)


@op
def extra_a(seed: Seed) -> Extra:
    return Extra(f"a{seed}")


@op
def extra_b(parsed: Parsed) -> Extra:
    return Extra(f"b{parsed}")


@op
def summarise(parsed: Parsed | Missing | None = None,
              extras: Annotated[tuple[Extra, ...], ALL] = ()) -> Summary:
    if isinstance(parsed, Missing):
        head = f"missing({parsed.why}: {parsed.message}; root={parsed.root})"
    else:
        head = f"parsed={parsed}"
    return Summary(head + " extras=" + ",".join(sorted(extras)))


@op
def final(summary: Summary | Missing | None = None) -> Note:
    return Note(f"final[{summary}]")


def _run(ops, seed):
    flow = DataFlow.build(ops, seeds=[Seed], multiple_producers=[Extra])
    return run_flow(flow, {"c": {Seed: seed}})["c"]


def test_a_failed_producer_is_explained_with_its_error():
    ctx = _run([read, parse, summarise], -1)
    assert ctx.get(Summary) == ("missing(failed: parse failed: negative input; root=parse) extras=")


def test_a_skip_is_explained_down_to_its_first_cause():
    ctx = _run([gate, gated_read, parse, summarise], 7)
    summary = ctx.get(Summary)
    assert summary.startswith("missing(skipped: parse did not run: ")
    assert "gated_read was skipped" in summary or "gated_read" in summary
    assert summary.endswith("root=gated_read) extras=")


def test_a_failure_upstream_of_a_skip_reads_as_that_failure():
    @op
    def read_fails(seed: Seed) -> Raw:
        raise RuntimeError("index unreachable")

    ctx = _run([read_fails, parse, summarise], 1)
    assert ctx.get(Summary) == ("missing(failed: read_fails failed: index unreachable;"
                                " root=read_fails) extras=")


def test_collected_input_gets_every_value_once_the_context_is_quiet():
    ctx = _run([read, parse, extra_a, extra_b, summarise], 3)
    assert ctx.get(Summary) == "parsed=3 extras=a3,b3"
    record = ctx.value_record(Summary)
    produced = {v.id: v for v in ctx.values}
    assert sorted(produced[p].definition for p in record.parents) == ["Extra", "Extra", "Parsed"]


def test_collected_input_may_be_empty():
    ctx = _run([read, parse, summarise], 2)
    assert ctx.get(Summary) == "parsed=2 extras="


def test_waiting_operations_run_in_order_so_downstream_sees_upstream():
    # summarise and final both wait on optional inputs at the end; final must see the summary
    ctx = _run([read, parse, summarise, final], 4)
    assert ctx.get(Note) == "final[parsed=4 extras=]"


def test_explained_and_collected_inputs_need_defaults():
    def no_default(parsed: Parsed | Missing) -> Summary:
        return Summary("")

    def no_default_all(extras: Annotated[tuple[Extra, ...], ALL]) -> Summary:
        return Summary("")

    with pytest.raises(OperationError, match="give it a default"):
        op(no_default)
    with pytest.raises(OperationError, match="give it a default"):
        op(no_default_all)


def test_all_needs_a_tuple_of_a_definition():
    def wrong(extras: Annotated[list[Extra], ALL] = []) -> Summary:  # noqa: B006
        return Summary("")

    with pytest.raises(OperationError, match=r"Annotated\[tuple\[X, \.\.\.\], ALL\]"):
        op(wrong)


@op
def extra_fails(seed: Seed) -> Extra:
    raise RuntimeError("plugin crashed")


@op
def collect_explained(extras: Annotated[tuple[Extra | Missing, ...], ALL] = ()) -> Summary:
    parts = [e.message if isinstance(e, Missing) else e for e in extras]
    return Summary(" | ".join(sorted(parts)))


def test_collected_and_explained_input_names_each_producer_that_gave_nothing():
    ctx = _run([read, parse, extra_a, extra_b, extra_fails, collect_explained], -1)
    # extra_a gave a value; extra_fails raised; extra_b never ran because parse raised
    assert ctx.get(Summary).split(" | ") == [
        "a-1", "extra_fails failed: plugin crashed", "parse failed: negative input"]
