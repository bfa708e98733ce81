"""Read advisory files out of a file, a directory, a .zip or a tar archive, in memory.

Advisory archives come from the network, so they are treated as hostile: members are read one
at a time by streaming (never extracted, so names cannot escape anywhere), only regular files
are read (links, devices and directories are ignored), and every member and the whole archive
are size-capped so a decompression bomb stops early. Only ``*.json``, ``*.yaml`` and ``*.yml``
members are returned. Failures raise :class:`AdvisoryImportError` (exit 2, the file's name in
the message; ``UnsupportedInput`` for a path we do not read).

Compressed tars are decompressed by :mod:`gzip`, :mod:`bz2` and :mod:`lzma` file objects (chosen
by magic bytes, not by name) and the stream is read to its end after the last member, so the
format's own integrity check runs: a wrong gzip CRC or length, or a stream cut short, is a
corrupt archive. (``tarfile``'s own stream decompression stops at the tar end marker and
never reads the gzip trailer.) The bytes drained after the tar's end count against the budget.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from shouldi.advisories.errors import AdvisoryImportError, UnsupportedInput

__all__ = ["Limits", "iter_files", "iter_zip"]

_ADVISORY_SUFFIXES = (".json", ".yaml", ".yml")
_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_DRAIN_CHUNK = 1 << 16
_ARCHIVE_ERRORS = (
    tarfile.TarError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    NotImplementedError,  # zip compression method we cannot read
    RuntimeError,  # encrypted zip member
)


@dataclass(frozen=True)
class Limits:
    """Caps on what an import may read: per member, in total, and how many members."""

    member_bytes: int = 16 * 1024 * 1024
    total_bytes: int = 2 * 1024 * 1024 * 1024
    members: int = 1_000_000


class _Budget:
    """Counts bytes and members against :class:`Limits`; raises once one is exceeded."""

    def __init__(self, label: str, limits: Limits) -> None:
        self.label, self.limits = label, limits
        self.total = self.members = 0

    def take(self, name: str, size: int) -> None:
        """Count one member of ``size`` bytes."""
        self.members += 1
        if size > self.limits.member_bytes:
            raise AdvisoryImportError(
                f"{self.label}: member {name} is larger than {self.limits.member_bytes} bytes"
            )
        self.add_bytes(size)

    def add_bytes(self, size: int) -> None:
        """Count ``size`` bytes read that belong to no member (padding, trailing data)."""
        self.total += size
        if self.total > self.limits.total_bytes or self.members > self.limits.members:
            raise AdvisoryImportError(
                f"{self.label}: archive is too large (more than {self.limits.total_bytes} bytes"
                f" or {self.limits.members} members)"
            )


def iter_files(path: Path, limits: Limits | None = None) -> Iterator[tuple[str, bytes]]:
    """``(name, content)`` of each advisory file under ``path`` (file, directory or archive)."""
    limits = limits or Limits()
    label = str(path)
    lower = path.name.lower()
    try:
        if path.is_dir():
            yield from _iter_directory(path, _Budget(label, limits))
        elif not os.path.lexists(path):
            raise UnsupportedInput(f"{label}: no such file or directory")
        elif not path.is_file():
            raise UnsupportedInput(f"{label}: not a regular file, directory or archive")
        elif lower.endswith(_ADVISORY_SUFFIXES):
            yield path.name, _read_capped(path, path.name, _Budget(label, limits))
        elif lower.endswith(".zip") or (
            not lower.endswith(_TAR_SUFFIXES) and zipfile.is_zipfile(path)
        ):
            with path.open("rb") as stream:
                yield from iter_zip(stream, label, limits)
        elif lower.endswith(_TAR_SUFFIXES) or tarfile.is_tarfile(path):
            with path.open("rb") as stream:
                yield from _iter_tar(stream, _Budget(label, limits))
        else:
            raise UnsupportedInput(
                f"{label}: not an advisory file (.json/.yaml), directory, .zip or tar archive"
            )
    except AdvisoryImportError:
        raise
    except _ARCHIVE_ERRORS as e:
        raise AdvisoryImportError(f"{label}: corrupt or unreadable archive ({e})") from e


def iter_zip(
    stream: IO[bytes], label: str, limits: Limits | None = None
) -> Iterator[tuple[str, bytes]]:
    """``(name, content)`` of each advisory member of a zip file opened for reading."""
    budget = _Budget(label, limits or Limits())
    try:
        with zipfile.ZipFile(stream) as archive:
            for info in archive.infolist():
                kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip has no Unix mode
                if info.is_dir() or (kind and kind != stat.S_IFREG):
                    continue  # directories, symlinks, devices
                if not info.filename.lower().endswith(_ADVISORY_SUFFIXES):
                    continue
                with archive.open(info) as member:  # read at most one byte past the cap
                    data = member.read(budget.limits.member_bytes + 1)
                budget.take(info.filename, len(data))
                yield info.filename, data
    except AdvisoryImportError:
        raise
    except _ARCHIVE_ERRORS as e:
        raise AdvisoryImportError(f"{label}: corrupt or unreadable zip archive ({e})") from e


def _iter_tar(stream: IO[bytes], budget: _Budget) -> Iterator[tuple[str, bytes]]:
    with _decompressed(stream) as plain:
        # "r|": a forward-only stream of an uncompressed tar, one member at a time.
        with tarfile.open(fileobj=plain, mode="r|") as archive:
            for member in archive:
                if not member.isreg():
                    continue  # links, devices, fifos, directories
                budget.take(member.name, member.size)  # skipped members are decompressed too
                if not member.name.lower().endswith(_ADVISORY_SUFFIXES):
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                with handle:
                    yield member.name, handle.read(member.size)
        while chunk := plain.read(_DRAIN_CHUNK):  # to the end: the integrity check runs there
            budget.add_bytes(len(chunk))


def _decompressed(stream: IO[bytes]) -> IO[bytes]:
    """``stream`` decompressed by the format its first bytes name (or as it is)."""
    head = stream.read(6)
    stream.seek(0)
    if head.startswith(b"\x1f\x8b"):
        return cast(IO[bytes], gzip.GzipFile(fileobj=stream, mode="rb"))
    if head.startswith(b"BZh"):
        return cast(IO[bytes], bz2.BZ2File(stream, mode="rb"))
    if head.startswith(b"\xfd7zXZ\x00"):
        return cast(IO[bytes], lzma.LZMAFile(stream, mode="rb"))
    return stream


def _iter_directory(root: Path, budget: _Budget) -> Iterator[tuple[str, bytes]]:
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for filename in sorted(files):
            if filename.lower().endswith(_ADVISORY_SUFFIXES):
                path = Path(folder, filename)
                if stat.S_ISREG(path.lstat().st_mode):  # not a symlink out, not a device
                    yield str(path.relative_to(root)), _read_capped(path, filename, budget)


def _read_capped(path: Path, name: str, budget: _Budget) -> bytes:
    with path.open("rb") as stream:
        data = stream.read(budget.limits.member_bytes + 1)
    budget.take(name, len(data))
    return data
