"""Safe extraction of untrusted archives: the one entry point of this layer.

The format comes from the bytes, never the file name (a zip named ``.tar.gz`` is a
zip, and its name is reported as a ``name-mismatch`` ambiguity). Extraction is
all-or-nothing: on any refusal or error, everything written inside ``dest`` is removed
before the exception propagates, so a caller never scans half an archive.

What gets extracted is what pip would install. pip asks "is it a zip?" (``zipfile``, which
reads from the end) before anything else, so a file whose bytes are a tar *and* whose end is
a zip is refused as ``ambiguous``; a zip with other data in front of it is read as the zip
pip sees, and the data in front is reported. Ambiguities (see
:mod:`shouldi.archive.ambiguity`) come back in :attr:`ExtractStats.ambiguities`; with
``kind="sdist"`` the top-level layout is checked against the ``name-version`` the file name
promises.
"""

from __future__ import annotations

import lzma
import os
import stat
import zlib
from pathlib import Path

from shouldi.archive._tar import DECOMPRESSORS, extract_tar
from shouldi.archive._tree import TreeWriter
from shouldi.archive._zip import extract_zip, zip_members_declared
from shouldi.archive.ambiguity import format_from_name, sdist_layout
from shouldi.archive.errors import ArchiveError, ArchiveRefused
from shouldi.archive.limits import ExtractLimits, ExtractStats
from shouldi.archive.scratch import clear_dir
from shouldi.results import Severity

__all__ = ["detect_format", "extract_archive"]

_BLOCK = 512
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty zip: just the end record
    (b"\x1f\x8b", "tar.gz"),
    (b"BZh", "tar.bz2"),
    (b"\xfd7zXZ\x00", "tar.xz"),
)
_UNSUPPORTED_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
)


def detect_format(path: Path) -> str:
    """Return "tar", "tar.gz", "tar.bz2", "tar.xz" or "zip", from the file's bytes.

    For compressed formats the first decompressed block must be a tar header, so a
    gzip of something else is refused here with a clear message rather than later as
    "corrupt".
    """
    head = _read_head(path)
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            if fmt != "zip" and not _is_tar_header(_decompressed_head(path, fmt)):
                raise ArchiveRefused("unknown-format", f"{fmt[4:]} data that is not a tar archive")
            return fmt
    if _is_tar_header(head):
        return "tar"
    for magic, what in _UNSUPPORTED_MAGIC:
        if head.startswith(magic):
            raise ArchiveRefused("unknown-format", f"{what} is not supported")
    if zip_members_declared(path):  # a zip after other data: pip reads it as a zip
        return "zip"
    raise ArchiveRefused("unknown-format", "not a tar, tar.gz, tar.bz2, tar.xz or zip archive")


def extract_archive(
    archive: Path,
    dest: Path,
    limits: ExtractLimits | None = None,
    *,
    kind: str | None = None,
    filename: str | None = None,
) -> ExtractStats:
    """Extract ``archive`` into the existing, empty directory ``dest``.

    Regular files become 0644 and directories 0755 (modulo umask); ownership, modes and
    times in the archive are ignored. Symlinks inside the tree are skipped (counted in
    :attr:`ExtractStats.skipped_links`), hard links to an earlier file are copied.
    ``filename`` is the name the archive is published under (default: ``archive``'s own),
    checked against its content; ``kind="sdist"`` also checks the sdist layout.
    Raises :class:`ArchiveRefused` for hostile, over-limit, corrupt or ambiguous archives
    and :class:`ArchiveError` when the archive or ``dest`` cannot be used.
    """
    limits = limits or ExtractLimits()
    root = _check_dest(dest)
    fmt = detect_format(archive)
    if fmt != "zip" and zip_members_declared(archive):
        raise ArchiveRefused(
            "ambiguous", "both a tar and a zip archive: pip installs the zip's files (it asks "
            "'is it a zip?' first), tar readers the tar's"
        )
    try:
        tree: TreeWriter
        if fmt == "zip":
            tree = extract_zip(archive, root, limits)
        else:
            tree = extract_tar(archive, fmt, root, limits)
    except BaseException:
        clear_dir(Path(root))
        raise
    name = filename if filename is not None else archive.name
    promised = format_from_name(name)
    if promised is not None and promised[0] != fmt:
        tree.ambiguities.add(
            "name-mismatch", Severity.MEDIUM,
            f"{name!r} is named like a {promised[0]} but is a {fmt} archive: pip goes by "
            "its content, tools that go by the name fail",
        )
    if kind == "sdist" and promised is not None:
        sdist_layout(promised[1], tree.top_level, tree.ambiguities)
    return ExtractStats(fmt, tree.member_count, tree.total_size, tree.skipped_links,
                        tree.ambiguities.result())


def _check_dest(dest: Path) -> str:
    root = os.path.realpath(dest)
    try:
        with os.scandir(root) as entries:
            if next(entries, None) is not None:
                raise ArchiveError(f"extraction directory {str(dest)!r} is not empty")
    except OSError as e:
        raise ArchiveError(f"unusable extraction directory {str(dest)!r}: {e.strerror}") from e
    return root


def _read_head(path: Path) -> bytes:
    """The first block, from a regular file only (a FIFO would block every later open)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise ArchiveError(f"cannot read archive {str(path)!r}: {e.strerror or e}") from e
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ArchiveError(f"cannot read archive {str(path)!r}: not a regular file")
        os.set_blocking(fd, True)
        return os.read(fd, _BLOCK)
    except OSError as e:
        raise ArchiveError(f"cannot read archive {str(path)!r}: {e.strerror or e}") from e
    finally:
        os.close(fd)


def _decompressed_head(path: Path, fmt: str) -> bytes:
    try:
        with path.open("rb") as raw, DECOMPRESSORS[fmt](raw) as stream:
            return stream.read(_BLOCK)
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as e:  # OSError: BadGzipFile, bz2
        raise ArchiveRefused("corrupt", f"unreadable {fmt[4:]} data: {e}") from e


def _is_tar_header(block: bytes) -> bool:
    """Whether ``block`` is a tar header (by checksum, so pre-POSIX tars count) or the end block."""
    if len(block) < _BLOCK:
        return False
    if block == bytes(_BLOCK):
        return True  # an empty archive is just end-of-archive blocks
    field = block[148:156].replace(b"\x00", b" ").strip()
    try:
        stored = int(field, 8)
    except ValueError:
        return False
    unsigned = sum(block[:148]) + sum(block[156:]) + 8 * 0x20  # the field itself as spaces
    return stored in (unsigned, _signed_sum(block))


def _signed_sum(block: bytes) -> int:
    """The checksum some old tars wrote, with bytes taken as signed chars."""
    return sum(b - 256 if b > 127 else b for b in block[:148] + block[156:]) + 8 * 0x20
