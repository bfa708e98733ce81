"""Writing archive members into a destination tree, whatever the archive format.

The tar and zip readers only decode; every decision about names, links, duplicates
and limits is taken here, once. Names are checked lexically (no ``realpath`` per
member): ``..`` and absolute names are refused outright, and since this writer never
creates a symlink and creates every directory itself, a normalised relative name
cannot resolve outside the destination. Files are opened with
``O_CREAT | O_EXCL | O_NOFOLLOW`` as a second guard: nothing existing is overwritten
and no link is followed.

Names that differ only by case or by Unicode normalisation are written as they are (this
filesystem keeps both) and recorded as ambiguities (:mod:`shouldi.archive.ambiguity`): on
Windows or macOS one would replace the other. The top-level entries are kept for the sdist
layout check.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar

from shouldi.archive.ambiguity import Ambiguities, AmbiguityKind, fold_name, is_code
from shouldi.archive.errors import ArchiveError, ArchiveRefused
from shouldi.archive.limits import ExtractLimits
from shouldi.results import Severity

__all__ = ["CHUNK", "Readable", "TreeWriter", "normalise"]

CHUNK = 1 << 20  # bytes per read/write while streaming a member
_P = ParamSpec("_P")
_R = TypeVar("_R")
_DRIVE = re.compile(r"[A-Za-z]:")
_OPEN_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def normalise(name: str) -> str:
    """Return ``name`` as a clean relative path "a/b/c" ("" for the root), or refuse it.

    Backslashes count as separators (Windows-made zips use them, and on Windows they
    are one), so ``..\\x`` is traversal and ``\\\\server\\share`` is absolute.
    """
    if "\x00" in name:
        raise ArchiveRefused("bad-name", "NUL byte in a member name", name)
    slashed = name.replace("\\", "/")
    if slashed.startswith("/"):
        raise ArchiveRefused("absolute-path", "absolute member name", name)
    parts = [p for p in slashed.split("/") if p and p != "."]
    if parts and _DRIVE.match(parts[0]):
        raise ArchiveRefused("absolute-path", "member name with a drive letter", name)
    if ".." in parts:
        raise ArchiveRefused("traversal", "member name climbs out with '..'", name)
    return "/".join(parts)


class TreeWriter:
    """Create members under ``root`` and keep the running counts the limits apply to.

    ``compressed`` returns how many compressed bytes the reader has consumed so far;
    it is only called once ``limits.ratio_floor`` bytes have been written.
    """

    def __init__(self, root: str, limits: ExtractLimits, compressed: Callable[[], int]) -> None:
        self.root = root
        self.limits = limits
        self.compressed = compressed
        self.member_count = 0
        self.total_size = 0
        self.skipped_links = 0
        self._files: set[str] = set()
        self._dirs: set[str] = {""}
        self._links: set[str] = set()
        self.ambiguities = Ambiguities()
        self.top_level: dict[str, bool] = {}  # first name component -> is a directory
        self._folded: dict[str, tuple[str, bool]] = {"": ("", False)}  # -> (name, is a file)

    def count_member(self, name: str) -> None:
        """Count one archive entry, whatever its type, against ``max_members``."""
        self.member_count += 1
        if self.member_count > self.limits.max_members:
            raise ArchiveRefused(
                "too-many-members", f"more than {self.limits.max_members} members", name
            )

    def directory(self, name: str) -> None:
        rel = normalise(name)
        if rel in self._dirs:
            return
        self._claim(rel, name)
        self._make_parents(rel, name)
        self._mkdir(rel, name)

    def file(self, name: str, source: Readable) -> None:
        """Stream ``source`` into a new file ``name``, counting bytes as they come."""
        rel = normalise(name)
        if not rel:
            raise ArchiveRefused("duplicate", "a file named like the root", name)
        self._claim(rel, name, is_file=True)
        self._make_parents(rel, name)
        self._write(rel, name, source)
        self._files.add(rel)

    def symlink(self, name: str, target: str) -> None:
        """Skip a symlink that stays inside the tree; refuse one that points out."""
        rel = normalise(name)
        self.check_link(rel, target, name)
        self._claim(rel, name, is_file=True)  # a link named like a file collides like one
        self._links.add(rel)
        self.skipped_links += 1

    def check_link(self, rel: str, target: str, name: str) -> None:
        """Refuse a symlink ``rel`` to ``target`` that would point out of the tree."""
        if not _inside(rel.rpartition("/")[0], target):
            raise ArchiveRefused("link-out", f"symlink to {target!r} leaves the tree", name)

    def hardlink(self, name: str, target: str) -> None:
        """Copy an earlier extracted regular file; refuse any other link target."""
        try:
            target_rel = normalise(target)
        except ArchiveRefused as e:
            raise ArchiveRefused("link-out", f"hard link to {target!r}: {e.message}", name) from e
        if target_rel not in self._files:
            raise ArchiveRefused(
                "link-out", f"hard link to {target!r}, not an earlier regular file", name
            )
        fd = self._os(name, os.open, self._path(target_rel), _READ_FLAGS)
        with os.fdopen(fd, "rb") as source:
            self.file(name, source)

    def _claim(self, rel: str, name: str, *, is_file: bool = False) -> None:
        if rel in self._files or rel in self._links or rel in self._dirs:
            raise ArchiveRefused("duplicate", "member name given twice", name)
        self._note(rel, is_file)

    def _note(self, rel: str, is_file: bool) -> None:
        """Record ``rel`` for the top-level layout and the case/normalisation check."""
        top, slash, _ = rel.partition("/")
        self.top_level[top] = bool(slash) or not is_file or self.top_level.get(top, False)
        folded = fold_name(rel)
        other = self._folded.setdefault(folded, (rel, is_file))
        if other[0] != rel:
            self._collision(rel, is_file, *other)

    def _collision(self, rel: str, is_file: bool, other: str, other_is_file: bool) -> None:
        kind: AmbiguityKind = (
            "case-collision" if rel.casefold() == other.casefold() else "unicode-collision"
        )
        code = is_file and other_is_file and (is_code(rel) or is_code(other))
        self.ambiguities.add(
            kind, Severity.HIGH if code else Severity.MEDIUM,
            f"{other!r} and {rel!r} are one name on case-insensitive or normalising filesystems"
            + (" (code: which one is installed depends on the platform)" if code else ""),
            rel,
        )

    def _make_parents(self, rel: str, name: str) -> None:
        parent = rel.rpartition("/")[0]
        if parent in self._dirs:  # the common case: one set lookup per member
            return
        parts = parent.split("/")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            if prefix in self._dirs:
                continue
            if prefix in self._files or prefix in self._links:
                raise ArchiveRefused("duplicate", f"member written under {prefix!r}", name)
            self._note(prefix, False)
            self._mkdir(prefix, name)

    def _path(self, rel: str) -> str:
        # str concatenation, not Path: this runs for every member and rel is already clean
        return self.root + "/" + rel

    def _mkdir(self, rel: str, name: str) -> None:
        self._os(name, os.mkdir, self._path(rel), 0o755)
        self._dirs.add(rel)

    def _write(self, rel: str, name: str, source: Readable) -> None:
        limits = self.limits
        fd = self._os(name, os.open, self._path(rel), _OPEN_FLAGS, 0o644)
        size = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                self.total_size += len(chunk)
                if size > limits.max_member_size:
                    raise ArchiveRefused(
                        "member-too-large", f"member over {limits.max_member_size} bytes", name
                    )
                if self.total_size > limits.max_total_size:
                    raise ArchiveRefused(
                        "too-large", f"more than {limits.max_total_size} bytes uncompressed", name
                    )
                if self.total_size >= limits.ratio_floor:
                    self._check_ratio(name)
                self._os(name, out.write, chunk)

    def _check_ratio(self, name: str | None) -> None:
        ratio = self.total_size / max(self.compressed(), 1)
        if ratio > self.limits.max_ratio:
            raise ArchiveRefused(
                "ratio", f"compression ratio over {self.limits.max_ratio:g} (a bomb)", name
            )

    def _os(self, name: str, func: Callable[_P, _R], *args: _P.args, **kw: _P.kwargs) -> _R:
        """Run one filesystem call, translating OSError into this layer's errors."""
        try:
            return func(*args, **kw)
        except OSError as e:
            if e.errno in (errno.ENAMETOOLONG, errno.EILSEQ):
                raise ArchiveRefused("bad-name", f"name not writable: {e.strerror}", name) from e
            raise ArchiveError(f"cannot write member {name!r}: {e.strerror or e}") from e


def _inside(parent: str, target: str) -> bool:
    """Whether symlink ``target``, relative to directory ``parent``, stays in the tree."""
    slashed = target.replace("\\", "/")
    if slashed.startswith("/") or _DRIVE.match(slashed) or "\x00" in slashed:
        return False
    depth = len(parent.split("/")) if parent else 0
    for part in slashed.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return False
        elif part and part != ".":
            depth += 1
    return True
