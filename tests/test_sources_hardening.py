"""Outputs are never a foreign file, and keys are read under the lock that protects them.

Two real processes race on one file with ``write_if_new``; foreign CSV/JSONL/SQLite files,
FIFOs and directories given as outputs are refused and left byte for byte as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from shouldi.sources import RecordKey, SourceError, open_source

ROOT = Path(__file__).resolve().parents[1]
EXTS = ["csv", "jsonl", "sqlite"]

RACER = """
import sys, time
from pathlib import Path
from shouldi.sources import open_source

path, who, count, go = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
while not go.exists():
    time.sleep(0.001)
with open_source(path).writer(checkpoint_every=7, checkpoint_seconds=None) as writer:
    for i in range(count):
        writer.write_if_new({"name": f"pkg{i}", "version": "1.0", "by": who})
        time.sleep(0.001)
print(writer.written)
"""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("ext", EXTS)
def test_two_processes_with_write_if_new_never_duplicate_a_key(tmp_path, ext):
    """The bug: each `scan -o` read the keys, then took the lock, so both wrote every record."""
    path, go = tmp_path / f"out.{ext}", tmp_path / "go"
    script = tmp_path / "racer.py"
    script.write_text(RACER)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, str(script), str(path), who, "60", str(go)],
                         stdout=subprocess.PIPE, text=True, env=env)
        for who in ("a", "b")
    ]
    time.sleep(0.5)  # both are waiting for the start line
    go.touch()
    written = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        written.append(int(out))
    rows = list(open_source(path).read())
    names = [r["name"] for r in rows]
    assert sorted(names) == sorted(f"pkg{i}" for i in range(60))  # each key once
    assert sum(written) == 60, written  # and each writer counts only what it really wrote


@pytest.mark.parametrize("ext", EXTS)
def test_known_keys_are_the_files_plus_what_was_written(tmp_path, ext):
    source = open_source(tmp_path / f"out.{ext}")
    with source.writer() as writer:
        writer.write({"name": "old", "version": "1", "artifact_sha256": "ab", "index_url": "i"})
    with source.writer(checkpoint_every=None, checkpoint_seconds=None) as writer:
        writer.write({"name": "early", "version": "1"})  # before the keys were asked for
        assert writer.known_keys() == {RecordKey("old", "1", "ab", "i"),
                                       RecordKey("early", "1", "", "")}
        assert not writer.write_if_new({"name": "old", "version": "1", "artifact_sha256": "ab",
                                        "index_url": "i", "x": 1})
        assert writer.write_if_new({"name": "new", "version": "2"})
        assert not writer.write_if_new({"name": "new", "version": "2"})
        assert RecordKey("new", "2", "", "") in writer.known_keys()
        assert writer.written == 2
    assert sorted(r["name"] for r in source.read()) == ["early", "new", "old"]


FOREIGN = {
    "csv": ("package,version,notes\nrequests,2.31.0,ours\n", r"out.csv: not a shouldi records "
            r"file \(its header lacks name, artifact_sha256, index_url\); refusing to rewrite it"),
    "jsonl": ('{"package": "requests"}\n', r"not a shouldi records file \(.*out.jsonl:1: record "
              r"without 'name'"),
}


@pytest.mark.parametrize("ext", ["csv", "jsonl"])
def test_a_foreign_flat_file_is_refused_and_left_as_it_was(tmp_path, ext):
    path = tmp_path / f"out.{ext}"
    text, message = FOREIGN[ext]
    path.write_text(text)
    before = digest(path)
    with pytest.raises(SourceError, match=message), open_source(path).writer() as writer:
        writer.write({"name": "x", "version": "1"})
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name, path.name + ".lock"]


def test_a_labels_csv_is_not_a_records_file(tmp_path):
    """datasets/labels.csv has name and version but no artifact key: an input, never an output."""
    path = tmp_path / "labels.csv"
    path.write_text("name,version,label,label_source,date,advisory_ids\nsix,1.16.0,benign,x,,\n")
    with pytest.raises(SourceError, match="header lacks artifact_sha256, index_url"), \
            open_source(path).writer():
        pass
    assert path.read_text().startswith("name,version,label,")


def make_db(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()


@pytest.mark.parametrize(
    ("statements", "message"),
    [
        (["CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)",
          "INSERT INTO users VALUES (1, 'a@example.com')"], r"its tables: users\)"),
        (["CREATE TABLE records (name TEXT PRIMARY KEY, version TEXT)",
          "CREATE TABLE columns (name TEXT PRIMARY KEY, type TEXT, position INTEGER)"],
         r"table 'records' has other columns"),
    ],
    ids=["other-tables", "other-key"],
)
def test_a_foreign_database_is_refused_before_any_change(tmp_path, statements, message):
    path = tmp_path / "out.sqlite"
    make_db(path, *statements)
    before = digest(path)
    with pytest.raises(SourceError, match=message), open_source(path).writer() as writer:
        writer.write({"name": "x", "version": "1"})
    assert digest(path) == before  # not even switched to WAL
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.sqlite"]


def test_empty_files_and_databases_count_as_new(tmp_path):
    for ext in ("csv", "jsonl", "sqlite"):
        path = tmp_path / f"empty.{ext}"
        path.touch()
        with open_source(path).writer() as writer:
            writer.write({"name": "x", "version": "1"})
        assert [r["name"] for r in open_source(path).read()] == ["x"]
    make_db(tmp_path / "tables.sqlite", "PRAGMA user_version = 3")  # a database, no table
    with open_source(tmp_path / "tables.sqlite").writer() as writer:
        writer.write({"name": "y", "version": "1"})
    assert [r["name"] for r in open_source(tmp_path / "tables.sqlite").read()] == ["y"]


@pytest.mark.parametrize("ext", EXTS)
def test_a_fifo_or_directory_output_is_refused_without_blocking(tmp_path, ext):
    fifo = tmp_path / f"out.{ext}"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            with open_source(fifo).writer() as writer:
                writer.write({"name": "x", "version": "1"})
        except BaseException as e:  # kept for the assertion
            outcome.append(e)
        try:
            list(open_source(fifo).read())
        except BaseException as e:  # kept for the assertion
            outcome.append(e)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(5)
    assert len(outcome) == 2, "blocked on the FIFO"
    for err in outcome:
        assert isinstance(err, SourceError), repr(err)
        assert "it is a named pipe (FIFO), not a regular file" in str(err)
    directory = tmp_path / f"dir.{ext}"
    directory.mkdir()
    with pytest.raises(SourceError, match="it is a directory"), open_source(directory).writer():
        pass


@pytest.mark.parametrize("ext", ["csv", "jsonl"])
def test_a_symlinked_output_replaces_the_file_it_points_to(tmp_path, ext):
    real = tmp_path / "data" / f"real.{ext}"
    real.parent.mkdir()
    with open_source(real).writer() as writer:
        writer.write({"name": "a", "version": "1"})
    link = tmp_path / f"link.{ext}"
    link.symlink_to(real)
    with open_source(link).writer() as writer:
        assert writer.known_keys() == {RecordKey("a", "1", "", "")}
        writer.write({"name": "b", "version": "1"})
    assert link.is_symlink()
    assert [r["name"] for r in open_source(real).read()] == ["a", "b"]
    assert not list(tmp_path.glob(f".link.{ext}*"))  # lock and temp files live next to real


def test_sqlite_write_if_new_keeps_what_another_writer_committed(tmp_path):
    path = tmp_path / "out.sqlite"
    first, second = open_source(path), open_source(path)
    with first.writer(checkpoint_every=None, checkpoint_seconds=None) as a, \
            second.writer(checkpoint_every=None, checkpoint_seconds=None) as b:
        assert a.known_keys() == b.known_keys() == set()
        assert a.write_if_new({"name": "x", "version": "1", "by": "a"})
        a.checkpoint()
        assert b.write_if_new({"name": "x", "version": "1", "by": "b"})  # b has not seen a's row
        b.checkpoint()
        assert (a.written, b.written) == (1, 0)  # b's row lost the race and is not counted
    assert [(r["name"], r["by"]) for r in open_source(path).read()] == [("x", "a")]
    with open_source(path).writer() as c:
        assert not c.write_if_new({"name": "x", "version": "1"})
    assert json.dumps([r["by"] for r in open_source(path).read()]) == '["a"]'


def test_hostile_dataset_contents_are_one_line_errors(tmp_path, monkeypatch):
    import shouldi.sources.jsonl as jsonl

    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"name": "a", "version": "1"}\n' + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(SourceError, match=r"deep.jsonl:2: invalid JSON: nested too deeply$"):
        list(open_source(deep).read())
    monkeypatch.setattr(jsonl, "_LINE_LIMIT", 100)
    long = tmp_path / "long.jsonl"
    long.write_text('{"name": "a", "version": "1", "x": "' + "y" * 200 + '"}\n')
    with pytest.raises(SourceError, match=r"long.jsonl:1: line longer than 64 MiB$"):
        list(open_source(long).read())
    csv_path = tmp_path / "data.csv"
    with open_source(csv_path).writer() as writer:
        writer.write({"name": "a", "version": "1", "n": 1})
    csv_path.with_name("data.csv.types.json").unlink()
    os.mkfifo(csv_path.with_name("data.csv.types.json"))
    with pytest.raises(SourceError, match=r"types.json: it is a named pipe \(FIFO\)"):
        list(open_source(csv_path).read())


@pytest.mark.parametrize("ext", ["csv", "jsonl", "sqlite"])
def test_scan_into_a_users_own_file_is_refused_before_scanning(local_index, tmp_path, ext):
    """`scan -o notes.csv` where notes.csv is the user's own: refused, never rewritten."""
    from click.testing import CliRunner

    from shouldi.cli.main import cli

    notes = tmp_path / f"notes.{ext}"
    if ext == "sqlite":
        make_db(notes, "CREATE TABLE notes (body TEXT)", "INSERT INTO notes VALUES ('mine')")
    else:
        notes.write_text(FOREIGN[ext][0])
    before = digest(notes)
    (tmp_path / "reqs.txt").write_text("cleanpkg==1.0.0\n")
    result = CliRunner().invoke(cli, [
        "scan", "-r", str(tmp_path / "reqs.txt"), "-o", str(notes), "--index-url",
        local_index.url, "--cache-dir", str(tmp_path / "cache"), "--no-pip-audit", "--no-safety-cli"],
        catch_exceptions=False)
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and str(notes) in line  # ours, or the parser's on its keys
    assert "Traceback" not in result.output
    assert digest(notes) == before
    assert not any(r.path.startswith("files/") for r in local_index.requests)  # nothing fetched


def test_convert_refuses_the_same_file_under_another_name(tmp_path):
    from shouldi.sources import convert

    src = tmp_path / "a.csv"
    with open_source(src).writer() as writer:
        writer.write({"name": "x", "version": "1"})
    os.link(src, tmp_path / "b.csv")
    before = digest(src)
    with pytest.raises(SourceError, match="into itself"):
        convert(open_source(src), open_source(tmp_path / "b.csv"))
    assert digest(src) == before
