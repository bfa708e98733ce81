"""Faults a red team found: each bad input is refused with one line and exit 2, nothing the
user had is changed, and a result of any kind renders."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from shouldi.cli.main import cli

POLICY = "heuristics_warn = \"medium\"\n"
PYPROJECT = "[project]\nname = \"mine\"\nversion = \"1\"\n\n[tool.shouldi]\nheuristics_warn = \"medium\"\n"


def _run(local_index, tmp_path: Path, *args: str):
    return CliRunner().invoke(cli, [*args, "--index-url", local_index.url, "--cache-dir",
                                    str(tmp_path / "cache"), "--no-pip-audit", "--no-safety-cli",
                                    "--no-osv"])


@pytest.mark.parametrize(("policy", "args", "option"), [
    ("pyproject.toml", ("ci", "cleanpkg", "-o", "pyproject.toml", "--format", "json"), "--output"),
    ("pyproject.toml", ("ci", "cleanpkg", "--summary", "pyproject.toml"), "--summary"),
    ("shouldi.toml", ("install", "cleanpkg", "--trace", "shouldi.toml"), "--trace"),
    ("pol.toml", ("install", "cleanpkg", "--policy", "pol.toml", "--trace", "pol.toml"), "--trace"),
    ("pol.toml", ("ci", "cleanpkg", "--policy", "pol.toml", "-o", "pol.toml"), "--output"),
    ("pol.toml", ("lock", "cleanpkg", "--policy", "pol.toml", "-o", "pol.toml"), "--output"),
    ("pol.toml", ("lock", "cleanpkg", "--policy", "pol.toml", "-o", "l.txt", "--trace", "pol.toml"),
     "--trace"),
    ("shouldi.toml", ("scan", "cleanpkg", "-o", "shouldi.toml"), "--output"),
], ids=["ci-o-pyproject", "ci-summary-pyproject", "install-trace-shouldi-toml",
        "install-trace-policy", "ci-o-policy", "lock-o-policy", "lock-trace-policy",
        "scan-o-shouldi-toml"])
def test_the_policy_file_is_never_an_output(local_index, tmp_path, monkeypatch, policy, args,
                                            option):
    monkeypatch.chdir(tmp_path)
    text = PYPROJECT if policy == "pyproject.toml" else POLICY
    (tmp_path / policy).write_text(text)
    result = _run(local_index, tmp_path, *args)
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert f"{option} {policy} is also an input" in line
    assert (tmp_path / policy).read_text() == text
    assert local_index.requests == []  # refused before anything runs


@pytest.mark.parametrize("args", [
    ("ci", "cleanpkg", "-o", "same.json", "--trace", "same.json", "--format", "json"),
    ("ci", "cleanpkg", "-o", "same.md", "--summary", "./same.md"),
    ("lock", "cleanpkg", "-o", "lk.txt", "--trace", "lk.txt"),
    ("scan", "cleanpkg", "-o", "r.csv", "--trace", "r.csv"),
], ids=["ci-o-trace", "ci-o-summary", "lock-o-trace", "scan-o-trace"])
def test_two_outputs_naming_one_file_are_refused(local_index, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    result = _run(local_index, tmp_path, *args)
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert "one would replace the other" in line
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == []


def test_a_bad_input_result_renders_as_markdown_and_the_summary_is_written(local_index, tmp_path,
                                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    shown = _run(local_index, tmp_path, "ci", "nosuchpkg", "--format", "markdown")
    assert shown.exit_code == 2, shown.output
    assert shown.stdout.startswith("## :no_entry: shouldi: bad input")
    assert "internal error" not in shown.output
    summed = _run(local_index, tmp_path, "ci", "nosuchpkg", "--summary", "s.md")
    assert summed.exit_code == 2, summed.output
    assert (tmp_path / "s.md").read_text().startswith("## :no_entry: shouldi: bad input")
    assert "gate: bad input" in summed.stdout and "internal error" not in summed.output


def test_every_exit_code_renders_in_every_format():
    from shouldi.gate.decide import GateOptions, GateResult
    from shouldi.gate.formats import FORMATS, TextFormatter

    for code in range(4):
        class Result(GateResult):
            exit_code = code  # type: ignore[assignment]

        result = Result(packages=(), options=GateOptions())
        for formatter in [TextFormatter(False), *(f() for f in FORMATS.values())]:
            assert formatter.render(result)


@pytest.mark.parametrize("version", ["3.100000", "3.1000000", "3.999999999999999999999", "4.0"])
def test_a_python_version_beyond_any_python_is_refused_at_once(local_index, tmp_path, version):
    import time

    start = time.monotonic()
    result = _run(local_index, tmp_path, "install", "cleanpkg", "--python-version", version)
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: --python-version {version!r}")
    assert time.monotonic() - start < 10


@pytest.mark.parametrize(("command", "path", "message"), [
    ("ci", "nowhere", "--path nowhere: no such directory"),
    ("scan", "nowhere", "--path nowhere: no such directory"),
    ("ci", "", "--path '': give a site-packages directory"),
], ids=["ci-missing", "scan-missing", "ci-empty"])
def test_an_installed_path_that_is_no_directory_is_bad_input(local_index, tmp_path, monkeypatch,
                                                             command, path, message):
    monkeypatch.chdir(tmp_path)
    result = _run(local_index, tmp_path, command, "--installed", "--path", path)
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line == f"error: {message}"


@pytest.mark.parametrize("text", ["hello,world\nimportant,data\n", "name,size\nfoo,1\n"],
                         ids=["no-name-or-version", "no-version"])
def test_model_predict_refuses_a_dataset_that_holds_no_scan_records(tmp_path, text):
    foreign = tmp_path / "foreign.csv"
    foreign.write_text(text)
    result = CliRunner().invoke(cli, ["model", "predict", "--dataset", str(foreign)])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert f"{foreign}: record 1: not a scan record (no name and version)" in line
    assert "None None" not in result.output
    assert foreign.read_text() == text


CUT_SHORT = ("name,version,artifact_sha256,index_url,verdict\n"
             "a,1,aa,https://i/simple/,pass\n"
             "b,2,bb,https://i/simple/,pa")  # the last row cut short: 4 fields


def test_a_refused_resume_leaves_no_temp_file(local_index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    records = tmp_path / "r.csv"
    records.write_text(CUT_SHORT[:-9])  # "b,2,bb,ht": 4 fields
    before = records.read_bytes()
    for _ in range(2):
        result = _run(local_index, tmp_path, "scan", "cleanpkg", "-o", "r.csv")
        assert result.exit_code == 2, result.output
        assert "r.csv:3: 4 fields, the header has 5" in result.stderr
        assert records.read_bytes() == before
        assert sorted(p.name for p in tmp_path.glob(".r.csv.*")) == []


def test_a_source_writer_that_cannot_copy_the_old_rows_removes_its_temp_file(tmp_path):
    from shouldi.sources import CsvSource
    from shouldi.sources.errors import SourceError

    records = tmp_path / "r.csv"
    records.write_text(CUT_SHORT[:-9])
    with pytest.raises(SourceError, match="4 fields"), CsvSource(records).writer() as writer:
        writer.write({"name": "c", "version": "3", "artifact_sha256": "cc",
                      "index_url": "https://i/simple/", "verdict": "pass"})
    assert list(tmp_path.glob("*.tmp")) == []
    assert records.read_text() == CUT_SHORT[:-9]


def _sqlite_dump(path: Path) -> list[str]:
    import sqlite3

    db = sqlite3.connect(path)
    try:
        return list(db.iterdump())
    finally:
        db.close()


@pytest.mark.parametrize("schema", [
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes VALUES (1, 'hi');",
    "CREATE TABLE jobs (id TEXT, payload TEXT); INSERT INTO jobs VALUES ('1', 'x');",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('schema', '1');"
    "CREATE TABLE advisories (id TEXT);",
], ids=["notes", "own-jobs-table", "advisory-store-like"])
def test_serve_refuses_a_state_file_that_is_another_database(tmp_path, schema):
    import sqlite3

    other = tmp_path / "other.sqlite"
    db = sqlite3.connect(other)
    db.executescript(schema)
    db.close()
    before, size = _sqlite_dump(other), other.stat().st_size
    result = CliRunner().invoke(cli, ["serve", "--state", str(other), "--port", "1"])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert "not a shouldi service state file (its tables: " in line
    assert "refusing to change it" in line and "internal error" not in result.output
    assert _sqlite_dump(other) == before and other.stat().st_size == size


def test_a_state_file_of_ours_opens_again(tmp_path):
    from shouldi.service.state import State

    path = tmp_path / "s.sqlite"
    first = State.open(path)
    first.new_job("j1", {"specs": ["cleanpkg"]})
    first.close()
    again = State.open(path)  # WAL mode, closed: the read-only check still reads it
    kept = again.job("j1")
    again.close()
    assert kept is not None and kept.request == {"specs": ["cleanpkg"]}
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    fresh = State.open(empty)  # an empty file is no one's database: it becomes ours
    assert fresh.job("j1") is None
    fresh.close()


@pytest.mark.parametrize(("args", "message"), [
    (("serve", "--judge-wait", "nan", "--port", "1"), "Invalid value for '--judge-wait': nan is not a finite number"),
    (("serve", "--check-wait", "nan", "--port", "1"), "Invalid value for '--check-wait': nan is not a finite number"),
    (("install", "cleanpkg", "--cache-dir", ""), "Invalid value for '--cache-dir': an empty path"),
    (("ci", "cleanpkg", "--cache-dir", " "), "Invalid value for '--cache-dir': an empty path"),
    (("install", "cleanpkg", "--allow-build"), "error: --allow-build lets pip build a judged sdist with --then-install"),
    (("lock", "cleanpkg", "-o", "l.txt", "--allow-build"), "error: --allow-build lets pip build"),
], ids=["judge-wait-nan", "check-wait-nan", "cache-dir-empty", "cache-dir-blank",
        "install-allow-build-alone", "lock-allow-build-alone"])
def test_values_that_mean_nothing_are_refused(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, [*args, "--state", str(tmp_path / "s.sqlite")]
                                if args[0] == "serve" else
                                [*args, "--index-url", "http://127.0.0.1:9/simple/"])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, no cache in the cwd


def test_ctrl_c_on_serve_while_a_check_runs_stops_without_a_traceback(local_index_factory,
                                                                      tmp_path):
    import signal
    import threading
    import time

    import httpx
    from test_serve_process import start_serve

    index = local_index_factory(stall_seconds=60)
    index.fault("*cleanpkg*", "stall")
    server = start_serve(index.url, tmp_path, "--timeout", "60", "--no-osv")
    try:
        answered: list[object] = []

        def check() -> None:
            try:
                answered.append(httpx.post(f"{server.url}v1/check", json={"specs": ["cleanpkg"]},
                                           timeout=60).status_code)
            except httpx.HTTPError as e:
                answered.append(e)  # the server went away: that is the point

        threading.Thread(target=check, daemon=True).start()
        deadline = time.monotonic() + 20
        while not any("cleanpkg" in p for p in index.paths()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any("cleanpkg" in p for p in index.paths()), "the check never reached the index"
        time.sleep(0.3)
        assert answered == []  # the check is still running
        server.process.send_signal(signal.SIGINT)
        server.process.wait(timeout=40)
    finally:
        server.stop(kill=True)
    log = server.log.read_text()
    assert "Traceback" not in log and "CancelledError" not in log, log
    assert "Exception in ASGI application" not in log, log
    assert log.splitlines()[-1] == "interrupted", log
    assert "shouldi serve: stopping: 1 request(s) still running were cancelled" in log
    assert server.process.returncode == 130
