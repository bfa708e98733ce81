"""Reading zip archives (wheels, model archives) one member at a time.

The central directory is known up front, so the member count and the sizes the
archive *claims* are checked before anything is written; the real sizes are still
counted while streaming. Unix file types ride in the high bits of ``external_attr``;
pip ignores them: it writes every member whose name does not end in ``/`` as a regular
file, so a member marked as a symlink is *installed* as a file holding the target text.
That is what is extracted here, then, and scanned (a link pointing out of the tree is still
refused), with a ``zip-type-mismatch`` ambiguity; devices and FIFOs are refused as in tar.
Every member is read to its end, so ``zipfile`` checks every CRC; the byte layout is checked
by :mod:`shouldi.archive._zipcheck` before anything is written.
"""

from __future__ import annotations

import io
import lzma
import stat
import zipfile
import zlib
from pathlib import Path

from shouldi.archive._tree import TreeWriter, normalise
from shouldi.archive._zipcheck import check_layout, end_record
from shouldi.archive.errors import ArchiveRefused
from shouldi.archive.limits import ExtractLimits
from shouldi.results import Severity

__all__ = ["extract_zip", "zip_members_declared"]

_MAX_LINK = 4096  # PATH_MAX: a longer symlink target is not a real one
_CORRUPT = (zipfile.BadZipFile, EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)


class _Consumed:
    """Compressed bytes the zip reader may have consumed: the sizes of members begun so far.

    zipfile reads at most ``compress_size`` compressed bytes of a member, so this is an
    upper bound and the ratio computed from it errs on the permissive side only within
    the member being read.
    """

    def __init__(self) -> None:
        self.total = 0

    def __call__(self) -> int:
        return self.total


def extract_zip(archive: Path, root: str, limits: ExtractLimits) -> TreeWriter:
    """Extract the zip ``archive`` into directory ``root``."""
    consumed = _Consumed()
    tree = TreeWriter(root, limits, consumed)
    try:
        with archive.open("rb") as raw:
            end = end_record(raw)
            if end is not None and end.count > limits.max_members:
                raise ArchiveRefused(
                    "too-many-members", f"{end.count} members, over {limits.max_members}"
                )
            with zipfile.ZipFile(raw) as zf:
                infos = zf.infolist()
                _check_directory(infos, limits)
                if end is not None:
                    check_layout(raw, infos, end, tree.ambiguities)
                for info in infos:
                    tree.count_member(info.filename)
                    consumed.total += info.compress_size
                    _one(zf, info, tree)
    except NotImplementedError as e:  # compression method this Python lacks
        raise ArchiveRefused("unsupported", str(e)) from e
    except _CORRUPT as e:
        raise ArchiveRefused("corrupt", f"unreadable zip data: {e}") from e
    return tree


def zip_members_declared(archive: Path) -> int:
    """How many members a zip end record in ``archive`` declares (0: none, or not a zip).

    Cheap (the last 64 KiB and one header are read), for telling whether a tar is also a
    zip: the directory's first entry must be where the end record says.
    """
    try:
        with archive.open("rb") as raw:
            end = end_record(raw)
            if end is None or end.count == 0 or end.cd_start < 0:
                return 0
            raw.seek(end.cd_start)
            return end.count if raw.read(4) == b"PK\x01\x02" else 0
    except OSError:
        return 0


def _check_directory(infos: list[zipfile.ZipInfo], limits: ExtractLimits) -> None:
    """Refuse on what the central directory declares, before writing anything."""
    if len(infos) > limits.max_members:
        raise ArchiveRefused(
            "too-many-members", f"{len(infos)} members, over {limits.max_members}"
        )
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_total_size:
        raise ArchiveRefused(
            "too-large", f"declares {declared} bytes, over {limits.max_total_size}"
        )


def _one(zf: zipfile.ZipFile, info: zipfile.ZipInfo, tree: TreeWriter) -> None:
    name = info.filename
    kind = stat.S_IFMT(info.external_attr >> 16)
    if info.flag_bits & 0x1:
        raise ArchiveRefused("encrypted", "encrypted member", name)
    if info.is_dir():  # pip's test too: a name ending in "/"
        tree.directory(name)
    elif kind == stat.S_IFLNK:
        with zf.open(info) as source:
            target = source.read(_MAX_LINK + 1)
            if len(target) > _MAX_LINK:
                raise ArchiveRefused("special", "symlink target too long", name)
            source.read()  # to the end: zipfile checks the CRC only there
        tree.check_link(normalise(name), target.decode("utf-8", "surrogateescape"), name)
        tree.ambiguities.add("zip-type-mismatch", Severity.MEDIUM,
                             f"{name!r} is marked as a symlink: pip writes it as a file "
                             "holding the target text (extracted and scanned so), unzip makes "
                             "a link", name)
        tree.file(name, io.BytesIO(target))
    elif kind == stat.S_IFDIR:
        tree.ambiguities.add("zip-type-mismatch", Severity.MEDIUM,
                             f"{name!r} is marked as a directory but named like a file: pip "
                             "writes it as a file (extracted and scanned so)", name)
        with zf.open(info) as source:
            tree.file(name, source)
    elif kind in (stat.S_IFCHR, stat.S_IFBLK):
        raise ArchiveRefused("device", "device file", name)
    elif kind == stat.S_IFIFO:
        raise ArchiveRefused("fifo", "named pipe", name)
    elif kind not in (0, stat.S_IFREG):
        raise ArchiveRefused("special", f"unsupported file type {kind:o}", name)
    else:
        with zf.open(info) as source:
            tree.file(name, source)
