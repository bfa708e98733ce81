"""Sinks: what a call does with its arguments, and which rule that is.

Evidence needs the *meeting* of a source and a sink, seen through :mod:`.taint` labels or
through what :mod:`.fold` makes of the arguments:

* ``exec``/``eval``/``compile``/unpickling of ``DECODED`` data -> ``exec-decoded-data``; of
  ``DOWNLOADED`` data -> ``download-exec``. Code given as a literal (or one that folds,
  base64 included) is analysed as if it were written out, at the ``exec`` line.
* a process started on a file written from a payload -> ``drop-and-run``; on downloaded or
  decoded data -> ``download-exec``/``exec-decoded-data``; a command line that downloads and
  runs, exfiltrates, opens a reverse shell, persists or mines (:func:`.command_kinds`); a
  detached process (``DETACHED_PROCESS``, ``start_new_session``, ``nohup``, a trailing ``&``,
  ``pythonw``, a hidden PowerShell window) -> ``silent-process``. ``python -c <code>`` gets its code analysed.
* a network call carrying ``SECRET`` (critical) or ``FINGERPRINT`` data -> ``exfiltration``;
  to a shady endpoint -> ``shady-endpoint``.
* a write to a persistence place outside the package -> ``persistence``; ``os.chmod`` of a
  dropped file -> ``drop-and-run``; reading a credential store -> ``credential-access``.

A call into a local function whose parameter reaches a sink is checked at the call with the
caller's arguments (``run`` calling ``exec`` on its parameter, then ``run(b64decode(x))``):
function summaries, one level per definition, transitive through parameters. Anything else risky that a call
does is a *capability* (``process-spawn``, ``network``, ``write-outside``) or a *signal*.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from shouldi.scanners.heuristics import names as n
from shouldi.scanners.heuristics.facts import FileFacts
from shouldi.scanners.heuristics.fold import Value
from shouldi.scanners.heuristics.indicators import (
    SECRET_ENV,
    Label,
    command_kinds,
    public_ip,
    shady_endpoint,
    vcs_query,
)
from shouldi.scanners.heuristics.runners import Runners
from shouldi.scanners.heuristics.taint import Summary

__all__ = ["Sinks"]

_NET_TOOL = re.compile(r"\b(curl|wget|nc|ncat|nslookup|dig|ping|scp|ftp|telnet|powershell)\b",
                       re.IGNORECASE)
_DETACHED_PROCESS = 0x00000008
_PICKLES = frozenset({"pickle.loads", "cPickle.loads", "dill.loads", "_pickle.loads"})  # safe: names matched in ASTs, never called
_CODE_SINKS = frozenset({"exec", "eval", "compile", "execfile", "builtins.exec", "builtins.eval"})
_SHELLS = re.compile(r"^\s*(/bin/|/usr/bin/)?(ba|z|da|k)?sh\b|cmd(\.exe)?\b|powershell",
                     re.IGNORECASE)
_SHELL_CALLS = frozenset({"os.system", "os.popen", "asyncio.create_subprocess_shell",
                          "subprocess.getoutput", "subprocess.getstatusoutput", "platform.popen"})
_CONNECTS = frozenset({"asyncio.open_connection", "socket.create_connection"})
_SOURCE_METHODS = n.SOURCE_RUNNERS | n.SOURCE_RUNNER_METHODS
_SHADY_CLIENTS = frozenset({"telebot.TeleBot", "telegram.Bot", "dhooks.Webhook"})
_DOWNLOAD_TO_FILE = frozenset({"urllib.request.urlretrieve", "urllib.urlretrieve",
                               "wget.download"})
_ENVIRON_OK = ("dict", "copy.copy", "copy.deepcopy", "isinstance", "id", "len", "sorted", "list")


#: Calls the sink checks below care about, by name, last name part or prefix.
_INTERESTING = (n.EXEC_SINKS | n.DYNAMIC_IMPORTS | n.PROCESS | n.NETWORK | _SHADY_CLIENTS
                | n.OPEN | n.COPY_MOVE | n.CREDENTIAL_READERS | n.CHMOD | n.DELETE | n.SPYWARE
                | n.STEALER_APIS | n.NATIVE_LOADERS | n.REGISTRY_WRITES
                | n.SOURCE_RUNNERS | set(n.PATH_RUNNERS)
                | {"mmap.mmap", "os.dup2", "os.getenv", "os.getenvb", "shutil.copyfileobj",
                   "runpy.run_module", "code.interact"})
_INTERESTING_LAST = (n.NETWORK_VERBS | n.SHELLCODE_APIS | n.SOURCE_RUNNER_METHODS
                     | n.NATIVE_PROCESS | n.NATIVE_SPYWARE | n.LOOP_CONNECTIONS) | {"interact",
    "write_text", "write_bytes", "write", "writelines", "read_text", "read_bytes", "open",
    "rmtree", "unlink", "rmdir", "LoadLibrary", "LoadLibraryA", "LoadLibraryW", "dlopen",
    "CryptUnprotectData", "__pyarmor__"}
_INTERESTING_PREFIXES = (*n.PROCESS_PREFIXES, "pyarmor_runtime", "pytransform.", "os.environ.")


_URLISH = re.compile(r"^[a-z][a-z0-9+.-]*://|^[\w-]+(\.[\w-]+)+(:\d+)?(/|$)", re.IGNORECASE)


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _preview(value: Value) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return _short(" ".join(text.split()), 60)


class Sinks(Runners):
    """Needs ``facts``, ``hit``, ``edge``, ``nested`` and ``absolute`` from the visitor."""

    facts: FileFacts

    if TYPE_CHECKING:  # provided by the visitor
        def hit(self, rule: str, node: ast.AST, detail: str, critical: bool = False) -> None:
            ...

        def edge(self, kind: str, target: str) -> None:
            ...

        def nested(self, code: Value, node: ast.AST, what: str) -> None:
            ...

        def absolute(self, module: str, level: int) -> str:
            ...

        def ref(self, node: ast.expr) -> None:
            ...

    # -- dispatch ------------------------------------------------------------------------------
    def call(self, node: ast.Call) -> None:
        name, hidden = self.qualify(node.func)
        name = n.builtin_sink(name)
        func = node.func
        last = func.attr if isinstance(func, ast.Attribute) else name
        if not hidden and not self.mentions_environ and name not in _INTERESTING and (
                last not in _INTERESTING_LAST) and not name.startswith(_INTERESTING_PREFIXES):
            if self.object_network(node):  # most calls: nothing to look at but sessions
                self._network(name, node)
            self._through_summary(node)
            return
        if hidden and self._sensitive(name):
            self.cap("obfuscation")
            self.hit("obfuscated-call", node, f"{name}() reached through a computed name")
        if name in n.EXEC_SINKS:
            self._run_code(name, node)
        elif name in n.DYNAMIC_IMPORTS:
            self._import(name, node)
        elif n.is_process(name):
            self._process(name, node)
        elif name in _SHADY_CLIENTS or self.object_network(node) or (n.is_network(name) and (
                not n.is_constructor(name) or node.args)) or self.loop_connection(name, node):
            self._network(name, node)  # constructing a session or socket connects nothing
        else:
            self.side_doors(name, node)
        self._environment(name, node)
        self._files(name, node)
        self._others(name, node)
        self._through_summary(node)

    @staticmethod
    def _sensitive(name: str) -> bool:
        """Worth hiding only for an attacker: code execution, processes, the network..."""
        return bool(name) and (name in n.EXEC_SINKS or name in n.DYNAMIC_IMPORTS
                               or n.is_process(name) or n.is_network(name)
                               or n.is_constructor(name) or name in n.DECODERS
                               or name.split(".")[0] in n.SENSITIVE_CALL_MODULES)

    # -- code ----------------------------------------------------------------------------------
    def _run_code(self, name: str, node: ast.Call) -> None:
        self.cap("exec")
        if not node.args:
            return
        arg = node.args[0]
        labels = self.labels(arg)
        code = self.fold(arg) if name in _CODE_SINKS or name in _SOURCE_METHODS else None
        shown = f": {_preview(code)!r}" if code is not None and labels & Label.DECODED else ""
        read = self.read_path(arg)
        if labels & Label.DOWNLOADED:
            self.hit("download-exec", node, f"{name}() of data read from the network", True)
        elif labels & Label.DECODED:
            self.cap("obfuscation")
            self.hit("exec-decoded-data", node, f"{name}() of decoded data{shown}", True)
        elif labels & Label.DROPPED:
            self.hit("drop-and-run", node, f"{name}() of a file written from a payload", True)
        elif self.frame_sink(arg, "exec"):
            pass
        elif read is not None and self.path_labels(read) & Label.OUTSIDE and not (
                self.template(read).endswith(".py")):
            self.cap("obfuscation")
            self.hit("obfuscated-code", node, f"{name}() of code kept in a data file outside "
                     f"the package {_short(self.template(read))!r}")
        elif not isinstance(arg, ast.Constant) and name not in _PICKLES:
            self.hit("exec-dynamic", node, f"{name}() of a computed value")
        if code is not None:
            self.nested(code, node, f"the code {name}() runs")

    def _import(self, name: str, node: ast.Call) -> None:
        self.cap("exec")
        if not node.args:
            return
        arg = node.args[0]
        value = self.fold(arg)
        if isinstance(value, str):
            package = self.fold(node.args[1]) if len(node.args) > 1 else None
            level = len(value) - len(value.lstrip("."))
            module = self.absolute(value.lstrip("."), level) if level else value
            if level and isinstance(package, str):
                module = f"{package}.{value.lstrip('.')}"
            self.edge("module", module)
            if not isinstance(arg, ast.Constant) and module.split(".")[0] in n.SENSITIVE_MODULES:
                self.cap("obfuscation")
                self.hit("obfuscated-call", node, f"{name}() of a hidden module name {module!r}")
        elif self.labels(arg) & Label.DECODED:
            self.hit("exec-decoded-data", node, f"{name}() of a decoded module name", True)
        else:
            self.hit("dynamic-import", node, f"{name}() of a computed name")

    # -- processes ------------------------------------------------------------------------------
    def _process(self, name: str, node: ast.Call) -> None:
        self.cap("process")
        values = [*node.args, *(k.value for k in node.keywords
                                if k.arg not in ("env", "cwd", "stdout", "stderr", "stdin"))]
        labels = self._union(values)
        command = self.command_text(node)
        shown = f"{name}({_short(command)!r})" if command else f"{name}()"
        found = self._process_evidence(labels, command, node, shown)
        silent = self._silent(node)
        if silent:
            self.hit("silent-process", node, f"{shown} with {silent}")
            found = True
        if self._reverse_shell(name, node, command) or (
                labels & Label.DOWNLOADED and "connect" in self.frames[-1].flags
                and self._shell(name, node, command)):
            self.hit("reverse-shell", node, f"{shown} wired to a socket", True)
            found = True
        code = self._dash_c(node)
        if code is not None:
            self.nested(code, node, "the code given to python -c")
        if values and self.frame_sink(values[0], "process"):
            found = True
        if found:
            return
        # a constant read-only git/hg query (version stamping) is a signal, unless the call
        # chooses the program or the environment (GIT_* variables can run commands)
        own = any(k.arg in ("executable", "env") or k.arg is None for k in node.keywords)
        self.hit("vcs-query" if not own and vcs_query(command) else "process-spawn", node, shown)

    def _process_evidence(self, labels: int, command: str, node: ast.Call, shown: str) -> bool:
        found = False
        if labels & Label.DROPPED or any(p in command for p in self.frames[-1].dropped):
            self.hit("drop-and-run", node, f"{shown} runs a file written from a payload", True)
            found = True
        elif labels & Label.DOWNLOADED:
            self.hit("download-exec", node, f"{shown} runs downloaded data", True)
            found = True
        if labels & Label.DECODED:
            self.hit("exec-decoded-data", node, f"{shown} runs decoded data", True)
            found = True
        for kind in command_kinds(command) if command else ():
            self.hit(kind, node, shown)
            found = True
        endpoint = shady_endpoint(command) if command else None
        if endpoint:
            self.hit("shady-endpoint", node, f"{shown} reaches {endpoint}")
            found = True
        if labels & (Label.SECRET | Label.FINGERPRINT) and _NET_TOOL.search(command):
            self.hit("exfiltration", node, f"{shown} sends secrets or host details",
                     bool(labels & Label.SECRET))
            found = True
        return found

    def _silent(self, node: ast.Call) -> str | None:
        """How the process is detached from the install (it outlives it). A hidden console
        window alone (``CREATE_NO_WINDOW``, a ``STARTUPINFO``) is what careful Windows code
        does to avoid a flashing window: not evidence by itself."""
        for keyword in node.keywords:
            value = keyword.value
            if keyword.arg == "creationflags":
                for sub in ast.walk(value):
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, int) and (
                            sub.value & _DETACHED_PROCESS):
                        return f"creationflags={sub.value:#x}"
                    if isinstance(sub, (ast.Name, ast.Attribute)):
                        last = self.name_of(sub).rsplit(".", 1)[-1]
                        if last == "DETACHED_PROCESS":
                            return f"creationflags={last}"
            elif keyword.arg == "start_new_session" and isinstance(value, ast.Constant) and (
                    value.value is True):
                return "start_new_session=True (outlives the install)"
            elif keyword.arg == "preexec_fn" and self.name_of(value) in ("os.setsid", "os.setpgrp"):
                return f"preexec_fn={self.name_of(value)}"
        return None

    def _reverse_shell(self, name: str, node: ast.Call, command: str) -> bool:
        frame = self.frames[-1]
        if "dup2" in frame.flags and (name == "pty.spawn" or _SHELLS.search(command)):
            return True
        for keyword in node.keywords:
            if keyword.arg in ("stdin", "stdout") and self._fileno_of_socket(keyword.value):
                return True
        return False

    def _shell(self, name: str, node: ast.Call, command: str) -> bool:
        """Does the call run its command through a shell?"""
        return (name in _SHELL_CALLS or bool(_SHELLS.search(command)) or any(
            k.arg == "shell" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in node.keywords))

    def _fileno_of_socket(self, expr: ast.expr) -> bool:
        return (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute)
                and expr.func.attr == "fileno" and self.netobj(expr.func.value))

    def _dash_c(self, node: ast.Call) -> Value | None:
        if not node.args or not isinstance(node.args[0], (ast.List, ast.Tuple)):
            return None
        elts = node.args[0].elts
        for i, elt in enumerate(elts[:-1]):
            if isinstance(elt, ast.Constant) and elt.value == "-c":
                return self.fold(elts[i + 1])
        return None

    # -- network -------------------------------------------------------------------------------
    def _network(self, name: str, node: ast.Call) -> None:
        self.cap("network")
        values = [*node.args, *(k.value for k in node.keywords)]
        labels = self._union(values)
        base = (self.labels(node.func.value) if isinstance(node.func, ast.Attribute)
                and not name.startswith(tuple(n.NETWORK_LIBRARIES)) else 0)
        found = False
        if labels & Label.SECRET:
            self.hit("exfiltration", node, f"{name}() sends secret data", True)
            found = True
        elif labels & Label.FINGERPRINT and (
                ("gethostbyname" not in name and "getaddrinfo" not in name)
                or not isinstance(node.args[0] if node.args else None, ast.Call)):
            self.hit("exfiltration", node, f"{name}() sends the user/host name")
            found = True
        endpoint = self._endpoint(name, node, labels | base)
        if endpoint:
            self.hit("shady-endpoint", node, f"{name}() to {endpoint}")
            found = True
        if name in _DOWNLOAD_TO_FILE:
            self._mark_dropped(node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg in ("filename", "out")), None))
        if (isinstance(node.func, ast.Attribute) and node.func.attr == "connect") or (
                name in _CONNECTS or self.loop_connection(name, node)):
            self.frames[-1].flags.add("connect")
        if values and any(self.frame_sink(v, "network") for v in values):
            found = True
        if not found:
            self.hit("network", node, f"{name}()")

    def _endpoint(self, name: str, node: ast.Call, labels: int) -> str | None:
        if name in _SHADY_CLIENTS:
            return f"a chat bot ({name})"
        for value in [*node.args, *(k.value for k in node.keywords)]:
            if isinstance(value, ast.Tuple) and value.elts:  # socket.connect((host, port))
                host = self.fold(value.elts[0])
                if isinstance(host, str) and public_ip(host):
                    return f"a raw IP address ({host})"
            text = self.fold(value)
            if isinstance(text, str):
                found = shady_endpoint(text)
                if found:
                    return found
        return "a shady endpoint named in this code" if labels & Label.SHADY else None

    # -- environment ----------------------------------------------------------------------------
    mentions_environ: bool

    def _environment(self, name: str, node: ast.Call) -> None:
        if not self.mentions_environ:
            return
        first = node.args[0] if node.args else None
        if name in ("os.getenv", "os.environ.get", "os.environ.pop", "os.getenvb"):
            self.cap("env_access")
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and (
                    SECRET_ENV.search(first.value)):
                self.hit("secret-env", node, f"{name}({first.value!r})")
            return
        if name.endswith(_ENVIRON_OK) or n.is_process(name) or "patch" in name:
            return
        for value in [*node.args, *(k.value for k in node.keywords if k.arg != "env")]:
            if self.name_of(value) == "os.environ" or (
                    isinstance(value, ast.Call) and self.name_of(value.func).startswith(
                        "os.environ.") and self.name_of(value.func) != "os.environ.get"):
                self.hit("environ-dump", node, f"os.environ passed to {name or 'a call'}()")
                return

    # -- the rest ------------------------------------------------------------------------------
    def _others(self, name: str, node: ast.Call) -> None:
        last = name.rsplit(".", 1)[-1]
        if name in n.SPYWARE:
            self.hit("spyware", node, f"{name}()")
        elif name in n.STEALER_APIS or last == "CryptUnprotectData":
            self.hit("credential-access", node, f"{name}() decrypts stored browser secrets")
        elif name in n.NATIVE_LOADERS or last in ("LoadLibrary", "LoadLibraryA", "LoadLibraryW",
                                                  "dlopen"):
            self.cap("native_code")
            if node.args and (self.labels(node.args[0]) & (Label.DROPPED | Label.DOWNLOADED)
                              or self.fold(node.args[0]) in self.frames[-1].dropped):
                self.hit("drop-and-run", node, f"{name}() loads a library written from a "
                         "payload", True)
            else:
                self.hit("native-load", node, f"{name}()")
        elif last in n.SHELLCODE_APIS and any(p in name for p in ("ctypes", "kernel32", "ntdll",
                                                                 "windll")):
            self.cap("native_code")
            self.hit("shellcode-loader", node, f"{name}()")
        elif name == "mmap.mmap" and any(
                isinstance(s, ast.Attribute) and self.name_of(s) == "mmap.PROT_EXEC"
                for a in [*node.args, *(k.value for k in node.keywords)] for s in ast.walk(a)):
            self.hit("shellcode-loader", node, "mmap.mmap() of executable memory")
        elif name in n.REGISTRY_WRITES and self._union(node.args) & Label.PERSIST:
            self.hit("persistence", node, f"{name}() on a Run key")
        elif name == "os.dup2" and node.args and self._fileno_of_socket(node.args[0]):
            self.frames[-1].flags.add("dup2")
        elif last == "__pyarmor__" or name.startswith(("pytransform.", "pyarmor_runtime")):
            self.cap("obfuscation")
            self.hit("obfuscated-code", node, f"{name}(): pyarmor-protected code")

    # -- summaries -----------------------------------------------------------------------------
    def frame_sink(self, expr: ast.expr, kind: str) -> bool:
        """Record that a parameter of the current function reaches a ``kind`` sink."""
        frame = self.frames[-1]
        if not frame.params:
            return False
        found = False
        for sub in ast.walk(expr):
            if isinstance(sub, ast.Name) and sub.id in frame.params:
                frame.sinks.setdefault(frame.params[sub.id], set()).add(kind)
                found = True
        return found

    def _through_summary(self, node: ast.Call) -> None:
        func = node.func
        summary = self.summaries.get(func.id) if isinstance(func, ast.Name) else (
            self.self_method(func))
        if summary is None or not summary.sinks:
            return
        callee = func.id if isinstance(func, ast.Name) else self.name_of(func)
        for index, kinds in summary.sinks.items():
            arg = self._argument(node, summary, index)
            if arg is None:
                continue
            for kind in sorted(kinds):
                if kind == "call":  # the function runs what it is given
                    if isinstance(arg, (ast.Name, ast.Attribute)):
                        self.ref(arg)
                    continue
                found = self._sink_via(kind, arg, node, f"via {callee}()")
                if not self.frame_sink(arg, kind) and not found:
                    self._capability_via(kind, arg, node, f"via {callee}()")

    @staticmethod
    def _argument(node: ast.Call, summary: Summary, index: int) -> ast.expr | None:
        if index < len(node.args) and not isinstance(node.args[index], ast.Starred):
            return node.args[index]
        if index < len(summary.params):
            wanted = summary.params[index]
            return next((k.value for k in node.keywords if k.arg == wanted), None)
        return None

    def _sink_via(self, kind: str, arg: ast.expr, node: ast.Call, via: str) -> bool:
        """Evidence for ``arg`` reaching a ``kind`` sink through a callee; True when found."""
        labels = self.labels(arg)
        before = len(self.facts.hits)
        if kind == "exec":
            if labels & Label.DOWNLOADED:
                self.hit("download-exec", node, f"runs downloaded data {via}", True)
            elif labels & Label.DECODED:
                self.hit("exec-decoded-data", node, f"runs decoded data {via}", True)
            code = self.fold(arg)
            if code is not None:
                self.nested(code, node, f"the code run {via}")
                return True  # the code itself was judged
        elif kind == "process":
            text = self.fold(arg)
            command = text if isinstance(text, str) else ""
            self._process_evidence(labels & ~Label.NETOBJ, command, node, f"a process {via}")
        elif kind == "network":
            if labels & Label.SECRET:
                self.hit("exfiltration", node, f"sends secret data {via}", True)
            elif labels & Label.FINGERPRINT:
                self.hit("exfiltration", node, f"sends the user/host name {via}")
            text = self.fold(arg)
            endpoint = shady_endpoint(text) if isinstance(text, str) else None
            if endpoint or labels & Label.SHADY:
                self.hit("shady-endpoint", node, f"to {endpoint or 'a shady endpoint'} {via}")
        return len(self.facts.hits) > before

    def _capability_via(self, kind: str, arg: ast.expr, node: ast.Call, via: str) -> None:
        """The capability a callee exercises with ``arg`` (a wrapper's ``subprocess.run(cmd)``,
        ``urlopen(url)``), said at this call site, whose reach decides its severity: the
        wrapper's own line has no value to judge and stays silent (see ``frame_sink``)."""
        text = self.fold(arg)
        if isinstance(arg, (ast.List, ast.Tuple)):
            parts = [self.fold(e) for e in arg.elts]
            text = " ".join(p if isinstance(p, str) else "{?}" for p in parts)
        shown = f"{_short(text)!r} {via}" if isinstance(text, str) else f"a computed value {via}"
        if kind == "process":
            command = text if isinstance(text, str) else ""
            self.hit("vcs-query" if vcs_query(command) else "process-spawn", node, shown)
        elif kind == "network" and isinstance(text, str) and _URLISH.search(text):
            # only a value that is an address: wrappers that take "a path or a URL"
            # (matplotlib's rc files) connect only when given a URL
            self.hit("network", node, shown)
        elif kind == "exec" and not isinstance(arg, ast.Constant):
            self.hit("exec-dynamic", node, shown)
