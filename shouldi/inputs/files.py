"""Reading a file the user named, as hostile input: a regular file, bounded, decodable.

Every input file (a requirements file and its ``-r``/``-c`` includes, ``pyproject.toml``,
installed-distribution metadata, a policy file) goes through :func:`read_text_input` or
:func:`read_bytes_input`. The rules, and why:

* **Opened once, checked on the open descriptor** (``fstat`` after ``open``), so the file
  checked is the file read: no window for a swap between ``stat`` and ``open``.
* **Opened with ``O_NONBLOCK``**: opening a FIFO for reading otherwise blocks until some
  writer appears, i.e. forever. The flag is cleared before reading a regular file.
* **Regular files only**: a FIFO, socket, character or block device (``/dev/zero``,
  ``/dev/stdin``) or a directory is refused by type, before a byte is read. Symlinks are
  followed (a symlinked requirements file is normal); their target must be regular too.
* **Bounded while reading, not by ``st_size``**: files under ``/proc`` report size 0 and a
  file can grow while read, so at most ``limit + 1`` bytes are ever read and more than
  ``limit`` is refused.
* **Text is UTF-8** (a BOM is allowed, UTF-16 with a BOM too) **and has no NUL byte**: a
  binary file given as a requirements file is refused as such, never parsed as garbage.

Every refusal is one :class:`~shouldi.inputs.errors.InputError` line naming the file; a caller
in another layer re-raises it as its own error (``raise PolicyError(str(e)) from e``).

:func:`same_file` says whether two paths name one file (symlinks resolved, and the same
device and inode when both exist), so an output can be refused when it is one of the inputs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from shouldi.inputs.errors import InputError

__all__ = ["MiB", "decode_text", "read_bytes_input", "read_text_input", "same_file"]

MiB = 1 << 20
_OPEN_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_CHUNK = 1 << 16
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_bytes_input(path: Path, *, limit: int, what: str, shown: str | None = None) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them, or :class:`InputError`.

    ``what`` says what the file is, for messages ("requirements file"); ``shown`` is how to
    name it (default ``str(path)``). Messages start ``cannot read <shown>: ``.
    """
    name = shown if shown is not None else str(path)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as e:
        if e.errno == errno.ENXIO:  # a socket (or a FIFO on some systems): say which
            with contextlib.suppress(OSError):
                _check_regular(Path(path).stat().st_mode, name, what)
        raise InputError(f"cannot read {name}: {_why(e)}") from e
    try:
        _check_regular(os.fstat(fd).st_mode, name, what)
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, min(_CHUNK, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise InputError(
                    f"cannot read {name}: larger than {_size(limit)}, the limit for a {what}"
                )
        return b"".join(chunks)
    except OSError as e:
        raise InputError(f"cannot read {name}: {_why(e)}") from e
    finally:
        os.close(fd)


def read_text_input(path: Path, *, limit: int, what: str, shown: str | None = None) -> str:
    """The text of the regular file ``path`` (see :func:`read_bytes_input` and :func:`decode_text`)."""
    data = read_bytes_input(path, limit=limit, what=what, shown=shown)
    return decode_text(data, shown if shown is not None else str(path))


def decode_text(data: bytes, name: str) -> str:
    """``data`` as text: UTF-8 (BOM allowed), or UTF-16 with its BOM; no NUL bytes."""
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"cannot read {name}: not UTF-8 text ({e.reason} at byte {e.start})"
        ) from e
    if "\x00" in text:
        at = text.index("\x00")
        raise InputError(f"cannot read {name}: binary data (a NUL byte at character {at})")
    return text


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name the same file.

    True when both exist and share device and inode (hard links, bind mounts, symlinks,
    ``/proc/self/fd`` paths), or when their fully resolved paths are equal (so a file that
    does not exist yet, e.g. an output, still matches an input spelled another way).
    """
    try:
        sa, sb = Path(a).stat(), Path(b).stat()
    except OSError:
        pass
    else:
        return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)
    return os.path.realpath(a) == os.path.realpath(b)  # never raises, even on a symlink loop


def _check_regular(mode: int, name: str, what: str) -> None:
    if not stat.S_ISREG(mode):
        kind = next((k for test, k in _KINDS if test(mode)), "something else")
        raise InputError(f"cannot read {name}: it is {kind}; a {what} must be a regular file")


def _why(e: OSError) -> str:
    if e.errno == errno.ELOOP:
        return "too many levels of symbolic links"
    return e.strerror or str(e)


def _size(limit: int) -> str:
    return f"{limit // MiB} MiB" if limit >= MiB and limit % MiB == 0 else f"{limit} bytes"
