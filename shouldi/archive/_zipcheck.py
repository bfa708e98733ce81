"""Where a zip's bytes are: the end record, and whether every byte belongs to one member.

Python's ``zipfile`` (and so pip) reads a zip from its end: the end-of-central-directory
record, then the central directory it points to, then each member at the offset the directory
gives. Bytes no directory entry covers are invisible to it, yet a streaming reader, which
walks local headers from the front, extracts them. So the layout is checked against what
``zipfile`` found: nothing before the first member (``zip-prepended``), nothing between
members or before the directory (``zip-unlisted``), no two members sharing bytes
(``zip-overlap``), local headers that agree with the directory (``zip-header-mismatch``), and
nothing after the end record and its comment (``zip-appended``). The end record is found the
way ``zipfile`` finds it: the last signature within the last 64 KiB, a zip64 record right
before its locator, and data prepended to the whole zip shifting every offset.
"""

from __future__ import annotations

import os
import struct
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from shouldi.archive.ambiguity import Ambiguities
from shouldi.archive.errors import ArchiveRefused
from shouldi.results import Severity

__all__ = ["EndRecord", "check_layout", "end_record"]

_EOCD_SIZE = 22
_EOCD_SEARCH = _EOCD_SIZE + 0xFFFF  # the end record, after at most a 64 KiB comment
_ZIP64_SIZE, _LOCATOR_SIZE = 56, 20
_LOCAL = struct.Struct("<4sHHHHHLLLHH")  # a local file header, as zipfile reads it
_DESCRIPTOR_SLACK = 24  # a data descriptor: optional signature, CRC, two 4- or 8-byte sizes
_DATA_DESCRIPTOR = 0x8


@dataclass(frozen=True)
class EndRecord:
    """What the end of a zip says: member count and where the central directory sits."""

    count: int
    cd_start: int  # where the directory really starts (data prepended to the zip shifts it)
    cd_end: int  # the zip64 end record, or the end record
    end: int  # just after the end record and its comment
    size: int  # of the whole file


def end_record(raw: BinaryIO) -> EndRecord | None:
    """The end record as ``zipfile`` would find it, or ``None`` when there is no clean one.

    Read before ``zipfile`` parses the whole directory (5 s for 300,000 entries), so the
    declared count can be refused first.
    """
    size = raw.seek(0, os.SEEK_END)
    start = max(0, size - _EOCD_SEARCH)
    raw.seek(start)
    tail = raw.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        return None
    count, size_cd, _offset, comment = struct.unpack_from("<HLLH", tail, at + 10)
    eocd = start + at
    cd_end = eocd
    if count == 0xFFFF or size_cd == 0xFFFFFFFF:
        locator = at - _LOCATOR_SIZE
        if locator < 0 or tail[locator : locator + 4] != b"PK\x06\x07":
            return None
        raw.seek(eocd - _LOCATOR_SIZE - _ZIP64_SIZE)
        record = raw.read(_ZIP64_SIZE)
        if len(record) < _ZIP64_SIZE or not record.startswith(b"PK\x06\x06"):
            return None
        count, size_cd = struct.unpack_from("<QQ", record, 32)
        cd_end = eocd - _LOCATOR_SIZE - _ZIP64_SIZE
    return EndRecord(int(count), cd_end - size_cd, cd_end, eocd + _EOCD_SIZE + comment, size)


def check_layout(
    raw: BinaryIO, infos: list[zipfile.ZipInfo], end: EndRecord, found: Ambiguities
) -> None:
    """Record every byte range of the zip that is not exactly one member (see the module doc)."""
    if end.end < end.size:
        found.add("zip-appended", Severity.MEDIUM,
                  f"{end.size - end.end} bytes after the end of the zip archive")
    ordered = sorted(infos, key=lambda i: i.header_offset)
    first = ordered[0].header_offset if ordered else end.cd_start
    if first > 0:
        found.add("zip-prepended", Severity.HIGH,
                  f"{first} bytes before the first member, which pip never reads "
                  "(another archive can hide there)")
    pos, slack = first, 0
    for info in ordered:
        _gap(found, pos, slack, info.header_offset, f"before {info.filename!r}", info.filename)
        data_end, slack = _local(raw, info, found)
        pos = max(pos, data_end)
    _gap(found, pos, slack, end.cd_start, "before the central directory", None)


def _gap(found: Ambiguities, pos: int, slack: int, start: int, where: str,
         member: str | None) -> None:
    if start < pos:
        found.add("zip-overlap", Severity.HIGH,
                  f"{pos - start} bytes {where} belong to another member too", member)
    elif start > pos + slack:
        found.add("zip-unlisted", Severity.HIGH,
                  f"{start - pos} bytes {where} that no directory entry lists "
                  "(a streaming reader can find a file there)", member)


def _local(raw: BinaryIO, info: zipfile.ZipInfo, found: Ambiguities) -> tuple[int, int]:
    """Where ``info``'s data ends, and how many descriptor bytes may follow it."""
    raw.seek(info.header_offset)
    header = raw.read(_LOCAL.size)
    if len(header) < _LOCAL.size or not header.startswith(b"PK\x03\x04"):
        raise ArchiveRefused("corrupt", "no local header where the directory says", info.filename)
    _sig, _ver, flags, method, _time, _date, crc, csize, usize, nlen, elen = _LOCAL.unpack(header)
    described = flags & _DATA_DESCRIPTOR
    differs = [
        what for what, mine, theirs in (
            ("compression", method, info.compress_type),
            ("flags", described, info.flag_bits & _DATA_DESCRIPTOR),
            ("CRC", None if described else crc, None if described else info.CRC),
            ("size", _size(csize, described, info.compress_size), info.compress_size),
            ("length", _size(usize, described, info.file_size), info.file_size),
        ) if mine != theirs
    ]
    if differs:
        found.add("zip-header-mismatch", Severity.HIGH,
                  f"the local header of {info.filename!r} disagrees with the directory on "
                  f"{', '.join(differs)} (readers trusting local headers get other bytes)",
                  info.filename)
    end = info.header_offset + _LOCAL.size + nlen + elen + info.compress_size
    return end, _DESCRIPTOR_SLACK if described else 0


def _size(local: int, described: int, declared: int) -> int:
    """A local header's size field as comparable: descriptors and zip64 defer it."""
    return declared if described or local == 0xFFFFFFFF else local
