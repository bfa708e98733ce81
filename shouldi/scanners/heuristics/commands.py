"""setuptools commands: which classes are commands, and what ``setup(cmdclass=...)`` says.

A subclass of a setuptools/distutils command (``install``, ``build_ext``, ``Command``...)
runs during the build only if ``setup()`` registers it under a command the build runs
(:mod:`.graph` decides which). The visitor reads ``cmdclass`` when it is a dict literal, a
``dict(...)`` call, or a name bound to one (with later ``d["key"] = C`` and ``d.update``);
anything else (``cmdclass=versioneer.get_cmdclass()``, ``**kwargs``) is *unknown*, and then
every build-command subclass the build reaches counts.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from shouldi.scanners.heuristics.facts import FileFacts
from shouldi.scanners.heuristics.guards import BUILD_COMMANDS

__all__ = ["SETUP_CALLS", "Commands"]

#: setuptools/distutils command classes: a subclass's methods may run during the build.
_COMMAND_BASES = BUILD_COMMANDS | {"Command", "sdist", "easy_install", "bdist_rpm", "upload",
                                   "register", "test", "clean"}
_BUILD_TOOLS = ("setuptools.", "distutils.", "wheel.", "Cython.Distutils.", "numpy.distutils.")
SETUP_CALLS = frozenset({"setuptools.setup", "distutils.core.setup", "setup",
                         "numpy.distutils.core.setup"})


class Commands:
    """A mixin of the visitor: needs ``facts``, ``commands``, ``dicts`` and ``name_of``."""

    facts: FileFacts
    commands: set[str]
    dicts: dict[str, dict[str, str]]

    if TYPE_CHECKING:  # provided by the visitor
        def name_of(self, node: ast.expr) -> str:
            ...

    def _is_command(self, base: str) -> bool:
        if base in self.commands:
            return True
        last = base.rsplit(".", 1)[-1]
        if base.startswith(_BUILD_TOOLS):
            return last in _COMMAND_BASES
        return "." not in base and base in _COMMAND_BASES - {"Command", "test", "clean"}

    def _dict_refs(self, node: ast.Call) -> dict[str, str]:
        found = {k.arg: self.name_of(k.value) for k in node.keywords if k.arg}
        for arg in node.args:
            if isinstance(arg, ast.Dict):
                found.update({k.value: self.name_of(v) for k, v in zip(arg.keys, arg.values, strict=True)
                              if isinstance(k, ast.Constant) and isinstance(k.value, str)})
        return found

    def _setup(self, node: ast.Call) -> None:
        self.facts.setup_called = True
        value = next((k.value for k in node.keywords if k.arg == "cmdclass"), None)
        if value is None:
            self.facts.cmdclass_unknown |= any(k.arg is None for k in node.keywords)
            return
        if isinstance(value, ast.Dict):
            self.facts.cmdclass.update(self._dict_refs(ast.Call(ast.Name("dict"), [value], [])))
        elif isinstance(value, ast.Name) and value.id in self.dicts:
            self.facts.cmdclass.update(self.dicts[value.id])
        elif isinstance(value, ast.Call) and self.name_of(value.func) == "dict":
            self.facts.cmdclass.update(self._dict_refs(value))
        else:
            self.facts.cmdclass_unknown = True
            if isinstance(value, ast.Call):
                self.facts.cmdclass.update(self._dict_refs(value))
