"""A Markdown summary for ``$GITHUB_STEP_SUMMARY`` (or a pull-request comment).

A headline, a table with one row per package that did not simply pass (passing ones are
counted, not listed, so a large requirements file stays readable), then the allowlist's
state: what it allowed, what expired.
"""

from __future__ import annotations

from shouldi.errors import EXIT_BAD_INPUT, EXIT_ERROR, EXIT_FAIL, EXIT_OK
from shouldi.gate.decide import GatePackage, GateResult
from shouldi.gate.formats.interface import headline, where
from shouldi.verdict import Verdict

__all__ = ["MarkdownFormatter"]

_ICONS = {Verdict.PASS: ":white_check_mark:", Verdict.WARN: ":warning:", Verdict.FAIL: ":x:",
          Verdict.ERROR: ":grey_question:"}


def _cell(text: str) -> str:
    """Table-safe: no pipes, no newlines, no HTML."""
    out = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return out.replace("<", "&lt;").replace(">", "&gt;")


def _why(p: GatePackage) -> str:
    counted = [g for g in p.reasons if g.counts]
    shown = [f"**{g.verdict.value}** {g.reason.check}: {g.reason.message}" for g in counted[:3]]
    if len(counted) > 3:
        shown.append(f"and {len(counted) - 3} more")
    shown += [f"allowed {g.reason.check} (allowlist entry {g.allowed_by.number})"
              for g in p.reasons if g.allowed_by is not None]
    if not p.dependency.pinned and p.version is not None:
        shown.append("not pinned: the newest match was checked")
    return "<br>".join(_cell(s) for s in shown)


class MarkdownFormatter:
    def render(self, result: GateResult) -> str:
        icon = {EXIT_OK: ":white_check_mark:", EXIT_FAIL: ":x:", EXIT_BAD_INPUT: ":no_entry:",
                EXIT_ERROR: ":grey_question:"}[result.exit_code]
        lines = [f"## {icon} shouldi: {headline(result)}", ""]
        listed = [p for p in result.packages
                  if p.outcome is not None and (p.outcome is not Verdict.PASS or
                                                any(not g.counts for g in p.reasons))]
        if listed:
            lines += ["| | Package | Version | Declared in | Why |", "|---|---|---|---|---|"]
            for p in listed:
                assert p.outcome is not None
                lines.append(f"| {_ICONS[p.outcome]} | {_cell(p.name)} | {_cell(p.version or '')} "
                             f"| `{_cell(where(p))}` | {_why(p)} |")
            lines.append("")
        allowed = [(p, g) for p in result.packages for g in p.reasons if g.allowed_by]
        if allowed or result.expired or result.unused:
            lines += ["### Allowlist", ""]
            for p, g in allowed:
                entry = g.allowed_by
                assert entry is not None
                lines.append(f"- allowed {_cell(p.name)} {g.reason.check}: "
                             f"{_cell(g.reason.message)} ({_cell(entry.describe())}: "
                             f"{_cell(entry.reason)})")
            lines += [f"- :warning: **expired**: {_cell(e.describe())} no longer allows anything"
                      for e in result.expired]
            lines += [f"- unused: {_cell(e.describe())} allowed nothing" for e in result.unused]
            lines.append("")
        lines += [f"> warning: {_cell(w)}" for w in result.warnings]
        return "\n".join(lines).rstrip() + "\n"
