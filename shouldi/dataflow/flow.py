"""DataFlow: operations wired by the definitions they consume and produce.

The wiring is a networkx ``DiGraph`` with a node per operation and per definition (edges
definition → operation for inputs, operation → definition for outputs). Everything is
validated when the flow is built; each problem says how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from shouldi.dataflow.definition import Definition, definition_for
from shouldi.dataflow.errors import FlowValidationError
from shouldi.dataflow.operation import Input, Operation

__all__ = ["DataFlow"]


@dataclass(frozen=True)
class _Consumer:
    operation: Operation
    input: Input | None  # None: the definition is a condition of the operation


@dataclass(eq=False)
class DataFlow:
    """A validated set of operations.

    ``seeds`` are hints (or definitions) of values given when a context starts.
    ``multiple_producers`` lists definitions that more than one operation may produce.
    """

    operations: tuple[Operation, ...]
    seeds: frozenset[Definition]
    multiple_producers: frozenset[Definition]
    graph: Any = field(repr=False)  # nx.DiGraph
    producers: Mapping[str, tuple[Operation, ...]] = field(repr=False)
    consumers: Mapping[str, tuple[_Consumer, ...]] = field(repr=False)
    definitions: Mapping[str, Definition] = field(repr=False)

    @classmethod
    def build(
        cls,
        operations: Iterable[Operation],
        *,
        seeds: Iterable[Any] = (),
        multiple_producers: Iterable[Any] = (),
    ) -> DataFlow:
        ops = tuple(operations)
        seed_defs = frozenset(_as_definition(s) for s in seeds)
        multi = frozenset(_as_definition(m) for m in multiple_producers)
        problems: list[str] = []
        definitions: dict[str, Definition] = {}

        def note(d: Definition, where: str) -> None:
            known = definitions.setdefault(d.name, d)
            if known.type_path != d.type_path:
                problems.append(
                    f"two types are both named {d.name!r} ({known.type_path} and {d.type_path},"
                    f" seen in {where}): rename one of them"
                )
            elif known.lock != d.lock:
                problems.append(f"definition {d.name!r} is declared both locked and not locked")

        names: dict[str, Operation] = {}
        for o in ops:
            if o.name in names and names[o.name] is not o:
                problems.append(f"two operations are named {o.name!r}: give one another name")
            names[o.name] = o
        for d in seed_defs:
            note(d, "seeds")
        producers: dict[str, list[Operation]] = {}
        consumers: dict[str, list[_Consumer]] = {}
        graph = nx.DiGraph()
        for o in ops:
            graph.add_node(("op", o.name), operation=o)
            for i in o.inputs:
                note(i.definition, o.name)
                consumers.setdefault(i.definition.name, []).append(_Consumer(o, i))
                graph.add_edge(("def", i.definition.name), ("op", o.name), param=i.param)
            for c in o.conditions:
                note(c, o.name)
                consumers.setdefault(c.name, []).append(_Consumer(o, None))
                graph.add_edge(("def", c.name), ("op", o.name), param=None)
            if o.output is not None:
                note(o.output, o.name)
                producers.setdefault(o.output.name, []).append(o)
                graph.add_edge(("op", o.name), ("def", o.output.name))
        multi_names = {m.name for m in multi}
        seed_names = {s.name for s in seed_defs}
        for pname, prods in producers.items():
            if len(prods) > 1 and pname not in multi_names:
                who = ", ".join(p.name for p in prods)
                problems.append(
                    f"definition {pname!r} is produced by several operations ({who}): declare it in"
                    f" multiple_producers=[...] if that is intended"
                )
        for o in ops:
            for i in o.inputs:
                need = i.definition.name
                if need not in producers and need not in seed_names and not i.optional:
                    problems.append(
                        f"input {i.param!r} of operation {o.name!r} needs {need!r}, which no operation"
                        f" produces: add an operation that returns it, or declare it as a seed"
                    )
            for c in o.conditions:
                if c.name not in producers and c.name not in seed_names:
                    problems.append(
                        f"condition {c.name!r} of operation {o.name!r} is never produced: add an"
                        f" operation that returns it, or declare it as a seed"
                    )
        try:
            cycle = nx.find_cycle(graph)
        except nx.NetworkXNoCycle:
            cycle = None
        if cycle:
            path = " -> ".join(f"{n[1]}" for n, _ in cycle)
            problems.append(
                f"the flow has a cycle ({path}): an operation cannot need its own output"
            )
        if problems:
            raise FlowValidationError(problems)
        return cls(
            operations=ops,
            seeds=seed_defs,
            multiple_producers=multi,
            graph=graph,
            producers={k: tuple(v) for k, v in producers.items()},
            consumers={k: tuple(v) for k, v in consumers.items()},
            definitions=definitions,
        )

    def operation(self, name: str) -> Operation:
        for o in self.operations:
            if o.name == name:
                return o
        raise KeyError(name)

    def with_operations(self, extra: Iterable[Operation]) -> DataFlow:
        """A new flow with more operations (e.g. plugins), validated again."""
        return DataFlow.build(
            (*self.operations, *extra), seeds=self.seeds, multiple_producers=self.multiple_producers
        )


def _as_definition(item: Any) -> Definition:
    return item if isinstance(item, Definition) else definition_for(item)
