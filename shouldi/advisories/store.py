"""The local OSV advisory store: a SQLite file filled by ``shouldi db import`` / ``update``.

**One import is one transaction.** Documents are streamed from the input, parsed and upserted;
any failure (a corrupt archive, a document that is not OSV, no advisory at all, Ctrl-C) rolls
everything back, so the previous data stays intact. A store that does not exist yet (or is
being rebuilt) is built in a new file beside it and renamed into place after the commit, so a
failed first import leaves nothing behind (an empty store would read as a broken one). Re-importing is idempotent: an advisory
replaces the stored one with the same id unless the stored one is newer ("modified") or
identical, so ``ImportStats.updated`` is 0 on a second import of the same data.

**A killed import leaves a store that answers.** SQLite recovers an interrupted transaction
the next time the file is opened *normally*: it rolls a hot rollback journal back, or ignores
uncommitted WAL frames. Lookups used to open the file with ``mode=ro``, and a read-only
connection cannot roll a hot journal back, so after a SIGKILLed import every lookup failed
("attempt to write a readonly database") until someone ran a write. Lookups now open it
read-write without creating it (``mode=rw``, then ``PRAGMA query_only``): the first one after
a crash recovers the file. (SQLite itself falls back to read-only where the OS forbids
writing; then recovery is impossible and the error says so.)

**Imports run in WAL mode**, so lookups keep reading the last committed data during a long
import instead of waiting for its lock. Afterwards the file is checkpointed and switched back
to a rollback journal (best effort: not while a reader holds it), so that at rest it is one
self-contained file that a reader without write access to its folder can open.

**An unusable store is said, with the repair.** Every problem is a :class:`StoreError` whose
one-line message names the file and the command that fixes it: not a regular file, not a
SQLite database, corrupt, another program's database, a newer format, locked, or an
interrupted import that needs write access to recover. ``import --replace`` rebuilds a store
that is ours or not a database at all (``repairable``): the unusable file is moved aside
(``<name>.unusable-<time>``, with its journal files), never deleted. A foreign SQLite
database or a directory is never touched.

The store's *data time* is the newest "modified" among its advisories: what the data can know
about. Lookups never create the file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shlex
import sqlite3
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from shouldi.advisories.documents import load_documents
from shouldi.advisories.errors import AdvisoryImportError, StoreError
from shouldi.advisories.interface import utcnow
from shouldi.advisories.osv import (
    match_version,
    parse_record,
    parse_timestamp,
    to_advisory,
)
from shouldi.advisories.reader import Limits, iter_files
from shouldi.cache.paths import DATA_DIR_ENV, default_store_path
from shouldi.results import Advisory

__all__ = [
    "ADVISORY_DB_ENV",
    "DATA_DIR_ENV",
    "AdvisoryStore",
    "ImportStats",
    "StoreLookup",
    "StoreStatus",
    "default_store_path",
]

#: The environment variable naming the store (``--advisory-db`` and ``shouldi db --store``).
ADVISORY_DB_ENV = "SHOULDI_ADVISORY_DB"

_SCHEMA_VERSION = 1
_MAGIC = b"SQLite format 3\x00"
_BUSY_TIMEOUT = 10.0  # seconds to wait for a lock (a committing import; another import)
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
    moved_aside: Path | None = None  # where ``--replace`` moved an unusable store


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


@dataclass(frozen=True)
class StoreLookup:
    """One lookup: the store's data time, the matching advisories, notes on ranges that
    could not be evaluated. All read in one transaction."""

    data_time: datetime
    advisories: tuple[Advisory, ...]
    notes: tuple[str, ...]


class AdvisoryStore:
    """A SQLite file of OSV advisories for PyPI packages.

    ``path`` None means the default store (:func:`default_store_path`); ``configured`` says
    whether the user named this file (``--advisory-db``, ``$SHOULDI_ADVISORY_DB``): then its
    absence is an error for a lookup, not "not set up yet".
    """

    def __init__(
        self,
        path: Path | None = None,
        limits: Limits | None = None,
        *,
        busy_timeout: float = _BUSY_TIMEOUT,
    ) -> None:
        self.configured = path is not None
        self.path = path or default_store_path()
        self.limits = limits or Limits()
        self.busy_timeout = busy_timeout  # seconds to wait for another connection's lock

    # --- writing -------------------------------------------------------------------------

    def import_path(self, path: Path, *, replace: bool = False) -> ImportStats:
        """Import a .json/.yaml file, a directory, a .zip or a tar archive of OSV advisories."""
        return self.import_documents(iter_files(path, self.limits), str(path), replace=replace)

    def import_documents(
        self, files: Iterable[tuple[str, bytes]], source: str, *, replace: bool = False
    ) -> ImportStats:
        """Import ``(name, content)`` files in one transaction; ``replace`` drops old data
        and rebuilds a store that is unusable but repairable (see the module docstring)."""
        try:
            exists = self._check_writable()
        except StoreError as e:
            if not (replace and e.repairable):
                raise
            return self._build_fresh(files, source, unusable=True)
        if not exists:
            return self._build_fresh(files, source, unusable=False)
        return self._import_in_place(files, source, replace=replace)

    def _import_in_place(
        self, files: Iterable[tuple[str, bytes]], source: str, *, replace: bool
    ) -> ImportStats:
        stats = _Counter()
        with self._connect(create=True) as conn:
            _set_journal(conn, "wal")
            try:
                conn.execute("BEGIN IMMEDIATE")
                self._schema_version(conn)  # again, under the lock: another writer may have run
                for statement in _SCHEMA.split(";"):  # not executescript: it would COMMIT
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(_SCHEMA_VERSION),)
                )
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
                conn.execute(
                    "INSERT OR REPLACE INTO meta SELECT 'data_time', max(modified)"
                    " FROM advisories HAVING max(modified) IS NOT NULL"
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            _set_journal(conn, "delete")
        return stats.result(source, None)

    def _build_fresh(
        self, files: Iterable[tuple[str, bytes]], source: str, *, unusable: bool
    ) -> ImportStats:
        """A new store is built beside the path and renamed into place only once its import
        committed: a failed first import leaves no empty store behind (that would read as a
        broken one), and a failed rebuild leaves the unusable file where it was."""
        name = self.path.with_name(f".{self.path.name}.new-{secrets.token_hex(6)}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # An empty file (SQLite takes it for an empty database), with the mode SQLite
            # itself would give the store (0666 less the umask), unlike mkstemp's 0600.
            os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except OSError as e:
            raise StoreError(f"cannot create a store in {self.path.parent}: {e.strerror}") from e
        fresh = AdvisoryStore(Path(name), self.limits, busy_timeout=self.busy_timeout)
        try:
            stats = fresh._import_in_place(files, source, replace=False)
            if fresh._sidecars():
                raise StoreError(f"cannot finish the new store {fresh.shown()}: it is still in use")
            moved = self._move_aside() if unusable else None
            fresh.path.replace(self.path)
        except BaseException:
            for path in (fresh.path, *fresh._sidecars()):
                path.unlink(missing_ok=True)
            raise
        return dataclasses.replace(stats, moved_aside=moved)

    # --- reading -------------------------------------------------------------------------

    def exists(self) -> bool:
        """Whether there is anything at the store's path (a file, or something in the way)."""
        return os.path.lexists(self.path)

    def status(self) -> StoreStatus | None:
        """What is loaded; ``None`` when the store does not exist or holds nothing.
        Raises :class:`StoreError` when it exists but is unusable."""
        with self._reading() as conn:
            if conn is None or not self._schema_version(conn):
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

    def lookup(self, name: str, version: str) -> StoreLookup | None:
        """Advisories affecting ``name==version`` (``name`` canonical, PEP 503) and the data
        time, in one read; ``None`` when the store does not exist or holds no advisories."""
        with self._reading() as conn:
            if conn is None or not self._schema_version(conn):
                return None
            conn.execute("BEGIN")  # one snapshot for the data time and the rows
            row = conn.execute("SELECT value FROM meta WHERE key = 'data_time'").fetchone()
            newest = row[0] if row else conn.execute("SELECT max(modified) FROM advisories").fetchone()[0]
            rows = conn.execute(
                "SELECT DISTINCT a.doc FROM affected f JOIN advisories a ON a.id = f.advisory_id"
                " WHERE f.package = ? AND a.withdrawn = 0 ORDER BY a.id",
                (name,),
            ).fetchall()
            conn.execute("COMMIT")
        data_time = _unstamp(newest)
        if data_time is None:
            return None
        found, notes = _matching(rows, name, version)
        return StoreLookup(data_time, found, notes)

    def published_times(self, name: str) -> tuple[datetime, ...] | None:
        """When each (non-withdrawn) advisory about project ``name`` (canonical) was published,
        oldest first; ``None`` when the store does not exist or holds no advisories. For the
        risk model's "advisories of the project before this upload"."""
        with self._reading() as conn:
            if conn is None or not self._schema_version(conn):
                return None
            if conn.execute("SELECT 1 FROM advisories LIMIT 1").fetchone() is None:
                return None
            rows = conn.execute(
                "SELECT DISTINCT a.doc FROM affected f JOIN advisories a ON a.id = f.advisory_id"
                " WHERE f.package = ? AND a.withdrawn = 0", (name,)).fetchall()
        times = []
        for (doc,) in rows:
            try:
                when = _unstamp(json.loads(doc).get("published"))
            except (ValueError, TypeError, AttributeError):
                continue
            if when is not None:
                times.append(when)
        return tuple(sorted(times))

    def fingerprint(self) -> str | None:
        """What the store holds, as one short line that two machines can compare: the
        advisory count, the newest ``modified`` and a digest of every advisory's id,
        ``modified`` and withdrawn flag (its content, not its path or file time: two stores
        built from the same data on two machines agree). ``None`` when the store does not
        exist or holds nothing; raises :class:`StoreError` when it exists but is unusable.
        Dask workers compare it, so that no worker answers from other advisory data."""
        import hashlib

        with self._reading() as conn:
            if conn is None or not self._schema_version(conn):
                return None
            conn.execute("BEGIN")
            digest = hashlib.sha256()
            count = 0
            newest = ""
            for ident, modified, withdrawn in conn.execute(
                    "SELECT id, modified, withdrawn FROM advisories ORDER BY id"):
                digest.update(f"{ident}\0{modified}\0{withdrawn}\n".encode())
                count += 1
                newest = max(newest, modified)
            conn.execute("COMMIT")
        if not count:
            return None
        return f"{count} advisories up to {newest[:10]}, sha256 {digest.hexdigest()[:16]}"

    def matches(self, name: str, version: str) -> tuple[tuple[Advisory, ...], tuple[str, ...]]:
        """Non-withdrawn advisories affecting ``name==version``, and notes on ranges that could
        not be evaluated. ``name`` must already be canonical (PEP 503)."""
        answer = self.lookup(name, version)
        return (answer.advisories, answer.notes) if answer is not None else ((), ())

    # --- what to tell the user -----------------------------------------------------------

    def shown(self) -> str:
        """The path for a message: ``~/...`` under the home directory."""
        try:
            return "~/" + str(self.path.absolute().relative_to(Path.home()))
        except (ValueError, RuntimeError):
            return str(self.path)

    def command(self, rest: str) -> str:
        """``shouldi db REST`` for this store (with ``--store`` when it is not the one
        ``shouldi db`` picks by itself: ``$SHOULDI_ADVISORY_DB``, else the default)."""
        chosen = Path(os.environ.get(ADVISORY_DB_ENV) or default_store_path())
        if chosen.absolute() == self.path.absolute():
            return f"shouldi db {rest}"
        return f"shouldi db --store {shlex.quote(str(self.path))} {rest}"

    def subject(self) -> str:
        """"advisory store PATH", without the path when :meth:`command` names it anyway (a
        message that names the file twice does not fit in a line)."""
        return "advisory store" if "--store" in self.command("") else f"advisory store {self.shown()}"

    def repair_hint(self) -> str:
        return f"rebuild it with `{self.command('import FILE --replace')}`, or remove it"

    # --- internals -----------------------------------------------------------------------

    def _check_file(self) -> bool:
        """False when nothing is there; raises for something that cannot be a store file."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return False
        except OSError as e:
            raise StoreError(f"cannot read advisory store {self.shown()}: {e.strerror}") from e
        if not stat.S_ISREG(info.st_mode):
            raise StoreError(
                f"advisory store {self.shown()} is not a regular file: give --advisory-db a file"
            )
        if info.st_size:
            try:
                with self.path.open("rb") as stream:
                    head = stream.read(len(_MAGIC))
            except OSError as e:
                raise StoreError(f"cannot read advisory store {self.shown()}: {e.strerror}") from e
            if head != _MAGIC:
                raise StoreError(
                    f"{self.subject()} is not a SQLite database: {self.repair_hint()}",
                    repairable=True,
                )
        return True

    def _check_writable(self) -> bool:
        """Whether a store with our schema is there (False: nothing, or an empty database);
        raises :class:`StoreError` when the file there is not a store we may write."""
        with self._reading() as conn:
            return conn is not None and self._schema_version(conn)

    def _sidecars(self) -> list[Path]:
        return [
            Path(f"{self.path}{suffix}")
            for suffix in ("-journal", "-wal", "-shm")
            if os.path.lexists(f"{self.path}{suffix}")
        ]

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        """A query-only connection, or ``None`` when there is no file."""
        if not self._check_file():
            yield None
            return
        with self._connect(create=False) as conn:
            conn.execute("PRAGMA query_only = 1")
            yield conn

    @contextmanager
    def _connect(self, *, create: bool) -> Iterator[sqlite3.Connection]:
        """A connection that is always closed; sqlite errors become :class:`StoreError`.

        Opened read-write (``mode=rw``: never created by a reader) so that SQLite can recover
        an interrupted import; see the module docstring."""
        uri = f"{self.path.absolute().as_uri()}?mode={'rwc' if create else 'rw'}"
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(
                uri,
                uri=True,
                timeout=self.busy_timeout,
                isolation_level=None,
            )
            yield conn
        except sqlite3.Error as e:
            raise self._translate(e, writing=create) from e
        finally:
            if conn is not None:
                conn.close()

    def _schema_version(self, conn: sqlite3.Connection) -> bool:
        """True for a shouldi store of our format, False for an empty database; raises for
        anything else."""
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return False
        row = (
            conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if {"meta", "advisories"} <= tables
            else None
        )
        if row is None:
            raise StoreError(
                f"{self.shown()} is a SQLite database but not a shouldi advisory store:"
                " give --advisory-db another file"
            )
        if str(row[0]) == str(_SCHEMA_VERSION):
            return True
        newer = str(row[0]).isdigit() and int(row[0]) > _SCHEMA_VERSION
        what = "was written by a newer shouldi" if newer else "has an unknown format"
        raise StoreError(
            f"{self.subject()} {what} (format {str(row[0])[:20]}):"
            f" {'upgrade shouldi, or ' if newer else ''}{self.repair_hint()}",
            repairable=True,
        )

    def _translate(self, error: sqlite3.Error, *, writing: bool) -> StoreError:
        name = str(getattr(error, "sqlite_errorname", ""))
        text = " ".join(str(error).split())[:120]
        where = self.shown()
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
            return StoreError(
                f"advisory store {where} is locked by another process (an import?):"
                " try again when it is done"
            )
        if (
            name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))
            or "malformed" in text
            or "not a database" in text
        ):
            return StoreError(
                f"{self.subject()} is corrupt: {self.repair_hint()}",
                repairable=True,
            )
        if name.startswith("SQLITE_READONLY") or "readonly" in text:
            if writing:
                return StoreError(f"cannot write advisory store {where}: it is read-only")
            return StoreError(
                f"{self.subject()} has an interrupted import that needs write access"
                f" to recover: run `{self.command('status')}` as its owner"
            )
        action = "write" if writing else "read"
        return StoreError(f"cannot {action} advisory store {where} ({text})")

    def _move_aside(self) -> Path:
        target = self.path.with_name(
            f"{self.path.name}.unusable-{utcnow().strftime('%Y%m%dT%H%M%S%fZ')}"
        )
        try:
            for source in (self.path, *self._sidecars()):
                source.replace(Path(f"{target}{source.name[len(self.path.name) :]}"))
        except OSError as e:
            raise StoreError(f"cannot move {self.shown()} aside: {e.strerror}") from e
        return target


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
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise AdvisoryImportError(f"{_where(source, name)}: {e}") from e
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

    def result(self, source: str, moved: Path | None) -> ImportStats:
        return ImportStats(
            source=source,
            advisories=self.advisories,
            updated=self.updated,
            packages=len(self.packages),
            withdrawn=self.withdrawn,
            data_time=self.data_time,
            moved_aside=moved,
        )


def _matching(
    rows: list[tuple[str]], name: str, version: str
) -> tuple[tuple[Advisory, ...], tuple[str, ...]]:
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


def _set_journal(conn: sqlite3.Connection, mode: str) -> None:
    """Switch the journal mode, best effort: with readers present the switch out of WAL is
    refused (the store stays correct, only in WAL mode), so wait for them only briefly."""
    try:
        if mode == "delete":
            conn.execute("PRAGMA busy_timeout = 200")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute(f"PRAGMA journal_mode = {mode}")
    except sqlite3.OperationalError:
        pass


def _documents(source: str, name: str, data: bytes) -> list[dict[str, object]]:
    try:
        return load_documents(name, data)
    except ValueError as e:
        raise AdvisoryImportError(f"{_where(source, name)}: {e}") from e


def _where(source: str, name: str) -> str:
    """``ARCHIVE: MEMBER``, or the file alone when it was imported by itself."""
    return source if Path(source).name == name else f"{source}: {name}"


def _stamp(when: datetime | None) -> str | None:
    """Sortable UTC text (fixed width, always with microseconds)."""
    return None if when is None else when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _unstamp(text: str | None) -> datetime | None:
    return None if text is None else parse_timestamp(text)
