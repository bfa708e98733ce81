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
from shouldi.dataflow.operation import Input, Operation, op
from shouldi.dataflow.orchestrator import Orchestrator, run_flow
from shouldi.dataflow.plugins import ENTRY_POINT_GROUP, discover_operations, operations_in
from shouldi.dataflow.results import ContextResult, Failure, RunResult, Skip, Value, to_jsonable

__all__ = [
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
