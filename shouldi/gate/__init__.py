"""The CI gate: an allowlist and options decide, per package, whether a report blocks a merge.

:func:`decide` turns ``(dependency, report)`` pairs into a :class:`GateResult` (with the exit
code); :mod:`shouldi.gate.formats` renders it as text, JSON, SARIF or Markdown.
"""

from __future__ import annotations

from shouldi.gate.allowlist import AllowEntry, Allowlist, load_allowlist
from shouldi.gate.decide import GateOptions, GatePackage, GateReason, GateResult, decide
from shouldi.gate.errors import AllowlistError, GateError

__all__ = [
    "AllowEntry",
    "Allowlist",
    "AllowlistError",
    "GateError",
    "GateOptions",
    "GatePackage",
    "GateReason",
    "GateResult",
    "decide",
    "load_allowlist",
]
