"""The heuristic rules and their severities.

Each rule has two severities: one when the code runs by itself at install or import time
(``setup.py``, cmdclass commands, in-tree build backends, top-level code of ``__init__.py``,
``import`` lines of ``.pth`` files) and one anywhere else, where it only runs if the user
calls it. The same ``subprocess.run`` is routine in a library function and alarming in
``setup.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from shouldi.results import Severity

__all__ = ["RULES", "Rule"]


@dataclass(frozen=True)
class Rule:
    id: str
    install: Severity  # in code that runs at install/import time
    other: Severity  # anywhere else
    summary: str

    def severity(self, install_time: bool) -> Severity:
        return self.install if install_time else self.other


_C, _H, _M, _L, _I = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule("exec-decoded-data", _C, _H, "exec/eval/compile of decoded or downloaded data"),
        Rule("exec-dynamic", _L, _I, "exec/eval/compile of a computed string"),
        Rule("dynamic-import", _M, _L, "__import__/importlib of a computed module name"),
        Rule("process-spawn", _H, _L, "starts a process"),
        Rule("network", _H, _L, "opens a network connection"),
        Rule("secret-env", _H, _M, "reads a secret-looking environment variable"),
        Rule("environ-dump", _H, _M, "uses the whole environment as data"),
        Rule("credential-path", _H, _M, "refers to a credential, browser or wallet file"),
        Rule("write-outside", _H, _L, "writes outside the package (absolute or home path)"),
        Rule("custom-install-command", _L, _L, "custom setuptools command runs code at install"),
        Rule("in-tree-build-backend", _L, _L, "the build backend is shipped in the sdist"),
        Rule("pth-import-line", _H, _H, ".pth line starting with import runs at every start"),
        Rule("long-line", _M, _L, "very long line (minified or obfuscated code)"),
        Rule("high-entropy-string", _H, _M, "high-entropy string literal (packed payload?)"),
        Rule("encoded-blob", _H, _M, "large base64/hex blob"),
        Rule("binary-file", _M, _M, "native binary shipped in the source distribution"),
        Rule("compiled-bytecode", _M, _M, "compiled .pyc/.pyo file shipped"),
        Rule("file-too-large", _M, _M, "source file too large to analyse"),
        Rule("unparsable-install-code", _L, _L, "install/import-time code that does not parse"),
    )
}
