"""The heuristics scanner: walk a tree once, one parse and one AST pass per Python file,
then decide each finding's severity from reachability (:mod:`.graph`, :mod:`.rules`).

Nothing is imported or executed: files are read as bytes and parsed with :func:`ast.parse`.
Every finding keeps ``file`` and ``line``; ``Finding.path`` (and the message) say how the
code is reached: ``("pkg-1.0/setup.py", "cmdclass['install'] = Hook", "...:Hook.run")``.
Signals repeated in a file (blobs, credential-path mentions) are reported once per file, at
their most severe, with a warning saying how many there were.

One composite rule is decided here, over a whole file: a file whose code that runs by
itself both reads secrets (``credential-access``, ``spyware``) and talks to
the network (``network``, ``shady-endpoint``) is ``exfiltration`` even when no data flow
links the two (the data may travel through a class attribute or a container).

``CheckResult.counts`` (stable keys; the risk model reads them as features):

* ``<rule id>``: findings of each rule (once-per-file rules count once per file);
* ``severity_<info|low|medium|high|critical>``: findings at each severity;
* ``files``: regular files in the tree; ``python_files``: ``.py``/``.pyw`` files read;
  ``unparsable_files``: those that do not parse;
* capability counts, always present, over the *installed code* (the files the install puts
  on disk or the build runs: a wheel's files; an sdist's ``setup.py``, in-tree backends, the
  packages and modules its wheel would contain, and any other file the build reaches),
  whatever the severity or reachability of each place:

  - ``cap_network``: call sites of network APIs (sockets, urllib, http.client, requests,
    httpx, aiohttp..., and methods of objects they return);
  - ``cap_process``: call sites starting processes (subprocess, ``os.system``/``popen``/
    ``exec*``/``spawn*``/``startfile``, ``pty.spawn``...);
  - ``cap_exec``: ``exec``/``eval``/``compile``/unpickling calls and ``__import__``/
    ``importlib.import_module`` calls;
  - ``cap_file_write``: ``open`` in a writing mode, ``write_text``/``write_bytes``,
    ``shutil`` copies and moves, ``os.rename``/``replace``;
  - ``cap_env_access``: reads of environment variables (``os.environ[...]``, ``os.getenv``,
    ``os.environ.get``);
  - ``cap_native_code``: native binaries shipped (ELF/PE/Mach-O or binary suffix) plus
    ``ctypes``/``cffi`` library loads and Win32 memory APIs;
  - ``cap_install_time_code``: places that run by themselves at install or start-up: each
    ``setup.py`` and in-tree backend, each setuptools command class, each ``.pth`` import
    line, each ``sitecustomize``/``usercustomize``;
  - ``cap_obfuscation``: encoded blobs and high-entropy literals (each literal), lines over
    1000 characters (each line), decoded-code execution, names hidden behind computed
    strings, code hidden far right on a line, pyarmor calls, bidi control characters;
* ``loc``: non-blank lines of the Python files of the installed code.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import io
import os
import re
import time
import tokenize
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shouldi.results import CheckResult, Finding, Severity, Status
from shouldi.scanners.heuristics.blobs import long_lines
from shouldi.scanners.heuristics.facts import MODULE, Edge, FileFacts, Hit, ScopeFacts
from shouldi.scanners.heuristics.files import (
    backend_modules,
    binary_kind,
    is_wheel,
    pth_import_lines,
    top_files,
)
from shouldi.scanners.heuristics.graph import Graph, Node
from shouldi.scanners.heuristics.hooks import (
    PLUGIN_GROUPS,
    BuildHooks,
    build_hooks,
    plugin_entry_points,
    project_name,
    shadowed_commands,
)
from shouldi.scanners.heuristics.indicators import BIDI_CONTROLS
from shouldi.scanners.heuristics.layout import Layout, Placement, Role
from shouldi.scanners.heuristics.rules import RULES, Reach
from shouldi.scanners.heuristics.visitor import Visitor, hidden_candidates
from shouldi.scanners.interface import path_weight
from shouldi.scanners.parsing import PARSE_ERRORS, parse_python

__all__ = ["CAPABILITIES", "MAX_FILE_SIZE", "HeuristicsScanner"]

#: Larger sources are not parsed (a 6 MB generated module takes ~1.5 s and ~230 MB): they
#: get a ``file-too-large`` finding instead, and a warning.
MAX_FILE_SIZE = 12 * 1024 * 1024
CAPABILITIES = ("network", "process", "exec", "file_write", "env_access", "native_code",
                "install_time_code", "obfuscation")
_SOURCE = (".py", ".pyw")
_ONCE_PER_FILE = frozenset({"high-entropy-string", "encoded-blob", "credential-path"})
_SECRET_SOURCES = frozenset({"credential-access", "spyware"})
_SENDS = frozenset({"network", "shady-endpoint"})
_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
_RUNS = {Reach.BUILD: "runs at install time", Reach.STARTUP: "runs at every interpreter start",
         Reach.IMPORT: "runs on import", Reach.GUARDED: "only under a __main__/argv guard",
         Reach.PLUGIN: "runs without this package being called",
         Reach.SUBMODULE: "runs when this module is imported by name (the package itself does "
                          "not import it)"}


class HeuristicsScanner:
    """Install-time behaviour and malicious-code patterns, found by reading the AST."""

    name = "heuristics"
    required = True

    def scan(self, tree: Path) -> CheckResult:
        start = time.monotonic()
        try:
            run = _Run(tree)
            run.walk()
            findings = run.findings()
        except OSError as e:
            return CheckResult(check=self.name, status=Status.ERROR,
                               reason=f"cannot read the tree: {e}",
                               duration_s=time.monotonic() - start)
        findings.sort(key=lambda f: (f.file or "", f.line or 0, f.rule))
        counts: Counter[str] = Counter(f.rule for f in findings)
        counts.update(f"severity_{f.severity.value}" for f in findings)
        counts.update(files=run.files, python_files=run.python_files,
                      unparsable_files=run.unparsable, loc=run.loc)
        for cap in CAPABILITIES:
            counts[f"cap_{cap}"] = run.caps[cap]
        status, reason = Status.OK, None
        if run.python_files and run.unparsable == run.python_files:
            # the byte-level checks ran, the AST ones did not: never let that read as clean
            status, reason = Status.ERROR, f"none of the {run.python_files} Python files parse"
        return CheckResult(
            check=self.name, status=status, findings=tuple(findings), reason=reason,
            counts=dict(counts), warnings=tuple(run.warnings),
            duration_s=time.monotonic() - start,
        )


@dataclass
class _Parsed:
    placement: Placement
    facts: FileFacts
    aliases: dict[str, str]
    loc: int = 0


class _Run:
    def __init__(self, tree: Path) -> None:
        self.tree = tree
        self.backends, self.warnings = backend_modules(tree)
        self.wheel = is_wheel(tree)
        self.hooks = BuildHooks({}, {}) if self.wheel else build_hooks(
            tree, list(top_files(tree, "pyproject.toml")))
        self.warnings += self.hooks.warnings
        self.layout = Layout(tree, self.backends | frozenset(self.hooks.files), self.wheel)
        self.plugins = {target: (group, PLUGIN_GROUPS[group])
                        for target, group in plugin_entry_points(tree, self.wheel).items()}
        self.shadowing = shadowed_commands(self.layout.entry_points, project_name(tree))
        for target, script in self.shadowing.items():
            self.plugins.setdefault(target, ("console_scripts", f"runs whenever the user types {script!r}"))
        self.parsed: dict[str, _Parsed] = {}
        self.loose: list[Finding] = []  # file-level findings (binaries, bytecode, too large)
        self.caps: Counter[str] = Counter()
        self.edge_pool: dict[Edge, Edge] = {}  # one copy of each call-graph edge
        #: where the package ships a git/hg repository of its own, or names the variables that
        #: configure one (either can make a "read-only" query run a command:
        #: ``log.showSignature`` with ``gpg.program``): its ``vcs-query`` hits are
        #: ``process-spawn``
        self.ships_repository = ""
        self.files = self.python_files = self.unparsable = self.loc = 0

    # -- the walk -----------------------------------------------------------------------------
    def walk(self) -> None:
        for relname in sorted(self.backends):
            self._loose("in-tree-build-backend", relname, relname, Reach.BUILD)
        for target, script in sorted(self.shadowing.items()):
            self._loose("command-jacking", self._entry_file(target), f"console script {script!r} = {target}",
                        Reach.PLUGIN)
        for relname, hook in sorted(self.hooks.files.items()):
            self._loose("build-hook", relname, f"{hook.backend} loads {relname} while building the sdist",
                        Reach.BUILD)
        for dirpath, dirnames, filenames in os.walk(self.tree):
            dirnames.sort()
            if not self.ships_repository and _REPOSITORY.intersection((*dirnames, *filenames)):
                self.ships_repository = dirpath
            for filename in sorted(filenames):
                path = Path(dirpath, filename)
                if path.is_symlink() or not path.is_file():
                    continue
                self.files += 1
                self.file(path, path.relative_to(self.tree).as_posix())

    def file(self, path: Path, relname: str) -> None:
        suffix = path.suffix.lower()
        placement = self.layout.place(path)
        if suffix in (".pyc", ".pyo"):
            self._loose("compiled-bytecode", relname, relname, Reach.ASIDE if self.wheel
                        else Reach.RUNTIME, Severity.INFO if self.wheel else Severity.LOW)
            return
        if suffix not in (*_SOURCE, ".pth"):
            kind = binary_kind(path)
            if kind is not None:
                self.caps["native_code"] += placement.installed
                self._loose("binary-file", relname, f"{kind} file {relname}", Reach.ASIDE,
                            Severity.INFO if self.wheel else Severity.LOW)
            return
        if suffix == ".pth" and placement.role is not Role.STARTUP:
            return
        size = path.stat().st_size
        if size > MAX_FILE_SIZE:
            reach = Reach.BUILD if placement.role in (Role.BUILD, Role.STARTUP) else (
                Reach.IMPORT if placement.role is Role.MODULE else Reach.ASIDE)
            self.warnings.append(f"{relname} is {size} bytes: not analysed")
            self._loose("file-too-large", relname, f"{size} bytes, over {MAX_FILE_SIZE}", reach)
            return
        data = path.read_bytes()
        if suffix == ".pth":
            self.pth(relname, data.decode("utf-8", "replace"), placement)
        else:
            self.python_files += 1
            self.source(relname, data, placement)

    def _entry_file(self, target: str) -> str:
        """Where an entry point's module would be, for a finding's file (best effort: the
        module is not parsed yet)."""
        module = target.partition(":")[0].strip().replace(".", "/")
        for candidate in (f"{module}.py", f"{module}/__init__.py"):
            for root in self.layout.roots:
                path = root / candidate
                if path.is_file():
                    return path.relative_to(self.tree).as_posix()
        return target

    def _loose(self, rule_id: str, relname: str, detail: str, reach: Reach,
               severity: Severity | None = None) -> None:
        rule = RULES[rule_id]
        self.loose.append(Finding(
            check="heuristics", rule=rule_id, severity=severity or rule.severity(reach),
            message=f"{rule.summary}: {detail}", file=relname, weight=path_weight(relname)))

    def source(self, relname: str, data: bytes, placement: Placement) -> None:
        if not self.ships_repository and any(name in data for name in _VCS_SETTINGS):
            self.ships_repository = f"{relname} (sets git/hg configuration)"
        text = data.decode("utf-8", "replace")
        lines = text.splitlines()
        loc = sum(map(bool, map(str.strip, lines)))
        with _no_cyclic_gc():
            self._source(relname, data, text, lines, loc, placement)

    def _source(self, relname: str, data: bytes, text: str, lines: list[str], loc: int,
                placement: Placement) -> None:
        try:
            module = parse_python(data, relname)
        except PARSE_ERRORS as e:
            self.unparsable += 1
            self.warnings.append(f"{relname} does not parse as Python: {_one_line(e)}")
            if placement.role in (Role.BUILD, Role.STARTUP, Role.MODULE):
                facts = FileFacts()
                facts.scopes[MODULE] = ScopeFacts(1)
                facts.hits.append(Hit("unparsable-install-code", getattr(e, "lineno", 0) or 0,
                                      f"{relname} does not parse", MODULE))
                self.parsed[relname] = _Parsed(placement, facts, {}, loc)
            return
        runs_as_main = placement.role is Role.BUILD and relname.endswith("setup.py")
        hidden = hidden_candidates(data)
        visitor = Visitor.for_source(hidden)(
            placement.module, placement.package, lines, runs_as_main,
            mentions_environ=b"environ" in data or b"getenv" in data, hidden_lines=hidden,
            mentions_argv=b"argv" in data, edge_pool=self.edge_pool)
        try:
            facts = visitor.run(module)
        except RecursionError:
            self.warnings.append(f"{relname} is nested too deeply to analyse fully")
            facts = visitor.facts
        long = long_lines(lines)
        if long is not None:
            facts.caps["obfuscation"] += long[1]
            facts.hits.append(Hit("long-line", long[0], f"{long[1]} line(s) over 1000 "
                                  f"characters, longest {long[2]}", MODULE))
        if _BIDI.search(text):
            self._bidi(text, facts)
        if placement.role is Role.BUILD or placement.role is Role.STARTUP:
            facts.caps["install_time_code"] += 1
        facts.seal()
        self.parsed[relname] = _Parsed(placement, facts, visitor.aliases, loc)

    def _bidi(self, text: str, facts: FileFacts) -> None:
        """Bidi controls in comments or code (not inside string literals)."""
        try:
            for token in tokenize.generate_tokens(io.StringIO(text).readline):
                if token.type != tokenize.STRING and _BIDI.search(token.string):
                    facts.caps["obfuscation"] += 1
                    facts.hits.append(Hit("bidi-control", token.start[0],
                                          f"in a {tokenize.tok_name[token.type].lower()}", MODULE))
                    return
        except (tokenize.TokenError, SyntaxError):
            return

    def pth(self, relname: str, text: str, placement: Placement) -> None:
        body: list[ast.stmt] = []
        facts_hits: list[Hit] = []
        for number, line in pth_import_lines(text):
            facts_hits.append(Hit("pth-import-line", number, line.strip()[:120], MODULE))
            try:
                parsed = parse_python(line.strip())
            except PARSE_ERRORS:
                continue
            ast.increment_lineno(parsed, number - 1)
            body += parsed.body
        visitor = Visitor(lines=text.splitlines())
        facts = visitor.run(ast.Module(body=body, type_ignores=[]))
        facts.hits += facts_hits
        facts.caps["install_time_code"] += len(facts_hits)
        self.parsed[relname] = _Parsed(placement, facts, visitor.aliases)

    # -- severities ---------------------------------------------------------------------------
    def findings(self) -> list[Finding]:
        reached = self._reach()
        entries = self._entry_scopes()
        out: list[Finding] = list(self.loose)
        for relname, parsed in self.parsed.items():
            chosen: dict[tuple[str, int], Finding] = {}
            once: dict[str, list[Finding]] = {}
            for hit in parsed.facts.hits:
                finding = self._finding(relname, parsed, hit, reached, entries)
                if hit.rule in _ONCE_PER_FILE:
                    once.setdefault(hit.rule, []).append(finding)
                    continue
                key = (hit.rule, hit.line)
                if key not in chosen or chosen[key].severity.rank < finding.severity.rank:
                    chosen[key] = finding
            file_findings = list(chosen.values())
            for rule, group in sorted(once.items()):
                file_findings.append(max(group, key=lambda f: f.severity.rank))
                if len(group) > 1:
                    self.warnings.append(f"{relname}: {len(group)} places match {rule}, "
                                         "only the most severe is reported")
            file_findings += self._composite(relname, file_findings)
            out += file_findings
            if parsed.placement.installed or any(
                    (relname, scope) in reached for scope in parsed.facts.scopes):
                self.caps.update(parsed.facts.caps)
                self.loc += parsed.loc
        return out

    def _reach(self) -> dict[Node, tuple[Reach, tuple[str, ...]]]:
        modules: dict[str, str] = {}
        for installed in (False, True):  # installed modules win a name clash
            for relname, parsed in self.parsed.items():
                if parsed.placement.module and parsed.placement.installed == installed:
                    modules.setdefault(parsed.placement.module, relname)
                    if installed:
                        modules[parsed.placement.module] = relname
        roles = {relname: parsed.placement.role for relname, parsed in self.parsed.items()}
        graph = Graph({r: p.facts for r, p in self.parsed.items()}, modules,
                      {r: p.aliases for r, p in self.parsed.items()})
        tops: list[str] = []  # what `import <name>` runs first: no installed package above it
        subs: list[str] = []
        for relname, role in roles.items():
            if role is Role.MODULE:
                parts = self.parsed[relname].placement.module.split(".")
                above = (".".join(parts[:i]) for i in range(1, len(parts)))
                (subs if any(name in modules for name in above) else tops).append(relname)
        return graph.run(
            build=[r for r, role in roles.items() if role is Role.BUILD],
            backends=[r for r in roles if r in self.backends],
            startup=[r for r, role in roles.items() if role is Role.STARTUP],
            imports=tops, submodules=subs, hooks=self.hooks.files, commands=self.hooks.commands,
            plugins=self.plugins,
        )

    def _entry_scopes(self) -> dict[Node, str]:
        by_module = {p.placement.module: r for r, p in self.parsed.items() if p.placement.module}
        found: dict[Node, str] = {}
        for target, script in self.layout.entry_points.items():
            module, _, function = target.partition(":")
            relname = by_module.get(module.strip())
            if relname is not None:
                scope = self.parsed[relname].facts.defs.get(function.strip().split(".")[0])
                if scope is not None:
                    found[(relname, scope)] = script
        return found

    def _finding(self, relname: str, parsed: _Parsed, hit: Hit,
                 reached: dict[Node, tuple[Reach, tuple[str, ...]]],
                 entries: dict[Node, str]) -> Finding:
        node = (relname, hit.scope)
        reach, path = reached.get(node, (None, ()))
        role = parsed.placement.role
        if reach is None:
            reach = Reach.ASIDE if role in (Role.ASIDE, Role.EXTRA) else Reach.RUNTIME
        if hit.guarded and reach.runs_by_itself:
            reach = Reach.GUARDED
        rule_id, detail = hit.rule, hit.detail
        if rule_id == "vcs-query" and self.ships_repository:
            rule_id, detail = "process-spawn", (f"{detail}, in a package that ships or configures a "
                                                f"repository: {self.ships_repository}")
        rule = RULES[rule_id]
        severity = rule.severity(reach, hit.critical)
        if reach in _RUNS:
            where = f"{_RUNS[reach]}: {' -> '.join(path)}" if path else _RUNS[reach]
        elif reach is Reach.RUNTIME:
            script = entries.get(node)
            where = (f"console script {script!r}: runs when the user runs it" if script else
                     "in a script: runs when the user runs it" if role is Role.SCRIPT else
                     "runs only when called")
        else:
            where = ("in tests/docs/examples: the install does not run it" if role is Role.ASIDE
                     else "not installed, and the build does not run it")
        return Finding(
            check="heuristics", rule=rule_id, severity=severity,
            message=f"{rule.summary}: {detail} ({where})", file=relname,
            line=hit.line or None, weight=path_weight(relname),
            path=path if reach in _RUNS else (),
        )

    @staticmethod
    def _composite(relname: str, findings: list[Finding]) -> list[Finding]:
        live = [f for f in findings if f.severity.rank >= Severity.LOW.rank and f.path]
        sources = [f for f in live if f.rule in _SECRET_SOURCES]
        sends = [f for f in live if f.rule in _SENDS]
        if not sources or not sends or any(f.rule == "exfiltration" and f.path for f in live):
            return []
        source, send = sources[0], sends[0]
        rule = RULES["exfiltration"]
        return [Finding(
            check="heuristics", rule="exfiltration", severity=rule.top,
            message=f"{rule.summary}: reads secrets ({source.rule}, line {source.line}) and "
                    f"talks to the network (line {send.line}) in code that runs by itself",
            file=relname, line=send.line, weight=path_weight(relname), path=send.path)]


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Parsing and visiting a file allocates millions of acyclic objects (AST nodes, labels,
    frames), and each allocation burst triggers cyclic-GC passes over the whole live AST: a
    third of the scanner's CPU on large packages. Nothing here creates reference cycles
    (the visitor holds its frames, not the other way round), so collection is paused for
    the file and resumed after; memory is still freed by reference counting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


#: Names of a repository (or a ``.git`` file pointing at one) shipped inside a package.
_REPOSITORY = frozenset({".git", ".hg"})
#: Environment variables that configure git or Mercurial (``GIT_CONFIG_PARAMETERS``,
#: ``GIT_DIR``, ``HGRCPATH``...), anywhere in a source file's bytes.
_VCS_SETTINGS = (b"GIT_", b"HGRC", b"HGPLAIN")


def _one_line(err: BaseException) -> str:
    line = getattr(err, "lineno", None)
    text = str(getattr(err, "msg", err)).splitlines()[0] if str(err) else type(err).__name__
    return f"{text} (line {line})" if line else text
