"""What a run produced: every value with its provenance, failures and skips, per context."""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

from shouldi.dataflow.definition import Definition, definition_for
from shouldi.dataflow.errors import ResultLookupError

__all__ = ["ContextResult", "Failure", "RunResult", "Skip", "Value", "to_jsonable"]


class Value:
    """One value in a context: its definition, who produced it, and from which values.

    ``operation`` is ``None`` for seeds. ``parents`` are the ids of the input values.
    """

    __slots__ = ("definition", "id", "operation", "parents", "value")

    def __init__(
        self, id: int, definition: str, value: Any, operation: str | None, parents: tuple[int, ...]
    ) -> None:
        self.id = id
        self.definition = definition
        self.value = value
        self.operation = operation
        self.parents = parents

    def __repr__(self) -> str:
        return f"Value(#{self.id} {self.definition}={self.value!r} by {self.operation or 'seed'})"


@dataclasses.dataclass(frozen=True)
class Failure:
    """An operation that raised (after its retries), with the inputs it was given."""

    operation: str
    error_type: str
    message: str
    input_ids: tuple[int, ...]
    attempts: int = 1
    exception: BaseException | None = dataclasses.field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "error_type": self.error_type,
            "message": self.message,
            "input_ids": list(self.input_ids),
            "attempts": self.attempts,
        }


@dataclasses.dataclass(frozen=True)
class Skip:
    """An operation that did not run in a context, and why (``cause``: the first input that was
    never produced, if that is why)."""

    operation: str
    reason: str
    cause: str | None = None


def _key(definition: Any) -> str:
    if isinstance(definition, str):
        return definition
    if isinstance(definition, Definition):
        return definition.name
    return definition_for(definition).name


class ContextResult:
    """Everything one context produced. Definitions may be given as hints, Definitions or names."""

    def __init__(
        self,
        context: str,
        values: list[Value],
        failures: list[Failure],
        skipped: list[Skip],
        cancelled: bool = False,
    ) -> None:
        self.context = context
        self.values = values
        self.failures = failures
        self.skipped = skipped
        self.cancelled = cancelled

    @property
    def ok(self) -> bool:
        return not self.failures and not self.skipped and not self.cancelled

    def all(self, definition: Any) -> list[Any]:
        """Every value of a definition, in the order produced."""
        k = _key(definition)
        return [v.value for v in self.values if v.definition == k]

    def get(self, definition: Any, default: Any = ...) -> Any:
        """The single value of a definition; ``default`` (if given) when there is none."""
        found = self.all(definition)
        if len(found) == 1:
            return found[0]
        if not found and default is not ...:
            return default
        raise ResultLookupError(
            f"context {self.context!r} has {len(found)} values of {_key(definition)!r}, not one"
        )

    def group(self) -> dict[str, list[Any]]:
        """All values, grouped by definition name."""
        out: dict[str, list[Any]] = {}
        for v in self.values:
            out.setdefault(v.definition, []).append(v.value)
        return out

    def value_record(self, definition: Any) -> Value:
        k = _key(definition)
        for v in self.values:
            if v.definition == k:
                return v
        raise ResultLookupError(f"context {self.context!r} has no value of {k!r}")

    def lineage(self, definition: Any) -> Iterator[Value]:
        """The value of ``definition`` and every value it was derived from, depth first."""
        by_id = {v.id: v for v in self.values}
        stack = [self.value_record(definition)]
        seen: set[int] = set()
        while stack:
            v = stack.pop()
            if v.id in seen:
                continue
            seen.add(v.id)
            yield v
            stack.extend(by_id[p] for p in v.parents if p in by_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "context": self.context,
            "ok": self.ok,
            "cancelled": self.cancelled,
            "values": [
                {
                    "id": v.id,
                    "definition": v.definition,
                    "operation": v.operation,
                    "parents": list(v.parents),
                    "value": to_jsonable(v.value),
                }
                for v in self.values
            ],
            "failures": [f.to_dict() for f in self.failures],
            "skipped": [dataclasses.asdict(s) for s in self.skipped],
        }


class RunResult(Mapping[str, ContextResult]):
    """Results of a run, by context name."""

    def __init__(self, contexts: Mapping[str, ContextResult]) -> None:
        self._contexts = dict(contexts)

    def __getitem__(self, key: str) -> ContextResult:
        return self._contexts[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._contexts)

    def __len__(self) -> int:
        return len(self._contexts)

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps({"contexts": [c.to_dict() for c in self.values()]}, indent=indent)


def to_jsonable(obj: Any) -> Any:
    """A JSON-ready form of result values: dataclasses, enums, paths, dates, sets, mappings."""
    if isinstance(obj, enum.Enum):  # before str: str-valued enums are str instances too
        return to_jsonable(obj.value)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted((to_jsonable(v) for v in obj), key=str)
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, bytes):
        return obj.hex()
    return repr(obj)
