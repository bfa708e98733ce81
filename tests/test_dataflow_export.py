"""Exporting flows (JSON, Mermaid) and finding plugin operations through entry points."""

from __future__ import annotations

import json
import sys
import textwrap

import dataflow_ops as ops
import pytest

from shouldi.dataflow import (
    DataFlow,
    ExportError,
    discover_operations,
    flow_from_json,
    flow_to_json,
    flow_to_mermaid,
    run_flow,
)


def build():
    return DataFlow.build(
        [ops.double, ops.square, ops.add, ops.label, ops.flagged], seeds=[ops.Number, ops.Flag]
    )


def test_json_round_trip_gives_an_equivalent_flow():
    flow = build()
    text = flow_to_json(flow)
    data = json.loads(text)
    assert data["seeds"] == ["Flag", "Number"]
    assert {o["name"]: o["import_path"] for o in data["operations"]}["add"] == "dataflow_ops:add"
    assert data["definitions"]["Number"] == {"type": "dataflow_ops:Number", "lock": False}
    again = flow_from_json(text)
    assert [o.name for o in again.operations] == [o.name for o in flow.operations]
    assert flow_to_json(again) == text
    ctx = run_flow(again, {"c": {ops.Number: 3, ops.Flag: True}})["c"]
    assert ctx.get(ops.Label) == "15:flagged 3"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format_version=99), "not a flow of format version 1"),
        (
            lambda d: d["operations"][0].update(import_path="dataflow_ops:nothing_here"),
            "cannot import 'dataflow_ops:nothing_here'",
        ),
        (
            lambda d: d["operations"][0].update(import_path="dataflow_ops:Probe"),
            "is not an operation",
        ),
        (
            lambda d: d["operations"][0].update(inputs={"n": "Other"}),
            "no longer matches the exported wiring",
        ),
    ],
    ids=["version", "missing", "not-an-op", "stale-wiring"],
)
def test_bad_flow_json_is_refused(mutate, message):
    data = json.loads(flow_to_json(build()))
    mutate(data)
    with pytest.raises(ExportError, match=message):
        flow_from_json(json.dumps(data))


def test_invalid_json_is_refused():
    with pytest.raises(ExportError, match="not a flow: invalid JSON"):
        flow_from_json("{nope")


def test_mermaid_has_every_operation_and_edge():
    text = flow_to_mermaid(build())
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    ids = {
        line.split("[")[0].strip(): line
        for line in lines
        if line.strip().startswith("op") and '["' in line
    }
    assert '    seed0(["Flag"])' in lines
    by_name = {line.split('"')[1]: key for key, line in ids.items()}
    assert set(by_name) == {"double", "square", "add", "label", "flagged"}
    assert f"    {by_name['double']} -->|Doubled| {by_name['add']}" in lines
    assert (
        f"    {by_name['flagged']} -.->|Note| {by_name['label']}" in lines
    )  # optional input: dotted
    assert any("-.->|if Flag|" in line and by_name["flagged"] in line for line in lines)


def test_plugin_operations_are_discovered_and_join_a_flow(tmp_path, monkeypatch):
    pkg = tmp_path / "shouldi_extra_plugin.py"
    pkg.write_text(
        textwrap.dedent("""
        from typing import NewType
        from shouldi.dataflow import op
        import dataflow_ops

        Shout = NewType("Shout", str)

        @op
        async def shout(label: dataflow_ops.Label) -> Shout:
            return Shout(label.upper() + "!")
    """)
    )
    dist = tmp_path / "shouldi_extra_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: shouldi-extra-plugin\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        "[shouldi.operations]\nextra = shouldi_extra_plugin\nbroken = no_such_module_xyz\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    found = discover_operations()
    assert [o.name for o in found.operations["extra"]] == ["shout"]
    assert "cannot load no_such_module_xyz" in found.errors["broken"]
    flow = DataFlow.build([ops.double, ops.square, ops.add, ops.label], seeds=[ops.Number])
    bigger = flow.with_operations(found.operations["extra"])
    import shouldi_extra_plugin

    assert (
        run_flow(bigger, {"c": {ops.Number: 1}})["c"].get(shouldi_extra_plugin.Shout) == "3:NONE!"
    )
    sys.modules.pop("shouldi_extra_plugin", None)


def test_builtin_operations_are_published_under_the_entry_point_group():
    import importlib.metadata

    names = {
        ep.name: ep.value for ep in importlib.metadata.entry_points(group="shouldi.operations")
    }
    assert names.get("builtin") == "shouldi.operations"
