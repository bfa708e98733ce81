"""A DataFlow to JSON and back, and to a Mermaid diagram.

Operations are written by import path (``module:qualname``); reading a flow back imports them
and checks that the wiring recorded in the JSON still matches the code.
"""

from __future__ import annotations

import json
from typing import Any

from shouldi.dataflow.definition import Definition
from shouldi.dataflow.errors import ExportError
from shouldi.dataflow.flow import DataFlow
from shouldi.dataflow.operation import Operation, resolve_import_path

__all__ = [
    "FORMAT_VERSION",
    "flow_from_dict",
    "flow_from_json",
    "flow_to_dict",
    "flow_to_json",
    "flow_to_mermaid",
]

FORMAT_VERSION = 1


def flow_to_dict(flow: DataFlow) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "definitions": {
            name: {"type": d.type_path, "lock": d.lock}
            for name, d in sorted(flow.definitions.items())
        },
        "seeds": sorted(d.name for d in flow.seeds),
        "multiple_producers": sorted(d.name for d in flow.multiple_producers),
        "operations": [
            {
                "name": o.name,
                "import_path": o.import_path,
                "stage": o.stage,
                "inputs": {i.param: i.definition.name for i in o.inputs},
                "optional": sorted(i.param for i in o.inputs if i.optional),
                "conditions": [c.name for c in o.conditions],
                "output": o.output.name if o.output else None,
            }
            for o in flow.operations
        ],
    }


def flow_to_json(flow: DataFlow, indent: int | None = 2) -> str:
    return json.dumps(flow_to_dict(flow), indent=indent)


def flow_from_json(text: str) -> DataFlow:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ExportError(f"not a flow: invalid JSON ({e})") from e
    return flow_from_dict(data)


def flow_from_dict(data: dict[str, Any]) -> DataFlow:
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        raise ExportError(f"not a flow of format version {FORMAT_VERSION}")
    ops: list[Operation] = []
    for entry in data.get("operations", []):
        path = entry.get("import_path", "")
        try:
            target = resolve_import_path(path)
        except (ImportError, AttributeError, ValueError) as e:
            raise ExportError(
                f"operation {entry.get('name')!r}: cannot import {path!r}: {e}"
            ) from e
        if not isinstance(target, Operation):
            raise ExportError(f"{path!r} is not an operation (decorate it with @op)")
        if target.name != entry.get("name"):
            target = _renamed(target, entry["name"])
        wiring = {i.param: i.definition.name for i in target.inputs}
        out = target.output.name if target.output else None
        if wiring != entry.get("inputs") or out != entry.get("output"):
            raise ExportError(
                f"operation {entry.get('name')!r} ({path}) no longer matches the exported wiring:"
                f" export the flow again"
            )
        ops.append(target)
    defs = data.get("definitions", {})

    def definition(name: str) -> Definition:
        info = defs.get(name, {})
        return Definition(name, info.get("type", "?"), bool(info.get("lock", False)))

    return DataFlow.build(
        ops,
        seeds=[definition(n) for n in data.get("seeds", [])],
        multiple_producers=[definition(n) for n in data.get("multiple_producers", [])],
    )


def _renamed(o: Operation, name: str) -> Operation:
    import dataclasses

    return dataclasses.replace(o, name=name)


def flow_to_mermaid(flow: DataFlow) -> str:
    """A ``flowchart`` with a box per operation and a labelled edge per definition."""
    ids = {o.name: f"op{n}" for n, o in enumerate(flow.operations)}
    seed_ids = {d.name: f"seed{n}" for n, d in enumerate(sorted(flow.seeds, key=str))}
    lines = ["flowchart TD"]
    for name, sid in seed_ids.items():
        lines.append(f'    {sid}(["{name}"])')
    for o in flow.operations:
        shape = f'[/"{o.name}"/]' if o.stage == "cleanup" else f'["{o.name}"]'
        lines.append(f"    {ids[o.name]}{shape}")
    for o in flow.operations:
        for i in o.inputs:
            d = i.definition.name
            sources = [ids[p.name] for p in flow.producers.get(d, ())]
            if d in seed_ids:
                sources.append(seed_ids[d])
            arrow = "-.->" if i.optional else "-->"
            for src in sources:
                lines.append(f"    {src} {arrow}|{d}| {ids[o.name]}")
        for c in o.conditions:
            for p in flow.producers.get(c.name, ()):
                lines.append(f"    {ids[p.name]} -.->|if {c.name}| {ids[o.name]}")
            if c.name in seed_ids:
                lines.append(f"    {seed_ids[c.name]} -.->|if {c.name}| {ids[o.name]}")
    return "\n".join(lines) + "\n"
