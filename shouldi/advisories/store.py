"""The local OSV advisory store: a SQLite file filled by ``shouldi db import`` / ``update``.

One import is one transaction: documents are streamed from the input, parsed and upserted,
and any failure (a corrupt archive, a document that is not OSV, no advisory at all) rolls
everything back, so the previous data stays intact. Re-importing is idempotent: an advisory
replaces the stored one with the same id unless the stored one is newer ("modified") or
identical, so ``ImportStats.updated`` is 0 on a second import of the same data.

The store's *data time* is the newest "modified" among its advisories: what the data can
know about. Lookups are read-only and never create the file.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from shouldi.advisories.errors import AdvisoryImportError, StoreError
from shouldi.advisories.interface import utcnow
from shouldi.advisories.osv import (
    load_documents,
    match_version,
    parse_record,
    parse_timestamp,
    to_advisory,
)
from shouldi.advisories.reader import Limits, iter_files
from shouldi.cache.paths import DATA_DIR_ENV, default_store_path
from shouldi.results import Advisory

__all__ = ["DATA_DIR_ENV", "AdvisoryStore", "ImportStats", "StoreStatus", "default_store_path"]

_SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS advisories (
    id TEXT PRIMARY KEY, modified TEXT NOT NULL, withdrawn INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS affected (advisory_id TEXT NOT NULL, package TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS affected_package ON affected (package);
CREATE INDEX IF NOT EXISTS affected_advisory ON affected (advisory_id);
CREATE TABLE IF NOT EXISTS imports (
    source TEXT NOT NULL, imported_at TEXT NOT NULL, count INTEGER NOT NULL, data_time TEXT);
"""
_UPSERT = """
INSERT INTO advisories (id, modified, withdrawn, doc) VALUES (?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET modified = excluded.modified, withdrawn = excluded.withdrawn,
    doc = excluded.doc
WHERE excluded.modified > advisories.modified
    OR (excluded.modified = advisories.modified AND excluded.doc != advisories.doc)
"""


@dataclass(frozen=True)
class ImportStats:
    """What one import read and changed."""

    source: str
    advisories: int  # advisories read from the input
    updated: int  # rows inserted or replaced (0 when re-importing identical data)
    packages: int  # distinct PyPI packages among them
    withdrawn: int
    data_time: datetime | None  # newest "modified" in this input


@dataclass(frozen=True)
class StoreStatus:
    """What the store holds (``shouldi db status``)."""

    path: Path
    advisories: int
    withdrawn: int
    packages: int
    data_time: datetime | None
    last_source: str | None
    last_import_time: datetime | None


class AdvisoryStore:
    """A SQLite file of OSV advisories for PyPI packages."""

    def __init__(self, path: Path | None = None, limits: Limits | None = None) -> None:
        self.path = path or default_store_path()
        self.limits = limits or Limits()

    def import_path(self, path: Path, *, replace: bool = False) -> ImportStats:
        """Import a .json/.yaml file, a directory, a .zip or a tar archive of OSV advisories."""
        return self.import_documents(iter_files(path, self.limits), str(path), replace=replace)

    def import_documents(
        self, files: Iterable[tuple[str, bytes]], source: str, *, replace: bool = False
    ) -> ImportStats:
        """Import ``(name, content)`` files in one transaction; ``replace`` drops old data."""
        stats = _Counter()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create {self.path.parent}: {e.strerror}") from e
        with self._connect(readonly=False) as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA.split(";"):  # not executescript: it would COMMIT
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (_SCHEMA_VERSION,))
                if replace:
                    conn.execute("DELETE FROM advisories")
                    conn.execute("DELETE FROM affected")
                for name, data in files:
                    for doc in _documents(source, name, data):
                        stats.add(conn, doc, source, name)
                if not stats.advisories:
                    raise AdvisoryImportError(f"{source}: no OSV advisories found")
                conn.execute(
                    "INSERT INTO imports VALUES (?, ?, ?, ?)",
                    (source, _stamp(utcnow()), stats.advisories, _stamp(stats.data_time)),
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return stats.result(source)

    def status(self) -> StoreStatus | None:
        """What is loaded; ``None`` when the store does not exist or holds nothing."""
        if not self.path.exists():
            return None
        with self._connect(readonly=True) as conn:
            if not self._has_schema(conn):
                return None
            total, withdrawn, newest = conn.execute(
                "SELECT count(*), coalesce(sum(withdrawn), 0), max(modified) FROM advisories"
            ).fetchone()
            if not total:
                return None
            (packages,) = conn.execute("SELECT count(DISTINCT package) FROM affected").fetchone()
            last = conn.execute(
                "SELECT source, imported_at FROM imports ORDER BY rowid DESC LIMIT 1"
            ).fetchone()
        return StoreStatus(
            path=self.path,
            advisories=total,
            withdrawn=withdrawn,
            packages=packages,
            data_time=_unstamp(newest),
            last_source=last[0] if last else None,
            last_import_time=_unstamp(last[1]) if last else None,
        )

    def matches(self, name: str, version: str) -> tuple[tuple[Advisory, ...], tuple[str, ...]]:
        """Non-withdrawn advisories affecting ``name==version``, and notes on ranges that could
        not be evaluated. ``name`` must already be canonical (PEP 503)."""
        with self._connect(readonly=True) as conn:
            rows = conn.execute(
                "SELECT DISTINCT a.doc FROM affected f JOIN advisories a ON a.id = f.advisory_id"
                " WHERE f.package = ? AND a.withdrawn = 0 ORDER BY a.id",
                (name,),
            ).fetchall()
        found: list[Advisory] = []
        notes: list[str] = []
        for (doc,) in rows:
            record = parse_record(json.loads(doc))
            for affected in record.affected:
                if affected.package != name:
                    continue
                hit, problem = match_version(affected, version)
                if problem:
                    notes.append(f"{record.id}: {problem}")
                if hit:
                    found.append(to_advisory(record, affected, "local-osv"))
                    break
        return tuple(found), tuple(notes)

    @contextmanager
    def _connect(self, *, readonly: bool) -> Iterator[sqlite3.Connection]:
        """A connection that is always closed; sqlite errors become :class:`StoreError`."""
        conn: sqlite3.Connection | None = None
        try:
            if readonly:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                conn = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
            else:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            yield conn
        except sqlite3.Error as e:
            raise StoreError(f"advisory store {self.path} is unusable: {e}") from e
        finally:
            if conn is not None:
                conn.close()

    def _has_schema(self, conn: sqlite3.Connection) -> bool:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" not in tables:
            return False
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None or row[0] != _SCHEMA_VERSION:
            raise StoreError(
                f"advisory store {self.path} has an unknown format: delete it and re-import"
            )
        return True


class _Counter:
    """Upserts documents and counts what one import did."""

    def __init__(self) -> None:
        self.advisories = self.updated = self.withdrawn = 0
        self.packages: set[str] = set()
        self.data_time: datetime | None = None

    def add(self, conn: sqlite3.Connection, doc: dict[str, object], source: str, name: str) -> None:
        try:
            record = parse_record(doc)
            text = json.dumps(doc, sort_keys=True)
        except (ValueError, TypeError, KeyError) as e:
            raise AdvisoryImportError(f"{source}: {name}: {e}") from e
        self.advisories += 1
        self.withdrawn += record.withdrawn
        self.packages.update(a.package for a in record.affected)
        if self.data_time is None or record.modified > self.data_time:
            self.data_time = record.modified
        cursor = conn.execute(
            _UPSERT, (record.id, _stamp(record.modified), int(record.withdrawn), text)
        )
        if cursor.rowcount:
            self.updated += 1
            conn.execute("DELETE FROM affected WHERE advisory_id = ?", (record.id,))
            conn.executemany(
                "INSERT INTO affected VALUES (?, ?)",
                [(record.id, package) for package in {a.package for a in record.affected}],
            )

    def result(self, source: str) -> ImportStats:
        return ImportStats(
            source=source,
            advisories=self.advisories,
            updated=self.updated,
            packages=len(self.packages),
            withdrawn=self.withdrawn,
            data_time=self.data_time,
        )


def _documents(source: str, name: str, data: bytes) -> list[dict[str, object]]:
    try:
        return load_documents(name, data)
    except ValueError as e:
        raise AdvisoryImportError(f"{source}: {name}: {e}") from e


def _stamp(when: datetime | None) -> str | None:
    """Sortable UTC text (fixed width, always with microseconds)."""
    return None if when is None else when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _unstamp(text: str | None) -> datetime | None:
    return None if text is None else parse_timestamp(text)
