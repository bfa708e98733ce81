"""A little dataflow inside one file: which values carry decoded code, downloads, secrets.

Each scope has a :class:`Frame`: the :class:`~.indicators.Label` set of every name bound in
it, the literal each name holds when it folds to one, and the file objects opened in it. An
expression's labels are the union of its parts' (``p = b64decode(s); c = p.decode();``
then ``exec`` of ``c`` sees ``DECODED``), plus what a call produces by itself: a
decoder gives ``DECODED``, a request ``DOWNLOADED``, ``os.environ.copy()`` ``SECRET``,
``socket.gethostname()`` ``FINGERPRINT``, ``expanduser`` ``HOME``. Module-level names are
visible in functions; ``self.x`` attributes are shared by the methods of a class; a local
function's return labels are its calls' labels (``def grab(): return open(key).read()``).

Call names and literals come from :mod:`.qualify`.

Labels over-approximate on purpose: a name keeps every label it was ever given in a scope
(branches and loops included), and unknown calls pass their arguments' labels through.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from shouldi.scanners.heuristics import names as n
from shouldi.scanners.heuristics.indicators import (
    FINGERPRINT_ENV,
    SECRET_ENV,
    Label,
    command_output,
    string_labels,
)
from shouldi.scanners.heuristics.qualify import Qualify

__all__ = ["Frame", "Summary", "Taint", "env_key_labels"]

_NONE = 0
_HOME_VARS = frozenset({"HOME", "USERPROFILE", "APPDATA", "LOCALAPPDATA", "HOMEPATH"})
_SYSTEM_ATTRS = frozenset({"sys.prefix", "sys.exec_prefix", "sys.base_prefix", "site.USER_SITE",
                           "site.USER_BASE"})
_ENV_GETTERS = frozenset({"os.getenv", "os.environ.get", "os.environ.pop",
                          "os.environ.setdefault", "os.getenvb"})
#: The environment as a whole, and what a .env file holds (``dotenv_values()``): secrets.
_ENV_VIEWS = frozenset({"os.environ.copy", "os.environ.items", "os.environ.values",
                        "os.environ.keys", "os.environ.__str__", "dotenv.dotenv_values",
                        "dotenv.main.dotenv_values"})
_READ_METHODS = frozenset({"read_text", "read_bytes", "open", "read", "readlines", "glob",
                           "rglob", "iterdir"})
_NETOBJ_OFF = ~Label.NETOBJ
_UNKNOWN = "{?}"
#: The calls of SYSTEM_MARKERS that give the installed packages' directories.
_SITE_MARKERS = frozenset({"site.getsitepackages", "site.getusersitepackages",
                           "sysconfig.get_paths", "distutils.sysconfig.get_python_lib",
                           "sysconfig.get_python_lib"})
_GLOBS = frozenset({"glob.glob", "glob.iglob"})
_SITE_KEYS = frozenset({"purelib", "platlib"})
_JOINS = frozenset({"os.path.join", "posixpath.join", "ntpath.join"})


def env_key_labels(key: object) -> int:
    """Labels of ``os.environ[key]``."""
    if not isinstance(key, str):
        return _NONE
    if key in _HOME_VARS:
        return Label.OUTSIDE | Label.HOME
    if FINGERPRINT_ENV.match(key):
        return Label.FINGERPRINT
    return Label.SECRET if SECRET_ENV.search(key) else _NONE


@dataclass
class Frame:
    """One scope's bindings. Labels and literals are computed on demand, from the expressions
    a name was bound to, when a sink asks: most bindings are never asked about."""

    scope: str
    kind: str  # "module", "class" or "function"
    cls: str | None = None  # the class whose method this is
    params: dict[str, int] = field(default_factory=dict)
    bound: dict[str, list[ast.expr]] = field(default_factory=dict)  # every value given a name
    last: dict[str, ast.expr | None] = field(default_factory=dict)  # the latest (None: not one)
    extra: dict[str, int] = field(default_factory=dict)  # labels given by what was done
    handles: dict[str, ast.expr] = field(default_factory=dict)  # file object -> its path
    dropped: set[str] = field(default_factory=set)  # literal paths written with payloads
    flags: set[str] = field(default_factory=set)  # "connect", "dup2": a socket wired up
    bools: dict[str, bool] = field(default_factory=dict)  # names bound to a literal flag
    fnrefs: dict[str, ast.expr] = field(default_factory=dict)  # names bound to a function
    returns: list[ast.expr] = field(default_factory=list)
    passes: bool = False
    sinks: dict[int, set[str]] = field(default_factory=dict)

    def bind(self, name: str, value: ast.expr | None, literal: bool) -> None:
        if value is not None:
            self.bound.setdefault(name, []).append(value)
        self.last[name] = value if literal else None


@dataclass
class Summary:
    """What calling a local function does, as far as its callers care. What it returns is
    worked out only when a caller's value is asked about (:meth:`Taint.returns_of`)."""

    frame: Frame
    outer: list[Frame]  # the module frame it was defined under
    params: tuple[str, ...] = ()
    sinks: dict[int, set[str]] = field(default_factory=dict)  # parameter -> sink kinds
    returns: int | None = None  # labels of what it returns, once computed
    passes: bool = False  # returns something computed from its parameters


class Taint(Qualify):
    """Label computation; the visitor supplies ``aliases``, ``frames`` and the rest."""

    summaries: dict[str, Summary]
    class_envs: dict[str, dict[str, list[ast.expr]]]
    _memo: dict[int, int]
    package: str
    module: str

    # -- values ------------------------------------------------------------------------------
    def lookup(self, name: str) -> int:
        for frame in reversed(self.frames):
            values = frame.bound.get(name)
            extra = frame.extra.get(name)
            if values is None and extra is None:
                continue
            out = extra or _NONE
            for value in values or ():
                out |= self._labels_once(value)
            return out
        return _NONE

    def _labels_once(self, value: ast.expr) -> int:
        key = id(value)
        if key in self._active:  # x = x + y: a cycle adds nothing new
            return _NONE
        self._active.add(key)
        try:
            return self.labels(value)
        finally:
            self._active.discard(key)

    def template(self, node: ast.expr, depth: int = 0) -> str:
        """What a path or command expression spells, ``{?}`` standing for unknown parts:
        ``os.path.join(os.getenv("APPDATA"), "Microsoft", "Windows", "Start Menu")`` is
        ``{?}/Microsoft/Windows/Start Menu``; ``Path.home() / ".bashrc"`` is ``~/.bashrc``."""
        value = self.fold(node)
        if isinstance(value, str):
            return value
        if depth > 8:
            return _UNKNOWN
        if isinstance(node, ast.Name):
            bound = self._last(node.id)
            if bound is None:  # for p in glob.glob(pattern): p spells the pattern
                values = next((f.bound[node.id] for f in reversed(self.frames)
                               if node.id in f.bound), [])
                bound = values[0] if len(values) == 1 and isinstance(values[0], ast.Call) and (
                    self.name_of(values[0].func) in _GLOBS) else None
            if bound is None or id(bound) in self._active:
                return _UNKNOWN
            self._active.add(id(bound))
            try:
                return self.template(bound, depth + 1)
            finally:
                self._active.discard(id(bound))
        if isinstance(node, ast.JoinedStr):
            return "".join(self._fstring_part(v, depth) for v in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Div)):
            sep = "/" if isinstance(node.op, ast.Div) else ""
            return self.template(node.left, depth + 1) + sep + self.template(node.right, depth + 1)
        if isinstance(node, ast.Call):
            name = self.name_of(node.func)
            args = [self.template(a, depth + 1) for a in node.args]
            if name in n.HOME_MARKERS or name.endswith(("Path.home", ".expanduser")):
                return args[0] if args else "~"
            if name in _GLOBS and args:
                return args[0]
            if name in _JOINS or name in n.PATH_WRAPPERS:
                return "/".join(args) if args else _UNKNOWN
            if isinstance(node.func, ast.Attribute) and node.func.attr == "joinpath":
                return "/".join([self.template(node.func.value, depth + 1), *args])
        return _UNKNOWN

    def _fstring_part(self, part: ast.expr, depth: int) -> str:
        if isinstance(part, ast.FormattedValue):
            return self.template(part.value, depth + 1)
        value = self.fold(part)
        return value if isinstance(value, str) else _UNKNOWN

    def path_labels(self, node: ast.expr) -> int:
        """Labels of a path expression, the literal parts it joins included."""
        labels = self.labels(node)
        text = self.template(node)
        return labels | string_labels(text) if text != _UNKNOWN else labels

    @staticmethod
    def attr_key(node: ast.Attribute) -> str | None:
        """``"self.sock"`` for ``self.sock``: attributes tracked like names."""
        if isinstance(node.value, ast.Name):
            return f"{node.value.id}.{node.attr}"
        return None

    def labels(self, node: ast.AST) -> int:
        key = id(node)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._labels(node)
        return found

    def _union(self, nodes: list[ast.expr]) -> int:
        out = _NONE
        for node in nodes:
            out |= self.labels(node)
        return out & _NETOBJ_OFF

    def _labels(self, node: ast.AST) -> int:
        kind = type(node)
        if kind is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            return string_labels(value) if isinstance(value, str) else _NONE
        if kind is ast.Name:
            return self.lookup(node.id)  # type: ignore[attr-defined]
        if kind is ast.Attribute:
            return self._attribute(node)  # type: ignore[arg-type]
        if kind is ast.Subscript:
            return self._subscript(node)  # type: ignore[arg-type]
        if kind is ast.Call:
            return self._call_labels(node)  # type: ignore[arg-type]
        if kind is ast.Lambda:
            return self.labels(node.body)  # type: ignore[attr-defined]
        if kind in (ast.GeneratorExp, ast.ListComp, ast.SetComp):
            comp: ast.GeneratorExp = node  # type: ignore[assignment]
            return self._union([comp.elt, *(g.iter for g in comp.generators)])
        if kind is ast.DictComp:
            dcomp: ast.DictComp = node  # type: ignore[assignment]
            return self._union([dcomp.key, dcomp.value, *(g.iter for g in dcomp.generators)])
        if kind is ast.Compare:
            return _NONE
        out = _NONE
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                out |= self.labels(child)
        return out

    def _attribute(self, node: ast.Attribute) -> int:
        name = self.name_of(node)
        if name == "os.environ":
            return Label.SECRET
        if name in _SYSTEM_ATTRS:
            return Label.OUTSIDE | (Label.SITE if name == "site.USER_SITE" else _NONE)
        if node.attr in ("__file__", "__path__") and self._foreign_module(node.value):
            return Label.OUTSIDE | Label.SITE  # dirname(requests.__file__): its directory
        if isinstance(node.value, ast.Name):
            key = f"{node.value.id}.{node.attr}"
            found = self.lookup(key)
            cls = self.frames[-1].cls
            if not found and cls is not None and node.value.id == "self":
                for value in self.class_envs.get(cls, {}).get(key, ()):
                    found |= self._labels_once(value)
            if found:
                return found
        return self.labels(node.value) & _NETOBJ_OFF

    def _env_keys(self, key: ast.expr) -> int:
        """Labels of ``os.environ[key]``: a literal key, or a loop variable over literal
        names (``{k: os.environ[k] for k in ("GITHUB_TOKEN", "NPM_TOKEN")}``)."""
        if isinstance(key, ast.Constant):
            return env_key_labels(key.value)
        out = _NONE
        for literal in self._names_listed(key, 0):
            out |= env_key_labels(literal)
        return out

    def _names_listed(self, node: ast.expr, depth: int) -> list[str]:
        """The string literals a loop variable (or a name bound to a tuple) ranges over."""
        if depth > 3:
            return []
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return [e.value for e in node.elts if isinstance(e, ast.Constant)
                    and isinstance(e.value, str)]
        if not isinstance(node, ast.Name):
            return []
        values = next((f.bound[node.id] for f in reversed(self.frames) if node.id in f.bound),
                      [])
        return [s for v in values[:4] for s in self._names_listed(v, depth + 1)]

    def _foreign_module(self, node: ast.expr) -> bool:
        """A module this file imported that is not of its own package."""
        if not isinstance(node, (ast.Name, ast.Attribute)):
            return False
        root: ast.expr = node
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or root.id not in self.aliases:
            return False
        own = (self.package or self.module).split(".")[0]
        top = self.aliases[root.id].split(".")[0]
        return bool(top) and top != own

    def _subscript(self, node: ast.Subscript) -> int:
        if self.name_of(node.value) == "os.environ":
            return self._env_keys(node.slice)
        base = self.labels(node.value)
        sl = node.slice
        if isinstance(node.value, ast.Call) and self.name_of(node.value.func) == (
                "sysconfig.get_paths") and self.fold(sl) not in _SITE_KEYS:
            return base & ~Label.SITE  # get_paths()["scripts"]: not a package directory
        if isinstance(sl, ast.Slice) and isinstance(sl.step, ast.UnaryOp) and (
                self.fold(node.value) is not None):
            return base | Label.DECODED  # "...."[::-1]: a reversed literal is hiding something
        return base

    def _call_labels(self, node: ast.Call) -> int:
        func = node.func
        name = self.name_of(func)
        args: list[ast.expr] = [*node.args, *(k.value for k in node.keywords)]
        if self.decodes(name, node):
            return Label.DECODED | self._union(args)
        first = node.args[0] if node.args else None
        if name in _ENV_GETTERS:
            return self._env_keys(first) if first is not None else _NONE
        if name in _ENV_VIEWS:
            return Label.SECRET
        if name in n.FINGERPRINT:
            return Label.FINGERPRINT
        if name in n.SPYWARE or name in n.STEALER_APIS:
            return Label.SECRET
        if name in n.HOME_MARKERS or name.endswith(("Path.home", ".expanduser")):
            base = self.labels(func.value) if isinstance(func, ast.Attribute) else _NONE
            return Label.OUTSIDE | Label.HOME | self._union(args) | (base & _NETOBJ_OFF)
        if name in n.SYSTEM_MARKERS:
            site = name in _SITE_MARKERS or (name == "sysconfig.get_path" and first is not None
                                             and self.fold(first) in _SITE_KEYS)
            return Label.OUTSIDE | (Label.SITE if site else _NONE)
        if n.is_constructor(name):
            return Label.NETOBJ | (Label.SHADY & self._union(args))
        if n.is_network(name) or self.object_network(node):
            return Label.DOWNLOADED
        if name in n.PROCESS_OUTPUT:
            command = self.command_text(node)
            return command_output(command) if command else _NONE
        out = self._union(args)
        if isinstance(func, ast.Attribute):
            base = self.labels(func.value) & _NETOBJ_OFF
            if base & Label.CREDPATH and func.attr in _READ_METHODS:
                out |= Label.SECRET
            out |= base
        elif isinstance(func, ast.Name):
            summary = self.summaries.get(func.id)
            if summary is not None:
                returns = self.returns_of(summary)
                return returns | (out if summary.passes else _NONE)
            out |= self.lookup(func.id) & _NETOBJ_OFF
        if name in n.CREDENTIAL_READERS and out & Label.CREDPATH:
            out |= Label.SECRET
        return out

    def returns_of(self, summary: Summary) -> int:
        """Labels of what a local function returns, computed in its own frame once."""
        if summary.returns is None:
            summary.returns = _NONE  # a recursive call adds nothing
            frame = summary.frame
            saved, self.frames = self.frames, [*summary.outer, frame]
            try:
                labels = _NONE
                for value in frame.returns:
                    labels |= self.labels(value)
                    summary.passes |= any(isinstance(s, ast.Name) and s.id in frame.params
                                          for s in ast.walk(value))
            finally:
                self.frames = saved
            summary.returns = labels & _NETOBJ_OFF
        return summary.returns

    def self_method(self, func: ast.expr) -> Summary | None:
        """The summary of ``self.m`` inside a method of the class defining ``m``."""
        frame = self.frames[-1]
        if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                and func.value.id == "self" and frame.cls is not None):
            return self.summaries.get(f"{frame.cls}.{func.attr}")
        return None

    def decodes(self, name: str, node: ast.Call) -> bool:
        """Does this call decode, decompress or de-obfuscate its argument?"""
        if name == "codecs.decode":
            codec = self.fold(node.args[1]) if len(node.args) > 1 else None
            return not isinstance(codec, str) or codec.lower().replace("-", "_") not in {
                "utf_8", "utf8", "ascii", "latin_1", "latin1", "utf_16", "cp1252"}
        if name in n.DECODERS:
            return True
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "join" and node.args:
            return any(isinstance(sub, ast.Name) and sub.id == "chr"
                       for sub in ast.walk(node.args[0]))
        if isinstance(func, ast.Attribute) and func.attr == "translate" and node.args:
            table = node.args[0]  # s.translate(str.maketrans(A, B)): a substitution cipher
            return isinstance(table, ast.Call) and isinstance(table.func, ast.Attribute) and (
                table.func.attr == "maketrans" and len(table.args) >= 2)
        if name in ("bytes", "bytearray") and node.args:
            return self._code_points(node.args[0])
        if name == "map" and len(node.args) == 2 and self.name_of(node.args[0]) == "chr":
            return self._code_points(node.args[1])
        return False

    def _code_points(self, arg: ast.expr) -> bool:
        """A literal list of more than 8 integers, or a name bound to one: text spelled as
        numbers (``bytes([105, 109, ...])``, ``map(chr, CODES)``)."""
        if isinstance(arg, ast.Name):
            value = self._last(arg.id)
            arg = value if value is not None else arg
        return isinstance(arg, (ast.List, ast.Tuple)) and len(arg.elts) > 8 and all(
            isinstance(e, ast.Constant) and type(e.value) is int for e in arg.elts[:16])

    def object_network(self, node: ast.Call) -> bool:
        """``s.send(...)`` on a socket, ``session.post(...)`` on a session..."""
        func = node.func
        return (isinstance(func, ast.Attribute) and func.attr in n.OBJECT_NETWORK_METHODS
                and self.netobj(func.value))

    def netobj(self, node: ast.expr) -> bool:
        """Is ``node`` a socket, session or connection (bound from a constructor)? Cheaper
        than its labels: ``x.get(...)`` is everywhere and almost never a session."""
        if isinstance(node, ast.Call):
            return n.is_constructor(self.name_of(node.func))
        if isinstance(node, ast.Name):
            key = node.id
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            key = f"{node.value.id}.{node.attr}"
        else:
            return False
        values: list[ast.expr] = []
        for frame in reversed(self.frames):
            if key in frame.bound:
                values = frame.bound[key]
                break
        cls = self.frames[-1].cls
        if not values and cls is not None and key.startswith("self."):
            values = self.class_envs.get(cls, {}).get(key, [])
        for value in values:
            if id(value) not in self._active and isinstance(value, (ast.Call, ast.Name,
                                                                    ast.Attribute)):
                self._active.add(id(value))
                try:
                    if self.netobj(value):
                        return True
                finally:
                    self._active.discard(id(value))
        return False

    def command_text(self, node: ast.Call) -> str:
        """The command line of a process call, with ``{?}`` for parts that do not fold.
        For ``os.exec*``/``os.spawn*`` every argument is part of it (``os.execv("/bin/sh",``
        ``["sh", "-c", "curl ... | sh"])``)."""
        if not node.args:
            command = next((k.value for k in node.keywords if k.arg in ("args", "cmd")), None)
            parts = [] if command is None else [command]
        elif self.name_of(node.func).startswith(n.PROCESS_PREFIXES):
            parts = list(node.args)
        else:
            parts = [node.args[0]]
        words: list[str] = []
        for part in parts:
            if isinstance(part, (ast.List, ast.Tuple)):
                words += [self.template(e) for e in part.elts]
            elif not isinstance(part, ast.Constant) or isinstance(part.value, str):
                words.append(self.template(part))
        text = " ".join(words)
        return "" if not text.strip("{?} ") else text
