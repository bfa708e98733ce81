"""One way to parse a scanned file's Python: :func:`parse_python`, safe from any thread.

Two process-wide states make :func:`ast.parse` unsafe to call from threads at once:

* CPython 3.11 keeps the AST constructor's recursion depth per interpreter, not per thread:
  two threads parsing at once can make one of them fail with ``SystemError: AST constructor
  recursion depth mismatch`` on a file that parses (python/cpython#106905). A dataset build
  or a tree check runs the bandit operation of several packages in threads, and each parses
  large modules (:mod:`shouldi.scanners.literal_data`): bleach 5.0.1 got ``error`` that way.
* The compiler's warnings (invalid escapes...) go through the process-global warning filters,
  which may not be ours (an API caller's, pytest's ``error``): under an ``error`` filter a
  warning becomes a ``SyntaxError``, and a file that parses would read as unparsable.

So every parse holds one lock, with warnings ignored. Parsing holds the GIL anyway: the lock
costs no parallelism.
"""

from __future__ import annotations

import ast
import threading
import warnings

__all__ = ["PARSE_ERRORS", "parse_python"]

_LOCK = threading.Lock()

#: What parsing a hostile file may raise: not Python, NUL bytes, nested too deeply, too big;
#: ``SystemError`` for the interpreter's own AST trouble, should any remain.
PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError, SystemError)


def parse_python(source: bytes | str, filename: str = "<unknown>") -> ast.Module:
    """:func:`ast.parse` under the process-wide parse lock, the compiler's warnings ignored."""
    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source, filename=filename)
