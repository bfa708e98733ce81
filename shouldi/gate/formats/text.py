"""Plain text for terminals and CI logs: one line per package, then its reasons."""

from __future__ import annotations

import click

from shouldi.gate.decide import GatePackage, GateReason, GateResult
from shouldi.gate.formats.interface import headline, where
from shouldi.verdict import Verdict

__all__ = ["TextFormatter"]

_COLOURS = {Verdict.PASS: "green", Verdict.WARN: "yellow", Verdict.FAIL: "red", Verdict.ERROR: "magenta"}


def _reason(g: GateReason) -> str:
    r = g.reason
    label = g.verdict.value if g.counts else ("allowed" if g.allowed_by else "ignored")
    line = f"      {label:7} {r.check}: {r.message}"
    if r.evidence:
        line += f"  [{r.evidence}]"
    if g.allowed_by is not None:
        line += f"  ({g.allowed_by.describe()}: {g.allowed_by.reason})"
    elif g.note:
        line += f"  ({g.note})"
    if g.expired_entry is not None:
        line += f"  (allowlist {g.expired_entry.describe()} has EXPIRED)"
    return line


def _package(p: GatePackage) -> list[str]:
    if p.outcome is None:
        return [f"{'SKIP':5} {p.name}  {where(p)}  environment markers exclude it here"]
    label = click.style(f"{p.outcome.value.upper():5}", fg=_COLOURS[p.outcome], bold=True)
    what = f"{p.name} {p.version}" if p.version else p.name
    pin = "" if p.dependency.pinned or p.version is None else "  (not pinned: newest match)"
    return [f"{label} {what}  {where(p)}{pin}", *(_reason(g) for g in p.reasons)]


class TextFormatter:
    def __init__(self, color: bool = False) -> None:
        self.color = color

    def render(self, result: GateResult) -> str:
        lines = [f"warning: {w}" for w in result.warnings]
        for p in result.packages:
            lines += _package(p)
        for e in result.expired:
            lines.append(f"allowlist: {e.describe()} has expired: it no longer allows anything")
        for e in result.unused:
            lines.append(f"allowlist: {e.describe()} allowed nothing in this run")
        lines.append(f"gate: {headline(result)}")
        text = "\n".join(lines)
        return text if self.color else click.unstyle(text)
