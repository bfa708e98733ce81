"""Code that runs by other doors than ``exec`` and ``subprocess``.

Malware that knows the front doors are watched (``exec`` of downloaded bytes, ``os.system``
of a ``curl`` pipe) takes a side door to the same place. Each door here is judged with the labels of
:mod:`.taint`, like the front doors in :mod:`.sinks`:

* **source runners**: ``code.InteractiveInterpreter().runsource(src)``, ``runcode``,
  ``InteractiveConsole().push(line)`` run the source they get, exactly as ``exec`` does; the
  receiver is an interpreter when it is built in the call or bound to one;
  ``ctypes.pythonapi.PyRun_SimpleString`` is the C API's ``exec``. Their argument goes
  through the same checks as ``exec``'s (:meth:`~.sinks.Sinks._run_code`).
  ``code.interact()`` after ``os.dup2`` of a socket is a remote REPL: ``reverse-shell``.
* **path runners**: ``runpy.run_path(p)``, ``SourceFileLoader``/``SourcelessFileLoader``/
  ``spec_from_file_location`` (then ``exec_module``), ``zipimport.zipimporter``, and
  ``sys.path.insert``/``append``/``site.addsitedir`` (a directory or zip put on the path is
  run by the next import). A path written from downloaded or decoded data (``DROPPED``) is
  ``drop-and-run``; a path that is itself downloaded data is ``download-exec``. Loading
  bytecode (``SourcelessFileLoader``, ``imp.load_compiled``) is ``obfuscated-code``: the
  code shipped cannot be read, which is a capability (it really runs) and not evidence; so
  is loading Python source from a file named like data (``boot.cfg``), and ``exec`` of
  ``open(p).read()`` for such a file outside the package (:mod:`.sinks`).
  Anything else (a plugin directory, the package's own script) says nothing: it is what
  test runners, CLIs and plugin loaders do every day.
* **the C library and the Windows API through ctypes**: ``system``/``popen``/``exec*``/
  ``posix_spawn``/``WinExec``/``CreateProcess`` called on a library object
  (``ctypes.CDLL(...)``, ``ctypes.cdll.LoadLibrary(...)``, ``ctypes.windll.kernel32``, a
  name bound to one) start a process: the command line (bytes literals and ``c_char_p``
  arrays included) gets the checks a ``subprocess`` command gets, else ``process-spawn``.
  ``GetClipboardData``, ``GetAsyncKeyState`` and ``SetWindowsHookEx`` are ``spyware``, as
  ``pyperclip.paste`` and ``keyboard.hook`` are; only the code's reach makes a GUI's
  paste button (called by the user) differ from a clipper started at import.
* **event-loop connections**: ``loop.create_connection(f, host, port)`` connects like
  ``socket.create_connection`` (``asyncio.open_connection`` is in :data:`~.names.NETWORK`):
  what a stream reads is ``DOWNLOADED``, and a shell command made of it in a scope that
  connected is a ``reverse-shell``.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from shouldi.scanners.heuristics import names as n
from shouldi.scanners.heuristics.filesystem import FileSinks
from shouldi.scanners.heuristics.indicators import Label

__all__ = ["Runners"]

_READS = frozenset({"read", "read_text", "read_bytes"})
#: A file name with an extension Python source never has (``boot.cfg``, ``logo.png``).
_DATA_FILE = re.compile(r"\.(?!pyw?$)[A-Za-z0-9]{1,5}$")
_MAX_DEPTH = 6


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Runners(FileSinks):
    """A mixin of :class:`~.sinks.Sinks`: the side doors above."""

    if TYPE_CHECKING:  # provided by Sinks and the visitor
        def _process_evidence(self, labels: int, command: str, node: ast.Call,
                              shown: str) -> bool:
            ...

        def _run_code(self, name: str, node: ast.Call) -> None:
            ...

    # -- what a name was bound to --------------------------------------------------------------
    def bound_values(self, node: ast.expr) -> list[ast.expr]:
        """Every value ``node`` (a name or ``self.x``) was bound to, in the nearest scope."""
        key = node.id if isinstance(node, ast.Name) else self.attr_key(node) if isinstance(
            node, ast.Attribute) else None
        if key is None:
            return []
        for frame in reversed(self.frames):
            if key in frame.bound:
                return frame.bound[key]
        return []

    def _made_by(self, node: ast.expr, wanted: frozenset[str] | None, depth: int = 0) -> str:
        """The qualified name of the constructor ``node`` comes from (directly, or through
        a name bound to it): one of ``wanted``, or a native library when ``wanted`` is None."""
        if depth > _MAX_DEPTH:
            return ""
        name = self.name_of(node.func) if isinstance(node, ast.Call) else self.name_of(node)
        if wanted is None:
            if name in n.NATIVE_LOADERS or name.startswith(n.NATIVE_LIBRARIES):
                return name
        elif name in wanted:
            return name
        if isinstance(node, (ast.Name, ast.Attribute)) and id(node) not in self._active:
            self._active.add(id(node))
            try:
                for value in self.bound_values(node):
                    found = self._made_by(value, wanted, depth + 1)
                    if found:
                        return found
            finally:
                self._active.discard(id(node))
        return ""

    # -- dispatch ------------------------------------------------------------------------------
    def side_doors(self, name: str, node: ast.Call) -> bool:
        """Check ``node`` for the doors above; True when it was one (and was judged)."""
        func = node.func
        last = func.attr if isinstance(func, ast.Attribute) else ""
        if name in n.SOURCE_RUNNERS or (last in n.SOURCE_RUNNER_METHODS and self._made_by(
                func.value, n.INTERPRETERS)):  # type: ignore[attr-defined]
            self._run_code(name if name in n.SOURCE_RUNNERS else f"{last}", node)
            return True
        if name in n.PATH_RUNNERS:
            self._path_runner(name, node, n.PATH_RUNNERS[name])
            return True
        if name == "runpy.run_module":
            self._import(name, node)
            return True
        if name == "code.interact" or (last == "interact" and self._made_by(
                func.value, n.INTERPRETERS)):  # type: ignore[attr-defined]
            if "dup2" in self.frames[-1].flags:  # stdin/stdout are a socket: a remote REPL
                self.hit("reverse-shell", node, f"{name or last}() wired to a socket", True)
            return True
        if isinstance(func, ast.Attribute) and (
                last in n.NATIVE_PROCESS or last in n.NATIVE_SPYWARE) and name not in n.SPYWARE:
            library = self._made_by(func.value, None)
            if library:
                self._native(library, last, node)
                return True
        return False

    if TYPE_CHECKING:
        def _import(self, name: str, node: ast.Call) -> None:
            ...

    def loop_connection(self, name: str, node: ast.Call) -> bool:
        """``loop.create_connection(factory, host, port)`` on an asyncio event loop."""
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr not in n.LOOP_CONNECTIONS:
            return False
        receiver = name.rsplit(".", 1)[0]
        return name.startswith("asyncio.") or "loop" in receiver.lower()

    # -- path runners --------------------------------------------------------------------------
    def _path_runner(self, name: str, node: ast.Call, index: int) -> None:
        path = node.args[index] if index < len(node.args) else next(
            (k.value for k in node.keywords if k.arg in ("path", "location", "archivepath")),
            None)
        if path is None:
            return
        self.cap("exec")
        labels = self.labels(path)
        dropped = self.frames[-1].dropped
        if labels & Label.DROPPED or (self.fold(path) in dropped if dropped else False):
            self.hit("drop-and-run", node, f"{name}() runs a file written from a payload", True)
        elif labels & Label.DOWNLOADED:
            self.hit("download-exec", node, f"{name}() of a path read from the network", True)
        elif name in n.BYTECODE_LOADERS:
            self.cap("obfuscation")
            self.hit("obfuscated-code", node, f"{name}() loads compiled bytecode "
                     f"{_short(self.template(path))!r}: code shipped without its source")
        elif name in n.SOURCE_LOADERS and _DATA_FILE.search(self.template(path)):
            self.cap("obfuscation")
            self.hit("obfuscated-code", node, f"{name}() loads Python from a data file "
                     f"{_short(self.template(path))!r}: code kept where a reader does not look")

    def read_path(self, node: ast.expr) -> ast.expr | None:
        """The path of ``open(p).read()``, ``Path(p).read_text()``, ``io.open(p).read()``."""
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in _READS):
            return None
        opened = node.func.value
        if isinstance(opened, ast.Call) and opened.args and (
                self.name_of(opened.func) in n.OPEN or self.name_of(opened.func) in (
                    n.PATH_WRAPPERS)):
            return opened.args[0]
        if isinstance(opened, ast.Name):  # safe: an AST pattern (a handle read, then run) matched, never run
            return self.frames[-1].handles.get(opened.id)
        return None

    # -- native calls ---------------------------------------------------------------------------
    def _native(self, library: str, function: str, node: ast.Call) -> None:
        shown_lib = library.rsplit(".", 1)[-1] if "." in library else library
        if function in n.NATIVE_SPYWARE:
            self.hit("spyware", node, f"{function}() through ctypes ({shown_lib})")
            return
        self.cap("process")
        words: list[str] = []
        for arg in node.args:
            words += self._native_words(arg, 0)
        command = " ".join(w for w in words if w)
        command = "" if not command.strip("{?} ") else command
        shown = f"{function}({_short(command)!r}) through ctypes" if command else (
            f"{function}() through ctypes")
        labels = self._union(list(node.args))
        if not self._process_evidence(labels, command, node, shown):
            self.hit("process-spawn", node, shown)

    def _native_words(self, node: ast.expr, depth: int) -> list[str]:
        """The strings a native call's argument spells: a bytes or str literal, the items of
        a ``(c_char_p * n)(...)`` array or a list, ``c_char_p(b"...")``, through names."""
        if depth > _MAX_DEPTH:
            return ["{?}"]
        value = self.fold(node)
        if isinstance(value, bytes):
            return [value.decode("latin-1")]
        if isinstance(value, str):
            return [value]
        if isinstance(node, ast.Constant):
            return []  # None, a number: not part of the command
        if isinstance(node, (ast.List, ast.Tuple)):
            return [w for e in node.elts for w in self._native_words(e, depth + 1)]
        if isinstance(node, ast.Call):
            return [w for a in node.args for w in self._native_words(a, depth + 1)]
        if isinstance(node, ast.Name) and id(node) not in self._active:
            values = self.bound_values(node)
            if values:
                self._active.add(id(node))
                try:
                    return self._native_words(values[-1], depth + 1)
                finally:
                    self._active.discard(id(node))
        return ["{?}"]
