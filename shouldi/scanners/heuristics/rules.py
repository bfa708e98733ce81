"""The heuristic rules, and how reachability decides a finding's severity.

A finding's severity is not the rule's alone: the same ``subprocess.run`` is routine in a
function the user calls and a risk at the top of ``setup.py``. Each finding is placed in one
:class:`Reach`, found by :mod:`.graph` from what runs by itself:

============  ========================================================================
``build``     run by the build of an sdist: ``setup.py`` and what it calls, ``cmdclass``
              commands pip's build runs, in-tree PEP 517 backends, other backends' hook
              files (hatch, pdm, poetry) and ``[tool.setuptools.cmdclass]`` commands
``startup``   run at every interpreter start: ``import`` lines of ``.pth`` files and what
              they import, ``sitecustomize``/``usercustomize``
``import``    run by ``import``: the top level of what ``import <name>`` runs (top-level
              modules, a package's ``__init__``, what they import) and what it calls
``plugin``    an entry point another program loads by itself (a ``pytest11`` plugin, a
              setuptools plugin run by every build) and what it calls
``submodule`` the top level of an installed module that the package's own imports do not
              reach: it runs when the user imports it by name
``runtime``   installed code that runs only when called: functions nothing calls at
              import/build time, console scripts, ``__main__.py``
``guarded``   under ``if __name__ == "__main__"`` (outside ``setup.py``, which runs as
              ``__main__``) or an argv check the build never passes (``sys.argv[-1] ==
              "publish"``), and what only such code calls
``aside``     tests, docs, examples, benchmarks; files of an sdist its wheel would not
              contain, unless the build runs them
============  ========================================================================

The verdict maps severities directly (high/critical fail, medium warns, low/info inform),
so the scanner decides here, once:

* **evidence** rules (malicious behaviour) are ``high`` (``critical`` with a direct data
  flow, e.g. the decoded bytes are what ``exec`` runs) when the code runs by itself
  (build/startup/import/plugin) or at the top level of a submodule, ``low`` in code that runs when
  called, ``info`` elsewhere;
* **capability** rules (a risky thing really done) are ``medium`` when the code runs by
  itself, ``low`` at the top level of a submodule, ``info`` otherwise;
* **signal** rules (worth knowing, never a verdict) are at most ``low``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from shouldi.results import Severity

__all__ = ["RULES", "Kind", "Reach", "Rule"]


class Reach(str, enum.Enum):
    BUILD = "build"
    STARTUP = "startup"
    IMPORT = "import"
    PLUGIN = "plugin"
    SUBMODULE = "submodule"
    RUNTIME = "runtime"
    GUARDED = "guarded"
    ASIDE = "aside"

    @property
    def runs_by_itself(self) -> bool:
        return self in (Reach.BUILD, Reach.STARTUP, Reach.IMPORT, Reach.PLUGIN)


class Kind(str, enum.Enum):
    EVIDENCE = "evidence"
    CAPABILITY = "capability"
    SIGNAL = "signal"


_C, _H, _M, _L, _I = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO


@dataclass(frozen=True)
class Rule:
    id: str
    kind: Kind
    summary: str
    top: Severity  # when the code runs by itself (build, startup, import, plugin)

    def severity(self, reach: Reach, critical: bool = False) -> Severity:
        if reach.runs_by_itself or (reach is Reach.SUBMODULE and self.kind is Kind.EVIDENCE):
            return _C if critical and self.kind is Kind.EVIDENCE else self.top
        if reach is Reach.SUBMODULE:
            return _L if self.kind is Kind.CAPABILITY else _I
        if reach is Reach.RUNTIME:
            return _L if self.kind is Kind.EVIDENCE else _I
        return _I


_E, _P, _S = Kind.EVIDENCE, Kind.CAPABILITY, Kind.SIGNAL

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        # evidence of malicious behaviour
        Rule("exec-decoded-data", _E, "runs decoded or de-obfuscated code", _C),
        Rule("download-exec", _E, "downloads code or a program and runs it", _C),
        Rule("drop-and-run", _E, "writes decoded/downloaded data to a file and runs it", _C),
        Rule("exfiltration", _E, "sends secrets or host details over the network", _H),
        Rule("credential-access", _E, "reads credentials, browser or wallet data", _H),
        Rule("shady-endpoint", _E, "talks to a shady endpoint (webhook, paste site, tunnel, "
             "raw IP...)", _H),
        Rule("silent-process", _E, "starts a detached or hidden process", _H),
        Rule("spyware", _E, "reads the clipboard, keystrokes, screen or camera", _H),
        Rule("persistence", _E, "makes itself run again later (rc file, autostart, cron, "
             "Run key, .pth)", _H),
        Rule("obfuscated-call", _E, "calls a sensitive function through a hidden name", _H),
        Rule("hidden-code", _E, "code hidden far to the right of a line", _H),
        Rule("shellcode-loader", _E, "loads machine code into memory and runs it", _C),
        Rule("reverse-shell", _E, "gives a remote host a shell", _C),
        Rule("cryptominer", _E, "runs a cryptocurrency miner", _H),
        Rule("destructive", _E, "deletes the user's or the system's files", _H),
        Rule("bidi-control", _E, "Unicode bidirectional control characters in code "
             "(Trojan Source)", _H),
        # risky capabilities
        Rule("process-spawn", _P, "starts a process", _M),
        Rule("network", _P, "opens a network connection", _M),
        Rule("write-outside", _P, "writes outside the package (absolute or home path)", _M),
        Rule("command-jacking", _P, "a console script takes a common command's name: typing "
             "that command runs this package", _M),
        Rule("obfuscated-code", _P, "code shipped in a form that cannot be read (pyarmor, "
             "bytecode)", _M),
        Rule("file-too-large", _P, "source file too large to analyse", _M),
        # signals
        Rule("exec-dynamic", _S, "exec/eval/compile of a computed string", _L),
        Rule("dynamic-import", _S, "__import__/importlib of a computed module name", _L),
        Rule("secret-env", _S, "reads a secret-looking environment variable", _L),
        Rule("environ-dump", _S, "uses the whole environment as data", _L),
        Rule("credential-path", _S, "names a credential, browser or wallet file", _L),
        Rule("native-load", _S, "loads a native library", _L),
        Rule("vcs-query", _S, "asks git or hg about a source tree (version stamping)", _L),
        Rule("custom-install-command", _S, "custom setuptools command runs code at install", _L),
        Rule("in-tree-build-backend", _S, "the build backend is shipped in the sdist", _L),
        Rule("build-hook", _S, "a build hook shipped in the sdist runs at install", _L),
        Rule("pth-import-line", _S, ".pth line starting with import runs at every start", _L),
        Rule("long-line", _S, "very long line (minified or obfuscated code)", _L),
        Rule("high-entropy-string", _S, "high-entropy string literal (packed payload?)", _L),
        Rule("encoded-blob", _S, "large base64/hex blob", _L),
        Rule("binary-file", _S, "native binary file shipped (compiled code: not scanned)", _L),
        Rule("compiled-bytecode", _S, "compiled .pyc/.pyo file shipped", _L),
        Rule("unparsable-install-code", _S, "install/import-time code that does not parse", _L),
    )
}
