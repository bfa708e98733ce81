"""The one interface of the gate's output formats."""

from __future__ import annotations

from typing import Protocol

from shouldi.gate.decide import GatePackage, GateResult
from shouldi.verdict import Verdict

__all__ = ["Formatter", "headline", "where"]


class Formatter(Protocol):
    """Turns a gate result into the text of one output format."""

    def render(self, result: GateResult) -> str: ...


def where(package: GatePackage) -> str:
    """Where the dependency was declared: ``file:line``, ``file``, or ``command line``."""
    dep = package.dependency
    return dep.origin if dep.origin_file else "command line"


def headline(result: GateResult) -> str:
    """One line: the gate's answer and the counts, e.g. ``fail: 1 fail, 3 pass (exit 1)``."""
    answer = {0: "pass", 1: "fail", 2: "bad input", 3: "could not check everything"}[result.exit_code]
    counts = [f"{result.count(v)} {v.value}" for v in (Verdict.FAIL, Verdict.ERROR, Verdict.WARN,
                                                       Verdict.PASS) if result.count(v)]
    excluded = sum(1 for p in result.packages if p.outcome is None)
    if excluded:
        counts.append(f"{excluded} excluded by markers")
    return f"{answer}: {', '.join(counts) or 'no dependencies'} (exit {result.exit_code})"
