"""The local store after a killed import, and stores that are unusable in every other way:
each answers, or says in one line how to repair it. Never a silent skip."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from shouldi.advisories.errors import StoreError
from shouldi.advisories.local import LocalOsvSource
from shouldi.advisories.store import AdvisoryStore
from shouldi.results import AdvisoryAnswer, Status

RELEASED = datetime(2020, 1, 1, tzinfo=timezone.utc)


def osv(ident: str, package: str, modified: str = "2024-03-01T00:00:00Z") -> dict[str, object]:
    return {
        "id": ident,
        "modified": modified,
        "summary": "x" * 200,
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": package},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}],
            }
        ],
    }


@pytest.fixture
def store(tmp_path: Path) -> AdvisoryStore:
    folder = tmp_path / "in"
    folder.mkdir()
    for doc in (osv("PYSEC-1", "demo"), osv("PYSEC-2", "other")):
        (folder / f"{doc['id']}.json").write_text(json.dumps(doc))
    store = AdvisoryStore(tmp_path / "advisories.sqlite")
    store.import_path(folder)
    return store


def lookup(store: AdvisoryStore, name: str = "demo") -> AdvisoryAnswer:
    return asyncio.run(LocalOsvSource(store).lookup(name, "1.0", RELEASED))


def sidecars(store: AdvisoryStore) -> list[str]:
    return sorted(p.name for p in store.path.parent.iterdir() if p.name.startswith(store.path.name + "-"))


def big_zip(path: Path, count: int) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(count):
            doc = {**osv(f"NEW-{i}", "demo"), "details": "d" * 1500}  # pages fill up faster
            archive.writestr(f"vulns/NEW-{i}.json", json.dumps(doc))
    path.write_bytes(buffer.getvalue())
    return path


def test_sigkilled_import_leaves_a_store_that_answers(store: AdvisoryStore, tmp_path: Path) -> None:
    before = store.status()
    source = big_zip(tmp_path / "big.zip", 15_000)
    wal = Path(f"{store.path}-wal")
    proc = subprocess.Popen(  # the real CLI, as a user runs it
        [sys.executable, "-c", "from shouldi.cli.main import main; main()",
         "db", "--store", str(store.path), "import", str(source), "--replace"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > 512 * 1024:  # well inside the transaction
            break
        time.sleep(0.005)
    if proc.poll() is not None:
        pytest.fail(f"the import ended before it could be killed: {proc.stderr.read()!r}")  # type: ignore[union-attr]
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL
    assert proc.stderr is not None
    proc.stderr.close()
    assert "advisories.sqlite-wal" in sidecars(store)  # what the killed import left behind

    answer = lookup(store)
    assert (answer.status, [a.id for a in answer.advisories]) == (Status.OK, ["PYSEC-1"])
    assert store.status() == before  # the old data, none of the killed import's
    assert store.import_path(big_zip(tmp_path / "small.zip", 3), replace=True).advisories == 3
    assert [a.id for a in lookup(store).advisories] == ["NEW-0", "NEW-1", "NEW-2"]
    assert sidecars(store) == []  # back to one self-contained file at rest


KILLED_WRITER = """
import os, signal, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode = delete")
conn.execute("PRAGMA cache_size = 5")  # spill pages to the file mid-transaction
conn.execute("BEGIN IMMEDIATE")
conn.execute("DELETE FROM advisories")
conn.execute("DELETE FROM affected")
for i in range(3000):
    conn.execute("INSERT INTO advisories VALUES (?, '2099-01-01', 0, ?)", (f"X-{i}", "y" * 500))
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_hot_rollback_journal_is_rolled_back_by_a_lookup(store: AdvisoryStore) -> None:
    """The reported case: a writer killed in rollback-journal mode leaves a hot journal; a
    lookup that opened the file read-only could not roll it back and failed for good."""
    before = store.status()
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLED_WRITER), str(store.path)], check=False
    )
    assert done.returncode == -signal.SIGKILL
    assert sidecars(store) == ["advisories.sqlite-journal"]
    answer = lookup(store)
    assert (answer.status, [a.id for a in answer.advisories]) == (Status.OK, ["PYSEC-1"])
    assert sidecars(store) == []  # rolled back
    assert store.status() == before


def test_garbage_store_is_an_error_and_replace_rebuilds_it(tmp_path: Path, store: AdvisoryStore) -> None:
    garbage = tmp_path / "given.sqlite"
    garbage.write_bytes(b"not a database, but the user's bytes" * 100)
    broken = AdvisoryStore(garbage)
    answer = lookup(broken)
    assert answer.status is Status.ERROR
    assert "is not a SQLite database: rebuild it with" in (answer.reason or "")
    with pytest.raises(StoreError, match="is not a SQLite database"):
        broken.import_path(tmp_path / "in")
    stats = broken.import_path(tmp_path / "in", replace=True)
    assert stats.moved_aside is not None
    assert stats.moved_aside.read_bytes() == b"not a database, but the user's bytes" * 100
    assert lookup(broken).status is Status.OK


def test_corrupt_store_is_an_error_and_replace_rebuilds_it(tmp_path: Path, store: AdvisoryStore) -> None:
    data = bytearray(store.path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page
    store.path.write_bytes(bytes(data))
    answer = lookup(store)
    assert answer.status is Status.ERROR
    assert (answer.reason or "").startswith("advisory store is corrupt: rebuild it with `shouldi db")
    stats = store.import_path(tmp_path / "in", replace=True)
    assert stats.moved_aside is not None and stats.moved_aside.exists()
    assert [a.id for a in lookup(store).advisories] == ["PYSEC-1"]


def test_a_foreign_database_is_never_touched(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (name TEXT)")
        conn.execute("INSERT INTO users VALUES ('ada')")
    conn.close()
    content = path.read_bytes()
    foreign = AdvisoryStore(path)
    answer = lookup(foreign)
    assert (answer.status, answer.reason) == (
        Status.ERROR,
        f"{path} is a SQLite database but not a shouldi advisory store: give --advisory-db another file",
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.json").write_text(json.dumps(osv("PYSEC-1", "demo")))
    with pytest.raises(StoreError, match="not a shouldi advisory store"):
        foreign.import_path(tmp_path / "in", replace=True)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db", "in"]


def test_a_newer_format_says_upgrade(store: AdvisoryStore) -> None:
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE meta SET value = '7' WHERE key = 'schema'")
    conn.close()
    answer = lookup(store)
    assert answer.status is Status.ERROR
    assert "was written by a newer shouldi (format 7): upgrade shouldi, or rebuild it" in (
        answer.reason or ""
    )


def test_a_locked_store_says_so(store: AdvisoryStore) -> None:
    holder = sqlite3.connect(store.path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        waiting = AdvisoryStore(store.path, busy_timeout=0.2)
        started = time.perf_counter()
        answer = lookup(waiting)
        assert time.perf_counter() - started < 2
        assert answer.status is Status.ERROR
        assert "is locked by another process (an import?): try again when it is done" in (
            answer.reason or ""
        )
    finally:
        holder.close()
    assert lookup(store).status is Status.OK


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_not_a_regular_file_is_an_error_at_once(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "store.sqlite"
    if kind == "fifo":
        os.mkfifo(path)  # opening it would block forever
    else:
        path.mkdir()
    started = time.perf_counter()
    answer = lookup(AdvisoryStore(path))
    assert time.perf_counter() - started < 2
    assert answer.status is Status.ERROR
    assert answer.reason == f"advisory store {path} is not a regular file: give --advisory-db a file"


def test_a_failed_first_import_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOULDI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SHOULDI_ADVISORY_DB", raising=False)
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": "world"}')
    default = AdvisoryStore()
    with pytest.raises(Exception, match="not an OSV advisory"):
        default.import_path(bad)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == []
    assert lookup(default).status is Status.SKIPPED  # still "not set up", not "broken"


def test_a_failed_rebuild_leaves_the_unusable_file_as_it_was(tmp_path: Path) -> None:
    garbage = tmp_path / "given.sqlite"
    garbage.write_bytes(b"the user's bytes")
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with pytest.raises(Exception, match="not valid JSON"):
        AdvisoryStore(garbage).import_path(bad, replace=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "given.sqlite"]
    assert garbage.read_bytes() == b"the user's bytes"


def test_a_new_store_gets_the_mode_sqlite_would_give_it(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.json").write_text(json.dumps(osv("PYSEC-1", "demo")))
    old = os.umask(0o022)
    try:
        AdvisoryStore(tmp_path / "s.sqlite").import_path(tmp_path / "in")
    finally:
        os.umask(old)
    assert (tmp_path / "s.sqlite").stat().st_mode & 0o777 == 0o644
