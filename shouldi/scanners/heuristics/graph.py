"""Reachability over the whole tree: which scopes run by themselves, and by which path.

Nodes are ``(file, scope)`` pairs (:mod:`.facts`). The search starts from what runs without
anyone calling it, in this order, so each node keeps the strongest reason it runs:

1. ``build``: the top level of ``setup.py`` and of in-tree backends, the PEP 517 hooks of
   those backends, and the ``run``/``initialize_options``/``finalize_options`` methods of the
   ``cmdclass`` commands pip's build runs (``install``, ``build_py``, ``egg_info``...;
   ``upload`` or ``publish`` are not among them). When ``cmdclass`` cannot be read, every
   subclass of a build command counts. Also other backends' hook files and what the backend
   calls in them, and ``[tool.setuptools.cmdclass]`` commands (:mod:`.hooks`);
2. ``startup``: ``.pth`` import lines and ``sitecustomize``/``usercustomize``;
3. ``import``: the top level of what ``import <name>`` runs: top-level modules and the
   ``__init__`` of top-level packages (of each package under a namespace package);
4. ``plugin``: entry points that pytest or setuptools load by themselves, and console scripts
   that take a common command's name (:mod:`.hooks`);
5. ``submodule``: the top level of every other installed module;
6. ``guarded``: what only guarded code (``__main__``/argv checks) reaches.

From a node it follows edges: local functions and classes, qualified names through the
tree's modules (re-exports followed), imported modules (with their parent packages), and
methods of receivers whose class is known (``self.m()`` reaches ``m`` in the class, its
nearest base or its subclasses; ``C().m()``, ``x = C(); x.m()``; a class used at all gets
its constructor). It is a cheap over-approximation, like a class-hierarchy analysis: what
it calls reachable might not run. Calls on objects of unknown class are not followed: a
by-name guess makes half of a large package look reachable; an attack has to run code that
runs, and the rules see that code where it is.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from shouldi.scanners.heuristics.facts import MODULE, ClassFacts, FileFacts
from shouldi.scanners.heuristics.guards import BUILD_COMMANDS
from shouldi.scanners.heuristics.hooks import BuildHook
from shouldi.scanners.heuristics.rules import Reach

__all__ = ["HOOKS", "Graph", "Node", "Path"]

Node = tuple[str, str]  # (file, scope)
Path = tuple[str, ...]
#: PEP 517/660 hooks pip calls on a backend while installing.
HOOKS = ("get_requires_for_build_wheel", "prepare_metadata_for_build_wheel", "build_wheel",
         "get_requires_for_build_editable", "prepare_metadata_for_build_editable",
         "build_editable")
#: Methods that run when a class is used at all: instantiated or subclassed. (``__call__``,
#: ``__enter__`` and the like run only when used that way: a call or a ``with`` names them.)
_LIFECYCLE = frozenset({"__init__", "__new__", "__post_init__", "__init_subclass__",
                        "__set_name__"})
_COMMAND_METHODS = frozenset({"run", "initialize_options", "finalize_options"})
_RUN_BY_BUILD = BUILD_COMMANDS - {"bdist"}
_MAX_PATH = 6
#: importlib's finder and loader bases, and the methods the import system calls on them
_IMPORT_HOOK_BASES = frozenset({"Loader", "MetaPathFinder", "PathEntryFinder", "InspectLoader",
                                "ExecutionLoader", "ResourceLoader", "FileLoader", "SourceLoader",
                                "SourceFileLoader", "SourcelessFileLoader"})
_IMPORT_HOOK_METHODS = frozenset({"find_spec", "find_module", "create_module", "exec_module",
                                  "load_module", "get_code", "get_source", "get_data"})


def _label(file: str, scope: str) -> str:
    return file if scope == MODULE else f"{file}:{scope}"


class Graph:
    """Reachability for one tree; ``modules`` maps dotted module names to files."""

    def __init__(self, files: Mapping[str, FileFacts], modules: Mapping[str, str],
                 aliases: Mapping[str, Mapping[str, str]]) -> None:
        self.files, self.modules, self.aliases = files, modules, aliases
        self.reached: dict[Node, tuple[Reach, Path]] = {}
        self.live: dict[tuple[str, str], tuple[Reach, Path]] = {}
        self.subclasses: dict[tuple[str, str], list[tuple[str, ClassFacts]]] = {}
        for file, facts in files.items():
            for cls in facts.classes.values():
                for base in cls.bases:
                    found = self._class(file, base)
                    if found is not None:
                        self.subclasses.setdefault((found[0], found[1].name), []).append(
                            (file, cls))
        self.queue: deque[tuple[Node, Reach, Path, bool]] = deque()
        self.reach: Reach = Reach.BUILD

    # -- the search ---------------------------------------------------------------------------
    def run(self, build: list[str], backends: list[str], startup: list[str],
            imports: list[str], submodules: list[str], hooks: Mapping[str, BuildHook] | None = None,
            commands: Mapping[str, str] | None = None,
            plugins: Mapping[str, tuple[str, str]] | None = None) -> dict[Node, tuple[Reach, Path]]:
        """``hooks``/``commands``: other backends' build hooks and pyproject ``cmdclass``
        (:func:`.hooks.build_hooks`); ``plugins``: entry point target -> (group, what loads it)
        (:func:`.hooks.plugin_entry_points`, :func:`.hooks.shadowed_commands`)."""
        hooks, commands, plugins = hooks or {}, commands or {}, plugins or {}
        self.reach = Reach.BUILD
        for file in build:
            self._enter((file, MODULE), (file,))
            self._commands(file)
        self._drain()
        self._unregistered_commands([f for f in build if f not in backends and f not in hooks])
        for file in backends:
            for hook in HOOKS:
                found = self._resolve_in(file, hook, 0, (file,))
                if found is not None:
                    self._enter(found, (file, f"PEP 517 hook {hook}()"))
        self._build_hooks(hooks, commands)
        self._drain()
        self.reach = Reach.STARTUP
        for file in startup:
            self._enter((file, MODULE), (file,))
        self._drain()
        self.reach = Reach.IMPORT
        for file in imports:
            self._enter((file, MODULE), (file,))
        self._drain()
        self.reach = Reach.PLUGIN
        for target, (group, why) in sorted(plugins.items()):
            self._plugin(target, group, why)
        self._drain()
        self.reach = Reach.SUBMODULE
        for file in submodules:
            self._enter((file, MODULE), (file,))
        self._drain()
        self.reach = Reach.GUARDED
        for (file, scope), (_, path) in list(self.reached.items()):
            for kind, target in sorted(self.files[file].scopes[scope].guarded):
                self._follow(file, scope, kind, target, (*path, "under a __main__/argv guard"))
        self._drain(guarded_too=True)
        return self.reached

    def _build_hooks(self, hooks: Mapping[str, BuildHook], commands: Mapping[str, str]) -> None:
        for file, hook in sorted(hooks.items()):
            if file not in self.files:
                continue
            for name in hook.functions:
                found = self._resolve_in(file, name, 0, (file,))
                if found is not None:
                    self._enter(found, (file, f"{hook.backend} calls {name}()"))
            if hook.methods:
                for cls in list(self.files[file].classes.values()):
                    if cls.scope.count(".") == 0:  # defined at the top of the file
                        self._make_live(file, cls, hook.methods,
                                        (file, f"{hook.backend} build hook {cls.name}"))
        for key, ref in sorted(commands.items()):
            module, _, name = ref.rpartition(".")
            defined_in = self.modules.get(module)
            if key not in _RUN_BY_BUILD or defined_in is None:
                continue
            command = self._class(defined_in, name)
            if command is not None:
                self._make_live(command[0], command[1], _COMMAND_METHODS,
                                ("pyproject.toml", f"[tool.setuptools.cmdclass] {key} = {ref}"))

    def _plugin(self, target: str, group: str, why: str) -> None:
        """An entry point that a host program loads by itself (:data:`.hooks.PLUGIN_GROUPS`):
        its module's top level, the object it names, and a pytest plugin's ``pytest_*`` hooks."""
        module, _, attr = target.partition(":")
        module, attr = module.strip(), attr.strip()
        start: Path = (f"{group} entry point {target} ({why})",)
        self._module(module, start)
        file = self.modules.get(module)
        if file is None:
            return
        names = [attr] if attr else []
        if group == "pytest11":
            names += [n for n in self.files[file].defs if n.startswith("pytest_")]
        for name in names:
            found = self._resolve_in(file, name, 0, start)
            if found is not None:
                self._enter(found, (*start, _label(*found)))

    def _drain(self, guarded_too: bool = False) -> None:
        while self.queue:
            (file, scope), _, path, _ = self.queue.popleft()
            facts = self.files[file].scopes.get(scope)
            if facts is None:
                continue
            edges = sorted({*facts.edges, *facts.guarded}) if guarded_too else sorted(facts.edges)
            for kind, target in edges:
                self._follow(file, scope, kind, target, path)

    def _enter(self, node: Node, path: Path) -> None:
        if node in self.reached or node[0] not in self.files:
            return
        if node[1] not in self.files[node[0]].scopes:
            return
        if len(path) > _MAX_PATH:
            path = (*path[:2], "...", *path[-(_MAX_PATH - 3):])
        self.reached[node] = (self.reach, path)
        self.queue.append((node, self.reach, path, False))

    # -- edges ----------------------------------------------------------------------------------
    def _follow(self, file: str, scope: str, kind: str, target: str, path: Path) -> None:
        if kind == "module":
            self._module(target, path)
        elif kind in ("self", "super"):
            class_id, _, method = target.rpartition(".")
            cls = self.files[file].classes.get(class_id)
            if cls is not None:
                for node in (self._methods(file, cls, method) if kind == "self"
                             else self._inherited(file, cls, method)):
                    self._enter(node, (*path, _label(*node)))
        elif kind == "local":
            found = self._resolve_nested(file, scope, target, path)
            if found is None:
                found = self._resolve_in(file, target, 0, path)
            if found is not None:
                self._enter(found, (*path, _label(*found)))
        elif kind == "ref":
            found = self._resolve(target, 0, path)
            if found is not None:
                self._enter(found, (*path, _label(*found)))

    def _resolve_nested(self, file: str, scope: str, name: str, path: Path) -> Node | None:
        """``name`` defined inside ``scope`` (or a function enclosing it)."""
        facts = self.files[file]
        head, _, rest = name.partition(".")
        while True:
            defined = facts.nested.get((scope, head))
            if defined is not None:
                cls = facts.classes.get(defined)
                if cls is None:
                    return None if rest else (file, defined)
                self._make_live(file, cls, (), (*path, _label(file, cls.name)))
                method = cls.methods.get(rest) if rest else None
                return (file, method) if method else None
            if ".<locals>." not in scope:
                return None
            scope = scope.rsplit(".<locals>.", 1)[0]

    def _module(self, name: str, path: Path) -> None:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            file = self.modules.get(".".join(parts[:i]))
            if file is not None:
                self._enter((file, MODULE), (*path, f"import {'.'.join(parts[:i])}"))

    def _resolve(self, name: str, depth: int, path: Path) -> Node | None:
        """The scope a qualified name (``pkg.mod.f``, ``pkg.mod.C.m``, ``pkg.C``) runs."""
        if depth > 5:
            return None
        if name in self.modules:
            return (self.modules[name], MODULE)
        parts = name.split(".")
        for cut in (len(parts) - 1, len(parts) - 2):
            if cut < 1:
                continue
            file = self.modules.get(".".join(parts[:cut]))
            if file is not None:
                return self._resolve_in(file, ".".join(parts[cut:]), depth, path)
        return None

    def _resolve_in(self, file: str, name: str, depth: int, path: Path) -> Node | None:
        """``name`` (``f``, ``C``, ``C.m``) as defined in, or imported into, ``file``."""
        facts = self.files.get(file)
        if facts is None:
            return None
        head, _, rest = name.partition(".")
        defined = facts.defs.get(head)
        if defined is not None:
            cls = facts.classes.get(defined)
            if cls is None:
                return (file, defined) if not rest else None
            self._make_live(file, cls, (), (*path, _label(file, cls.name)))
            if rest:
                method = cls.methods.get(rest)
                return (file, method) if method else None
            return (file, cls.scope)
        imported = self.aliases.get(file, {}).get(head)
        if imported is not None:
            return self._resolve(f"{imported}.{rest}" if rest else imported, depth + 1, path)
        return None

    # -- classes --------------------------------------------------------------------------------
    def _make_live(self, file: str, cls: ClassFacts, extra: frozenset[str] | tuple[()],
                   path: Path) -> None:
        if not extra and any(b.startswith("importlib.") and b.rsplit(".", 1)[-1] in _IMPORT_HOOK_BASES
                             for b in cls.bases):
            extra = _IMPORT_HOOK_METHODS  # an import hook is made for the import system to call
        key = (file, cls.name)
        origin = self.live.get(key)
        if origin is None:
            self.live[key] = (self.reach, path)
        elif not extra:
            return
        for method, scope in cls.methods.items():
            if method in _LIFECYCLE or method in extra:
                self._enter((file, scope), (*path, _label(file, scope)))
        for base in cls.bases:
            found = self._class(file, base)
            if found is not None and (found[0], found[1].name) != key:
                self._make_live(found[0], found[1], extra, path)

    def _methods(self, file: str, cls: ClassFacts, method: str, depth: int = 0) -> list[Node]:
        """What ``self.method()`` in ``cls`` may run: the definition in ``cls`` or the nearest
        in-tree base, and the overrides in its in-tree subclasses."""
        found: list[Node] = []
        own = cls.methods.get(method)
        if own is not None:
            found.append((file, own))
        elif depth < 8:
            for base in cls.bases:
                resolved = self._class(file, base)
                if resolved is not None:
                    inherited = self._methods(*resolved, method, depth + 1)
                    if inherited:
                        found += inherited[:1]
                        break
        if depth == 0:  # overrides run only for instances of a subclass that is used
            for sub_file, sub in self._all_subclasses(file, cls):
                if method in sub.methods and (sub_file, sub.name) in self.live:
                    found.append((sub_file, sub.methods[method]))
        return found

    def _inherited(self, file: str, cls: ClassFacts, method: str) -> list[Node]:
        """What ``super().method()`` in ``cls`` runs: the nearest in-tree base's."""
        for base in cls.bases:
            resolved = self._class(file, base)
            if resolved is not None:
                found = self._methods(*resolved, method, 1)
                if found:
                    return found[:1]
        return []

    def _all_subclasses(self, file: str, cls: ClassFacts) -> list[tuple[str, ClassFacts]]:
        out: list[tuple[str, ClassFacts]] = []
        todo = [(file, cls.name)]
        seen = set(todo)
        while todo and len(out) < 200:
            for sub_file, sub in self.subclasses.get(todo.pop(), ()):
                if (sub_file, sub.name) not in seen:
                    seen.add((sub_file, sub.name))
                    out.append((sub_file, sub))
                    todo.append((sub_file, sub.name))
        return out

    def _class(self, file: str, name: str) -> tuple[str, ClassFacts] | None:
        facts = self.files[file]
        local = facts.defs.get(name)
        if local is not None and local in facts.classes:
            return file, facts.classes[local]
        parts = name.split(".")
        module = self.modules.get(".".join(parts[:-1]))
        if module is not None:
            defined = self.files[module].defs.get(parts[-1])
            if defined is not None and defined in self.files[module].classes:
                return module, self.files[module].classes[defined]
        imported = self.aliases.get(file, {}).get(name)
        if imported is not None and imported != name and "." in imported:
            return self._class(file, imported)
        return None

    def _unregistered_commands(self, setups: list[str]) -> None:
        """When ``cmdclass`` is not a literal (or no ``setup()`` call was seen), every
        build-command subclass the build reaches."""
        if not any(self.files[f].cmdclass_unknown or not self.files[f].setup_called
                   for f in setups):
            return
        for (file, scope), (_, path) in list(self.reached.items()):
            for cls in self.files[file].classes.values():
                if cls.scope == scope and cls.command and any(
                        b.rsplit(".", 1)[-1] in _RUN_BY_BUILD for b in cls.bases):
                    self._make_live(file, cls, _COMMAND_METHODS, (*path, "a build command"))
        self._drain()

    def _commands(self, file: str) -> None:
        """The command classes the build of ``setup.py`` runs."""
        facts = self.files[file]
        chosen: list[tuple[str, str]] = []
        for key, ref in sorted(facts.cmdclass.items()):
            if key in _RUN_BY_BUILD:
                chosen.append((key, ref))
        for key, ref in chosen:
            found = self._class(file, ref)
            if found is not None:
                where = f"cmdclass[{key!r}]" if key else "a build command"
                self._make_live(found[0], found[1], _COMMAND_METHODS,
                                (file, f"{where} = {found[1].name}"))
