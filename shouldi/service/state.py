"""What the service keeps across restarts, in one SQLite file: answers, judged files, jobs.

- ``answers``: every answer given (the JSON ``shouldi install --format json`` prints for one
  package), by name and version, so ``GET /v1/packages/{name}/{version}`` is a lookup;
- ``files``: the verdict of each file the firewall judged, by sha256: a listing hides every
  file of a release one of whose files failed, without running a check;
- ``jobs``: each job's request, state and result. A job still ``queued`` or ``running``
  when the server stopped (a crash, a kill) comes back as ``failed`` with ``retryable``
  set and says why (:meth:`State.recover`, run once before any worker serves).

WAL mode and a busy timeout let several worker processes share the file; each process opens
its own connection, used from its event loop's thread only (queries take microseconds).
Every write is one transaction, so a crash leaves the last committed state. A file that is
not an SQLite database, or not ours (another database, the advisory store: its tables are
read, read-only, before anything is written), is refused with a one-line error (exit 2),
never changed. A read or write that fails while serving (locked past the busy timeout, a full
disk) is :class:`StateUnavailable`, a 503; an answer that could not be recorded is still
given (:meth:`shouldi.service.checks.Checker.record` logs it).
"""

from __future__ import annotations

import functools
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from shouldi.errors import UsageError
from shouldi.service.errors import Unavailable

P = ParamSpec("P")
R = TypeVar("R")

__all__ = ["FileVerdict", "Job", "State", "StateError", "StateUnavailable", "check_state_file"]

_SCHEMA = 1
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    name TEXT NOT NULL, version TEXT NOT NULL, filename TEXT NOT NULL, spec TEXT NOT NULL,
    verdict TEXT NOT NULL, body TEXT NOT NULL, notes TEXT NOT NULL, answered_at REAL NOT NULL,
    PRIMARY KEY (name, version, filename));
CREATE TABLE IF NOT EXISTS files (
    sha256 TEXT NOT NULL, policy TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
    filename TEXT NOT NULL, verdict TEXT NOT NULL, reason TEXT NOT NULL, answered_at REAL NOT NULL,
    PRIMARY KEY (sha256, policy));
CREATE INDEX IF NOT EXISTS files_by_release ON files (name, policy);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, state TEXT NOT NULL, request TEXT NOT NULL, created REAL NOT NULL,
    finished REAL, result TEXT, error TEXT, retryable INTEGER NOT NULL DEFAULT 0);
"""


class StateError(UsageError):
    """The state file cannot be used (exit 2)."""


class StateUnavailable(Unavailable):
    """The state file cannot be read or written just now (locked for too long, disk full):
    503, and the request may be repeated."""


def _guarded(method: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as e:
            raise StateUnavailable(f"the service's state file cannot be used: {e}",
                                   retry_after=10) from e

    return call


@dataclass(frozen=True)
class FileVerdict:
    sha256: str
    name: str
    version: str
    filename: str
    verdict: str
    reason: str
    answered_at: float


@dataclass(frozen=True)
class Job:
    id: str
    state: str  # queued | running | done | failed
    request: dict[str, Any]
    created: float
    finished: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    retryable: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "state": self.state, "created": self.created,
                               "finished": self.finished}
        if self.result is not None:
            out["result"] = self.result
        if self.error is not None:
            out["error"], out["retryable"] = self.error, self.retryable
        return out


_OURS = frozenset({"meta", "answers", "files", "jobs"})


def check_state_file(path: Path) -> None:
    """Refuse an existing SQLite file that is not a service state file (another database,
    the advisory store): opened read-only, its tables must be none or exactly ours."""
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return  # a new file (a directory or a device is refused by the open)
    except OSError as e:
        raise StateError(f"--state {path}: cannot read ({e.strerror or e})") from e
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=10.0)
    except sqlite3.Error as e:
        raise StateError(f"--state {path}: cannot open ({e})") from e
    try:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                          "AND name NOT LIKE 'sqlite_%'").fetchall()
    except sqlite3.Error as e:
        raise StateError(f"--state {path}: not a shouldi service state file ({e})") from e
    finally:
        db.close()
    tables = {r[0] for r in rows}
    if tables and tables != _OURS:
        listed = ", ".join(sorted(tables)[:8])
        raise StateError(f"--state {path}: not a shouldi service state file (its tables: "
                         f"{listed}); refusing to change it")


class State:
    """The service's SQLite file. Open one per process (:meth:`open`)."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db, self.path = db, path

    @classmethod
    def open(cls, path: Path) -> State:
        check_state_file(path)  # read-only, before anything is written
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            db = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as e:
            raise StateError(f"--state {path}: cannot open ({e})") from e
        try:
            db.execute("PRAGMA busy_timeout = 10000")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            with db:
                db.executescript(_TABLES)
                row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
                if row is None:
                    db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(_SCHEMA),))
                elif row[0] != str(_SCHEMA):
                    raise StateError(f"--state {path}: schema {row[0]}, expected {_SCHEMA}")
        except sqlite3.DatabaseError as e:
            db.close()
            raise StateError(f"--state {path}: not a shouldi service state file ({e})") from e
        except BaseException:
            db.close()
            raise
        return cls(db, path)

    def close(self) -> None:
        self.db.close()

    # --- answers ------------------------------------------------------------------------
    @_guarded
    def put_answer(self, report: dict[str, Any], spec: str, answered_at: float,
                   notes: list[str]) -> None:
        """Keep one package's answer (``report_to_dict`` of its report, and the run notes it
        gives), given at ``answered_at``."""
        if not report.get("version"):
            return  # named nothing: nothing to look up later
        artifact = report.get("artifact") or {}
        self.db.execute(
            "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (report["name"], report["version"], artifact.get("filename") or "", spec,
             report["verdict"], json.dumps(report, separators=(",", ":")), json.dumps(notes),
             answered_at))

    @_guarded
    def answers_for(self, name: str, version: str) -> list[tuple[str, list[str], float]]:
        """The stored answers of a release (one per file judged), newest first: the report
        as compact JSON text (an object), its notes, and when it was given."""
        rows = self.db.execute(
            "SELECT body, notes, answered_at FROM answers WHERE name = ? AND version = ? "
            "ORDER BY answered_at DESC", (name, version)).fetchall()
        return [(r[0], json.loads(r[1]), r[2]) for r in rows]

    # --- judged files -------------------------------------------------------------------
    @_guarded
    def put_file(self, policy: str, v: FileVerdict) -> None:
        self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (v.sha256, policy, v.name, v.version, v.filename, v.verdict, v.reason,
                         v.answered_at))

    @_guarded
    def files_of(self, name: str, policy: str) -> list[FileVerdict]:
        rows = self.db.execute(
            "SELECT sha256, name, version, filename, verdict, reason, answered_at FROM files "
            "WHERE name = ? AND policy = ?", (name, policy)).fetchall()
        return [FileVerdict(*r) for r in rows]

    # --- jobs ---------------------------------------------------------------------------
    @_guarded
    def new_job(self, job_id: str, request: dict[str, Any]) -> Job:
        job = Job(job_id, "queued", request, time.time())
        self.db.execute("INSERT INTO jobs (id, state, request, created) VALUES (?, ?, ?, ?)",
                        (job.id, job.state, json.dumps(request), job.created))
        return job

    @_guarded
    def set_job(self, job_id: str, state: str, *, result: dict[str, Any] | None = None,
                error: str | None = None, retryable: bool = False) -> None:
        finished = time.time() if state in ("done", "failed") else None
        self.db.execute(
            "UPDATE jobs SET state = ?, finished = ?, result = ?, error = ?, retryable = ? "
            "WHERE id = ?",
            (state, finished, json.dumps(result) if result is not None else None, error,
             int(retryable), job_id))

    @_guarded
    def job(self, job_id: str) -> Job | None:
        row = self.db.execute(
            "SELECT id, state, request, created, finished, result, error, retryable FROM jobs "
            "WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            return None
        return Job(row[0], row[1], json.loads(row[2]), row[3], row[4],
                   json.loads(row[5]) if row[5] is not None else None, row[6], bool(row[7]))

    def recover(self) -> int:
        """Jobs left queued or running by a server that stopped: failed, retryable, said."""
        cur = self.db.execute(
            "UPDATE jobs SET state = 'failed', finished = ?, retryable = 1, error = ? "
            "WHERE state IN ('queued', 'running')",
            (time.time(), "the server stopped before this job finished; submit the same "
                          "request again (POST /v1/jobs)"))
        return cur.rowcount
