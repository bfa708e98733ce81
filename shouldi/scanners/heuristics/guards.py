"""Guards: the branches of an ``if`` that the install (or an import) never takes.

``if __name__ == "__main__":`` is never true when a module is imported, and always true in
``setup.py`` (setuptools runs it as ``__main__``). An argv test whose strings are none of
the commands pip's build runs (``if sys.argv[-1] == "publish":``, ``if "upload" in
sys.argv``) is never true during ``pip install``; its negation (``!=``, ``not in``) always
is. Literals and module flags bound to one (``RELEASED = True`` ... ``if not RELEASED:``)
are what they are; ``and``/``or``/``not`` combine these. Code in a branch never taken is
*guarded*: its findings are information, and what only it calls is not reached.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import TYPE_CHECKING

from shouldi.scanners.heuristics.taint import Frame

__all__ = ["BUILD_COMMANDS", "Guards"]

#: Commands pip's build of an sdist runs (PEP 517 through setuptools, or legacy install).
BUILD_COMMANDS = frozenset({
    "install", "develop", "build", "build_py", "build_ext", "build_clib", "build_scripts",
    "egg_info", "dist_info", "bdist_wheel", "bdist_egg", "editable_wheel", "install_lib",
    "install_scripts", "install_data", "install_headers", "install_egg_info", "bdist",
})


class Guards:
    """A mixin of the visitor: needs ``frames``, ``guard``, ``runs_as_main``,
    ``mentions_argv``, ``name_of``, ``visit`` and ``visit_all``."""

    frames: list[Frame]
    guard: int
    runs_as_main: bool
    mentions_argv: bool

    if TYPE_CHECKING:  # provided by the visitor
        def name_of(self, node: ast.expr) -> str:
            ...

        def visit(self, node: ast.AST) -> None:
            ...

        def visit_all(self, nodes: Sequence[ast.AST]) -> None:
            ...

    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        truth = self._install_truth(node.test)
        guarded = "body" if truth is False else ("orelse" if truth is True else None)
        for branch, body in (("body", node.body), ("orelse", node.orelse)):
            self.guard += branch == guarded
            self.visit_all(body)
            self.guard -= branch == guarded

    def _install_truth(self, test: ast.expr) -> bool | None:
        """Is ``test`` always (True) or never (False) true when the install or an import runs
        this code? ``__name__ == "__main__"`` is never true outside ``setup.py``; an argv test
        on strings none of which is a command pip's build runs is never true; a literal or a
        module flag bound to a literal (``RELEASED = True``) is what it is."""
        if isinstance(test, ast.Constant):
            return bool(test.value)
        if isinstance(test, ast.Name):
            return next((f.bools[test.id] for f in reversed(self.frames) if test.id in f.bools),
                        None)
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self._install_truth(test.operand)
            return None if inner is None else not inner
        if isinstance(test, ast.BoolOp):
            values = [self._install_truth(v) for v in test.values]
            if isinstance(test.op, ast.And):
                return False if False in values else (True if all(values) else None)
            return True if True in values else (False if values and all(
                v is False for v in values) else None)
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            return self._compare_truth(test)
        return None

    def _compare_truth(self, test: ast.Compare) -> bool | None:
        sides = (test.left, test.comparators[0])
        positive = isinstance(test.ops[0], (ast.Eq, ast.In, ast.Is))
        if not positive and not isinstance(test.ops[0], (ast.NotEq, ast.NotIn, ast.IsNot)):
            return None
        if any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides):
            other = sides[1] if isinstance(sides[0], ast.Name) else sides[0]
            if isinstance(other, ast.Constant) and other.value == "__main__":
                return self.runs_as_main if positive else not self.runs_as_main
            return None
        if not self.mentions_argv:
            return None
        argv = any(isinstance(sub, ast.Attribute) and self.name_of(sub) == "sys.argv"
                   for side in sides for sub in ast.walk(side))
        strings = {sub.value for side in sides for sub in ast.walk(side)
                   if isinstance(sub, ast.Constant) and isinstance(sub.value, str)}
        if argv and strings and not strings & BUILD_COMMANDS:
            return not positive
        return None
