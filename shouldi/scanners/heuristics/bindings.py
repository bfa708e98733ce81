"""Bindings: what the visitor records when a name, an attribute or a container gets a value.

Every ``x = value`` (and ``for x in ...``, ``with ... as x``, ``x += ...``, ``(x := ...)``) is
kept in the scope's :class:`~.taint.Frame` for :mod:`.taint` to read labels from later, and

* ``a, b = x, y`` binds pairwise (``u32, k32 = windll.user32, windll.kernel32``), except a
  swap (``a, b = b, a``), which would make each name an alias of the other;
* a name bound to a lookup (``e = exec``, ``run = getattr(builtins, "exec")``, ``vars(b).get(
  "exec")``, a lambda returning one) becomes an alias of what it looks up;
* a comprehension's variables are bound to what they range over before its element is
  visited, unless the name already means something in the scope;
* ``found.append(data)`` (``extend``, ``add``, ``update``...) binds the container to what it
  now holds: a list of stolen files carries what they carried;
* ``open(p)`` bound to a name records the file object's path; a dict literal bound to a name
  is kept for ``setup(cmdclass=...)``.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import TYPE_CHECKING

from shouldi.scanners.heuristics import names as n
from shouldi.scanners.heuristics.facts import FileFacts
from shouldi.scanners.heuristics.taint import Taint

__all__ = ["Bindings"]

#: Methods that put a value into a container (its labels then flow with the container).
_GROWERS = frozenset({"append", "extend", "add", "insert", "appendleft", "update",
                      "setdefault"})


class Bindings(Taint):
    """A mixin of the visitor: the binding statements' visits."""

    facts: FileFacts
    dicts: dict[str, dict[str, str]]

    if TYPE_CHECKING:  # provided by the visitor
        def visit(self, node: ast.AST) -> None:
            ...

        def generic_visit(self, node: ast.AST) -> None:
            ...

        def visit_all(self, nodes: Sequence[ast.AST]) -> None:
            ...

        def ref(self, node: ast.expr) -> None:
            ...

        def _method_ref(self, receiver: ast.expr, attr: str) -> None:
            ...

    # -- bindings -------------------------------------------------------------------------------
    def _bind(self, target: ast.expr, value: ast.expr | None, whole: bool = True) -> None:
        """Bind ``target`` to ``value``; ``whole`` is false for the parts of an unpacking,
        a loop variable, an augmented assignment: the name then holds no known literal."""
        frame = self.frames[-1]
        if isinstance(target, ast.Name):
            name = target.id
            seen = name in frame.last
            frame.bind(name, value, whole)
            if value is not None and whole:
                self._bind_value(name, value, seen)
            else:
                frame.bools.pop(name, None)
        elif isinstance(target, (ast.Tuple, ast.List)):
            names = {e.id for e in target.elts if isinstance(e, ast.Name)}
            if whole and isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(
                    target.elts) and not any(isinstance(e, ast.Starred) for e in target.elts) and (
                    not any(isinstance(e, ast.Starred) or (  # a, b = b, a: a swap
                        isinstance(e, ast.Name) and e.id in names) for e in value.elts)):
                for elt, part in zip(target.elts, value.elts, strict=True):  # a, b = x, y
                    self._bind(elt, part)
                return
            for elt in target.elts:
                self._bind(elt, value, False)
        elif isinstance(target, ast.Starred):
            self._bind(target.value, value, False)
        elif isinstance(target, ast.Attribute):
            key = self.attr_key(target)
            if key is not None and value is not None:
                frame.bind(key, value, whole)
                if frame.cls is not None and key.startswith("self."):
                    self.class_envs.setdefault(frame.cls, {}).setdefault(key, []).append(value)
            if value is not None and isinstance(value, (ast.Name, ast.Attribute)):
                self.ref(value)  # sys.excepthook = hook
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and (
                value is not None):
            entry = self.fold(target.slice)
            if isinstance(entry, str) and target.value.id in self.dicts:
                self.dicts[target.value.id][entry] = self.name_of(value)

    def _bind_value(self, name: str, value: ast.expr, seen: bool) -> None:
        frame = self.frames[-1]
        flag = isinstance(value, ast.Constant) and isinstance(value.value, (bool, int, type(None)))
        if flag and (not seen or frame.bools.get(name) == bool(value.value)):  # type: ignore[attr-defined]
            frame.bools[name] = bool(value.value)  # type: ignore[attr-defined]
        else:
            frame.bools.pop(name, None)  # bound to something else too: unknown
        if isinstance(value, (ast.Name, ast.Attribute)):
            frame.fnrefs[name] = value
        if isinstance(value, (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.IfExp)):
            qualified = n.builtin_sink(self.qualify(value)[0]) if not isinstance(
                value, ast.Call) or self._is_lookup(value) else ""
            if qualified and (qualified in n.EXEC_SINKS or qualified in n.DYNAMIC_IMPORTS
                              or "." in qualified or qualified.split(".")[0] in self.aliases):
                self.aliases[name] = qualified
        if isinstance(value, ast.Call) and self.name_of(value.func) in n.OPEN and value.args:
            frame.handles[name] = value.args[0]
        if isinstance(value, ast.Dict):
            self.dicts[name] = {k.value: self.name_of(v) for k, v in zip(value.keys, value.values, strict=True)
                                if isinstance(k, ast.Constant) and isinstance(k.value, str)}

    def grow(self, node: ast.Call) -> None:
        """``found.append(data)``: the container now holds what ``data`` carries."""
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr in _GROWERS and node.args
                and isinstance(func.value, ast.Name)):
            return
        name, value = func.value.id, node.args[-1]
        for frame in reversed(self.frames):
            values = frame.bound.get(name)
            if values is not None:
                if len(values) < 64:
                    values.append(value)
                return

    def _is_lookup(self, value: ast.Call) -> bool:
        """``getattr(x, "y")``, ``__import__("x")``, ``vars(builtins).get("exec")``, a lambda
        returning one: a call that only looks a name up."""
        func = value.func
        if self.name_of(func) in ({"getattr"} | n.DYNAMIC_IMPORTS):
            return True
        if (isinstance(func, ast.Attribute) and func.attr == "get") or self._lambda(func):
            return self.qualify(value)[0].startswith("builtins")
        return False

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._bind(target, node.value)
        self.visit(node.value)
        self.visit_all([t for t in node.targets if not isinstance(t, ast.Name)])

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._bind(node.target, node.value)
            self.visit(node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._bind(node.target, node.value, False)
        self.visit(node.value)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._bind(node.target, node.value)
        self.visit(node.value)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self._bind(node.target, node.iter, False)
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp
                       | ast.DictComp) -> None:
        """A comprehension's variables are bound first (the element is visited before the
        generators): ``{k: os.environ[k] for k in KEYS}`` must see what ``k`` ranges over.
        A name that already means something in the scope is left alone."""
        frame = self.frames[-1]
        for gen in node.generators:
            target = gen.target
            if isinstance(target, ast.Name) and target.id not in frame.bound and (
                    target.id not in frame.params and target.id not in self.facts.defs):
                frame.bound[target.id] = [gen.iter]
        self.generic_visit(node)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        enter, leave = ("__enter__", "__exit__") if isinstance(node, ast.With) else (
            "__aenter__", "__aexit__")
        for item in node.items:
            self._method_ref(item.context_expr, enter)
            self._method_ref(item.context_expr, leave)
        for item in node.items:
            if item.optional_vars is not None:
                self._bind(item.optional_vars, item.context_expr)
        self.generic_visit(node)

    visit_AsyncWith = visit_With

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            self.frames[-1].returns.append(node.value)
            self.visit(node.value)
