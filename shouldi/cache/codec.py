"""Result values to JSON and back: ``to_jsonable`` one way, dacite (strict) the other.

Used by every JSON cache entry, so what a cache returns is the same frozen dataclass the flow
produced. A body that does not fit the type raises ``ValueError`` (a miss for a cache).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

import dacite

from shouldi.dataflow.results import to_jsonable

__all__ = ["from_json", "to_json"]

T = TypeVar("T")

_CONFIG = dacite.Config(
    type_hooks={datetime: datetime.fromisoformat},
    cast=[enum.Enum, tuple, frozenset],
    strict=True,
)


def to_json(value: object) -> Any:
    return to_jsonable(value)


def from_json(cls: type[T], data: object) -> T:
    """``cls`` rebuilt from :func:`to_json`'s output; ``ValueError`` when it does not fit."""
    if not isinstance(data, Mapping):
        raise ValueError(f"expected an object for {cls.__name__}")
    try:
        return dacite.from_dict(cls, dict(data), config=_CONFIG)
    except (dacite.DaciteError, TypeError, KeyError, AttributeError) as e:
        raise ValueError(f"not a {cls.__name__}: {e}") from e
