"""``shouldi scan`` and ``shouldi dataset export`` end to end on the hermetic local index.

Each scan of a package runs real bandit and our heuristics on a real sdist, so packages are
tiny and each test scans few of them; later runs in a test reuse its result cache.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from stores import store_option

from shouldi.cli.main import cli
from shouldi.sources import open_source

CLEAN = {"clean_mod/__init__.py": "def add(a, b):\n    return a + b\n"}
EXEC = {"bad_mod/__init__.py": "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n"}


def invoke(index, tmp_path: Path, command: str, *args: str, index_url: bool = True):
    argv = [command, *args, "--cache-dir", str(tmp_path / "cache"),
            *store_option(tmp_path / "advisories.sqlite"), "--no-pip-audit",
            "--no-safety-cli", "--timeout", "5"]
    if index_url:
        argv += ["--index-url", index.url]
    return CliRunner().invoke(cli, argv, catch_exceptions=False)


def rows(path: Path) -> list[dict]:
    return list(open_source(path).read())


def table(output: str) -> dict[str, list[str]]:
    """The summary table's rows by package: [version, verdict, pinned, why]."""
    out = {}
    for line in output.splitlines()[1:]:
        cells = line.split(None, 4)
        if len(cells) >= 4 and not line.startswith(tuple("0123456789")):
            out[cells[0]] = cells[1:]
    return out


@pytest.mark.slow
def test_specs_are_scanned_summarised_and_recorded(local_index, tmp_path):
    local_index.add_sdist(CLEAN, "zq-clean", "1.0")
    local_index.add_sdist(EXEC, "zq-exec", "2.0")
    out = tmp_path / "out.csv"
    result = invoke(local_index, tmp_path, "scan", "zq-clean", "zq-exec==2.0", "-o", str(out))
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["PACKAGE", "VERSION", "VERDICT", "PINNED", "WHY"]
    assert table(result.stdout)["zq-clean"][:3] == ["1.0", "pass", "no"]
    assert table(result.stdout)["zq-exec"][:3] == ["2.0", "fail", "yes"]
    assert lines[-1] == "2 dependencies: 1 pass, 1 fail; 2 records written"
    records = {r["name"]: r for r in rows(out)}
    assert set(records) == {"zq-clean", "zq-exec"}
    assert records["zq-exec"]["verdict"] == "fail" and records["zq-exec"]["heuristics.exec-decoded-data"] == 1
    assert records["zq-clean"]["index_url"] == local_index.url
    assert len(records["zq-clean"]["artifact_sha256"]) == 64 and records["zq-clean"]["bandit.status"] == "ok"


@pytest.mark.slow
def test_rerun_resumes_without_fetching_recorded_releases(local_index, tmp_path):
    local_index.add_sdist(CLEAN, "zq-pinned", "1.0")
    local_index.add_sdist(CLEAN, "zq-loose", "3.1")
    out = tmp_path / "out.jsonl"
    first = invoke(local_index, tmp_path, "scan", "zq-pinned==1.0", "zq-loose>=3", "-o", str(out))
    assert first.exit_code == 0, first.output
    local_index.add_sdist(CLEAN, "zq-new", "0.5")
    local_index.clear()
    again = invoke(local_index, tmp_path, "scan", "zq-pinned==1.0", "zq-loose>=3", "zq-new",
                   "-o", str(out))
    assert again.exit_code == 0, again.output
    paths = local_index.paths()
    assert not any("zq-pinned" in p for p in paths)  # pinned: matched before any request
    # the answer given a moment ago is reused, or at most one resolve: never a download
    assert [p for p in paths if "zq-loose" in p] in ([], ["simple/zq-loose/"])
    assert "files/zq_new-0.5.tar.gz" in paths
    assert table(again.stdout)["zq-pinned"] == ["1.0", "-", "yes", "already recorded"]
    assert table(again.stdout)["zq-loose"] == ["3.1", "-", "no", "already recorded"]
    assert again.stdout.splitlines()[-1] == ("3 dependencies: 1 pass, 2 already recorded; "
                                             "1 records written")
    assert sorted(r["name"] for r in rows(out)) == ["zq-loose", "zq-new", "zq-pinned"]


def test_resume_inside_the_flow_resolves_unpinned_specs_once_and_downloads_nothing(local_index, tmp_path):
    """With answers never reused (--max-age 0), the flow itself finds recorded releases: a
    pinned spec before any request, an unpinned one after one index page."""
    local_index.add_sdist(CLEAN, "zq-pinned", "1.0")
    local_index.add_sdist(CLEAN, "zq-loose", "3.1")
    out = tmp_path / "out.sqlite"
    first = invoke(local_index, tmp_path, "scan", "zq-pinned==1.0", "zq-loose>=3", "-o", str(out),
                   "--max-age", "0")
    assert first.exit_code == 0, first.output
    local_index.clear()
    again = invoke(local_index, tmp_path, "scan", "zq-pinned==1.0", "zq-loose>=3", "-o", str(out),
                   "--max-age", "0", "--trace", str(tmp_path / "trace.json"))
    assert again.exit_code == 0, again.output
    paths = local_index.paths()
    assert not any("zq-pinned" in p for p in paths)
    assert [p for p in paths if "zq-loose" in p] == ["simple/zq-loose/"]
    assert again.stdout.splitlines()[-1] == "2 dependencies: 2 already recorded; 0 records written"
    trace = json.loads((tmp_path / "trace.json").read_text())
    ops = {a["spec"]: {v["operation"] for v in a["values"]} for a in trace["answers"]}
    assert "resolve_release" not in ops["zq-pinned==1.0"]
    assert "resolve_release" in ops["zq-loose>=3"] and "fetch_package_metadata" not in ops["zq-loose>=3"]


def test_requirements_file_with_includes_constraints_markers_and_its_own_index(
        local_index, tmp_path, monkeypatch):
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    local_index.add_sdist(CLEAN, "zq-one", "1.0")
    local_index.add_sdist(CLEAN, "zq-one", "2.0")
    local_index.add_sdist(CLEAN, "zq-two", "1.5")
    (tmp_path / "constraints.txt").write_text("zq-one<2\n")
    (tmp_path / "more.txt").write_text("zq-two==1.5 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    req = tmp_path / "requirements.txt"
    req.write_text(f"--index-url {local_index.url}\n# a comment\n-c constraints.txt\n"
                   "zq-one  # unpinned, constrained below 2\n-r more.txt\n"
                   "zq-never==1; python_version < '3'\n-e ./checkout\n")
    result = invoke(local_index, tmp_path, "scan", "-r", str(req), index_url=False)
    t = table(result.stdout)
    assert t["zq-one"][:2] == ["1.0", "error"]  # the constraint chose 1.0 (too old to vouch for)
    # the pin names no file on the index: pip would refuse it, so it is bad input, said once
    assert t["zq-two==1.5"] == ["error", "yes", "bad", "input (the error below)"]
    assert "more.txt:1: no file of 'zq-two' on the index has a pinned sha256" in result.stderr
    assert "environment markers exclude it" in result.stdout
    assert "not checked: editable requirement" in result.stdout
    assert result.exit_code == 2  # bad input first


def test_pyproject_main_dependencies_and_groups(local_index, tmp_path):
    local_index.add_sdist(CLEAN, "zq-main", "1.0")
    local_index.add_sdist(CLEAN, "zq-test", "1.0")
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "me"\nversion = "0"\ndependencies = ["zq-main==1.0"]\n'
                         '[project.optional-dependencies]\ntest = ["zq-test"]\n')
    main_only = invoke(local_index, tmp_path, "scan", "--pyproject", str(pyproject))
    assert main_only.exit_code == 0, main_only.output
    assert set(table(main_only.stdout)) == {"zq-main"}
    with_group = invoke(local_index, tmp_path, "scan", "--pyproject", str(pyproject), "--group", "test")
    assert set(table(with_group.stdout)) == {"zq-main", "zq-test"}
    unknown = invoke(local_index, tmp_path, "scan", "--pyproject", str(pyproject), "--group", "docs")
    assert unknown.exit_code == 2 and "no extra or dependency group 'docs'" in unknown.stderr


def test_installed_distributions_from_a_site_packages_dir(local_index, tmp_path):
    local_index.add_sdist(CLEAN, "zq-inst", "4.2")
    site = tmp_path / "site"
    (site / "zq_inst-4.2.dist-info").mkdir(parents=True)
    (site / "zq_inst-4.2.dist-info" / "METADATA").write_text("Name: zq-inst\nVersion: 4.2\n")
    mine = site / "mine-0.1.dist-info"
    mine.mkdir()
    (mine / "METADATA").write_text("Name: mine\nVersion: 0.1\n")
    (mine / "direct_url.json").write_text(json.dumps({"url": "file:///src", "dir_info": {"editable": True}}))
    result = invoke(local_index, tmp_path, "scan", "--installed", "--path", str(site))
    t = table(result.stdout)
    assert t["zq-inst"][:3] == ["4.2", "pass", "yes"]
    assert t["mine"][0] == "error" and "editable install" in result.stdout
    assert result.exit_code == 3


@pytest.mark.parametrize(("args", "message"), [
    ((), "nothing to check: give SPEC..., -r FILE, --pyproject FILE or --installed"),
    (("-r", "missing.txt"), "cannot read missing.txt"),
    (("-r", "bad.txt"), "bad.txt:2: invalid requirement 'zq-x=='"),
    (("--group", "g"), "--group and --all-groups need --pyproject FILE"),
    (("-r", "unknown.txt"), "unknown.txt:1: no project named 'zq-nowhere'"),
    (("-o", "out.xlsx", "zq-x"), "unknown record format '.xlsx'"),
], ids=["nothing", "missing-file", "bad-line", "group-alone", "no-such-package", "bad-output"])
def test_bad_input_is_one_line_and_exit_2(local_index, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.txt").write_text("zq-ok\nzq-x==\n")
    (tmp_path / "unknown.txt").write_text("zq-nowhere==1.0\n")
    result = invoke(local_index, tmp_path, "scan", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_dataset_export_round_trip_between_every_format(local_index, tmp_path):
    local_index.add_sdist(CLEAN, "zq-a", "1.0")
    local_index.add_sdist(EXEC, "zq-b", "1.0")
    out = tmp_path / "scan.csv"
    assert invoke(local_index, tmp_path, "scan", "zq-a", "zq-b", "-o", str(out)).exit_code == 1
    runner = CliRunner()
    steps = [(out, "--sqlite", tmp_path / "d.sqlite"), (tmp_path / "d.sqlite", "--jsonl", tmp_path / "d.jsonl"),
             (tmp_path / "d.jsonl", "--csv", tmp_path / "back.csv")]
    for src, flag, dst in steps:
        result = runner.invoke(cli, ["dataset", "export", str(src), flag, str(dst)])
        assert result.exit_code == 0, result.output
        assert result.stdout == f"exported 2 records from {src} to {dst}\n"
    original = sorted(rows(out), key=lambda r: r["name"])
    assert sorted(rows(tmp_path / "back.csv"), key=lambda r: r["name"]) == original
    assert sorted(rows(tmp_path / "d.sqlite"), key=lambda r: r["name"]) == original
    assert isinstance(original[0]["bandit.loc"], int)  # types survive CSV via its sidecar


@pytest.mark.parametrize(("args", "message"), [
    (("nope.csv", "--csv", "x.csv"), "no such dataset: nope.csv"),
    (("in.csv",), "give exactly one of --csv FILE, --jsonl FILE, --sqlite FILE"),
    (("in.csv", "--csv", "a.csv", "--jsonl", "b.jsonl"), "give exactly one of"),
    (("in.txt", "--csv", "a.csv"), "unknown record format '.txt'"),
    (("in.csv", "--csv", "in.csv"), "cannot convert in.csv into itself"),
], ids=["missing", "no-format", "two-formats", "unknown-source", "into-itself"])
def test_dataset_export_bad_input(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.csv").write_text("name,version\nzq,1.0\n")
    (tmp_path / "in.txt").write_text("x")
    result = CliRunner().invoke(cli, ["dataset", "export", *args])
    assert result.exit_code == 2 and message in result.stderr, result.output
