"""SARIF 2.1.0, for GitHub code scanning (``github/codeql-action/upload-sarif``).

One rule per check (``bandit``, ``heuristics``, ``advisories``...), one result per reason
that counts or that the allowlist allowed (those carry a ``suppressions`` entry with the
allowlist's reason, so code scanning shows them as dismissed, not as gone). Each result is
located at the requirement's file and line, relative to the repository root (the working
directory) when the file is inside it. Dependencies given on the command line have no file:
their results carry no location. Expired allowlist entries are tool notifications.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from shouldi import __version__
from shouldi.gate.decide import GatePackage, GateReason, GateResult
from shouldi.verdict import Verdict

__all__ = ["SCHEMA_URI", "SarifFormatter"]

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_INFO_URI = "https://github.com/shouldi-dev/shouldi#readme"
_RULES = {
    "archive": "The artifact is an archive that could not be safely extracted (traversal, links, "
               "devices, bombs).",
    "bandit": "bandit found high-severity issues in the package's code.",
    "heuristics": "Install-time or malicious code patterns (exec of decoded data, process "
                  "spawning, network, credential access...).",
    "advisories": "A known vulnerability affects this release, or no advisory source could "
                  "vouch for it.",
    "metadata": "Project metadata signals (very new project, missing repository or license, "
                "yanked release).",
    "typosquat": "The name is one or two edits away from a popular package.",
    "risk": "The risk model's score is at or above the gate's maximum.",
    "input": "The dependency could not be checked as declared (a direct URL, an editable "
             "checkout, hashes that do not match the scanned file).",
    "resolve": "The requirement names no release on the index.",
    "scan": "The scan could not complete.",
    "unpinned": "The requirement is not pinned to one version: the newest match was checked.",
}
_LEVELS = {Verdict.FAIL: "error", Verdict.ERROR: "error", Verdict.WARN: "warning",
           Verdict.PASS: "note"}


def _uri(origin: str) -> tuple[str, str | None]:
    """A URI reference for ``origin`` and its base id (``%SRCROOT%`` for repository files)."""
    path = Path(origin)
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            return path.as_uri(), None
    return quote(path.as_posix()), "%SRCROOT%"


def _location(p: GatePackage) -> list[dict[str, Any]]:
    dep = p.dependency
    if not dep.origin_file:
        return []
    uri, base = _uri(dep.origin_file)
    artifact: dict[str, Any] = {"uri": uri, **({"uriBaseId": base} if base else {})}
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if dep.origin_line is not None:
        physical["region"] = {"startLine": dep.origin_line}
    return [{"physicalLocation": physical}]


def _rule(check: str) -> dict[str, Any]:
    text = _RULES.get(check, f"The {check} operation failed, so the package was not fully checked.")
    return {"id": check, "name": check.replace("_", "-"), "shortDescription": {"text": text},
            "helpUri": _INFO_URI, "defaultConfiguration": {"level": "error"}}


def _result(p: GatePackage, g: GateReason | None, rules: dict[str, int]) -> dict[str, Any]:
    what = f"{p.name} {p.version}" if p.version else p.name
    if g is None:  # the unpinned note
        check, level = "unpinned", "note"
        text = f"{what}: '{p.dependency.spec}' is not pinned; shouldi checked the newest match"
        props: dict[str, Any] = {}
    else:
        r = g.reason
        check, level = r.check, _LEVELS[g.verdict]
        text = f"{what}: {r.check}: {r.message}" + (f" [{r.evidence}]" if r.evidence else "")
        props = {"severity": r.severity.value, "verdict": r.verdict.value}
    fingerprint = hashlib.sha256(f"{p.name}\0{check}\0{text}".encode()).hexdigest()[:32]
    result: dict[str, Any] = {
        "ruleId": check, "ruleIndex": rules.setdefault(check, len(rules)), "level": level,
        "message": {"text": text}, "locations": _location(p),
        "partialFingerprints": {"shouldiReason/v1": fingerprint},
        "properties": {"package": p.name, "version": p.version, **props},
    }
    if g is not None and g.allowed_by is not None:
        entry = g.allowed_by
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": f"{entry.reason} (allowlist {entry.describe()})"}]
    return result


class SarifFormatter:
    def render(self, result: GateResult) -> str:
        rules: dict[str, int] = {check: i for i, check in enumerate(_RULES)}
        results = []
        for p in result.packages:
            if p.outcome is None:
                continue
            results += [_result(p, g, rules) for g in p.reasons if g.counts or g.allowed_by]
            if not p.dependency.pinned and p.version is not None:
                results.append(_result(p, None, rules))
        notes = [{"level": "warning", "message": {"text": f"allowlist {e.describe()} has expired: "
                                                          "it no longer allows anything"}}
                 for e in result.expired]
        notes += [{"level": "warning", "message": {"text": w}} for w in result.warnings]
        run = {
            "tool": {"driver": {"name": "shouldi", "version": __version__,
                                "semanticVersion": __version__, "informationUri": _INFO_URI,
                                "rules": [_rule(check) for check in rules]}},
            "invocations": [{"executionSuccessful": True,
                             "exitCode": result.exit_code,
                             "toolExecutionNotifications": notes}],
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().resolve().as_uri() + "/"}},
            "results": results,
        }
        return json.dumps({"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}, indent=2)
