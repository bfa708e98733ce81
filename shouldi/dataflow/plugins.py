"""Operations published by other distributions, under the ``shouldi.operations`` entry points.

An entry point may name a module (all its operations are taken), one operation, or a list or
tuple of operations. A plugin that fails to load is reported, not fatal to the others.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # cheap to import: the answer cache keys on the entry points alone
    from shouldi.dataflow.operation import Operation

__all__ = ["ENTRY_POINT_GROUP", "PluginLoad", "discover_operations", "operations_in"]

ENTRY_POINT_GROUP = "shouldi.operations"


@dataclass(frozen=True)
class PluginLoad:
    """What discovery found: operations by entry-point name, and the plugins that failed."""

    operations: dict[str, tuple[Operation, ...]]
    errors: dict[str, str]

    def all(self) -> list[Operation]:
        seen: dict[int, Operation] = {}
        for ops in self.operations.values():
            for o in ops:
                seen.setdefault(id(o), o)
        return list(seen.values())


def operations_in(obj: Any) -> tuple[Operation, ...]:
    """The operations a module, an operation or a sequence of operations holds."""
    from shouldi.dataflow.operation import Operation

    if isinstance(obj, Operation):
        return (obj,)
    if isinstance(obj, types.ModuleType):
        names = getattr(obj, "__all__", None) or [n for n in vars(obj) if not n.startswith("_")]
        return tuple(v for n in names if isinstance(v := getattr(obj, n, None), Operation))
    if isinstance(obj, (list, tuple)):
        return tuple(o for o in obj if isinstance(o, Operation))
    return ()


def discover_operations(group: str = ENTRY_POINT_GROUP) -> PluginLoad:
    import importlib.metadata  # only here: the answer cache's key needs the group's name alone

    found: dict[str, tuple[Operation, ...]] = {}
    errors: dict[str, str] = {}
    for ep in importlib.metadata.entry_points(group=group):
        try:
            obj = ep.load()
        except Exception as e:  # a broken plugin must not break the others
            errors[ep.name] = f"cannot load {ep.value}: {type(e).__name__}: {e}"
            continue
        ops = operations_in(obj)
        if not ops:
            errors[ep.name] = f"{ep.value} holds no operations (decorate them with @op)"
            continue
        found[ep.name] = ops
    return PluginLoad(found, errors)
