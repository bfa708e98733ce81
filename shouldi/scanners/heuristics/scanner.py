"""The heuristics scanner: walk a tree once, one AST pass per Python file.

Nothing is imported or executed: files are read as bytes and parsed with :func:`ast.parse`.
Signals repeated many times in a file (blobs, long lines) are reported once per file with
a count, so a data-heavy module cannot drown the report.
"""

from __future__ import annotations

import ast
import os
import time
from collections import Counter
from pathlib import Path

from shouldi.results import CheckResult, Finding, Severity, Status
from shouldi.scanners.heuristics.blobs import long_lines
from shouldi.scanners.heuristics.files import (
    Role,
    backend_modules,
    binary_kind,
    is_wheel,
    pth_import_lines,
    role_of,
)
from shouldi.scanners.heuristics.names import may_decode_or_download
from shouldi.scanners.heuristics.rules import RULES
from shouldi.scanners.heuristics.visitor import Hit, Visitor
from shouldi.scanners.interface import path_weight

__all__ = ["MAX_FILE_SIZE", "HeuristicsScanner"]

MAX_FILE_SIZE = 5 * 1024 * 1024
_SOURCE = (".py", ".pyw")
_ONCE_PER_FILE = frozenset({"high-entropy-string", "encoded-blob"})


class HeuristicsScanner:
    """Install-time behaviour and malicious-code patterns, found by reading the AST."""

    name = "heuristics"
    required = True

    def scan(self, tree: Path) -> CheckResult:
        start = time.monotonic()
        try:
            run = _Run(tree)
            run.walk()
        except OSError as e:
            return CheckResult(check=self.name, status=Status.ERROR,
                               reason=f"cannot read the tree: {e}",
                               duration_s=time.monotonic() - start)
        findings = sorted(run.findings, key=lambda f: (f.file or "", f.line or 0, f.rule))
        counts = Counter(f.rule for f in findings)
        counts.update(f"severity_{f.severity.value}" for f in findings)
        counts.update(files=run.files, python_files=run.python_files,
                      unparsable_files=run.unparsable)
        status, reason = Status.OK, None
        if run.python_files and run.unparsable == run.python_files:
            # the byte-level checks ran, the AST ones did not: never let that read as clean
            status, reason = Status.ERROR, f"none of the {run.python_files} Python files parse"
        return CheckResult(
            check=self.name, status=status, findings=tuple(findings), reason=reason,
            counts=dict(counts), warnings=tuple(run.warnings),
            duration_s=time.monotonic() - start,
        )


class _Run:
    def __init__(self, tree: Path) -> None:
        self.tree = tree
        self.backends, self.warnings = backend_modules(tree)
        self.wheel = is_wheel(tree)
        self.findings: list[Finding] = []
        self.files = self.python_files = self.unparsable = 0

    def add(self, rule_id: str, relname: str, line: int | None, detail: str,
            install_time: bool, severity: Severity | None = None) -> None:
        rule = RULES[rule_id]
        where = " (runs at install/import time)" if install_time else ""
        self.findings.append(Finding(
            check="heuristics", rule=rule_id,
            severity=severity or rule.severity(install_time),
            message=f"{rule.summary}: {detail}{where}", file=relname, line=line,
            weight=path_weight(relname),
        ))

    def walk(self) -> None:
        for relname in sorted(self.backends):
            self.add("in-tree-build-backend", relname, None, relname, True)
        for dirpath, dirnames, filenames in os.walk(self.tree):
            dirnames.sort()
            for filename in sorted(filenames):
                path = Path(dirpath, filename)
                if path.is_symlink() or not path.is_file():
                    continue
                self.files += 1
                self.file(path, path.relative_to(self.tree).as_posix())

    def file(self, path: Path, relname: str) -> None:
        suffix = path.suffix.lower()
        if suffix in (".pyc", ".pyo"):
            self.add("compiled-bytecode", relname, None, relname, False,
                     Severity.LOW if self.wheel else None)
            return
        if suffix not in (*_SOURCE, ".pth"):
            kind = binary_kind(path)
            if kind is not None:
                self.add("binary-file", relname, None, f"{kind} file {relname}", False,
                         Severity.INFO if self.wheel else None)
            return
        role = role_of(relname, self.backends) if suffix != ".pth" else Role.INSTALL
        if path.stat().st_size > MAX_FILE_SIZE:
            self.add("file-too-large", relname, None,
                     f"{path.stat().st_size} bytes, over {MAX_FILE_SIZE}", role != Role.PLAIN)
            return
        data = path.read_bytes()
        if suffix == ".pth":
            self.pth(relname, data.decode("utf-8", "replace"))
        else:
            self.python_files += 1
            self.source(relname, data, role)

    def source(self, relname: str, data: bytes, role: Role) -> None:
        text = data.decode("utf-8", "replace")
        long = long_lines(text)
        if long is not None:
            self.add("long-line", relname, long[0],
                     f"{long[1]} line(s) over 1000 characters, longest {long[2]}",
                     role == Role.INSTALL)
        try:
            module = ast.parse(data, filename=relname)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
            self.unparsable += 1
            self.warnings.append(f"{relname} does not parse as Python: {_one_line(e)}")
            if role != Role.PLAIN:
                self.add("unparsable-install-code", relname, getattr(e, "lineno", None),
                         f"{relname} does not parse", True)
            return
        visitor = Visitor(whole_file=role == Role.INSTALL, top_level=role == Role.IMPORT,
                          mentions_environ=b"environ" in data,
                          may_decode_or_download=may_decode_or_download(data))
        try:
            visitor.visit(module)
        except RecursionError:
            self.warnings.append(f"{relname} is nested too deeply to analyse fully")
        self.hits(relname, visitor.hits)

    def pth(self, relname: str, text: str) -> None:
        for number, line in pth_import_lines(text):
            self.add("pth-import-line", relname, number, line.strip()[:120], True)
            try:
                module = ast.parse(line.strip())
            except SyntaxError:
                continue
            visitor = Visitor(whole_file=True, line_offset=number - 1)
            visitor.visit(module)
            self.hits(relname, visitor.hits)

    def hits(self, relname: str, hits: list[Hit]) -> None:
        repeated: Counter[str] = Counter()
        for hit in hits:
            repeated[hit.rule] += 1
            if hit.rule in _ONCE_PER_FILE and repeated[hit.rule] > 1:
                continue
            self.add(hit.rule, relname, hit.line, hit.detail, hit.install_time)
        for rule in _ONCE_PER_FILE & set(repeated):
            if repeated[rule] > 1:
                self.warnings.append(f"{relname}: {repeated[rule]} literals match {rule}, "
                                     "only the first is reported")


def _one_line(err: BaseException) -> str:
    line = getattr(err, "lineno", None)
    text = str(getattr(err, "msg", err)).splitlines()[0] if str(err) else type(err).__name__
    return f"{text} (line {line})" if line else text
