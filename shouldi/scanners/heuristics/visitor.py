"""One AST pass over one file: rule hits and the file's part of the call graph.

The visitor never evaluates anything. Walking the tree once, it

* resolves names through the file's imports (and local aliases such as ``e = exec``),
* keeps one :class:`~.taint.Frame` per scope for the dataflow of :mod:`.taint`, and
  function summaries for :mod:`.sinks`,
* records the scope every hit is in and the :data:`~.facts.Edge` values each scope has:
  calls, functions passed as arguments (``atexit.register(f)``, ``Thread(target=f)``),
  decorators (they run when the function is defined), base classes, imports,
* marks guarded code: ``if __name__ == "__main__":`` (except in ``setup.py``, which runs as
  ``__main__``), argv checks whose strings are none of the commands pip's build runs
  (``if sys.argv[-1] == "publish":``; the branch for the negated test, ``!=``/``not in``, is
  the else branch), and ``if False:``; edges from guarded code are kept apart,
* reads ``setup(cmdclass=...)`` (a dict literal or a name bound to one) and marks
  setuptools/distutils command subclasses,
* sees statements pushed far to the right of a line (``HIDDEN_GAP`` blanks before them):
  the "W4SP" trick of hiding an ``exec`` call past the edge of the editor,
* analyses code that is run from a literal (``exec`` of a string, base64 included, see
  :mod:`.fold`) as if it were written out, up to :data:`MAX_NESTING` levels deep.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Callable, Sequence
from typing import ClassVar

from shouldi.scanners.heuristics import names as n
from shouldi.scanners.heuristics.bindings import Bindings
from shouldi.scanners.heuristics.blobs import ENTROPY_MIN_LENGTH, blob_rule
from shouldi.scanners.heuristics.commands import SETUP_CALLS, Commands
from shouldi.scanners.heuristics.facts import MODULE, ClassFacts, Edge, FileFacts, Hit, ScopeFacts
from shouldi.scanners.heuristics.fold import Value
from shouldi.scanners.heuristics.guards import Guards
from shouldi.scanners.heuristics.indicators import SECRET_ENV, Label, string_labels
from shouldi.scanners.heuristics.sinks import Sinks
from shouldi.scanners.heuristics.taint import Frame, Summary
from shouldi.scanners.parsing import PARSE_ERRORS, parse_python

__all__ = ["HIDDEN_GAP", "MAX_NESTING", "Visitor", "hidden_candidates"]
#: Registering an import hook makes every later ``import`` call these methods of it.
_IMPORT_HOOK_LISTS = frozenset(f"sys.{where}.{how}" for where in ("meta_path", "path_hooks")
                               for how in ("append", "insert"))
_IMPORT_HOOK_METHODS = ("find_spec", "find_module", "create_module", "exec_module", "load_module",
                        "get_code", "get_source", "__call__")

_RUNNER_DECORATORS = frozenset({"atexit.register"})
HIDDEN_GAP = 100  # blanks before a statement on its line
MAX_NESTING = 3
_SKIP = frozenset(
    cls for base in (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop)
    for cls in base.__subclasses__()
) | {ast.Name}
_AST = ast.AST
_BUILTINS = frozenset(dir(builtins)) - {"exec", "eval", "compile", "__import__"}


_GAP = re.compile(rb"(?m)^[^\n]*?(?:\S[ \t]{%d,}|^[ \t]{%d,})\S" % (HIDDEN_GAP, HIDDEN_GAP))


def hidden_candidates(source: bytes) -> frozenset[int]:
    """Line numbers with a run of at least :data:`HIDDEN_GAP` blanks followed by more text."""
    if b" " * HIDDEN_GAP not in source and b"\t" * HIDDEN_GAP not in source:
        return frozenset()
    return frozenset(source.count(b"\n", 0, m.start()) + 1 for m in _GAP.finditer(source))


class Visitor(Sinks, Guards, Commands, Bindings, ast.NodeVisitor):
    """Collect :class:`~.facts.FileFacts` for one module.

    ``module`` and ``package`` are the file's dotted names (relative imports resolve against
    ``package``); ``lines`` its source lines (for hidden code); ``runs_as_main`` is true for
    ``setup.py``.
    """

    def __init__(self, module: str = "", package: str = "", lines: list[str] | None = None,
                 runs_as_main: bool = False, depth: int = 0, mentions_environ: bool = True,
                 hidden_lines: frozenset[int] = frozenset(), mentions_argv: bool = True,
                 edge_pool: dict[Edge, Edge] | None = None) -> None:
        self.module, self.package, self.lines = module, package, lines
        self.runs_as_main, self.depth = runs_as_main, depth
        #: False when the source never spells "environ"/"getenv": no expression can read the
        #: environment, and the checks on every call are skipped.
        self.mentions_environ = mentions_environ
        self.mentions_argv = mentions_argv  # False: no test can be an argv check
        #: Lines with a long run of blanks before code (:func:`hidden_candidates`): only
        #: statements there are checked for hidden code.
        self.hidden_lines = hidden_lines
        #: One copy of each edge for a whole scan (``("ref", "os.path.join")`` recurs in
        #: thousands of scopes of a large package): the facts of every file stay in memory
        #: until the call graph is searched.
        self.edge_pool: dict[Edge, Edge] = {} if edge_pool is None else edge_pool
        self.facts = FileFacts()
        self.facts.scopes[MODULE] = ScopeFacts(1)
        self.aliases: dict[str, str] = {}
        self.frames: list[Frame] = [Frame(MODULE, "module")]
        self.containers: list[tuple[str, str]] = [("module", MODULE)]
        self.summaries: dict[str, Summary] = {}
        self.class_envs: dict[str, dict[str, list[ast.expr]]] = {}
        self.dicts: dict[str, dict[str, str]] = {}  # names bound to {command: class} dicts
        self.commands: set[str] = set()  # local names of command classes
        self.guard = 0
        self._memo: dict[int, int] = {}
        self._names: dict[int, str] = {}
        self._folds: dict[int, Value | None] = {}
        self._active: set[int] = set()
        self._lambdas: list[dict[str, ast.expr]] = []

    def run(self, tree: ast.AST) -> FileFacts:
        """Visit ``tree``. Module-level names are bound first, so that a function defined
        above ``PAYLOAD = b64decode(...)`` still sees what ``PAYLOAD`` holds."""
        if isinstance(tree, ast.Module):
            module = self.frames[0]
            for stmt in tree.body:
                if isinstance(stmt, ast.Assign):
                    for target in stmt.targets:
                        if isinstance(target, ast.Name):  # labels only: no literal yet
                            module.bound.setdefault(target.id, []).append(stmt.value)
        self.visit(tree)
        return self.facts

    # -- traversal: a per-type dispatch cache, leaves skipped --------------------------------
    _methods: ClassVar[dict[type, Callable[[Visitor, ast.AST], None]]] = {}

    def visit(self, node: ast.AST) -> None:
        method = self._methods.get(type(node))
        if method is None:
            found = getattr(Visitor, "visit_" + type(node).__name__, None)
            method = self._methods[type(node)] = found or Visitor.generic_visit
        method(self, node)

    @classmethod
    def for_source(cls, hidden_lines: frozenset[int]) -> type[Visitor]:
        """The visitor class for a file: one that checks statements for hidden code when
        the file has candidate lines, the plain one otherwise (no cost per node)."""
        return _CheckingVisitor if hidden_lines else cls

    def generic_visit(self, node: ast.AST) -> None:
        visit = self.visit
        for field in node._fields:
            value = getattr(node, field, None)
            if type(value) is list:
                for item in value:
                    if type(item) not in _SKIP and isinstance(item, _AST):
                        visit(item)
            elif type(value) not in _SKIP and isinstance(value, _AST):
                visit(value)

    def visit_all(self, nodes: Sequence[ast.AST]) -> None:
        for node in nodes:
            self.visit(node)

    # -- context -----------------------------------------------------------------------------
    @property
    def scope(self) -> str:
        return self.frames[-1].scope

    def hit(self, rule: str, node: ast.AST, detail: str, critical: bool = False) -> None:
        self.facts.hits.append(Hit(rule, getattr(node, "lineno", 0), detail, self.scope,
                                   self.guard > 0, critical))

    def edge(self, kind: str, target: str) -> None:
        if target:
            edge = (kind, target)
            self.facts.scopes[self.frames[-1].scope].add(
                self.edge_pool.setdefault(edge, edge), self.guard > 0)

    def ref(self, node: ast.expr) -> None:
        """An edge for a function or class named by ``node`` (called or handed over).

        A name bound by assignment, loop or parameter in the current scope is a variable,
        not the function an import or a ``def`` gave that name, unless it was bound to one.
        """
        if isinstance(node, ast.Name):
            frame = self.frames[-1]
            if node.id in frame.params or node.id in frame.bound:
                bound = frame.fnrefs.get(node.id)
                if bound is not None and bound is not node:
                    self.ref(bound)
                return
            target = self.aliases.get(node.id)
            if target:
                self.edge("ref", target)
            elif node.id not in _BUILTINS:  # len(), print(): nothing of the tree's to reach
                self.edge("local", node.id)
        elif isinstance(node, ast.Attribute):
            self._method_ref(node.value, node.attr)

    def _method_ref(self, receiver: ast.expr, attr: str) -> None:
        """An edge for ``receiver.attr`` when the receiver's class is known: ``self``/``cls``,
        ``super()``, ``C()``, a name bound to ``C(...)``, a class or module named directly.
        An object of unknown class gets no edge: by-name guesses make half of a large
        package reachable."""
        frame = self.frames[-1]
        root: ast.expr = receiver
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id in self.aliases and not (
                root.id in frame.bound or root.id in frame.params):
            self.edge("ref", f"{self.name_of(receiver)}.{attr}")
            return
        if isinstance(receiver, ast.Name) and receiver.id in ("self", "cls"):
            if frame.cls is not None:
                self.edge("self", f"{frame.cls}.{attr}")
            return
        if isinstance(receiver, ast.Name) and receiver.id not in frame.params:
            bound = self._last(receiver.id)
            if bound is None and receiver.id not in frame.bound:
                self.edge("local", f"{receiver.id}.{attr}")  # C.m(): a class named directly
                return
            receiver = bound if bound is not None else receiver
        if isinstance(receiver, ast.Call):
            func = receiver.func
            if isinstance(func, ast.Name) and func.id == "super":
                if frame.cls is not None:
                    self.edge("super", f"{frame.cls}.{attr}")
            elif isinstance(func, ast.Name):
                target = self.aliases.get(func.id)
                self.edge("ref", f"{target}.{attr}") if target else self.edge(
                    "local", f"{func.id}.{attr}")
            elif isinstance(func, ast.Attribute):
                name = self.name_of(func)
                if name:
                    self.edge("ref", f"{name}.{attr}")

    def absolute(self, module: str, level: int) -> str:
        if not level:
            return module
        parts = self.package.split(".") if self.package else []
        base = parts[: len(parts) - (level - 1)] if level > 1 else parts
        return ".".join([*base, module] if module else base)

    def _hidden(self, node: ast.stmt) -> None:
        if self.lines is None or not 0 < node.lineno <= len(self.lines):
            return
        line = self.lines[node.lineno - 1]
        before = line.encode("utf-8", "replace")[: node.col_offset].decode("utf-8", "replace")
        blanks = re.search(r"[ \t]*;?[ \t]*$", before)
        gap = len(blanks.group(0).replace(";", "")) if blanks else 0
        if gap >= HIDDEN_GAP:
            self.cap("obfuscation")
            self.hit("hidden-code", node, f"a statement after {gap} blanks at column "
                     f"{node.col_offset}")

    # -- imports --------------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                head = alias.name.split(".")[0]
                self.aliases[head] = head
            self.edge("module", alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = self.absolute(node.module or "", node.level)
        self.edge("module", module)
        for alias in node.names:
            if alias.name != "*":
                self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
                self.edge("module", f"{module}.{alias.name}")

    # -- scopes ---------------------------------------------------------------------------------
    def _decorated(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
            self.ref(decorator.func if isinstance(decorator, ast.Call) else decorator)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._decorated(node)
        self.visit_all([d for d in [*node.args.defaults, *node.args.kw_defaults] if d])
        kind, container = self.containers[-1]
        if kind == "module":
            sid = node.name
            self.facts.defs[node.name] = sid
        elif kind == "class":
            sid = f"{container}.{node.name}"
            self.facts.classes[container].methods[node.name] = sid
        else:  # nested: runs when the enclosing function calls it or hands it to a runner
            sid = f"{container}.<locals>.{node.name}"
            self.facts.nested[(self.scope, node.name)] = sid
        self.facts.scopes.setdefault(sid, ScopeFacts(node.lineno))
        arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        params = {a.arg: i for i, a in enumerate(arguments)}
        frame = Frame(sid, "function", container if kind == "class" else self.frames[-1].cls,
                      params)
        self.frames.append(frame)
        self.containers.append(("function", sid))
        self.visit_all(node.body)
        self.containers.pop()
        self.frames.pop()
        key = sid if kind == "class" else node.name
        self.summaries[key] = Summary(frame, [self.frames[0]] if self.frames else [],
                                      tuple(params), frame.sinks)
        if any(self.name_of(d) in _RUNNER_DECORATORS for d in node.decorator_list):
            self.edge("local", node.name)

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._decorated(node)
        self.visit_all([*node.bases, *(k.value for k in node.keywords)])
        bases = tuple(self.name_of(b) for b in node.bases)  # subclassing runs no base code
        kind, container = self.containers[-1]
        if kind == "function":
            class_id = f"{container}.<locals>.{node.name}"
            self.facts.nested[(self.scope, node.name)] = class_id
        else:
            class_id = node.name if kind == "module" else f"{container}.{node.name}"
            if kind == "module":
                self.facts.defs[node.name] = class_id
        command = next((b for b in bases if self._is_command(b)), None)
        self.facts.classes[class_id] = ClassFacts(class_id, node.lineno, self.scope, bases,
                                                  command=command is not None)
        if command is not None:
            self.commands.add(node.name)
            self.cap("install_time_code")
            self.hit("custom-install-command", node, f"class {node.name}({command})")
        self.frames.append(Frame(self.scope, "class", class_id))
        self.containers.append(("class", class_id))
        self.visit_all(node.body)
        self.containers.pop()
        self.frames.pop()

    # -- strings and the environment -------------------------------------------------------------
    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant):  # docstring or bare string: only blobs count
            self._blob(node.value)
            return
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if type(value) is not str and type(value) is not bytes:
            return
        if len(value) >= ENTROPY_MIN_LENGTH:
            self._blob(node)
        if isinstance(value, str) and len(value) <= 200 and (
                string_labels(value) & Label.CREDPATH):
            self.hit("credential-path", node, repr(value)[:80])

    def _blob(self, node: ast.Constant) -> None:
        if isinstance(node.value, (str, bytes)):
            found = blob_rule(node.value)
            if found is not None:
                self.cap("obfuscation")
                self.hit(found[0], node, found[1])

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if self.mentions_environ and isinstance(node.ctx, ast.Load) and (
                self.name_of(node.value) == "os.environ"):
            self.cap("env_access")
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and (
                    SECRET_ENV.search(key.value)):
                self.hit("secret-env", node, f"os.environ[{key.value!r}]")
        self.generic_visit(node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        if self.mentions_environ and self.name_of(node.value) == "os.environ":
            self.hit("environ-dump", node, "os.environ formatted into a string")
        self.generic_visit(node)

    # -- calls ----------------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        self.call(node)
        func = node.func
        if isinstance(func, (ast.Name, ast.Attribute)):
            self.ref(func)
            frame = self.frames[-1]
            if isinstance(func, ast.Name) and func.id in frame.params:
                frame.sinks.setdefault(frame.params[func.id], set()).add("call")
        name = self.name_of(func)
        if name in n.RUNNERS or (isinstance(func, ast.Attribute) and func.attr in n.RUNNER_METHODS):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if isinstance(arg, (ast.Name, ast.Attribute)):
                    self.ref(arg)
        if name in SETUP_CALLS:
            self._setup(node)
        if name in _IMPORT_HOOK_LISTS:  # the next import runs the hook's finder/loader methods
            for arg in node.args[-1:]:
                for method in _IMPORT_HOOK_METHODS:
                    self._method_ref(arg, method)
        if isinstance(func, ast.Attribute) and func.attr == "update" and isinstance(
                func.value, ast.Name) and func.value.id in self.dicts:
            self.dicts[func.value.id].update(self._dict_refs(node))
        self.grow(node)
        self.generic_visit(node)

    # -- code in literals -------------------------------------------------------------------------
    def nested(self, code: Value, node: ast.AST, what: str) -> None:
        if self.depth >= MAX_NESTING or not code:
            return
        try:
            tree = parse_python(code)
        except (*PARSE_ERRORS, TypeError):
            return
        sub = Visitor(self.module, self.package, None, self.runs_as_main, self.depth + 1)
        sub.aliases = dict(self.aliases)
        try:
            facts = sub.run(tree)
        except RecursionError:
            return
        for found in facts.hits:
            self.hit(found.rule, node, f"{found.detail} (in {what})", found.critical)
        self.facts.caps.update(facts.caps)
        for kind, target in facts.scopes[MODULE].edges:
            if kind in ("module", "ref"):
                self.edge(kind, target)


class _CheckingVisitor(Visitor):
    """A visitor that also looks at the columns of statements on ``hidden_lines``."""

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.stmt) and node.lineno in self.hidden_lines and (
                node.col_offset >= HIDDEN_GAP):
            self._hidden(node)
        Visitor.visit(self, node)
