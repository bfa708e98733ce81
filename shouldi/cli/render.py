"""Output formats for answers: text (coloured on a TTY) and JSON.

JSON is ``{"packages": [report_to_dict(report) + reused_from + required_by], "notes": [...]}``
(``required_by``: who pulled a tree node in, ``[]`` outside trees): the report's
one JSON form (:func:`shouldi.verdict.report_to_dict`). Text shows what counts (warn, error,
fail) by default and the information too with ``--verbose``; a note that is about the run
rather than one package (old advisory data) is said once, at the end.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import click

from shouldi.api import Answer
from shouldi.verdict import Reason, Verdict, report_to_dict
from shouldi.verdict.rules import STALE_DATA_CHECK

__all__ = ["render_json", "render_text", "run_notes"]

_COLOURS = {Verdict.PASS: "green", Verdict.WARN: "yellow", Verdict.FAIL: "red", Verdict.ERROR: "magenta"}
_SHOWN = 12
_DAYS = re.compile(r"is (\d+) days old")


def _reused_at(a: Answer) -> str | None:
    if a.reused_from is None:
        return None
    return datetime.fromtimestamp(a.reused_from, timezone.utc).isoformat()


def _age(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _run_level(reason: Reason) -> bool:
    return reason.check == STALE_DATA_CHECK


def run_notes(answers: Sequence[Answer]) -> list[str]:
    """Notes about the run, not one package: old advisory data, said once (the oldest)."""
    notes = [r.message for a in answers for r in a.report.reasons if _run_level(r)]
    if not notes:
        return []
    return [max(notes, key=lambda n: int(m.group(1)) if (m := _DAYS.search(n)) else 0)]


def package_dict(a: Answer) -> dict[str, Any]:
    """One ``packages`` item of the install JSON (the CLI's and the HTTP service's)."""
    from shouldi.dataflow.results import to_jsonable

    return {**report_to_dict(a.report), "reused_from": _reused_at(a),
            "required_by": to_jsonable(a.required_by)}


def render_json(answers: Sequence[Answer]) -> str:
    packages = [package_dict(a) for a in answers]
    return json.dumps({"packages": packages, "notes": run_notes(answers)}, indent=2)


def render_text(answers: Sequence[Answer], color: bool | None = None, verbose: bool = False) -> str:
    lines: list[str] = []
    for a in answers:
        if a.bad_input:  # said once, on stderr, by the command
            continue
        r = a.report
        label = click.style(f"{r.verdict.value.upper():5}", fg=_COLOURS[r.verdict], bold=True)
        what = f"{r.name} {r.version}" if r.version else r.requested
        artifact = f"  ({r.artifact.filename})" if r.artifact else ""
        risk = ""
        if r.risk is not None:
            drivers = ", ".join(r.risk.top_features[:3])
            risk = f"  risk {r.risk.score:.0f}/100" + (f" ({drivers})" if drivers else "")
            if not r.risk.reliable:
                risk += " [less reliable: outside training ranges]"
        lines.append(f"{label} {what}{artifact}{risk}")
        if a.reused_from is not None:
            age = _age(max(0.0, time.time() - a.reused_from))
            lines.append(click.style(f"      (the answer given {age} ago; --max-age 0 asks again)", dim=True))
        parents = [str(q) for q in a.required_by if not q.by_user]
        if parents:
            lines.append(f"      required: {'; '.join(parents)}")
        if verbose and r.artifact_reason:
            lines.append(f"      judged: {r.artifact_reason}")
        reasons = [x for x in r.reasons if not _run_level(x)]
        if not verbose:
            reasons = [x for x in reasons if x.verdict is not Verdict.PASS]
        shown = reasons if verbose else reasons[:_SHOWN]
        for reason in shown:
            where = f"  [{reason.evidence}]" if reason.evidence else ""
            kind = "info" if reason.verdict is Verdict.PASS else reason.verdict.value
            lines.append(f"      {kind:5} {reason.check}: {reason.message}{where}")
        if len(reasons) > len(shown):
            lines.append(f"      ... and {len(reasons) - len(shown)} more (use --verbose or --format json)")
        if verbose:
            for name, c in r.checks.items():
                lines.append(f"      check {name}: {c.status.value}{' - ' + c.reason if c.reason else ''}")
            from shouldi.advisories.messages import source_lines

            lines += [f"      source {line}" for line in source_lines(r.advisory_answers)]
    lines += [f"note: {n}" for n in run_notes(answers)]
    text = "\n".join(lines)
    return text if color is not False else click.unstyle(text)
