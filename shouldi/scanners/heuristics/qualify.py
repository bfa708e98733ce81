"""Names and literals: what a callee is called, and what an expression spells.

A call is judged by its qualified name (:mod:`.names`), found through what hides it:
import aliases, ``getattr(os, "sys" + "tem")``, ``__import__("o" "s")``, ``sys.modules["os"]``,
``globals()["__builtins__"]["exec"]``, ``vars(builtins).get("exec")``, an if-expression
(``b if isinstance(b, dict) else vars(b)``: either branch names the same thing) and a lambda
called on the spot or through a name (``(lambda g: g["__builtins__"])(globals())``: its
body is qualified with each parameter standing for the argument given). Such a name comes
back marked *hidden* when a computed string or a lambda was needed to find it; a namespace
looked up with a written-out key (``vars(builtins).get("exec")``, six's way) is not hidden.

Literals fold through :func:`.fold.fold`, with what each name was last bound to.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from shouldi.scanners.heuristics import names as n
from shouldi.scanners.heuristics.fold import Value, fold

if TYPE_CHECKING:
    from shouldi.scanners.heuristics.taint import Frame

__all__ = ["Qualify"]

_BUILTIN_DICTS = frozenset({"__builtins__", "builtins", "__builtin__"})


class Qualify:
    """A mixin of :class:`~.taint.Taint`; the visitor supplies ``aliases`` and ``frames``."""

    aliases: dict[str, str]
    frames: list[Frame]
    _names: dict[int, str]
    _folds: dict[int, Value | None]
    _active: set[int]
    _lambdas: list[dict[str, ast.expr]]  # parameters of the lambdas being qualified

    # -- names -------------------------------------------------------------------------------
    def qualify(self, node: ast.expr) -> tuple[str, bool]:
        """``(qualified name, hidden)`` of a callee; ``("", False)`` when it has none."""
        if isinstance(node, ast.Name):
            for given in reversed(self._lambdas):  # a lambda's parameter: its argument
                if node.id in given:
                    arg = given.pop(node.id)  # each use once: no cycle through itself
                    try:
                        return self.qualify(arg)
                    finally:
                        given[node.id] = arg
            return self.aliases.get(node.id, node.id), False
        if isinstance(node, ast.Attribute):
            base, hidden = self.qualify(node.value)
            return (f"{base}.{node.attr}" if base else ""), hidden
        if isinstance(node, ast.Call):
            return self._qualify_call(node)
        if isinstance(node, ast.Subscript):
            return self._qualify_subscript(node)
        if isinstance(node, ast.IfExp):  # x if isinstance(x, dict) else vars(x): either one
            found = self.qualify(node.body)
            return found if found[0] else self.qualify(node.orelse)
        return "", False

    def _qualify_call(self, node: ast.Call) -> tuple[str, bool]:
        lam = self._lambda(node.func)
        if lam is not None:  # (lambda g: g["__builtins__"])(globals()): what the body names
            return self._qualify_lambda(lam, node)
        inner, hidden = self.qualify(node.func)
        inner = n.builtin_sink(inner)
        args = node.args
        head, _, method = inner.rpartition(".")
        if method == "get" and args and (head in _BUILTIN_DICTS or head == "<namespace>"):
            # vars(builtins).get("exec"), __builtins__.get("exec") where it is a dict
            key = self.fold(args[0])
            if isinstance(key, str):
                found = "builtins" if key in _BUILTIN_DICTS else f"builtins.{key}"
                return found, hidden or self.computed_literal(args[0])
        if inner in n.DYNAMIC_IMPORTS and args:
            module = self.fold(args[0])
            if isinstance(module, str) and module.replace(".", "").replace("_", "").isalnum():
                return module, hidden or self.computed_literal(args[0])
            return "", hidden
        if inner == "getattr" and len(args) >= 2:
            attr = self.fold(args[1])
            base, base_hidden = self.qualify(args[0])
            if not isinstance(attr, str) or not base:
                return "", hidden
            base = "builtins" if base in _BUILTIN_DICTS else base
            return f"{base}.{attr}", hidden or base_hidden or self.computed_literal(args[1])
        if inner in ("globals", "locals", "vars") and not args:
            return "<namespace>", hidden
        if inner == "vars" and args:  # vars(x) is x's namespace: it hides nothing by itself
            base, base_hidden = self.qualify(args[0])
            return ("builtins" if base in _BUILTIN_DICTS else base), base_hidden
        return inner, hidden  # Path.home().joinpath: still worth a name

    def _lambda(self, func: ast.expr) -> ast.Lambda | None:
        """The lambda ``func`` is, or a name is bound to (``f = lambda g: ...``)."""
        if isinstance(func, ast.Lambda):
            return func
        if isinstance(func, ast.Name):
            value = self._last(func.id)
            return value if isinstance(value, ast.Lambda) else None
        return None

    def _qualify_lambda(self, lam: ast.Lambda, node: ast.Call) -> tuple[str, bool]:
        """The name a lambda's body qualifies to, its parameters standing for the call's
        arguments. Only a body that looks something up counts: ``(lambda: exec)()``."""
        if id(lam) in self._active or len(self._lambdas) > 4:
            return "", False
        params = [a.arg for a in lam.args.args]
        given = dict(zip(params, node.args, strict=False))
        self._active.add(id(lam))
        self._lambdas.append(given)
        try:
            name, hidden = self.qualify(lam.body)
        finally:
            self._lambdas.pop()
            self._active.discard(id(lam))
        return name, True if name else hidden

    def _qualify_subscript(self, node: ast.Subscript) -> tuple[str, bool]:
        key = self.fold(node.slice)
        if not isinstance(key, str):
            return "", False
        value = node.value
        if isinstance(value, ast.Attribute) and value.attr == "__dict__":
            base, _ = self.qualify(value.value)
            base = "builtins" if base in _BUILTIN_DICTS else base
            return (f"{base}.{key}" if base else ""), True
        base, hidden = self.qualify(value)
        if base == "sys.modules":
            return key, hidden or self.computed_literal(node.slice)
        if base in _BUILTIN_DICTS:
            return f"builtins.{key}", True
        if base == "<namespace>":
            return ("builtins" if key in _BUILTIN_DICTS else key), True
        return "", False

    def computed_literal(self, node: ast.expr) -> bool:
        """Was the literal ``node`` folds to computed (``"o" + "s"``), not just written?"""
        if isinstance(node, ast.Constant):
            return False
        if isinstance(node, ast.Name):
            value = self._last(node.id)
            if value is None or id(value) in self._active:
                return False
            self._active.add(id(value))
            try:
                return self.computed_literal(value)
            finally:
                self._active.discard(id(value))
        return True

    def name_of(self, node: ast.expr) -> str:
        key = id(node)
        found = self._names.get(key)
        if found is None:
            found = self._names[key] = n.builtin_sink(self.qualify(node)[0])
        return found

    # -- literals ------------------------------------------------------------------------------
    def _last(self, name: str) -> ast.expr | None:
        for frame in reversed(self.frames):
            if name in frame.last:
                return frame.last[name]
        return None

    def const(self, name: str) -> Value | None:
        value = self._last(name)
        if value is None or id(value) in self._active:
            return None
        self._active.add(id(value))
        try:
            return self.fold(value)
        finally:
            self._active.discard(id(value))

    def literal_node(self, name: str) -> ast.expr | None:
        """The list or tuple display a name was last bound to, for :func:`.fold.fold`."""
        value = self._last(name)
        return value if isinstance(value, (ast.List, ast.Tuple)) else None

    def fold(self, node: ast.expr) -> Value | None:
        key = id(node)
        if key in self._folds:
            return self._folds[key]
        found = self._folds[key] = fold(node, self.name_of, self.const, self.literal_node)
        return found
