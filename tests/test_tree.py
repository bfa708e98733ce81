"""``shouldi install X`` judges X's whole tree, on the hermetic local index: real wheels and
sdists, real scans. Markers and extras for the target, a cycle, a conflict, an sdist whose
dependencies only its build would tell, a malicious package two levels down, whole answers
reused, and a tree the index could not give."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from builders import metadata_text
from click.testing import CliRunner
from index_server import LocalIndex
from stores import store_option

from shouldi.cli.main import cli

EXEC = {"bad_mod/__init__.py": "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n"}
SENTINEL_SETUP = (
    "import os, pathlib\n"
    "d = os.environ.get('SHOULDI_SENTINEL_DIR')\n"
    "if d: pathlib.Path(d, '{name}.setup.py.ran').write_text('ran')\n"
    "from setuptools import setup\nsetup(name='{name}')\n"
)


@pytest.fixture
def index(local_index_factory: Any) -> LocalIndex:
    return local_index_factory(preload=False, core_metadata="pep714")  # type: ignore[no-any-return]


def wheel(index: LocalIndex, name: str, version: str, *requires: str, **kw: Any) -> Any:
    module = name.replace("-", "_")
    return index.add_wheel({f"{module}/__init__.py": f"VERSION = {version!r}\n"}, name, version,
                           requires=list(requires), **kw)


def install(index: LocalIndex, tmp_path: Path, *args: str, fmt: str = "json") -> tuple[Any, Any]:
    argv = ["install", *args, "--index-url", index.url, "--cache-dir", str(tmp_path / "cache"),
            *store_option(tmp_path / "advisories.sqlite"), "--no-pip-audit",
            "--no-safety-cli", "--timeout", "5", "--format", fmt]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    data = json.loads(result.stdout) if fmt == "json" and result.stdout.startswith("{") else None
    return result, data


def by_name(data: Any) -> dict[str, Any]:
    return {p["name"]: p for p in data["packages"]}


def messages(pkg: Any, check: str = "dependencies") -> list[str]:
    return [r["message"] for r in pkg["reasons"] if r["check"] == check]


def test_every_package_of_the_tree_is_judged_with_who_required_it(index, tmp_path):
    wheel(index, "zq-app", "1.0", "zq-lib>=1", 'zq-win; sys_platform == "win32"')
    wheel(index, "zq-lib", "1.0")
    wheel(index, "zq-lib", "0.5")
    wheel(index, "zq-win", "1.0")
    result, data = install(index, tmp_path, "zq-app")
    assert result.exit_code == 0, result.output
    assert [p["name"] for p in data["packages"]] == ["zq-app", "zq-lib"]  # the root first
    app, lib = by_name(data)["zq-app"], by_name(data)["zq-lib"]
    assert app["required_by"] == [{"requirement": "zq-app", "parent": None, "parent_version": None}]
    assert lib["required_by"] == [{"requirement": "zq-lib>=1", "parent": "zq-app",
                                   "parent_version": "1.0"}]
    assert lib["version"] == "1.0" and lib["artifact"]["filename"] == "zq_lib-1.0-py3-none-any.whl"
    assert not [r for p in data["packages"] for r in p["reasons"] if r["check"] == "dependencies"]
    assert {p["verdict"] for p in data["packages"]} <= {"pass", "warn"}  # (typosquat signals)
    text, _ = install(index, tmp_path, "zq-app", fmt="text")
    lines = text.stdout.splitlines()
    lib_line = next(i for i, line in enumerate(lines) if line[6:].startswith("zq-lib 1.0"))
    assert "required: zq-app 1.0 needs 'zq-lib>=1'" in lines[lib_line + 2]  # after "(answer given"
    assert lines[-1].startswith("judged 2 packages: what zq-app would install on CPython 3.")
    # another target takes the Windows-only dependency in
    _, windows = install(index, tmp_path, "zq-app", "--platform", "win_amd64", "--python-version", "3.11")
    assert [p["name"] for p in windows["packages"]] == ["zq-app", "zq-lib", "zq-win"]
    # --no-deps judges the root alone
    _, alone = install(index, tmp_path, "zq-app", "--no-deps")
    assert [p["name"] for p in alone["packages"]] == ["zq-app"]
    assert alone["packages"][0]["required_by"] == []


def test_a_malicious_package_two_levels_down_fails_the_root(index, tmp_path, sentinel_dir):
    wheel(index, "zq-top", "1.0", "zq-mid")
    wheel(index, "zq-mid", "1.0", "zq-evil")
    index.add_sdist({**EXEC, "setup.py": SENTINEL_SETUP.format(name="zq-evil")}, "zq-evil", "0.1")
    result, data = install(index, tmp_path, "zq-top")
    assert result.exit_code == 1, result.output
    top, mid, evil = (by_name(data)[n] for n in ("zq-top", "zq-mid", "zq-evil"))
    assert evil["verdict"] == "fail" and "exec-decoded-data" in evil["reasons"][0]["message"]
    assert top["verdict"] == mid["verdict"] == "fail"
    assert top["reasons"][0]["check"] == "dependencies"
    assert top["reasons"][0]["message"] == "depends on zq-evil 0.1 (through zq-mid 1.0), which fails"
    assert top["reasons"][0]["evidence"].endswith("[zq_evil-0.1/bad_mod/__init__.py:2]")
    assert messages(mid)[0] == "depends on zq-evil 0.1, which fails"
    # the sdist's dependencies are unknown (PKG-INFO 2.1, setup.py): a warning, never dropped
    unknown = next(r for r in evil["reasons"] if r["check"] == "dependencies")
    assert unknown["verdict"] == "warn" and unknown["allowable"] is False
    assert unknown["message"].startswith("dependencies unknown: only running the build would tell")
    assert unknown["message"].endswith(": what it would install is not judged")
    assert list(sentinel_dir.iterdir()) == []  # its setup.py never ran
    alone, data = install(index, tmp_path, "zq-top", "--no-deps")
    assert alone.exit_code == 0 and data["packages"][0]["verdict"] == "pass"


def test_an_sdist_with_dynamic_dependencies_warns_and_its_static_sibling_is_followed(index, tmp_path):
    index.add_sdist({"zq_dyn/__init__.py": "", "PKG-INFO": metadata_text(
        "zq-dyn", "1.0", ("zq-hidden",), metadata_version="2.2", dynamic=("Requires-Dist",))},
        "zq-dyn", "1.0")
    index.add_sdist({"zq_static/__init__.py": "", "PKG-INFO": metadata_text(
        "zq-static", "1.0", ("zq-leaf",), metadata_version="2.4")}, "zq-static", "1.0")
    wheel(index, "zq-leaf", "1.0")
    wheel(index, "zq-hidden", "1.0")
    result, data = install(index, tmp_path, "zq-dyn", "zq-static")
    assert result.exit_code == 0, result.output
    assert list(by_name(data)) == ["zq-dyn", "zq-static", "zq-leaf"]  # zq-hidden is not known
    dyn = by_name(data)["zq-dyn"]
    assert dyn["verdict"] == "warn"
    assert messages(dyn) == [
        "dependencies unknown: only running the build would tell (its PKG-INFO (Metadata-Version "
        "2.2) marks Requires-Dist dynamic): what it would install is not judged"]
    assert messages(by_name(data)["zq-static"]) == []


def test_a_conflict_is_bad_input_with_the_chain_in_one_line(index, tmp_path):
    wheel(index, "zq-app", "1.0", "zq-web>=3")
    wheel(index, "zq-web", "3.0")
    wheel(index, "zq-web", "2.0")
    result, data = install(index, tmp_path, "zq-app", "zq-web<3")
    assert result.exit_code == 2 and data is None
    assert result.stderr == (
        "resolving the dependency tree of zq-app, zq-web<3\n"
        "error: cannot resolve the dependency tree: you asked for 'zq-web<3' and zq-app 1.0 needs "
        "'zq-web>=3', but no release of 'zq-web' meets them all (newest on the index: 2.0, 3.0)\n")
    missing, _ = install(index, tmp_path, "zq-app", "zq-nowhere")
    assert missing.exit_code == 2
    assert "you asked for 'zq-nowhere', but no project named 'zq-nowhere'" in missing.stderr
    assert "Traceback" not in missing.output + result.output


def test_a_cycle_and_extras(index, tmp_path):
    index.add_wheel({"zq_chicken/__init__.py": ""}, "zq-chicken", "1.0", wheel_metadata=metadata_text(
        "zq-chicken", "1.0", ("zq-egg", 'zq-feather; extra == "fluffy"'), extras=("fluffy",)))
    wheel(index, "zq-egg", "1.0", "zq-chicken")
    wheel(index, "zq-feather", "1.0")
    result, data = install(index, tmp_path, "zq-chicken[fluffy]", "--format", "json")
    assert result.exit_code == 0, result.output
    assert list(by_name(data)) == ["zq-chicken", "zq-egg", "zq-feather"]
    chicken = by_name(data)["zq-chicken"]
    assert chicken["requested"] == "zq-chicken[fluffy]"
    assert [q["parent"] for q in chicken["required_by"]] == [None, "zq-egg"]


def test_the_whole_answer_is_reused_until_max_age(index, tmp_path):
    wheel(index, "zq-app", "1.0", "zq-lib")
    wheel(index, "zq-lib", "1.0")
    first, data = install(index, tmp_path, "zq-app")
    assert first.exit_code == 0 and all(p["reused_from"] is None for p in data["packages"])
    index.clear()
    again, reused = install(index, tmp_path, "zq-app")
    assert index.paths() == []  # neither the tree nor any answer was asked for
    assert again.exit_code == 0 and "resolving" not in again.stderr
    assert [p["reused_from"] is not None for p in reused["packages"]] == [True, True]
    assert [{k: v for k, v in p.items() if k != "reused_from"} for p in reused["packages"]] == [
        {k: v for k, v in p.items() if k != "reused_from"} for p in data["packages"]]
    # a new release of the dependency is seen once the answer may not be reused
    wheel(index, "zq-lib", "1.1")
    _, fresh = install(index, tmp_path, "zq-app", "--max-age", "0")
    assert by_name(fresh)["zq-lib"]["version"] == "1.1"
    _, other = install(index, tmp_path, "zq-app", "--python-version", "3.12")
    assert all(p["reused_from"] is None for p in other["packages"])  # another target


def test_a_tree_the_index_cannot_give_is_not_a_pass(index, tmp_path):
    wheel(index, "zq-app", "1.0", "zq-lib")
    wheel(index, "zq-lib", "1.0")
    index.fault("simple/zq-lib/", "500")
    result, data = install(index, tmp_path, "zq-app")
    assert result.exit_code == 3, result.output
    (app,) = data["packages"]
    assert app["verdict"] == "error"
    assert messages(app)[0].startswith("its dependencies were not judged: the dependency tree "
                                       "could not be resolved (")
    index.clear()
    again, data = install(index, tmp_path, "zq-app")
    assert again.exit_code == 0 and len(data["packages"]) == 2  # an error answer is not reused


def test_all_files_judges_every_file_of_every_node(index, tmp_path):
    wheel(index, "zq-app", "1.0", "zq-lib")
    index.add_sdist({"zq_app/__init__.py": ""}, "zq-app", "1.0")
    wheel(index, "zq-lib", "1.0")
    result, data = install(index, tmp_path, "zq-app", "--all-files")
    assert result.exit_code == 0, result.output
    assert sorted(p["artifact"]["filename"] for p in data["packages"]) == [
        "zq_app-1.0-py3-none-any.whl", "zq_app-1.0.tar.gz", "zq_lib-1.0-py3-none-any.whl"]


def test_judge_tree_fails_up_the_tree_errors_up_and_leaves_warnings_where_they_are():
    """The rule itself, on values: what a dependency's verdict makes of each package above it."""
    from shouldi.api import Answer, Request
    from shouldi.plan import TreePlan, judge_tree
    from shouldi.resolve import Dependencies, Node, Requirer, Tree
    from shouldi.results import Artifact, Release, Severity
    from shouldi.verdict import PackageReport, Reason, Verdict

    def node(name: str, *children: str, known: bool = True) -> Node:
        art = Artifact(f"{name}-1.0.whl", f"https://x/{name}", "ab" * 32, "wheel")
        deps = Dependencies(True, "wheel", "the wheel's METADATA") if known else Dependencies.unknown("x")
        return Node(name, "1.0", Release(name, "1.0", "https://x/", art, "wheel"),
                    (Requirer(name),), deps, depends_on=children)

    def answer(n: Node, verdict: Verdict) -> Answer:
        reasons = () if verdict is Verdict.PASS else (
            Reason("heuristics", Severity.HIGH, f"{n.name} is {verdict.value}", "x.py:1", verdict),)
        return Answer(Request(n.name, planned=n.release),
                      PackageReport(n.name, "1.0", verdict, reasons, {}, n.name, n.artifact))

    nodes = [node("top", "mid", "warns"), node("mid", "evil", "broken"), node("evil"),
             node("broken", known=False), node("warns")]
    verdicts = [Verdict.PASS, Verdict.PASS, Verdict.FAIL, Verdict.ERROR, Verdict.WARN]
    tree = Tree(("top",), tuple(nodes), "CPython 3.11 on linux x86_64")
    plan = TreePlan((Request("top"),), tuple(Request(n.name, planned=n.release) for n in nodes), tree)
    judged = {a.report.name: a.report for a in judge_tree(plan, [answer(n, v) for n, v in zip(nodes, verdicts, strict=True)])}
    assert [(r.verdict, r.message) for r in judged["top"].reasons if r.check == "dependencies"] == [
        (Verdict.FAIL, "depends on evil 1.0 (through mid 1.0), which fails"),
        (Verdict.ERROR, "depends on broken 1.0 (through mid 1.0), which could not be fully checked"),
    ]
    assert judged["top"].verdict is Verdict.FAIL and judged["mid"].verdict is Verdict.FAIL
    assert judged["warns"].verdict is Verdict.WARN  # a warning stays where it is
    assert judged["broken"].verdict is Verdict.ERROR
    assert [r.message for r in judged["broken"].reasons if r.check == "dependencies"] == [
        "dependencies unknown: only running the build would tell (x): what it would install is not judged"]
    evidence = judged["top"].reasons[0].evidence
    assert evidence == "heuristics: evil is fail [x.py:1]"
