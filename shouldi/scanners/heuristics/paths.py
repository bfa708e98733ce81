"""Paths outside the package, and writes to them (a mixin of the AST visitor).

A package has no business writing to ``~``, ``/usr/local/bin`` or site-packages while it
installs: that is how persistence (``.bashrc``, a ``.pth`` file) is planted. A path is
"outside" when it starts absolute or with ``~``, comes from ``expanduser``/``Path.home()``/
``site``/``sysconfig``/``$HOME``, or is built from (or assigned from) such a path.
"""

from __future__ import annotations

import ast
import re

from shouldi.scanners.heuristics import names as n

__all__ = ["PathRules"]

_OPEN = frozenset({"open", "io.open", "builtins.open", "codecs.open"})
_MOVE = frozenset({"shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree",
                   "shutil.move", "os.rename", "os.replace"})
_PATH_WRAPPERS = frozenset({"os.path.join", "pathlib.Path", "Path", "pathlib.PurePath",
                            "os.path.abspath", "os.path.normpath", "os.fspath", "str"})
_HOME_VARS = re.compile(r"^(HOME|USERPROFILE|APPDATA|LOCALAPPDATA|XDG_\w+)$")
_ABSOLUTE = re.compile(r"^(/|~|[A-Za-z]:[\\/]|\\\\)")
_HARMLESS_PATHS = ("/dev/null", "/dev/stdout", "/dev/stderr")


class PathRules:
    """Needs ``aliases``, ``outside`` (per-scope names bound to outside paths) and ``hit``."""

    aliases: dict[str, str]
    outside: list[set[str]]

    def hit(self, rule: str, node: ast.AST, detail: str) -> None:
        raise NotImplementedError

    def name_of(self, node: ast.expr) -> str:
        return n.dotted(node, self.aliases) or ""

    def is_outside(self, expr: ast.expr) -> bool:
        """Does ``expr`` evaluate to an absolute, home or interpreter path?"""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return bool(_ABSOLUTE.match(expr.value)) and expr.value not in _HARMLESS_PATHS
        if isinstance(expr, ast.JoinedStr) and expr.values:
            first = expr.values[0]
            return self.is_outside(first.value if isinstance(first, ast.FormattedValue) else first)
        if isinstance(expr, ast.BinOp):
            return self.is_outside(expr.left)
        if isinstance(expr, ast.Name):
            return any(expr.id in s for s in self.outside)
        if isinstance(expr, ast.Subscript):
            if self.name_of(expr.value) != "os.environ":
                return self.is_outside(expr.value)  # site.getsitepackages()[0]
            return isinstance(expr.slice, ast.Constant) and bool(
                _HOME_VARS.match(str(expr.slice.value)))
        if isinstance(expr, ast.Attribute):
            return self.name_of(expr) in {"sys.prefix", "sys.exec_prefix", "site.USER_SITE"}
        if not isinstance(expr, ast.Call):
            return False
        name = self.name_of(expr.func)
        if name in n.HOME_MARKERS or name.endswith((".expanduser", "Path.home")):
            return True
        if name in {"os.getenv", "os.environ.get"} and expr.args:
            arg = expr.args[0]
            return isinstance(arg, ast.Constant) and bool(_HOME_VARS.match(str(arg.value)))
        if name in _PATH_WRAPPERS:
            return bool(expr.args) and self.is_outside(expr.args[0])
        return isinstance(expr.func, ast.Attribute) and self.is_outside(expr.func.value)

    def check_writes(self, name: str, node: ast.Call) -> None:
        args = node.args
        if name in _OPEN and args:
            mode = args[1] if len(args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "mode"), None)
            if (isinstance(mode, ast.Constant) and isinstance(mode.value, str)
                    and set(mode.value) & set("wax+") and self.is_outside(args[0])):
                self.hit("write-outside", node, f"{name}(..., {mode.value!r}) on an outside path")
        elif name in _MOVE:
            dest = args[1] if len(args) > 1 else next(
                (k.value for k in node.keywords if k.arg in {"dst", "dest"}), None)
            if dest is not None and self.is_outside(dest):
                self.hit("write-outside", node, f"{name}() to an outside path")
        elif isinstance(node.func, ast.Attribute) and node.func.attr in {
                "write_text", "write_bytes"} and self.is_outside(node.func.value):
            self.hit("write-outside", node, f".{node.func.attr}() on an outside path")
