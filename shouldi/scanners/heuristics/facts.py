"""What one pass over one file produces: rule hits, and the file's piece of the call graph.

A *scope* is a piece of code that runs as a unit: ``<module>`` (module top level, class
bodies included: they run when the module does), a module-level function ``f``, a method
``C.m``, a function or class defined inside a function ``f.<locals>.g`` (reached when ``f``
calls it or hands it to something that runs it). Lambdas belong to the enclosing scope. An :data:`Edge` is what a scope makes run: a local function or
class, a qualified name imported from elsewhere, a method called by name, a module imported.
Edges from guarded code (``if __name__ == "__main__"``, argv checks) are kept apart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

__all__ = ["MODULE", "ClassFacts", "Edge", "FileFacts", "Hit", "ScopeFacts"]

MODULE = "<module>"

#: ``("local", "f")`` or ``("local", "C.m")``, ``("ref", "pkg.mod.f")``, ``("self", "C.m")``
#: (a method called on ``self`` in class ``C``), ``("super", "C.m")`` (``super().m()`` in
#: ``C``), ``("module", "pkg.mod")``.
Edge = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule matched at ``line`` in ``scope``."""

    rule: str
    line: int
    detail: str
    scope: str
    guarded: bool = False  # under a __main__ or argv guard
    critical: bool = False  # evidence with a direct data flow


@dataclass(slots=True)
class ScopeFacts:
    """A scope's line and what it makes run (each edge once); :meth:`add` is the only writer.

    A large package has tens of thousands of scopes whose facts all stay in memory until the
    call graph is searched, and a set costs 216 bytes empty, 728 with five edges: edges are
    a set only while the file is visited, and :meth:`seal` makes them a tuple (one shared
    empty one for the many scopes with none), which a later :meth:`add` reopens."""

    line: int
    edges: Collection[Edge] = ()
    guarded: Collection[Edge] = ()

    def add(self, edge: Edge, guarded: bool = False) -> None:
        current = self.guarded if guarded else self.edges
        if isinstance(current, set):
            current.add(edge)
            return
        grown = {*current, edge}
        if guarded:
            self.guarded = grown
        else:
            self.edges = grown

    def seal(self) -> None:
        self.edges, self.guarded = tuple(self.edges), tuple(self.guarded)


@dataclass(slots=True)
class ClassFacts:
    name: str  # scope-style id: "C", "C.Inner"
    line: int
    scope: str  # the scope whose code defines it
    bases: tuple[str, ...] = ()  # qualified names, or local names
    methods: dict[str, str] = field(default_factory=dict)  # method name -> scope id
    command: bool = False  # a setuptools/distutils command class


@dataclass(slots=True)
class FileFacts:
    """Everything the graph and the scanner need from one file."""

    hits: list[Hit] = field(default_factory=list)
    scopes: dict[str, ScopeFacts] = field(default_factory=dict)
    classes: dict[str, ClassFacts] = field(default_factory=dict)
    #: top-level names defined here: function scope ids and class ids
    defs: dict[str, str] = field(default_factory=dict)
    #: functions and classes defined inside a function: (that function's scope, name) -> id
    nested: dict[tuple[str, str], str] = field(default_factory=dict)
    #: ``setup(cmdclass={...})`` entries: command name -> class reference
    cmdclass: dict[str, str] = field(default_factory=dict)
    cmdclass_unknown: bool = False  # setup() got a cmdclass (or **kwargs) we could not read
    setup_called: bool = False  # a setup() call was seen
    #: capability sites (``network``, ``process``, ``exec``, ``file_write``, ``env_access``,
    #: ``native_code``, ``obfuscation``) counted wherever they are
    caps: Counter[str] = field(default_factory=Counter)

    def seal(self) -> None:
        """The file is visited: keep its edges compactly (see :class:`ScopeFacts`)."""
        for scope in self.scopes.values():
            scope.seal()
