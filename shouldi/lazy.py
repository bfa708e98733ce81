"""Lazy package exports (PEP 562): a package's names load on first use, not on import.

So ``import shouldi.index.spec`` does not pull in httpx, and ``shouldi.dataflow.results`` does
not pull in the orchestrator: a warm ``shouldi install`` loads only what it uses.

>>> __getattr__, __dir__ = lazy_exports(__name__, {"DataFlow": "shouldi.dataflow.flow"})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, names: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``names`` maps each name to its module."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(names) | set(vars(sys.modules[package])))

    return __getattr__, __dir__
