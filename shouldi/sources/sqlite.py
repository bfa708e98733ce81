"""Scan records in SQLite: a real schema, upserts on the identity key, concurrent writers.

Table ``records`` has the key columns as its PRIMARY KEY (a missing sha256/index URL is
stored as ``""``, read back as ``None``: NULLs would make every key distinct) and one
untyped column per feature, added with ``ALTER TABLE`` when first seen, so values keep the
type they were written with. Table ``columns`` records each column's position and type
(needed for ``bool``, which SQLite stores as 0/1). Writing a key again updates the columns
the new record carries (``INSERT ... ON CONFLICT DO UPDATE``).

The database is in WAL mode; a writer buffers records and commits them in batches, each
batch one ``BEGIN IMMEDIATE`` transaction that waits (busy timeout) for other writers, so
two processes writing the same file interleave batches and lose nothing, and a kill leaves
every committed batch. Readers stream through a cursor while writers go on.

A writer answers :meth:`~shouldi.sources.RecordWriter.known_keys` from the database as it
was when the writer opened, plus its own writes; rows given to ``write_if_new`` are inserted
with ``ON CONFLICT DO NOTHING``, so a key another process committed meanwhile is kept as that
process wrote it and not counted in :attr:`written`. An existing database with tables that
are not ours (or a ``records`` table keyed otherwise) is refused before anything is changed,
not even its journal mode.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import cast

from shouldi.sources._files import check_regular
from shouldi.sources._ticker import Ticker
from shouldi.sources.errors import SourceError
from shouldi.sources.interface import (
    KEY_COLUMNS,
    Columns,
    ColumnType,
    Record,
    RecordKey,
    RecordWriter,
    Scalar,
    check_record,
    column_types,
    merge_types,
    record_key,
    value_type,
)

__all__ = ["SqliteSource"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS records (name TEXT NOT NULL, version TEXT NOT NULL,"
    " artifact_sha256 TEXT NOT NULL DEFAULT '', index_url TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY (name, version, artifact_sha256, index_url))",
    "CREATE TABLE IF NOT EXISTS columns (name TEXT PRIMARY KEY, type TEXT,"
    " position INTEGER NOT NULL)",
)
_OPTIONAL_KEYS = KEY_COLUMNS[2:]
_OUR_TABLES = {"records": KEY_COLUMNS, "columns": ("name", "type", "position")}
_SELECT_KEYS = "SELECT name, version, artifact_sha256, index_url FROM records"


def _quote(name: str) -> str:
    """An SQL identifier for any column name (NUL is refused by check_record)."""
    return '"' + name.replace('"', '""') + '"'


def _keys(conn: sqlite3.Connection) -> set[RecordKey]:
    return {RecordKey(*row) for row in conn.execute(_SELECT_KEYS)}


def _check_ours(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a database that holds anything but (possibly empty) shouldi record tables."""
    tables = {
        name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    if not tables:
        return  # an empty database: ours to fill
    foreign = sorted(tables - set(_OUR_TABLES))
    if foreign or set(_OUR_TABLES) - tables:
        listed = ", ".join(sorted(tables)[:5])
        raise SourceError(
            f"{path}: not a shouldi record database (its tables: {listed}); refusing to change it"
        )
    for table, wanted in _OUR_TABLES.items():
        info = list(conn.execute(f"PRAGMA table_info({table})"))
        names = [row[1] for row in info]
        key = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]]
        if not set(wanted) <= set(names) or (table == "records" and key != list(KEY_COLUMNS)):
            raise SourceError(
                f"{path}: not a shouldi record database (table {table!r} has other columns);"
                " refusing to change it"
            )


def _stored_types(conn: sqlite3.Connection) -> dict[str, ColumnType | None]:
    rows = conn.execute("SELECT name, type FROM columns ORDER BY position")
    return {name: cast("ColumnType | None", kind) for name, kind in rows}


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")  # take the write lock now: the busy timeout applies
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch the file to WAL mode. SQLite does not apply the busy timeout to this switch:
    when another process is creating the same file at that moment it says "database is
    locked" at once, so wait and try again, up to ``timeout``, unless it is already WAL."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


class SqliteSource:
    """An SQLite file of records; ``timeout`` is how long a writer waits for another."""

    def __init__(self, path: Path, *, timeout: float = 60.0) -> None:
        self.path = path
        self.timeout = timeout

    @contextmanager
    def connect(self, *, create: bool) -> Iterator[sqlite3.Connection]:
        """A WAL-mode connection in autocommit mode (we issue BEGIN/COMMIT ourselves)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            if not create:
                raise SourceError(f"cannot read {self.path}: No such file or directory") from None
            st = None
        except OSError as e:
            raise SourceError(f"cannot use {self.path}: {e.strerror or e}") from e
        if st is not None:
            check_regular(st.st_mode, self.path)
        try:
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )  # a writer's Ticker thread commits too; the writer's lock serialises them
        except sqlite3.Error as e:
            raise SourceError(f"cannot open {self.path}: {e}") from e
        try:
            if create and st is not None and st.st_size:
                _check_ours(conn, self.path)  # before the first change, even the journal mode
            if create:  # WAL persists in the file; readers never change someone's database
                _wal(conn, self.timeout)
                with _transaction(conn):
                    for statement in _SCHEMA:
                        conn.execute(statement)
                    conn.executemany(
                        "INSERT OR IGNORE INTO columns VALUES (?, 'str', ?)",
                        [(c, i) for i, c in enumerate(KEY_COLUMNS)],
                    )
            yield conn
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                raise SourceError(f"{self.path}: not a shouldi record database ({e})") from e
            raise SourceError(f"{self.path}: {e}") from e
        except (sqlite3.Error, OverflowError) as e:
            raise SourceError(f"{self.path}: {e}") from e
        finally:
            conn.close()

    def read(self) -> Iterator[dict[str, Scalar]]:
        with self.connect(create=False) as conn:
            types = _stored_types(conn)
            table = [row[1] for row in conn.execute("PRAGMA table_info(records)")]
            order = [c for c in types if c in table] + [c for c in table if c not in types]
            bools = [c for c in order if types.get(c) == "bool"]
            names = ", ".join(map(_quote, order))
            select = f"SELECT {names} FROM records ORDER BY rowid"  # noqa: S608 - quoted names
            for row in conn.execute(select):
                record: dict[str, Scalar] = dict(zip(order, row, strict=True))
                for column in bools:
                    if record[column] is not None:
                        record[column] = bool(record[column])
                for column in _OPTIONAL_KEYS:
                    record[column] = record[column] or None
                yield record

    def keys(self) -> set[RecordKey]:
        if not self.path.exists():
            return set()
        with self.connect(create=False) as conn:
            return _keys(conn)

    def columns(self) -> dict[str, ColumnType]:
        if not self.path.exists():
            return {}
        with self.connect(create=False) as conn:
            return {c: t or "str" for c, t in _stored_types(conn).items()}

    def writer(
        self,
        columns: Columns = (),
        *,
        checkpoint_every: int | None = 500,
        checkpoint_seconds: float | None = 5.0,
    ) -> AbstractContextManager[RecordWriter]:
        return self._writer(column_types(columns), checkpoint_every, checkpoint_seconds)

    @contextmanager
    def _writer(
        self, declared: dict[str, ColumnType | None], every: int | None, seconds: float | None
    ) -> Iterator[RecordWriter]:
        with self.connect(create=True) as conn:
            writer = _SqliteWriter(self, conn, declared, every, seconds)
            writer.checkpoint()  # declared columns exist from the start
            try:
                yield writer
            finally:
                writer.close()  # commit on exit, also after an error in the caller


class _SqliteWriter:
    def __init__(
        self,
        source: SqliteSource,
        conn: sqlite3.Connection,
        declared: dict[str, ColumnType | None],
        every: int | None,
        seconds: float | None,
    ) -> None:
        self._source, self._conn = source, conn
        self._types = dict(declared)
        self._every, self._seconds = every, seconds
        self._pending: list[tuple[dict[str, Scalar], bool]] = []  # (row, only if new)
        self._count = 0
        self._lock = threading.RLock()
        self._ticker: Ticker | None = None
        self._keys: set[RecordKey] | None = None  # on first use only, as for the file formats

    @property
    def written(self) -> int:
        return self._count

    def known_keys(self) -> set[RecordKey]:
        with self._lock:
            return set(self._known())

    def _known(self) -> set[RecordKey]:
        with self._lock:
            if self._keys is None:
                self._keys = _keys(self._conn) | {record_key(r) for r, _ in self._pending}
            return self._keys

    def write_if_new(self, record: Record) -> bool:
        with self._lock:
            if record_key(record) in self._known():
                return False
            self._write(record, only_if_new=True)
            return True

    def write(self, record: Record) -> None:
        self._write(record, only_if_new=False)

    def _write(self, record: Record, *, only_if_new: bool) -> None:
        check_record(record)
        row = dict(record)
        for column in _OPTIONAL_KEYS:
            row[column] = row.get(column) or ""
        with self._lock:
            if self._ticker is not None and self._ticker.error is not None:
                raise self._ticker.error
            for column, value in record.items():
                self._types[column] = merge_types(self._types.get(column), value_type(value))
            self._pending.append((row, only_if_new))
            if self._keys is not None:
                self._keys.add(record_key(row))
            self._count += 1
            if self._every is not None and len(self._pending) >= self._every:
                self.checkpoint()
        if self._ticker is None and self._seconds is not None:
            self._ticker = Ticker(self._seconds, self._tick)

    def _tick(self) -> None:
        with self._lock:
            if self._pending:
                self.checkpoint()

    def close(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
        self.checkpoint()

    def checkpoint(self) -> None:
        """Commit the buffered records in one transaction."""
        with self._lock:
            dropped = 0
            with _transaction(self._conn):
                self._sync_schema()
                for (columns, if_new), group in itertools.groupby(self._pending, key=_shape):
                    rows = [tuple(r[c] for c in columns) for r, _ in group]
                    done = self._conn.executemany(_upsert(columns, if_new=if_new), rows)
                    if if_new:
                        dropped += len(rows) - done.rowcount
            self._pending.clear()  # only once committed
            self._count -= dropped

    def _sync_schema(self) -> None:
        """Add new columns and widen types; inside the transaction, so writers don't race."""
        conn = self._conn
        table = {row[1].lower(): row[1] for row in conn.execute("PRAGMA table_info(records)")}
        stored = _stored_types(conn)
        position = len(stored)
        for column, kind in self._types.items():
            if column not in stored:
                conn.execute("INSERT INTO columns VALUES (?, ?, ?)", (column, kind, position))
                position += 1
            elif merge_types(stored[column], kind) != stored[column]:
                kind = merge_types(stored[column], kind)
                conn.execute("UPDATE columns SET type = ? WHERE name = ?", (kind, column))
            if table.get(column.lower(), column) != column:
                raise SourceError(
                    f"{self._source.path}: column {column!r} clashes with "
                    f"{table[column.lower()]!r} (SQLite column names ignore case)"
                )
            if column.lower() not in table:
                conn.execute(f"ALTER TABLE records ADD COLUMN {_quote(column)}")
                table[column.lower()] = column


def _shape(pending: tuple[dict[str, Scalar], bool]) -> tuple[tuple[str, ...], bool]:
    return tuple(pending[0]), pending[1]


def _upsert(columns: tuple[str, ...], *, if_new: bool = False) -> str:
    names = ", ".join(map(_quote, columns))
    values = ", ".join("?" * len(columns))
    updates = ", ".join(
        f"{_quote(c)} = excluded.{_quote(c)}" for c in columns if c not in KEY_COLUMNS
    )
    action = f"UPDATE SET {updates}" if updates and not if_new else "NOTHING"
    keys = ", ".join(KEY_COLUMNS)
    return f"INSERT INTO records ({names}) VALUES ({values}) ON CONFLICT ({keys}) DO {action}"  # noqa: S608
