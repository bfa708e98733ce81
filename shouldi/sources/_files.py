"""What the flat-file formats (CSV, JSON Lines) share: a lock, a temp file, atomic publishing.

A writer never touches the published file in place. It writes a temp file in the same
directory (existing rows copied first, streaming), and publishes with ``os.replace`` after
flush + fsync: on exit (commit), and on checkpoints, where a synced *copy* of the temp file is
renamed into place so writing can go on. A kill at any moment therefore leaves either the
previous file or the last checkpoint. Writers of one file are serialised by ``fcntl.flock``
on a sidecar ``<file>.lock`` held for the writer's whole life; a second writer waits, then
starts from the first one's result, so nothing is lost. Temp files left by a killed writer
are removed by the next writer (it holds the lock, so no live writer owns them). The
``.lock`` file itself stays: removing a lock file while others may wait on it is racy.

The lock is taken *before* anything it protects is read: the existing rows a writer copies,
and the keys it answers with (:meth:`FileRecordWriter.known_keys`), are read under it, so two
writers started at once never both decide that a key is new. Before its first write a writer
also checks, under the lock, that an existing file is a regular file and one of ours
(:meth:`FileRecordWriter.check_existing`): a user's own CSV given as the output is refused,
never rewritten. A symlinked output is resolved once, so the lock, the temp file and the
rename all act on the file it points to (and two spellings of one file share one lock).
Every file is opened with :func:`open_regular`, which refuses FIFOs and devices instead of
blocking on them.
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
import stat
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO, TypeVar

from shouldi.sources._ticker import Ticker
from shouldi.sources.errors import SourceError
from shouldi.sources.interface import ColumnType, Record, RecordKey, check_record, record_key

__all__ = ["FileRecordWriter", "TempFile", "check_regular", "filling", "locked_writer", "open_regular",
           "write_atomically"]

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def check_regular(mode: int, path: Path) -> None:
    """Refuse a file that is not a regular file (by its ``st_mode``)."""
    if not stat.S_ISREG(mode):
        kind = next((k for test, k in _KINDS if test(mode)), "not a regular file")
        raise SourceError(f"cannot use {path}: it is {kind}, not a regular file")


def open_regular(path: Path, newline: str | None = None) -> TextIO:
    """Open ``path`` as UTF-8 text for reading, refusing (not blocking on) a FIFO or device.

    Raises :class:`OSError` as :func:`open` does (callers translate it) and
    :class:`SourceError` for a file that is not a regular file.
    """
    fd = os.open(path, _READ_FLAGS)
    try:
        check_regular(os.fstat(fd).st_mode, path)
        os.set_blocking(fd, True)
        return os.fdopen(fd, encoding="utf-8", newline=newline)
    except BaseException:
        os.close(fd)
        raise


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _new_temp(target: Path) -> Path:
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    path = Path(name)
    path.chmod(target.stat().st_mode & 0o777 if target.exists() else 0o644)
    return path


class TempFile:
    """A UTF-8 text file being written next to ``target``, published by rename."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.path = _new_temp(target)
        self.handle: TextIO = self.path.open("w", encoding="utf-8", newline="")

    def sync(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def publish_copy(self) -> None:
        """Checkpoint: rename a synced copy into place; this file stays open for writing."""
        self.sync()
        copy = _new_temp(self.target)
        try:
            shutil.copyfile(self.path, copy)  # sendfile/copy_file_range: in the kernel
            with copy.open("rb") as f:
                os.fsync(f.fileno())
            copy.replace(self.target)
        finally:
            copy.unlink(missing_ok=True)
        _fsync_dir(self.target.parent)

    def commit(self) -> None:
        self.sync()
        self.handle.close()
        self.path.replace(self.target)
        _fsync_dir(self.target.parent)

    def discard(self) -> None:
        self.handle.close()
        self.path.unlink(missing_ok=True)


@contextmanager
def filling(target: Path) -> Iterator[TempFile]:
    """A new :class:`TempFile` beside ``target``, removed if filling it fails (a refused
    resume, a full disk, Ctrl-C): no half-written temp file is left behind."""
    tmp = TempFile(target)
    try:
        yield tmp
    except BaseException:
        tmp.discard()
        raise


def write_atomically(target: Path, text: str) -> None:
    """Replace ``target`` with ``text`` (a small sidecar), never leaving it half-written."""
    with filling(target) as tmp:
        tmp.handle.write(text)
        tmp.commit()


class FileRecordWriter(ABC):
    """Validates records, counts them, and checkpoints on schedule; formats do the rows.

    The temp file is created at the first write (or at exit), so a format can still shape
    its header from the first record. A :class:`~shouldi.sources._ticker.Ticker` publishes
    every ``seconds`` while there is something new, even if the caller is busy elsewhere.
    """

    def __init__(
        self,
        target: Path,
        columns: dict[str, ColumnType | None],
        every: int | None,
        seconds: float | None,
    ) -> None:
        self.target = Path(os.path.realpath(target))  # a symlink: replace what it points to
        self.declared = columns
        self._every, self._seconds = every, seconds
        self.tmp: TempFile | None = None
        self.broken = False
        self._count = self._since = 0
        self._lock = threading.RLock()
        self._ticker: Ticker | None = None
        self._keys: set[RecordKey] | None = None  # read under the lock, on first use only

    @property
    def written(self) -> int:
        return self._count

    def known_keys(self) -> set[RecordKey]:
        with self._lock:
            return set(self._known())

    def _known(self) -> set[RecordKey]:
        """Read on first use (a writer that is never asked keeps no keys in memory): from the
        temp file once writing began (it holds the old rows and the new), else the target."""
        with self._lock:
            if self._keys is None:
                with self._io("read"):
                    if self.tmp is not None:
                        self.tmp.sync()
                        self._keys = self.read_keys(self.tmp.path)
                    elif self.target.exists():
                        self._keys = self.read_keys(self.target)
                    else:
                        self._keys = set()
            return self._keys

    def write_if_new(self, record: Record) -> bool:
        with self._lock:
            if record_key(record) in self._known():
                return False
            self.write(record)
            return True

    def write(self, record: Record) -> None:
        check_record(record)
        with self._lock:
            self._raise_ticker_error()
            try:
                with self._io("write"):
                    if self.tmp is None:
                        self.tmp = self.start(record)
                    self.write_row(record)
            except BaseException:  # a half-written row (even on Ctrl-C) must never be published
                self.broken = True
                raise
            if self._keys is not None:
                self._keys.add(record_key(record))
            self._count += 1
            self._since += 1
            if self._every is not None and self._since >= self._every:
                self.checkpoint()
        if self._ticker is None and self._seconds is not None:
            self._ticker = Ticker(self._seconds, self._tick)

    def _tick(self) -> None:
        with self._lock:
            if self._since and not self.broken:
                self.checkpoint()

    def _raise_ticker_error(self) -> None:
        if self._ticker is not None and self._ticker.error is not None:
            raise self._ticker.error

    def checkpoint(self) -> None:
        with self._lock:
            if self.broken:
                raise SourceError(f"cannot write {self.target}: an earlier write failed")
            with self._io("write"):
                if self.tmp is None:
                    self.tmp = self.start(None)
                self.before_publish()
                self.tmp.publish_copy()
            self._since = 0

    def close(self) -> None:
        """Commit, unless a write failed (then the published file stays as it was)."""
        if self._ticker is not None:
            self._ticker.stop()
        with self._lock:
            if self.broken:
                if self.tmp is not None:
                    self.tmp.discard()
                self._raise_ticker_error()
                return
            with self._io("write"):
                if self.tmp is None:
                    self.tmp = self.start(None)
                self.before_publish()
                self.tmp.commit()

    @contextmanager
    def _io(self, verb: str) -> Iterator[None]:
        try:
            yield
        except OSError as e:
            self.broken = True
            raise SourceError(f"cannot {verb} {self.target}: {e.strerror or e}") from e
        except UnicodeDecodeError as e:  # copying an existing file that is not ours
            self.broken = True
            raise SourceError(f"cannot {verb} {self.target}: existing file is not UTF-8") from e

    def check_existing(self) -> None:
        """Refuse an existing target that is not a regular file, or not one of ours.

        Runs under the lock, before anything is read or written; an empty file counts as new.
        """
        try:
            st = self.target.stat()
        except FileNotFoundError:
            return
        except OSError as e:
            raise SourceError(f"cannot use {self.target}: {e.strerror or e}") from e
        check_regular(st.st_mode, self.target)
        if st.st_size:
            self.check_ours()

    @abstractmethod
    def check_ours(self) -> None:
        """Raise :class:`SourceError` unless the existing, non-empty target is a records file."""

    @abstractmethod
    def read_keys(self, path: Path) -> set[RecordKey]:
        """The keys in ``path``: the target or this writer's temp file (under the lock)."""

    @abstractmethod
    def start(self, first: Record | None) -> TempFile:
        """Create the temp file and copy the existing rows into it."""

    @abstractmethod
    def write_row(self, record: Record) -> None:
        """Append one validated record to ``self.tmp``."""

    @abstractmethod
    def before_publish(self) -> None:
        """Run before every publish (CSV writes its column-types sidecar here)."""


W = TypeVar("W", bound=FileRecordWriter)


@contextmanager
def locked_writer(writer: W) -> Iterator[W]:
    """Hold the sidecar lock for the writer's life; commit on exit (also after an error in
    the caller's code: every row already written is complete)."""
    target = writer.target
    lock = target.with_name(target.name + ".lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise SourceError(f"cannot lock {target}: {e.strerror or e}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        writer.check_existing()  # a foreign file is refused before anything else happens
        pattern = f".{glob.escape(target.name)}.*.tmp"
        for stale in target.parent.glob(pattern):
            stale.unlink(missing_ok=True)
        try:
            yield writer
        finally:
            writer.close()
    finally:
        os.close(fd)
