"""Reading and writing cache and output files safely: bounded reads of regular files only, and
one atomic writer.

Reads open with ``O_NONBLOCK | O_NOFOLLOW`` and check ``fstat`` before reading a byte: a FIFO
put where an entry should be would otherwise block forever, a symlink could point anywhere,
and a device or ``/proc`` file has no honest size. The size cap is enforced while reading.

Writes go to a temp file in the destination's directory, are flushed and fsynced, then
``os.replace``d over the destination: a reader sees the old file or the new one, never half.

A cache's shard directories (``<root>/ab/``) and the directory above each are made 0700 and
must be real directories of this user (:func:`shard_dir`): one replaced by a symlink (to
``/etc``, say) would make every later write land there. The root itself may be a link the user made (``~/.cache`` on another
disk).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["MAX_ENTRY", "read_json", "read_regular", "shard_dir", "store_json", "write_atomic"]

MAX_ENTRY = 64 << 20  # a cache entry larger than this is not one we wrote


def read_regular(path: Path, limit: int = MAX_ENTRY) -> bytes:
    """The bytes of ``path`` if it is a regular file (not a link) of at most ``limit`` bytes.

    Raises ``OSError`` otherwise (``FileNotFoundError`` when absent).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{path}: not a regular file")
        if st.st_size > limit:
            raise OSError(f"{path}: larger than {limit} bytes")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{path}: larger than {limit} bytes")
    return data


def read_json(path: Path, limit: int = MAX_ENTRY) -> Any:
    """JSON from a regular file; raises ``OSError`` or ``ValueError`` (incl. deep nesting)."""
    try:
        return json.loads(read_regular(path, limit))
    except RecursionError as e:
        raise ValueError(f"{path}: nested too deeply") from e


def write_atomic(path: Path, data: bytes | str, *, append: bool = False, mode: int = 0o644,
                 private_parents: bool = False, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` (or ``path``'s old text plus ``data`` with ``append``),
    atomically. Raises ``OSError``; the destination is then untouched.

    ``private_parents`` creates missing parent directories 0700 (caches); otherwise the
    parent must exist (outputs the user named). ``durable`` fsyncs before the rename (a
    power cut then loses nothing); caches skip it, a lost entry is only a miss.
    """
    body = data.encode("utf-8") if isinstance(data, str) else data
    if private_parents:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if append:
        with contextlib.suppress(FileNotFoundError):
            body = read_regular(path, 1 << 30) + body
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:40]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(body)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise


def shard_dir(path: Path, *, create: bool) -> Path:
    """``path`` (a cache shard directory), made 0700 under its existing or new parent when
    ``create``; ``OSError`` when it is a symlink, not a directory, or another user's."""
    if create:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)
    for where in (path, path.parent):  # the shard and the cache kind's directory above it
        st = where.lstat()
        if not stat.S_ISDIR(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
            raise OSError(f"{where}: not a cache directory of this user (a link, or someone else's)")
    return path


def store_json(path: Path, body: object, *, shard: bool = True) -> bool:
    """Write ``body`` as JSON for a cache: ``False`` instead of raising when it cannot be
    written (a cache costs speed, never an answer). ``shard``: ``path``'s directory is a
    shard (:func:`shard_dir`), else the cache root (which may be the user's link)."""
    try:
        if shard:
            shard_dir(path.parent, create=True)
        write_atomic(path, json.dumps(body, separators=(",", ":")), mode=0o600,
                     private_parents=not shard, durable=False)
    except (OSError, ValueError, TypeError):
        return False
    return True
