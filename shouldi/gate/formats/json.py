"""JSON: everything the gate decided, for scripts (stable keys, no colour)."""

from __future__ import annotations

import json
from typing import Any

from shouldi.gate.allowlist import AllowEntry
from shouldi.gate.decide import GatePackage, GateReason, GateResult

__all__ = ["JsonFormatter"]


def _entry(e: AllowEntry | None) -> dict[str, Any] | None:
    if e is None:
        return None
    return {"number": e.number, "package": e.package, "reason": e.reason,
            "expires": e.expires.isoformat(), "versions": str(e.versions) if e.versions else None,
            "advisory": e.advisory, "check": e.check}


def _reason(g: GateReason) -> dict[str, Any]:
    r = g.reason
    return {"check": r.check, "severity": r.severity.value, "message": r.message,
            "evidence": r.evidence, "verdict": r.verdict.value, "counts": g.counts,
            "note": g.note, "allowed_by": _entry(g.allowed_by),
            "expired_entry": _entry(g.expired_entry)}


def _package(p: GatePackage) -> dict[str, Any]:
    dep = p.dependency
    return {"name": p.name, "version": p.version, "spec": dep.spec,
            "outcome": p.outcome.value if p.outcome else "excluded",
            "verdict": p.report.verdict.value if p.report else None,
            "pinned": dep.pinned, "file": dep.origin_file, "line": dep.origin_line,
            "artifact": p.report.artifact.filename if p.report and p.report.artifact else None,
            "sha256": p.report.artifact.sha256 if p.report and p.report.artifact else None,
            "reasons": [_reason(g) for g in p.reasons]}


class JsonFormatter:
    def render(self, result: GateResult) -> str:
        o = result.options
        return json.dumps({
            "exit_code": result.exit_code,
            "options": {"fail_on_warn": o.fail_on_warn, "max_risk_score": o.max_risk_score,
                        "severity_floor": o.severity_floor.value if o.severity_floor else None},
            "allowlist": result.allowlist.path if result.allowlist else None,
            "expired_entries": [_entry(e) for e in result.expired],
            "unused_entries": [_entry(e) for e in result.unused],
            "warnings": list(result.warnings),
            "packages": [_package(p) for p in result.packages],
        }, indent=2)
