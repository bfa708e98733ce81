"""Definitions: named, typed kinds of data that wire operations together.

A definition is derived from a type hint: a class (``ExtractedTree``) or a ``typing.NewType``
(``PackageName = NewType("PackageName", str)``) names itself. Plain builtins and generics are
ambiguous (which ``str``?) and are refused with a hint to declare a NewType. ``define`` attaches
options such as ``lock=True`` (two operations never use the same value at the same time).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, TypeVar

from shouldi.dataflow.errors import DefinitionError

__all__ = ["Definition", "define", "definition_for"]

_T = TypeVar("_T")

_AMBIGUOUS = {str, int, float, bool, bytes, list, dict, tuple, set, frozenset, object, type(None)}


@dataclass(frozen=True)
class Definition:
    """A named kind of data. ``type_path`` is the import path of the type, for export."""

    name: str
    type_path: str
    lock: bool = False
    doc: str = ""

    def __str__(self) -> str:
        return self.name


_REGISTRY: dict[Any, Definition] = {}


def _type_path(hint: Any) -> str:
    module = getattr(hint, "__module__", "?")
    qualname = getattr(hint, "__qualname__", None) or getattr(hint, "__name__", repr(hint))
    return f"{module}:{qualname}"


def define(hint: _T, *, name: str | None = None, lock: bool = False, doc: str = "") -> _T:
    """Register options for the definition named by ``hint`` and return ``hint`` unchanged.

    >>> ScratchDir = define(NewType("ScratchDir", Path), lock=True)
    """
    base = definition_for(hint, _registered_only=False)
    _REGISTRY[hint] = Definition(name or base.name, base.type_path, lock, doc)
    return hint


def definition_for(hint: Any, *, _registered_only: bool = False) -> Definition:
    """The definition a type hint names. ``Optional[X]`` names X's definition."""
    if hint in _REGISTRY:
        return _REGISTRY[hint]
    if typing.get_origin(hint) is typing.Annotated:
        for meta in typing.get_args(hint)[1:]:
            if isinstance(meta, Definition):
                return meta
        return definition_for(typing.get_args(hint)[0])
    args = typing.get_args(hint)
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return definition_for(rest[0])
    if hint in _AMBIGUOUS or typing.get_origin(hint) is not None or not hasattr(hint, "__name__"):
        raise DefinitionError(
            f"type {hint!r} is too general to name a definition: "
            f"declare one, e.g. MyThing = NewType('MyThing', {getattr(hint, '__name__', hint)})"
        )
    return Definition(str(hint.__name__), _type_path(hint))
