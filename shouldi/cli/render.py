"""Output formats for package reports: text (coloured on a TTY) and JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import click

from shouldi.cli.runner import SpecOutcome
from shouldi.dataflow import to_jsonable
from shouldi.verdict import PackageReport, Verdict

__all__ = ["render_json", "render_text"]

_COLOURS = {Verdict.PASS: "green", Verdict.WARN: "yellow", Verdict.FAIL: "red", Verdict.ERROR: "magenta"}


def _report_dict(report: PackageReport) -> dict[str, Any]:
    return {
        "name": report.name,
        "version": report.version,
        "requested": report.requested,
        "verdict": report.verdict.value,
        "reasons": [
            {"check": r.check, "severity": r.severity.value, "message": r.message,
             "evidence": r.evidence, "verdict": r.verdict.value}
            for r in report.reasons
        ],
        "checks": {name: to_jsonable(c) for name, c in report.checks.items()},
        "artifact": to_jsonable(report.artifact),
        "advisories": to_jsonable(report.advisories),
        "risk": to_jsonable(report.risk),
    }


def _reused_at(outcome: SpecOutcome) -> str | None:
    if outcome.answered_at is None:
        return None
    return datetime.fromtimestamp(outcome.answered_at, timezone.utc).isoformat()


def _age(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def render_json(outcomes: Sequence[SpecOutcome]) -> str:
    """``{"packages": [...]}``; ``reused_from`` is when a reused answer was given (else null)."""
    packages = [{**_report_dict(o.report), "reused_from": _reused_at(o)} for o in outcomes]
    return json.dumps({"packages": packages}, indent=2)


def render_text(outcomes: Sequence[SpecOutcome], color: bool | None = None, verbose: bool = False) -> str:
    lines: list[str] = []
    for o in outcomes:
        r = o.report
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
        if o.answered_at is not None:
            age = _age(max(0.0, time.time() - o.answered_at))
            lines.append(click.style(f"      (the answer given {age} ago; --max-age 0 asks again)", dim=True))
        shown = r.reasons if verbose else r.reasons[:12]
        for reason in shown:
            where = f"  [{reason.evidence}]" if reason.evidence else ""
            lines.append(f"      {reason.verdict.value:5} {reason.check}: {reason.message}{where}")
        if len(r.reasons) > len(shown):
            lines.append(f"      ... and {len(r.reasons) - len(shown)} more (use --verbose or --format json)")
        if verbose:
            for name, c in r.checks.items():
                lines.append(f"      check {name}: {c.status.value}{' - ' + c.reason if c.reason else ''}")
    text = "\n".join(lines)
    return text if color is not False else click.unstyle(text)
