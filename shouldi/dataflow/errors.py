"""Errors of the dataflow engine.

::

    ShouldiError (shouldi.errors)
    └── DataFlowError                  anything the engine refuses or cannot do
        ├── DefinitionError            a type hint that cannot name a definition
        ├── OperationError             an operation declared wrongly (missing hints, bad options)
        ├── FlowValidationError        a flow that cannot run (missing producer, cycle, ...)
        ├── ExportError                a flow that cannot be exported or re-imported
        └── ResultLookupError          asking a result for a value it does not hold

Failures *inside* operations are not raised: they are recorded as
:class:`shouldi.dataflow.results.Failure` values of the context they happened in.
"""

from __future__ import annotations

from shouldi.errors import ShouldiError

__all__ = [
    "DataFlowError",
    "DefinitionError",
    "ExportError",
    "FlowValidationError",
    "OperationError",
    "ResultLookupError",
]


class DataFlowError(ShouldiError):
    """Base of the engine's errors."""


class DefinitionError(DataFlowError):
    """A type hint that does not name a definition."""


class OperationError(DataFlowError):
    """An operation declared wrongly."""


class FlowValidationError(DataFlowError):
    """A flow that cannot run. ``problems`` lists every problem found, each saying how to fix it."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class ExportError(DataFlowError):
    """A flow that cannot be written to or read from JSON."""


class ResultLookupError(DataFlowError, LookupError):
    """A value asked of a result that it does not hold (or holds more than once)."""
