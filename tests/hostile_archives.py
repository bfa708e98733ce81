"""Builders of hostile (and a few honest) archives, made at test time in a tmp dir.

Every builder takes the directory to write the archive in and returns the archive's
path. Builders whose attack aims at a real place take ``outside``: the directory a
broken extractor would write into, so a test can check it stayed untouched; relative
escapes assume the archive is extracted into ``where / "dest"``. Bombs are
streamed (zeros written in chunks through the compressor), so no big buffer is held.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import subprocess
import tarfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

CHUNK = 1 << 20


class Zeros(io.RawIOBase):
    """``size`` zero bytes, read in chunks."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        n = min(len(buf), self.left)
        buf[:n] = bytes(n)
        self.left -= n
        return n


# --- generic tar / zip writers ---------------------------------------------------------


def member(name: str, data: bytes = b"", type=tarfile.REGTYPE, linkname: str = "", mode=0o644):
    info = tarfile.TarInfo(name)
    info.type = type
    info.linkname = linkname
    info.mode = mode
    info.size = len(data) if type == tarfile.REGTYPE else 0
    return info, data


def write_tar(path: Path, members: Iterable[tuple[tarfile.TarInfo, bytes]], mode="w:gz") -> Path:
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def write_zip(path: Path, entries: Iterable[tuple[str, bytes, int]]) -> Path:
    """Entries are (name, data, unix mode with file type bits, or 0)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


# --- honest archives -------------------------------------------------------------------

SAMPLE = {
    "pkg-1.0/setup.py": b"from setuptools import setup\nsetup(name='pkg')\n",
    "pkg-1.0/pkg/__init__.py": b"VERSION = '1.0'\n",
    "pkg-1.0/pkg/data/blob.bin": bytes(range(256)) * 300,
    "pkg-1.0/README.md": "# pkg\n\nné à Paris\n".encode(),
}


def sample_tree(where: Path) -> Path:
    """A small source tree on disk (what SAMPLE describes), for tar/zip CLIs or build."""
    for name, data in SAMPLE.items():
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        (where / name).write_bytes(data)
    return where


def sample_tar(where: Path, mode: str = "w:gz", name: str = "pkg-1.0.tar.gz") -> Path:
    dirs = ["pkg-1.0", "pkg-1.0/pkg", "pkg-1.0/pkg/data"]
    entries = [member(d, type=tarfile.DIRTYPE, mode=0o755) for d in dirs]
    entries += [member(n, d) for n, d in SAMPLE.items()]
    return write_tar(where / name, entries, mode)


def sample_zip(where: Path, name: str = "pkg-1.0-py3-none-any.whl") -> Path:
    return write_zip(where / name, [(n, d, 0o100644) for n, d in SAMPLE.items()])


# --- names that escape -----------------------------------------------------------------


def traversal_tar(where: Path, outside: Path) -> Path:
    escape = os.path.relpath(outside / "evil.txt", where / "dest")
    return write_tar(where / "t.tar.gz", [member("ok.txt", b"ok"), member(escape, b"pwned")])


def traversal_zip(where: Path, outside: Path) -> Path:
    escape = os.path.relpath(outside / "evil.txt", where / "dest")
    return write_zip(where / "t.zip", [("ok.txt", b"ok", 0), (escape, b"pwned", 0)])


def backslash_traversal_zip(where: Path, outside: Path) -> Path:
    escape = os.path.relpath(outside / "evil.txt", where / "dest").replace("/", "\\")
    return write_zip(where / "t.zip", [(escape, b"pwned", 0)])


def absolute_tar(where: Path, outside: Path) -> Path:
    return write_tar(where / "a.tar", [member(str(outside / "evil.txt"), b"pwned")], "w")


def absolute_zip(where: Path, outside: Path) -> Path:
    return write_zip(where / "a.zip", [(str(outside / "evil.txt"), b"pwned", 0)])


def drive_zip(where: Path, outside: Path) -> Path:
    return write_zip(where / "a.zip", [("C:\\Windows\\evil.txt", b"pwned", 0)])


def unc_zip(where: Path, outside: Path) -> Path:
    return write_zip(where / "a.zip", [("\\\\server\\share\\evil.txt", b"pwned", 0)])


# --- links -----------------------------------------------------------------------------


def symlink_out_tar(where: Path, outside: Path) -> Path:
    return write_tar(where / "s.tar.gz", [member("pkg/cfg", type=tarfile.SYMTYPE, linkname="../../..")])


def absolute_symlink_tar(where: Path, outside: Path) -> Path:
    link = member("passwd", type=tarfile.SYMTYPE, linkname="/etc/passwd")
    return write_tar(where / "s.tar.gz", [link])


def symlink_then_write_tar(where: Path, outside: Path) -> Path:
    """The classic: a link to a directory outside, then a file written "into" the link."""
    link = member("escape", type=tarfile.SYMTYPE, linkname=str(outside))
    return write_tar(where / "s.tar.gz", [link, member("escape/evil.txt", b"pwned")])


def inner_symlink_then_write_tar(where: Path, outside: Path) -> Path:
    """An in-tree link, then a file under the link's name: refused, never written through."""
    entries = [
        member("pkg/sub", type=tarfile.DIRTYPE),
        member("pkg/alias", type=tarfile.SYMTYPE, linkname="sub"),
        member("pkg/alias/evil.txt", b"pwned"),
    ]
    return write_tar(where / "s.tar.gz", entries)


def symlink_out_zip(where: Path, outside: Path) -> Path:
    return write_zip(where / "s.zip", [("escape", str(outside).encode(), 0o120777)])


def hardlink_out_tar(where: Path, outside: Path) -> Path:
    secret = outside / "secret.txt"
    return write_tar(where / "h.tar.gz", [member("copy", type=tarfile.LNKTYPE, linkname=str(secret))])


def hardlink_traversal_tar(where: Path, outside: Path) -> Path:
    secret = os.path.relpath(outside / "secret.txt", where / "dest")
    link = member("copy", type=tarfile.LNKTYPE, linkname=secret)
    return write_tar(where / "h.tar.gz", [link])


# --- special files ---------------------------------------------------------------------


def char_device_tar(where: Path, outside: Path) -> Path:
    info, _ = member("null", type=tarfile.CHRTYPE)
    info.devmajor, info.devminor = 1, 3
    return write_tar(where / "d.tar", [member("ok.txt", b"ok"), (info, b"")], "w")


def block_device_tar(where: Path, outside: Path) -> Path:
    info, _ = member("sda", type=tarfile.BLKTYPE)
    info.devmajor, info.devminor = 8, 0
    return write_tar(where / "d.tar.gz", [(info, b"")])


def fifo_tar(where: Path, outside: Path) -> Path:
    return write_tar(where / "f.tar.xz", [member("pipe", type=tarfile.FIFOTYPE)], "w:xz")


def device_zip(where: Path, outside: Path) -> Path:
    return write_zip(where / "d.zip", [("null", b"", 0o020666)])


def fifo_zip(where: Path, outside: Path) -> Path:
    return write_zip(where / "f.zip", [("pipe", b"", 0o010644)])


def unknown_type_tar(where: Path, outside: Path) -> Path:
    return write_tar(where / "u.tar", [member("volume", type=b"V")], "w")


# --- overlapping names -----------------------------------------------------------------


def duplicate_tar(where: Path, outside: Path) -> Path:
    return write_tar(where / "dup.tar.gz", [member("a.py", b"safe"), member("a.py", b"evil")])


def file_then_dir_tar(where: Path, outside: Path) -> Path:
    return write_tar(where / "dup.tar.gz", [member("a", b"file"), member("a/b.py", b"under")])


def duplicate_zip(where: Path, outside: Path) -> Path:
    with zipfile.ZipFile(where / "dup.zip", "w") as zf:
        zf.writestr("a.py", b"safe")
        with _no_duplicate_warning():
            zf.writestr("a.py", b"evil")
    return where / "dup.zip"


class _no_duplicate_warning:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", UserWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


# --- bombs -----------------------------------------------------------------------------


def gzip_bomb(where: Path, size: int) -> Path:
    """A tar.gz whose one member is ``size`` zero bytes, streamed through gzip."""
    path = where / "bomb.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=9) as tf:
        info = tarfile.TarInfo("zeros.bin")
        info.size = size
        tf.addfile(info, io.BufferedReader(Zeros(size), CHUNK))
    return path


def zip_bomb(where: Path, size: int) -> Path:
    """A zip whose one member is ``size`` zero bytes, deflated in chunks."""
    path = where / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        info = zipfile.ZipInfo("zeros.bin")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as out:
            left = size
            while left:
                n = min(CHUNK, left)
                out.write(bytes(n))
                left -= n
    return path


def pax_header_bomb(where: Path, outside: Path) -> Path:
    """A member whose pax header is 4 MiB: tarfile would read it whole into memory."""
    info, data = member("small.txt", b"x")
    info.pax_headers = {"comment": "A" * (4 << 20)}
    return write_tar(where / "pax.tar.gz", [(info, data)])


def many_members_tar(where: Path, count: int) -> Path:
    """A tar.gz of ``count`` (< 10**6) empty files, headers made from one template.

    Names are ``m<i><999999-i>``: digit-wise complements, so every name has the same
    byte sum and every header the same checksum; only the 13-byte name changes.
    """
    rest = tarfile.TarInfo("m000000999999").tobuf(tarfile.USTAR_FORMAT)[13:]
    path = where / "many.tar.gz"
    with gzip.open(path, "wb", compresslevel=1) as out:
        for start in range(0, count, 1 << 15):
            names = [b"m%06d%06d" % (i, 999999 - i) for i in range(start, min(count, start + (1 << 15)))]
            out.write(rest.join(names) + rest)
        out.write(bytes(1024))
    return path


def many_members_zip(where: Path, count: int) -> Path:
    """A zip64 of ``count`` empty stored files, written with struct (zipfile takes ~40 us each)."""
    local, central = [], []
    offset = 0
    for i in range(count):
        name = b"m%07d" % i
        header = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0)
        central.append(
            struct.pack(
                "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0,
                0o100644 << 16, offset,
            )
            + name
        )
        local.append(header + name)
        offset += len(header) + len(name)
    cd = b"".join(central)
    zip64_end = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(cd), offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, offset + len(cd), 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, len(cd), 0xFFFFFFFF, 0)
    path = where / "many.zip"
    path.write_bytes(b"".join(local) + cd + zip64_end + locator + end)
    return path


def gnu_sparse_tar(where: Path, hole: int) -> Path:
    """A GNU sparse member (made by GNU tar): ``hole`` bytes of hole, then b"tail".

    Costs a few KiB however big the hole, yet extracts to ``hole + 4`` bytes.
    """
    source = where / "sparse-src"
    source.mkdir()
    with (source / "holey.bin").open("wb") as f:
        f.write(b"head")
        f.truncate(hole)
        f.seek(hole)
        f.write(b"tail")
    path = where / "sparse.tar"
    subprocess.run(["tar", "--sparse", "-cf", str(path), "-C", str(source), "holey.bin"], check=True)
    return path


# --- broken and disguised --------------------------------------------------------------


def truncated_tar_gz(where: Path, outside: Path) -> Path:
    whole = sample_tar(where).read_bytes()
    path = where / "cut.tar.gz"
    path.write_bytes(whole[: len(whole) // 2])
    return path


def truncated_tar_at_header(where: Path, outside: Path) -> Path:
    """A plain tar cut right after a complete member: tarfile alone would call it fine."""
    whole = sample_tar(where, "w", "pkg.tar").read_bytes()
    path = where / "cut.tar"
    path.write_bytes(whole[: 512 * 5])  # three directory headers, one file header, its data
    return path


def truncated_zip(where: Path, outside: Path) -> Path:
    whole = sample_zip(where).read_bytes()
    path = where / "cut.zip"
    path.write_bytes(whole[: len(whole) - 30])
    return path


def garbage_tar_gz(where: Path, outside: Path) -> Path:
    path = where / "pkg-1.0.tar.gz"
    path.write_bytes(bytes(range(7, 250)) * 20)
    return path


def gzip_not_tar(where: Path, outside: Path) -> Path:
    path = where / "pkg-1.0.tar.gz"
    path.write_bytes(gzip.compress(b"just some text, not a tar archive\n" * 40))
    return path


def encrypted_zip(where: Path, outside: Path) -> Path:
    """A member flagged as encrypted (zipfile cannot write one, so the flag is patched in)."""
    data = bytearray(write_zip(where / "enc.zip", [("secret.py", b"ciphertext, pretend", 0)]).read_bytes())
    central = data.index(b"PK\x01\x02")
    data[6] |= 0x1  # general purpose flags, local header
    data[central + 8] |= 0x1  # and central directory
    (where / "enc.zip").write_bytes(data)
    return where / "enc.zip"


# --- corrupt: every checksum is verified -----------------------------------------------


def _patched(path: Path, name: str, *offsets: int) -> Path:
    """A copy of ``path`` with the byte at each offset (negative: from the end) inverted."""
    data = bytearray(path.read_bytes())
    for offset in offsets:
        data[offset] ^= 0xFF
    out = path.with_name(name)
    out.write_bytes(data)
    return out


def gzip_bad_crc(where: Path, outside: Path) -> Path:
    """The gzip trailer's CRC-32 (8 bytes from the end) is wrong: every member reads fine."""
    return _patched(sample_tar(where), "crc.tar.gz", -8)


def gzip_bad_length(where: Path, outside: Path) -> Path:
    """The gzip trailer's ISIZE (the last 4 bytes) is wrong."""
    return _patched(sample_tar(where), "len.tar.gz", -1)


def gzip_no_trailer(where: Path, outside: Path) -> Path:
    """The stream stops before its 8-byte trailer (the tar inside is whole)."""
    whole = sample_tar(where).read_bytes()
    (where / "cut-trailer.tar.gz").write_bytes(whole[:-8])
    return where / "cut-trailer.tar.gz"


def bz2_bad_crc(where: Path, outside: Path) -> Path:
    """The bzip2 stream's combined CRC (in its last bytes) is wrong."""
    return _patched(sample_tar(where, "w:bz2", "pkg-1.0.tar.bz2"), "crc.tar.bz2", -3)


def xz_bad_check(where: Path, outside: Path) -> Path:
    """The xz stream footer's CRC-32 (12 bytes from the end) is wrong."""
    return _patched(sample_tar(where, "w:xz", "pkg-1.0.tar.xz"), "crc.tar.xz", -12)


def zip_bad_crc(where: Path, outside: Path) -> Path:
    """One member's data does not match the CRC-32 both headers give."""
    archive = sample_zip(where)
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo("pkg-1.0/pkg/__init__.py")
    data_at = info.header_offset + 30 + len(info.filename)
    return _patched(archive, "crc.zip", data_at + 1)


def zip_symlink_bad_crc(where: Path, outside: Path) -> Path:
    """A member marked as a symlink whose (short) data fails its CRC."""
    archive = write_zip(where / "l.zip", [("pkg/link.py", b"target.py", 0o120777)])
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo("pkg/link.py")
    return _patched(archive, "lcrc.zip", info.header_offset + 30 + len(info.filename))


# --- ambiguous: installers read them differently ---------------------------------------


def tar_gz_then_zip(where: Path, outside: Path) -> Path:
    """A valid tar.gz with a valid zip appended: pip installs the zip, tar readers the tar."""
    tar = sample_tar(where).read_bytes()
    evil = write_zip(where / "evil.zip", [("pkg-1.0/setup.py", b"import os\nos.system('id')\n", 0)])
    (where / "poly.tar.gz").write_bytes(tar + evil.read_bytes())
    return where / "poly.tar.gz"


def plain_tar_then_zip(where: Path, outside: Path) -> Path:
    tar = sample_tar(where, "w", "pkg-1.0.tar").read_bytes()
    evil = write_zip(where / "evil.zip", [("pkg-1.0/setup.py", b"import os\n", 0)])
    (where / "poly.tar").write_bytes(tar + evil.read_bytes())
    return where / "poly.tar"


def tar_then_many_zeros(where: Path, outside: Path) -> Path:
    """A tar.gz whose stream goes on with 9 MiB of zeros after the end marker."""
    tar = sample_tar(where, "w", "pkg-1.0.tar").read_bytes()
    path = where / "zeros.tar.gz"
    with gzip.open(path, "wb") as out:
        out.write(tar)
        for _ in range(9):
            out.write(bytes(CHUNK))
    return path


# Flagged, not refused: (builder, ambiguity kind, severity) are listed in tests/test_archive.py.


def zip_named_tar_gz(where: Path) -> Path:
    return sample_zip(where, name="pkg-1.0.tar.gz")


def plain_tar_named_tar_gz(where: Path) -> Path:
    return sample_tar(where, "w", "pkg-1.0.tar.gz")


def zip_after_junk(where: Path) -> Path:
    """A zip with a shell script in front of it (a self-extractor's shape)."""
    body = sample_zip(where).read_bytes()
    (where / "pkg-1.0-py3-none-any.whl").write_bytes(b"#!/bin/sh\nexec unzip \"$0\"\n" * 8 + body)
    return where / "pkg-1.0-py3-none-any.whl"


def zip_after_zip(where: Path) -> Path:
    """Two zips back to back: zipfile (pip) reads the second, a streaming reader the first."""
    first = write_zip(where / "first.zip", [("pkg/__init__.py", b"import os\nos.system('id')\n", 0)])
    second = sample_zip(where)
    (where / "two.whl").write_bytes(first.read_bytes() + second.read_bytes())
    return where / "two.whl"


def zip_with_appended_data(where: Path) -> Path:
    body = sample_zip(where).read_bytes()
    (where / "tail.whl").write_bytes(body + b"payload after the end record\n" * 4)
    return where / "tail.whl"


def _drop_central_entry(data: bytes, name: bytes) -> bytes:
    """``data`` (a small zip, no zip64) without ``name``'s central directory entry."""
    end = data.rindex(b"PK\x05\x06")
    count, size_cd, offset_cd = struct.unpack_from("<HLL", data, end + 10)
    entries, at = [], offset_cd
    while at < offset_cd + size_cd:
        nlen, elen, clen = struct.unpack_from("<3H", data, at + 28)
        entries.append(data[at : at + 46 + nlen + elen + clen])
        at += 46 + nlen + elen + clen
    kept = [e for e in entries if e[46 : 46 + struct.unpack_from("<H", e, 28)[0]] != name]
    cd = b"".join(kept)
    record = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(kept), len(kept), len(cd), offset_cd, 0)
    return data[:offset_cd] + cd + record


def zip_with_unlisted_member(where: Path) -> Path:
    """A local file between two members that the central directory does not list."""
    path = write_zip(where / "hidden.whl", [
        ("pkg/__init__.py", b"VERSION = 1\n", 0),
        ("pkg/hidden.py", b"import os\nos.system('id')\n", 0),
        ("pkg/util.py", b"def f():\n    return 1\n", 0),
    ])
    path.write_bytes(_drop_central_entry(path.read_bytes(), b"pkg/hidden.py"))
    return path


def zip_local_header_lies(where: Path) -> Path:
    """A member's local header gives another CRC than the directory (which matches the data)."""
    archive = sample_zip(where)
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo("pkg-1.0/setup.py")
    return _patched(archive, "lies.whl", info.header_offset + 14)


def zip_symlink_member(where: Path) -> Path:
    """Marked as a symlink; pip writes its "target" (here, code) as pkg/run.py."""
    return write_zip(where / "link.whl", [("pkg/__init__.py", b"", 0),
                                          ("pkg/run.py", b"import os\nos.system('id')\n", 0o120777)])


def zip_directory_mode_file(where: Path) -> Path:
    """Mode says directory, name says file: pip writes a file."""
    return write_zip(where / "dirmode.whl", [("pkg/tool.py", b"print('hi')\n", 0o040755)])


def tar_case_collision_code(where: Path) -> Path:
    return write_tar(where / "pkg-1.0.tar.gz", [member("pkg-1.0/pkg/__init__.py", b"SAFE = 1\n"),
                                                member("pkg-1.0/pkg/__INIT__.py", b"import os\n")])


def tar_case_collision_data(where: Path) -> Path:
    return write_tar(where / "pkg-1.0.tar.gz", [member("pkg-1.0/README", b"read me\n"),
                                                member("pkg-1.0/readme", b"or me\n")])


def tar_unicode_collision(where: Path) -> Path:
    """"café.py" twice: once composed (NFC), once decomposed (NFD, as macOS writes it)."""
    return write_tar(where / "pkg-1.0.tar.gz", [member("pkg-1.0/caf\u00e9.py", b"X = 1\n"),
                                                member("pkg-1.0/cafe\u0301.py", b"import os\n")])


def tar_with_trailing_data(where: Path) -> Path:
    """Data after the end-of-archive marker, inside the gzip stream."""
    tar = sample_tar(where, "w", "pkg-1.0.tar").read_bytes()
    path = where / "pkg-1.0.tar.gz"
    path.write_bytes(gzip.compress(tar + b"import os; os.system('id')\n" * 40))
    return path


def sdist_extra_top_level(where: Path) -> Path:
    """pkg-1.0/ as expected, plus a setup.py at the root: pip builds the root one."""
    return write_tar(where / "pkg-1.0.tar.gz", [
        member("pkg-1.0/setup.py", b"from setuptools import setup\nsetup(name='pkg')\n"),
        member("setup.py", b"import os\nos.system('id')\n"),
    ])


def sdist_wrong_top_folder(where: Path) -> Path:
    return write_tar(where / "pkg-1.0.tar.gz", [member("other-2.0/setup.py", b"pass\n")])


def sdist_without_top_folder(where: Path) -> Path:
    return write_tar(where / "pkg-1.0.tar.gz", [member("setup.py", b"pass\n"),
                                                member("pkg/__init__.py", b"")])
