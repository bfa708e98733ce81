"""One AST pass over one file: every heuristic that needs the syntax tree.

The visitor never evaluates anything. It resolves call names through the file's imports,
knows whether the code at hand runs by itself (install/import time) and follows a little
dataflow inside each function: names assigned from decoders or downloads are *tainted*, and
so is any expression that uses them, so ``p = b64decode(s); c = p.decode(); exec(c)`` is  # safe: docstring
caught. Names assigned from home/absolute paths are tracked the same way for writes.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from shouldi.scanners.heuristics import names as n
from shouldi.scanners.heuristics.blobs import blob_rule
from shouldi.scanners.heuristics.paths import PathRules

__all__ = ["Hit", "Visitor"]

#: setuptools/distutils command classes: a subclass's methods run during build/install.
_INSTALL_COMMANDS = frozenset({
    "install", "develop", "egg_info", "build_py", "sdist", "build_ext", "build", "bdist_wheel",
    "bdist_egg", "bdist", "install_lib", "install_scripts", "install_data", "build_clib",
    "build_scripts", "easy_install", "bdist_rpm", "Command",
})
_BUILD_TOOLS = ("setuptools.", "distutils.", "wheel.")
_ENVIRON_VIEWS = frozenset({"dict", "str", "repr", "list", "tuple", "sorted", "copy.copy",
                            "os.environ.copy", "os.environ.items", "os.environ.values",
                            "os.environ.keys"})
#: Node types with nothing below them worth a call (``Load()``, ``Add()``...);
#: ``Name`` has no rule of its own and only a ``ctx`` below it. Concrete classes, so a
#: ``type(node) in _SKIP`` test replaces ``isinstance`` (the traversal's hottest line).
_SKIP = frozenset(
    cls for base in (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop)
    for cls in base.__subclasses__()
) | {ast.Name}
_AST = ast.AST
_ENVIRON_OK = ("dict", "copy.copy", "copy.deepcopy", "isinstance", "id", "len")


@dataclass(frozen=True)
class Hit:
    """A rule matched at ``line``; ``install_time`` says if that code runs by itself."""

    rule: str
    line: int
    detail: str
    install_time: bool


class Visitor(PathRules, ast.NodeVisitor):
    """Collect :class:`Hit` values for one module.

    ``whole_file``: every line runs at install time (setup.py, build backends, .pth lines).
    ``top_level``: code outside functions runs at import time (``__init__.py``).
    """

    def __init__(
        self, whole_file: bool = False, top_level: bool = False, line_offset: int = 0,
        mentions_environ: bool = True, may_decode_or_download: bool = True,
    ) -> None:
        self.whole_file, self.top_level, self.offset = whole_file, top_level, line_offset
        #: False when the source never spells "environ": then no expression can be
        #: os.environ, and the environment checks on every call argument are skipped.
        self.mentions_environ = mentions_environ
        #: False when the source cannot call a decoder or a network API
        #: (:func:`~shouldi.scanners.heuristics.names.may_decode_or_download`).
        self.may_decode_or_download = may_decode_or_download
        self.aliases: dict[str, str] = {}
        self.hits: list[Hit] = []
        self.tainted: list[set[str]] = [set()]
        self.outside: list[set[str]] = [set()]
        self.function_depth = 0
        self.command_depth = 0
        self.commands: set[str] = set()  # classes of this file known to be commands

    _methods: ClassVar[dict[type, Callable[[Visitor, ast.AST], None]]] = {}

    # -- traversal: NodeVisitor's, with a per-type dispatch cache and leaf nodes skipped
    # (about a third faster on large trees; parsing still dominates).
    def visit(self, node: ast.AST) -> None:
        method = self._methods.get(type(node))
        if method is None:
            found = getattr(Visitor, "visit_" + type(node).__name__, None)
            method = self._methods[type(node)] = found or Visitor.generic_visit
        method(self, node)

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

    # -- context -----------------------------------------------------------------------------
    @property
    def install_time(self) -> bool:
        return (self.whole_file or self.command_depth > 0
                or (self.top_level and self.function_depth == 0))

    def hit(self, rule: str, node: ast.AST, detail: str) -> None:
        line = getattr(node, "lineno", 0) + self.offset
        self.hits.append(Hit(rule, line, detail, self.install_time))

    # -- imports and scopes ---------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                head = alias.name.split(".")[0]
                self.aliases[head] = head

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name != "*":
                self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        self.function_depth += 1
        self.tainted.append(set())
        self.outside.append(set())
        self.generic_visit(node)
        self.tainted.pop()
        self.outside.pop()
        self.function_depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        command = next((b for b in map(self.name_of, node.bases) if self._is_command(b)), None)
        if command is None:
            self.generic_visit(node)
            return
        self.commands.add(node.name)
        self.command_depth += 1
        self.hit("custom-install-command", node, f"class {node.name}({command})")
        self.generic_visit(node)
        self.command_depth -= 1

    def _is_command(self, base: str) -> bool:
        if base in self.commands:
            return True
        last = base.rsplit(".", 1)[-1]
        if base.startswith(_BUILD_TOOLS):
            return last in _INSTALL_COMMANDS
        return "." not in base and base in _INSTALL_COMMANDS - {"Command"}

    # -- dataflow ------------------------------------------------------------------------------
    def is_tainted(self, expr: ast.AST) -> bool:
        if type(expr) is ast.Constant:
            return False
        if type(expr) is ast.Name:
            return any(expr.id in s for s in self.tainted)
        if not self.may_decode_or_download and not any(self.tainted):
            return False
        for sub in ast.walk(expr):
            if isinstance(sub, ast.Name) and any(sub.id in s for s in self.tainted):
                return True
            if isinstance(sub, ast.Call):
                name = self.name_of(sub.func)
                if name in n.DECODERS or n.is_network(name):
                    return True
                joins = isinstance(sub.func, ast.Attribute) and sub.func.attr == "join"
                if joins and any(
                    isinstance(a, ast.Call) and self.name_of(a.func) == "chr"
                    for arg in sub.args for a in ast.walk(arg)
                ):
                    return True
        return False

    def _bind(self, targets: list[ast.expr], value: ast.expr) -> None:
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if not names:
            return
        if self.is_tainted(value):
            self.tainted[-1].update(names)
        if self.is_outside(value):
            self.outside[-1].update(names)

    def visit_Assign(self, node: ast.Assign) -> None:
        self._bind(node.targets, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._bind([node.target], node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._bind([node.target], node.value)
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._bind([node.target], node.value)
        self.generic_visit(node)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self._bind([item.optional_vars], item.context_expr)
        self.generic_visit(node)

    visit_AsyncWith = visit_With

    # -- strings --------------------------------------------------------------------------------
    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant):  # docstring or bare string: only blobs count
            self._blob(node.value)
            return
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        self._blob(node)
        value = node.value
        if isinstance(value, str) and len(value) <= 200 and n.CREDENTIAL_PATH.search(value):
            self.hit("credential-path", node, repr(value)[:80])

    def _blob(self, node: ast.Constant) -> None:
        if isinstance(node.value, (str, bytes)):
            found = blob_rule(node.value)
            if found is not None:
                self.hit(found[0], node, found[1])

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if (isinstance(node.ctx, ast.Load) and self.name_of(node.value) == "os.environ"
                and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)
                and n.SECRET_ENV.search(node.slice.value)):
            self.hit("secret-env", node, f"os.environ[{node.slice.value!r}]")
        self.generic_visit(node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        if self._is_environ(node.value):
            self.hit("environ-dump", node, "os.environ formatted into a string")
        self.generic_visit(node)

    def _is_environ(self, expr: ast.expr) -> bool:
        if not self.mentions_environ or type(expr) is ast.Constant:
            return False
        if self.name_of(expr) == "os.environ":
            return True
        if isinstance(expr, ast.Call):
            name = self.name_of(expr.func)
            return name in _ENVIRON_VIEWS and (
                name.startswith("os.environ.") or any(self._is_environ(a) for a in expr.args))
        return False

    # -- calls ----------------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        name = self.name_of(node.func)
        self._call(name, node)
        self.generic_visit(node)

    def _call(self, name: str, node: ast.Call) -> None:
        first = node.args[0] if node.args else None
        if name in n.EXEC_SINKS and first is not None:
            if self.is_tainted(first):
                self.hit("exec-decoded-data", node, f"{name}() of decoded/downloaded data")
            elif not isinstance(first, ast.Constant) and self.install_time:
                self.hit("exec-dynamic", node, f"{name}() of a computed value")
        elif name in n.DYNAMIC_IMPORTS and first is not None and not isinstance(first, ast.Constant):
            if self.is_tainted(first):
                self.hit("exec-decoded-data", node, f"{name}() of a decoded module name")
            else:
                self.hit("dynamic-import", node, f"{name}() of a computed name")
        elif n.is_process(name):
            self.hit("process-spawn", node, f"{name}()")
        elif n.is_network(name):
            self.hit("network", node, f"{name}()")
        elif (name in {"os.getenv", "os.environ.get", "os.environ.pop"}
              and isinstance(first, ast.Constant) and isinstance(first.value, str)
              and n.SECRET_ENV.search(first.value)):
            self.hit("secret-env", node, f"{name}({first.value!r})")
        self.check_writes(name, node)
        if not name.endswith(_ENVIRON_OK) and "patch" not in name and not n.is_process(name):
            values = [*node.args, *(k.value for k in node.keywords if k.arg != "env")]
            if any(self._is_environ(v) for v in values):
                self.hit("environ-dump", node, f"os.environ passed to {name or 'a call'}()")
