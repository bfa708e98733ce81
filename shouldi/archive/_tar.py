"""Reading tar archives (plain, gzip, bzip2, xz) one member at a time.

``tarfile`` only parses headers here; it never extracts. Members are taken with
``TarFile.next()`` and forgotten at once (``TarFile.members`` is cleared), so a
300,000-member archive costs no more memory than a small one. Member data is read
straight from the decompressed stream in :data:`CHUNK` pieces and counted by
:class:`TreeWriter` as it is written: header sizes are never trusted.

After the end-of-archive marker the stream is read **to its end**: gzip checks its CRC and
length, bzip2 and xz their checksums, only there, so stopping at the marker (as tarfile does)
let a .tar.gz with a wrong CRC pass. What follows the marker may be zeros (record padding);
anything else is reported as ``tar-trailing-data``, and more than :data:`TRAILING_LIMIT`
bytes of it is refused.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

from shouldi.archive._tree import CHUNK, TreeWriter
from shouldi.archive.errors import ArchiveRefused
from shouldi.archive.limits import ExtractLimits
from shouldi.results import Severity

__all__ = ["DECOMPRESSORS", "TRAILING_LIMIT", "extract_tar"]

#: Bytes allowed after the end-of-archive marker: tar pads to its record size (10 KiB by
#: default, 1 MiB at the largest blocking factor GNU tar takes).
TRAILING_LIMIT = 8 << 20

DECOMPRESSORS: dict[str, Callable[[BinaryIO], io.BufferedIOBase]] = {
    "tar.gz": lambda raw: gzip.GzipFile(fileobj=raw, mode="rb"),
    "tar.bz2": lambda raw: bz2.BZ2File(raw, mode="rb"),
    "tar.xz": lambda raw: lzma.LZMAFile(raw, mode="rb"),  # noqa: SIM115 (callers use `with`)
}
# What a damaged stream raises, from tarfile or from a decompressor.
_CORRUPT = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)
_HEADER_ROOM = 2048  # decompressed bytes allowed per member for headers and padding


class _Stream(Protocol):
    def read(self, size: int, /) -> bytes: ...
    def seek(self, pos: int, /) -> int: ...


class _Metered:
    """The decompressed tar stream as tarfile sees it, within a budget.

    tarfile reads pax and GNU long-name headers whole into memory, and those bytes are
    nobody's member data, so a header bomb would pass every per-member limit. Here no
    single read may exceed :data:`CHUNK` and the whole stream may not exceed the data
    limit plus :data:`_HEADER_ROOM` per allowed member.
    """

    def __init__(self, stream: _Stream, limits: ExtractLimits) -> None:
        self._stream = stream
        self._pos = 0
        self._budget = limits.max_total_size + limits.max_members * _HEADER_ROOM + CHUNK
        self.last_read: tuple[int, bytes] = (-1, b"")  # (offset, data) of the last header-sized read

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > CHUNK:
            raise ArchiveRefused("too-large", f"a tar header block of over {CHUNK} bytes")
        if self._pos + size > self._budget:
            raise ArchiveRefused("too-large", "tar stream over the size limit")
        data = self._stream.read(size)
        if size == tarfile.BLOCKSIZE:
            self.last_read = (self._pos, data)
        self._pos += len(data)
        return data

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence != 0 or pos > self._budget:
            raise ArchiveRefused("too-large", "tar stream over the size limit")
        self._pos = self._stream.seek(pos)
        return self._pos

    def tell(self) -> int:
        return self._pos


class _MemberData:
    """Exactly ``size`` bytes of member data; a short read means the archive is truncated."""

    def __init__(self, stream: _Metered, size: int, name: str) -> None:
        self._stream = stream
        self._left = size
        self._name = name

    def read(self, size: int = -1) -> bytes:
        want = min(size, self._left) if size >= 0 else self._left
        if want == 0:
            return b""
        data = self._stream.read(min(want, CHUNK))
        if not data:
            raise ArchiveRefused("corrupt", "archive truncated inside a member", self._name)
        self._left -= len(data)
        return data


def extract_tar(archive: Path, fmt: str, root: str, limits: ExtractLimits) -> TreeWriter:
    """Extract the tar ``archive`` (format ``fmt``) into directory ``root``."""
    with archive.open("rb") as raw:
        tree = TreeWriter(root, limits, raw.tell)
        decompress = DECOMPRESSORS.get(fmt)
        try:
            if decompress is None:
                _extract(_Metered(raw, limits), tree)
            else:
                with decompress(raw) as stream:
                    _extract(_Metered(stream, limits), tree)
        except RecursionError as e:  # chained pax headers are parsed recursively
            raise ArchiveRefused("corrupt", "tar headers nested too deep") from e
        except _CORRUPT as e:
            raise ArchiveRefused("corrupt", f"unreadable tar data: {e}") from e
    return tree


def _extract(stream: _Metered, tree: TreeWriter) -> None:
    with tarfile.TarFile(fileobj=stream, mode="r") as tf:  # type: ignore[arg-type]
        while (member := tf.next()) is not None:
            tf.members.clear()  # type: ignore[attr-defined]  # next() appends each member
            _one(tf, stream, member, tree)
        # tarfile ends silently on a short or invalid header after the first one;
        # a complete archive ends with a zero block exactly where iteration stopped.
        # (Not re-read: seeking back in a compressed stream restarts decompression.)
        if stream.last_read != (tf.offset, bytes(tarfile.BLOCKSIZE)):
            raise ArchiveRefused("corrupt", f"truncated or invalid tar header at {tf.offset}")
    _read_to_the_end(stream, tree)


def _read_to_the_end(stream: _Metered, tree: TreeWriter) -> None:
    """Read what follows the end marker, so the decompressor verifies its checksums."""
    trailing = 0
    data_seen = False
    while chunk := stream.read(CHUNK):
        trailing += len(chunk)
        if trailing > TRAILING_LIMIT:
            raise ArchiveRefused(
                "too-large", f"over {TRAILING_LIMIT >> 20} MiB after the end of the tar archive"
            )
        data_seen = data_seen or chunk.count(0) != len(chunk)
    if data_seen:
        tree.ambiguities.add(
            "tar-trailing-data", Severity.MEDIUM,
            f"{trailing} bytes after the tar end-of-archive marker are not padding "
            "(tarfile and pip stop at the marker, tar --ignore-zeros reads on)",
        )


def _one(tf: tarfile.TarFile, stream: _Metered, member: tarfile.TarInfo, tree: TreeWriter) -> None:
    name = member.name
    tree.count_member(name)
    if member.isreg():
        if member.sparse is not None:
            source = tf.extractfile(member)
            assert source is not None  # a regular member always has a file object
            with source:
                tree.file(name, source)
        else:
            stream.seek(member.offset_data)
            tree.file(name, _MemberData(stream, member.size, name))
    elif member.isdir():
        tree.directory(name)
    elif member.issym():
        tree.symlink(name, member.linkname)
    elif member.islnk():
        tree.hardlink(name, member.linkname)
    elif member.ischr() or member.isblk():
        raise ArchiveRefused("device", "device file", name)
    elif member.isfifo():
        raise ArchiveRefused("fifo", "named pipe", name)
    else:
        raise ArchiveRefused("special", f"unsupported tar member type {member.type!r}", name)
