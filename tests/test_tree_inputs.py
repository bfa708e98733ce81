"""``ci`` and ``scan`` judge what a requirements file would install, on the local index: an
unpinned file with its transitive closure, a hashed lock as it is (a dependency it lacks is
"not pinned"), conflicts on the lines involved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from index_server import LocalIndex
from stores import store_option
from test_tree import EXEC, wheel

from shouldi.cli.main import cli


@pytest.fixture
def index(local_index_factory: Any) -> LocalIndex:
    return local_index_factory(preload=False, core_metadata="pep714")  # type: ignore[no-any-return]


@pytest.fixture
def shouldi(index: LocalIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)

    def run(command: str, *args: str) -> Any:
        argv = [command, *args, "--index-url", index.url, "--cache-dir", str(tmp_path / "cache"),
                *store_option(tmp_path / "advisories.sqlite"), "--no-pip-audit",
                "--no-safety-cli", "--timeout", "5"]
        return CliRunner().invoke(cli, argv, catch_exceptions=False)

    return run


def packages(result: Any) -> dict[str, Any]:
    return {p["name"]: p for p in json.loads(result.stdout)["packages"]}


def test_an_unpinned_file_is_judged_with_its_closure(index, shouldi, tmp_path):
    wheel(index, "zq-app", "1.0", "zq-mid")
    wheel(index, "zq-mid", "1.0", "zq-evil")
    index.add_sdist(EXEC, "zq-evil", "0.1")
    (tmp_path / "requirements.txt").write_text("# the app\nzq-app\n")
    result = shouldi("ci", "-r", "requirements.txt", "--format", "json")
    assert result.exit_code == 1, result.output
    found = packages(result)
    assert list(found) == ["zq-app", "zq-mid", "zq-evil"]
    evil = found["zq-evil"]
    assert evil["outcome"] == "fail" and (evil["file"], evil["line"]) == ("requirements.txt", 2)
    assert evil["spec"] == "zq-evil" and evil["pinned"] is False
    assert any(r["message"] == "required: zq-mid 1.0 needs 'zq-evil'" for r in evil["reasons"])
    sarif = shouldi("ci", "-r", "requirements.txt", "--format", "sarif")
    results = json.loads(sarif.stdout)["runs"][0]["results"]
    heuristic = next(r for r in results if r["ruleId"] == "heuristics")
    assert heuristic["locations"][0]["physicalLocation"]["region"] == {"startLine": 2}
    alone = shouldi("ci", "-r", "requirements.txt", "--no-deps", "--format", "json")
    assert alone.exit_code == 0 and list(packages(alone)) == ["zq-app"]
    scanned = shouldi("scan", "-r", "requirements.txt", "-o", "out.jsonl")
    assert scanned.exit_code == 1
    assert scanned.stdout.splitlines()[-1].endswith("; 3 records written")
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert sorted(r["name"] for r in rows) == ["zq-app", "zq-evil", "zq-mid"]


def test_a_hashed_lock_is_taken_as_it_is_and_what_it_lacks_is_not_pinned(index, shouldi, tmp_path):
    app = wheel(index, "zq-app", "1.0", "zq-lib>=1")
    wheel(index, "zq-lib", "1.0")
    (tmp_path / "requirements.txt").write_text(f"zq-app==1.0 --hash=sha256:{app.sha256}\n")
    result = shouldi("ci", "-r", "requirements.txt", "--format", "json")
    assert result.exit_code == 0, result.output
    (pkg,) = packages(result).values()  # zq-lib is not judged: the lock does not install it
    assert (pkg["name"], pkg["version"], pkg["sha256"]) == ("zq-app", "1.0", app.sha256)
    lacking = [r for r in pkg["reasons"] if r["check"] == "dependencies"]
    assert [(r["verdict"], r["message"], r["evidence"]) for r in lacking] == [(
        "warn", "needs 'zq-lib>=1', which requirements.txt does not pin with a hash (zq-lib 1.0 "
        "would be installed; pip --require-hashes refuses an unpinned dependency)",
        "requirements.txt:1")]
    assert shouldi("ci", "-r", "requirements.txt", "--fail-on-warn").exit_code == 1
    # the lock shouldi writes is complete: ci takes it as it is, with nothing lacking
    assert shouldi("lock", "zq-app==1.0", "-o", "locked.txt").exit_code == 0
    complete = shouldi("ci", "-r", "locked.txt", "--format", "json", "--fail-on-warn")
    assert list(packages(complete)) == ["zq-app", "zq-lib"]
    assert not [r for p in packages(complete).values() for r in p["reasons"]
                if r["check"] == "dependencies"]


def test_requirements_that_conflict_are_bad_input_on_their_lines(index, shouldi, tmp_path):
    wheel(index, "zq-app", "1.0", "zq-web>=3")
    wheel(index, "zq-web", "3.0")
    wheel(index, "zq-web", "2.0")
    (tmp_path / "requirements.txt").write_text("zq-app\nzq-web<3\n")
    result = shouldi("ci", "-r", "requirements.txt")
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    chain = ("cannot resolve the dependency tree: you asked for 'zq-web<3' and zq-app 1.0 needs "
             "'zq-web>=3', but no release of 'zq-web' meets them all (newest on the index: 2.0, 3.0)")
    assert errors == [f"error: requirements.txt:1: {chain}", f"error: requirements.txt:2: {chain}"]


def test_ci_judges_a_spec_with_its_closure_and_scan_as_written(index, shouldi):
    """A gate on ``ci SPEC`` judges what ``pip install SPEC`` would install, as ``install``
    does: a failing dependency fails the gate (it passed, silently, when SPECs were judged
    alone); ``--no-deps`` and ``scan`` judge the SPEC as written."""
    wheel(index, "zq-app", "1.0", "zq-mid")
    wheel(index, "zq-mid", "1.0", "zq-evil")
    index.add_sdist(EXEC, "zq-evil", "0.1")
    result = shouldi("ci", "zq-app==1.0", "--format", "json")
    assert result.exit_code == 1, result.output
    found = packages(result)
    assert list(found) == ["zq-app", "zq-mid", "zq-evil"]
    assert any(r["message"] == "required: zq-mid 1.0 needs 'zq-evil'" for r in found["zq-evil"]["reasons"])
    alone = shouldi("ci", "zq-app==1.0", "--no-deps", "--format", "json")
    assert alone.exit_code == 0 and list(packages(alone)) == ["zq-app"]
    scanned = shouldi("scan", "zq-app==1.0")
    assert scanned.exit_code == 0 and "zq-evil" not in scanned.stdout
    missing = shouldi("ci", "zq-lonely==1.0")
    assert missing.exit_code == 2, missing.output
