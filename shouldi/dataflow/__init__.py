"""shouldi's dataflow engine: typed operations wired by the kinds of data they exchange.

>>> from typing import NewType
>>> Name = NewType("Name", str); Greeting = NewType("Greeting", str)
>>> @op
... async def greet(name: Name) -> Greeting:
...     return Greeting(f"hello {name}")
>>> flow = DataFlow.build([greet], seeds=[Name])
>>> run_flow(flow, {"one": {Name: "world"}})["one"].get(Greeting)
'hello world'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shouldi.lazy import lazy_exports

if TYPE_CHECKING:
    from shouldi.dataflow.definition import Definition, define, definition_for
    from shouldi.dataflow.errors import (
        DataFlowError,
        DefinitionError,
        ExportError,
        FlowValidationError,
        OperationError,
        ResultLookupError,
    )
    from shouldi.dataflow.export import (
        flow_from_dict,
        flow_from_json,
        flow_to_dict,
        flow_to_json,
        flow_to_mermaid,
    )
    from shouldi.dataflow.flow import DataFlow
    from shouldi.dataflow.inputs import ALL, Missing
    from shouldi.dataflow.operation import Input, Operation, op
    from shouldi.dataflow.orchestrator import Orchestrator, run_flow
    from shouldi.dataflow.plugins import ENTRY_POINT_GROUP, discover_operations, operations_in
    from shouldi.dataflow.results import ContextResult, Failure, RunResult, Skip, Value, to_jsonable

# Names load on first use (PEP 562): `import shouldi.dataflow.results` alone stays cheap.
_LAZY = {
    "ALL": "shouldi.dataflow.inputs",
    "Missing": "shouldi.dataflow.inputs",
    "ContextResult": "shouldi.dataflow.results",
    "DataFlow": "shouldi.dataflow.flow",
    "DataFlowError": "shouldi.dataflow.errors",
    "Definition": "shouldi.dataflow.definition",
    "DefinitionError": "shouldi.dataflow.errors",
    "ENTRY_POINT_GROUP": "shouldi.dataflow.plugins",
    "ExportError": "shouldi.dataflow.errors",
    "Failure": "shouldi.dataflow.results",
    "FlowValidationError": "shouldi.dataflow.errors",
    "Input": "shouldi.dataflow.operation",
    "Operation": "shouldi.dataflow.operation",
    "OperationError": "shouldi.dataflow.errors",
    "Orchestrator": "shouldi.dataflow.orchestrator",
    "ResultLookupError": "shouldi.dataflow.errors",
    "RunResult": "shouldi.dataflow.results",
    "Skip": "shouldi.dataflow.results",
    "Value": "shouldi.dataflow.results",
    "define": "shouldi.dataflow.definition",
    "definition_for": "shouldi.dataflow.definition",
    "discover_operations": "shouldi.dataflow.plugins",
    "flow_from_dict": "shouldi.dataflow.export",
    "flow_from_json": "shouldi.dataflow.export",
    "flow_to_dict": "shouldi.dataflow.export",
    "flow_to_json": "shouldi.dataflow.export",
    "flow_to_mermaid": "shouldi.dataflow.export",
    "op": "shouldi.dataflow.operation",
    "operations_in": "shouldi.dataflow.plugins",
    "run_flow": "shouldi.dataflow.orchestrator",
    "to_jsonable": "shouldi.dataflow.results",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
del TYPE_CHECKING, lazy_exports

__all__ = [
    "ALL",
    "ENTRY_POINT_GROUP",
    "ContextResult",
    "DataFlow",
    "DataFlowError",
    "Definition",
    "DefinitionError",
    "ExportError",
    "Failure",
    "FlowValidationError",
    "Input",
    "Missing",
    "Operation",
    "OperationError",
    "Orchestrator",
    "ResultLookupError",
    "RunResult",
    "Skip",
    "Value",
    "define",
    "definition_for",
    "discover_operations",
    "flow_from_dict",
    "flow_from_json",
    "flow_to_dict",
    "flow_to_json",
    "flow_to_mermaid",
    "op",
    "operations_in",
    "run_flow",
    "to_jsonable",
]
