"""File sinks: writes, reads, copies, deletions, permission changes.

* a write (``open`` in a writing mode, ``write_text``/``write_bytes``, copies and moves) to a
  persistence place *outside* the package -> ``persistence`` (a ``.pth`` copied into the
  build tree is not); into the installed packages (``site-packages``, ``sysconfig``'s
  ``purelib``, the directory of another imported module: ``dirname(requests.__file__)``)
  other than this package's own directory -> ``persistence`` too: the planted code runs
  whenever that package is imported; to another outside path -> ``write-outside``, except
  temporary and cache directories, where writing is routine;
* a read of a credential store (``open``, ``read_text``, ``sqlite3.connect``, a copy, a
  directory listing of it) -> ``credential-access``;
* data from a payload (decoded or downloaded) written to a file marks that file *dropped*:
  ``os.chmod`` of it is ``drop-and-run`` evidence, and so is running or loading it
  (:mod:`.sinks`);
* deleting the home or root directory -> ``destructive``.

Paths are judged by their labels and by what they spell when their literal parts are joined
(:meth:`~.taint.Taint.template`): ``os.path.join(os.getenv("APPDATA"), ..., "Startup")``.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from shouldi.scanners.heuristics import names as n
from shouldi.scanners.heuristics.facts import FileFacts
from shouldi.scanners.heuristics.indicators import Label
from shouldi.scanners.heuristics.taint import Taint

__all__ = ["FileSinks"]

_PAYLOAD = Label.DECODED | Label.DOWNLOADED
#: Temporary and cache directories: writing there is routine, not a risk by itself.
_SCRATCH = re.compile(r"^(/tmp/|/var/tmp/|/dev/shm/|%TE?MP%)|[/\\]\.?cache([/\\]|$)", re.I)
_HOME_ROOTS = frozenset({"~", "~/", "/", "/home", "/Users", "C:\\", "C:/", "$HOME",
                         "%USERPROFILE%"})
_OPEN_WRITE_FLAGS = frozenset({"os.O_WRONLY", "os.O_RDWR", "os.O_CREAT", "os.O_APPEND",
                               "os.O_TRUNC"})


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class FileSinks(Taint):
    """Needs ``facts`` and ``hit`` from the visitor."""

    facts: FileFacts
    package: str
    module: str

    if TYPE_CHECKING:  # provided by the visitor
        def hit(self, rule: str, node: ast.AST, detail: str, critical: bool = False) -> None:
            ...

    def cap(self, kind: str) -> None:
        self.facts.caps[kind] += 1

    def _files(self, name: str, node: ast.Call) -> None:
        args = node.args
        func = node.func
        if name in n.OPEN and args:
            mode = args[1] if len(args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "mode"), None)
            text = self.fold(mode) if mode is not None else "r"
            writing = isinstance(text, str) and bool(set(text) & set("wax+"))
            if name == "os.open" and mode is not None:
                flags = {self.name_of(s) for s in ast.walk(mode) if isinstance(s, ast.Attribute)}
                writing = bool(flags & _OPEN_WRITE_FLAGS)
                text = "flags"
            if writing:
                self.cap("file_write")
                self._destination(args[0], node, f"{name}(..., {text!r})")
            else:
                self._read(args[0], node, name)
        elif name == "shutil.copyfileobj" and len(args) > 1:  # a response streamed to a file
            path = self._handle_path(args[1])
            if path is not None and self.labels(args[0]) & _PAYLOAD:
                self._mark_dropped(path)
        elif name in n.COPY_MOVE and len(args) > 1:
            self.cap("file_write")
            self._read(args[0], node, name)
            self._destination(args[1], node, f"{name}()")
            if self.labels(args[0]) & Label.DROPPED:
                self._mark_dropped(args[1])
        elif name in n.CREDENTIAL_READERS and args:
            self._read(args[0], node, name)
        elif isinstance(func, ast.Attribute):
            self._method_on_file(func, node)
        if name in n.CHMOD and args and (self.labels(args[0]) & Label.DROPPED or (
                self.fold(args[0]) in self.frames[-1].dropped)):
            self.hit("drop-and-run", node, f"{name}() makes a file written from a payload "
                     "executable")
        if name in n.DELETE and args:
            target = self.fold(args[0])
            root = (isinstance(args[0], ast.Call) and self.name_of(args[0].func) in (
                "pathlib.Path.home", "Path.home")) or (
                isinstance(args[0], ast.Call) and self.name_of(args[0].func) == (
                    "os.path.expanduser") and self.fold(args[0].args[0]) in ("~", "~/"))
            if root or target in _HOME_ROOTS:
                self.hit("destructive", node, f"{name}() of the home or root directory")

    def _method_on_file(self, func: ast.Attribute, node: ast.Call) -> None:
        attr, base = func.attr, func.value
        if attr in ("write_text", "write_bytes"):
            self.cap("file_write")
            self._destination(base, node, f".{attr}()")
            if node.args and self.labels(node.args[0]) & _PAYLOAD:
                self._mark_dropped(base)
        elif attr in ("write", "writelines") and node.args:
            path = self._handle_path(base)
            if path is not None and self.labels(node.args[0]) & _PAYLOAD:
                self._mark_dropped(path)
        elif attr in ("read_text", "read_bytes", "open") and self.path_labels(base) & (
                Label.CREDPATH):
            self._read(base, node, f".{attr}()")
        elif attr in ("rmtree", "unlink", "rmdir") and isinstance(base, ast.Call) and (
                self.name_of(base.func) in ("pathlib.Path.home", "Path.home")):
            self.hit("destructive", node, f".{attr}() of the home directory")

    def _handle_path(self, base: ast.expr) -> ast.expr | None:
        if isinstance(base, ast.Name):
            return self.frames[-1].handles.get(base.id)
        if isinstance(base, ast.Call) and self.name_of(base.func) in n.OPEN and base.args:
            return base.args[0]
        return None

    def _destination(self, path: ast.expr, node: ast.Call, what: str) -> None:
        labels = self.path_labels(path)
        text = self.template(path)
        if labels & Label.PERSIST and labels & Label.OUTSIDE:
            shown = f" {_short(text)!r}" if isinstance(text, str) else ""
            self.hit("persistence", node, f"{what} writes a place that runs code later{shown}")
        elif labels & Label.SITE and not self._own_directory(text):
            self.hit("persistence", node, f"{what} writes into the installed packages "
                     f"{_short(text)!r}: code another package runs")
        elif labels & Label.OUTSIDE and not _SCRATCH.search(text):
            self.hit("write-outside", node, f"{what} on an outside path")

    def _own_directory(self, text: str) -> bool:
        """Does the path name this package's own directory (a package writing its data)?"""
        own = (self.package or self.module).split(".")[0]
        parts = set(re.split(r"[/\\]+", text))
        return bool(own) and own in parts

    def _read(self, path: ast.expr, node: ast.Call, what: str) -> None:
        if self.path_labels(path) & Label.CREDPATH:
            text = self.template(path)
            shown = f" {_short(text)!r}" if isinstance(text, str) else ""
            self.hit("credential-access", node, f"{what} of a credential store{shown}")

    def _mark_dropped(self, path: ast.expr | None) -> None:
        if path is None:
            return
        frame = self.frames[-1]
        text = self.fold(path)
        if isinstance(text, str) and text:
            frame.dropped.add(text)
        for sub in ast.walk(path):
            if isinstance(sub, ast.Name):
                frame.extra[sub.id] = frame.extra.get(sub.id, 0) | Label.DROPPED
