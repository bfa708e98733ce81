"""DataFlow: operations wired by the definitions they consume and produce.

The wiring is a graph with a node per operation and per definition (edges definition →
operation for inputs, operation → definition for outputs), available as a networkx ``DiGraph``. Everything is
validated when the flow is built; each problem says how to fix it.
"""

from __future__ import annotations

import functools
import graphlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    edges: Mapping[tuple[str, str], tuple[tuple[tuple[str, str], str | None], ...]] = field(repr=False)
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
        # (kind, name) node -> its successors with the edge's parameter name; networkx gets
        # the same wiring lazily (see ``graph``): importing it costs ~0.4 s of start-up.
        edges: dict[tuple[str, str], dict[tuple[str, str], str | None]] = {}

        def add_edge(src: tuple[str, str], dst: tuple[str, str], param: str | None = None) -> None:
            edges.setdefault(src, {})[dst] = param
            edges.setdefault(dst, {})

        for o in ops:
            edges.setdefault(("op", o.name), {})
            for i in o.inputs:
                note(i.definition, o.name)
                consumers.setdefault(i.definition.name, []).append(_Consumer(o, i))
                add_edge(("def", i.definition.name), ("op", o.name), i.param)
            for c in o.conditions:
                note(c, o.name)
                consumers.setdefault(c.name, []).append(_Consumer(o, None))
                add_edge(("def", c.name), ("op", o.name))
            if o.output is not None:
                note(o.output, o.name)
                producers.setdefault(o.output.name, []).append(o)
                add_edge(("op", o.name), ("def", o.output.name))
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
        cycle = _find_cycle(edges)
        if cycle:
            path = " -> ".join(n[1] for n in cycle)
            problems.append(
                f"the flow has a cycle ({path}): an operation cannot need its own output"
            )
        if problems:
            raise FlowValidationError(problems)
        return cls(
            operations=ops,
            seeds=seed_defs,
            multiple_producers=multi,
            edges={k: tuple(v.items()) for k, v in edges.items()},
            producers={k: tuple(v) for k, v in producers.items()},
            consumers={k: tuple(v) for k, v in consumers.items()},
            definitions=definitions,
        )

    @functools.cached_property
    def graph(self) -> Any:
        """The wiring as a ``networkx.DiGraph``: nodes ``("op", name)`` and ``("def", name)``."""
        import networkx as nx

        graph = nx.DiGraph()
        for o in self.operations:
            graph.add_node(("op", o.name), operation=o)
        for src, targets in self.edges.items():
            graph.add_node(src)
            for dst, param in targets:
                graph.add_edge(src, dst, param=param)
        return graph

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


def _find_cycle(edges: Mapping[tuple[str, str], Mapping[tuple[str, str], object]]) -> list[tuple[str, str]]:
    """A cycle as a list of nodes (first node repeated last), or an empty list."""
    sorter = graphlib.TopologicalSorter({node: list(succ) for node, succ in edges.items()})
    try:
        sorter.prepare()
    except graphlib.CycleError as e:
        return list(reversed(e.args[1]))
    return []
