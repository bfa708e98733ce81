"""Modules that are only literal data, which bandit is not given.

Bandit's time grows quadratically with the size of a literal (PyCQA/bandit#484, #505): on
faker 40.63.0's ``faker/decode/codes.py`` (770 KB, one 65,536-string tuple) one bandit
process runs for more than 300 s, so the whole package's bandit check timed out and a
mainstream package got ``error``. Such a module holds no code: nothing bandit looks for (calls,
imports, subprocesses, SQL built from strings...) can be in it, only the literal strings its
string tests would read (a string assigned to a name like ``password``). So a large module
whose every statement is a docstring or an assignment of a literal to plain names is left out
of bandit's files and *said* (the check's warnings name each file, its size and why); our
heuristics still parse and scan it (their blob and long-line rules read literals).

"Literal" is what :func:`ast.literal_eval` accepts: constants, containers of them, signed
numbers; no names, attributes, f-strings or comprehensions. Generated tables also build
typed containers: a call of ``array``, ``frozenset``, ``set``, ``tuple``, ``list``, ``dict``,
``bytes`` or ``bytearray`` with literal arguments counts as data, as do imports of
``__future__``, ``typing`` and ``array`` (standard-library modules a package cannot shadow) and
annotations that are plain type expressions (names, strings, subscripts and ``|`` unions of
them: no attribute, no call). idna 3.20's ``uts46data.py`` (237 KB, ``uts46_starts: array[int] =
array("I", (...))``) took bandit 16 s, most of ``shouldi install requests``. The test parses
the file (the heuristics parse it too); a file that does not parse is not data and goes to
bandit, which reports it.
"""

from __future__ import annotations

import ast
from pathlib import Path

from shouldi.scanners.parsing import PARSE_ERRORS, parse_python

__all__ = ["LITERAL_DATA_MIN_SIZE", "is_literal_data"]

#: Smaller modules cost bandit little: they are scanned whatever they hold.
LITERAL_DATA_MIN_SIZE = 100 * 1024

_CONTAINERS = (ast.Tuple, ast.List, ast.Set)


def _literal(node: ast.expr) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Constant):
            continue
        if isinstance(n, _CONTAINERS):
            stack.extend(n.elts)
        elif isinstance(n, ast.Dict):
            if any(k is None for k in n.keys):  # {**other}
                return False
            stack.extend(k for k in n.keys if k is not None)
            stack.extend(n.values)
        elif isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)) and (
                isinstance(n.operand, ast.Constant)):
            continue
        else:
            return False
    return True


#: Constructors whose call with literal arguments builds data and runs nothing else.
_DATA_CALLS = frozenset({"array", "frozenset", "set", "tuple", "list", "dict", "bytes", "bytearray"})
#: Modules a data module may import: the standard library's, found before any package's.
_DATA_IMPORTS = frozenset({"__future__", "typing", "array"})


def _value(node: ast.expr) -> bool:
    """A literal, or a data constructor called with literals only."""
    if isinstance(node, ast.Call):
        func = node.func
        named = func.id if isinstance(func, ast.Name) else (
            f"{func.value.id}.{func.attr}" if isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name) else "")
        return (named in _DATA_CALLS or named == "array.array") and all(
            not isinstance(a, ast.Starred) and _literal(a) for a in node.args) and all(
            k.arg is not None and _literal(k.value) for k in node.keywords)
    return _literal(node)


def _type_expression(node: ast.expr) -> bool:
    """An annotation evaluated at import that can only look names up and subscript them."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.Subscript):
        return _type_expression(node.value) and _type_expression(node.slice)
    if isinstance(node, ast.Tuple):
        return all(_type_expression(e) for e in node.elts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # str | None
        return _type_expression(node.left) and _type_expression(node.right)
    return False


def _plain_target(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, (ast.Tuple, ast.List)) and all(_plain_target(t) for t in target.elts)


def _data_statement(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Expr):
        return isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)
    if isinstance(stmt, ast.ImportFrom):
        return stmt.level == 0 and stmt.module in _DATA_IMPORTS
    if isinstance(stmt, ast.Import):
        return all(a.name in _DATA_IMPORTS for a in stmt.names)
    if isinstance(stmt, ast.Assign):
        return all(_plain_target(t) for t in stmt.targets) and _value(stmt.value)
    if isinstance(stmt, ast.AnnAssign):
        # the annotation is evaluated at import (without `from __future__ import annotations`)
        return (isinstance(stmt.target, ast.Name) and _type_expression(stmt.annotation)
                and stmt.value is not None and _value(stmt.value))
    return False


def is_literal_data(path: Path, size: int) -> bool:
    """Whether the module at ``path`` (``size`` bytes) is large and nothing but literal data."""
    if size < LITERAL_DATA_MIN_SIZE:
        return False
    try:
        module = parse_python(path.read_bytes(), filename=str(path))
    except (*PARSE_ERRORS, OSError):
        return False
    return bool(module.body) and all(_data_statement(s) for s in module.body)
