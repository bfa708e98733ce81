"""Native binaries bundled in a package, found by their magic bytes (never by running them)."""

from __future__ import annotations

import os
from pathlib import Path

from shouldi.plugins import CheckResult, Extraction, Finding, PluginCheck, Severity, Status, op

__all__ = ["binaries_check"]

_MAGIC = {b"\x7fELF": "ELF", b"MZ": "PE", b"\xcf\xfa\xed\xfe": "Mach-O", b"\xfe\xed\xfa\xcf": "Mach-O",
          b"\xca\xfe\xba\xbe": "Mach-O universal"}


def _kind(path: Path) -> str | None:
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError:
        return None
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), None)


@op
def binaries_check(extraction: Extraction) -> PluginCheck:
    """Bundled binaries: medium when the file is a pure-Python wheel or an sdist (neither should
    carry compiled code), information in a platform wheel (where they belong)."""
    if extraction.tree is None:  # the archive was refused: nothing to look at, already a fail
        return PluginCheck(CheckResult("binaries", Status.OK, (), "nothing extracted"))
    tree = extraction.tree
    pure = tree.artifact.kind == "sdist" or tree.artifact.filename.endswith("-none-any.whl")
    findings = []
    for folder, _dirs, files in os.walk(tree.root):
        for name in files:
            path = Path(folder) / name
            kind = _kind(path)
            if kind is not None:
                rel = path.relative_to(tree.root).as_posix()
                severity = Severity.MEDIUM if pure else Severity.INFO
                findings.append(Finding("binaries", "bundled-binary", severity,
                                        f"a {kind} binary in a {'pure' if pure else 'platform'} package", rel))
    counts = {"binaries": len(findings)}
    return PluginCheck(CheckResult("binaries", Status.OK, tuple(findings), None, counts))
