"""Archives that installers read differently: each is a finding, never a silent pass.

An archive can be well formed and still *ambiguous*: two readers (pip, ``unzip``, ``tar``, a
streaming zip reader, a case-insensitive filesystem, a reviewer's file browser) get different
files out of it. The extractor writes what pip would install and reports each ambiguity in
:attr:`ExtractStats.ambiguities <shouldi.archive.ExtractStats.ambiguities>`. The severity
says whether the ambiguity **can hide code from a reviewer or a scanner** (``high``: the
archive check fails) or only makes installers disagree (``medium``: a warning):

``high`` -- code can hide:

* ``zip-prepended``: bytes before the first member. Another archive fits there; pip (Python's
  ``zipfile``, which reads the central directory at the end) never sees it, streaming readers
  and tools that read from the front do.
* ``zip-unlisted``: bytes between members, or between the last member and the central
  directory, that no directory entry covers: a local file only streaming readers extract.
* ``zip-overlap``: two directory entries share bytes (one file can be read as two).
* ``zip-header-mismatch``: a member's local header disagrees with its directory entry
  (compression, sizes, CRC): readers that trust local headers extract other bytes.
* ``case-collision`` / ``unicode-collision`` of two files one of which is code (``.py``,
  ``.pth``, extension modules...): the names differ only by case or by Unicode normalisation,
  so on Windows and macOS one silently replaces the other, and the code that runs there is
  not the code a reviewer reads on Linux.
* ``sdist-extra-top-level``: an sdist with its ``name-version/`` folder *and* other top-level
  entries. pip strips a leading folder only when every member has it, so it builds from the
  archive root (a root ``setup.py``), while a reviewer reads the folder.

``medium`` -- installers disagree, nothing is hidden:

* ``name-mismatch``: the file name says one format, the bytes another (a zip named
  ``.tar.gz``, a plain tar named ``.tar.gz``). pip goes by content for zips and by name for
  compressed tars; tools that go by name fail.
* ``zip-appended``: bytes after the end-of-central-directory record and its comment; strict
  readers refuse the file, others ignore them.
* ``zip-type-mismatch``: a member whose Unix mode says symlink or directory. pip writes it
  as a regular file (a "symlink" becomes a file holding its target text, which is scanned as
  such), ``unzip`` makes a link or a directory.
* ``tar-trailing-data``: non-zero data after the tar end-of-archive marker: tarfile (pip)
  stops at the marker, ``tar --ignore-zeros`` reads on.
* ``case-collision`` / ``unicode-collision`` of data files or directories.
* ``sdist-top-folder``: the one top folder of an sdist is not ``name-version`` from the file
  name; ``sdist-no-top-folder``: members sit at the top with no folder (the sdist format
  requires one; pip copes, other tools do not).

Refused outright (not findings, see :class:`~shouldi.archive.ArchiveRefused`): a file that is
both a tar and a zip (``ambiguous``: pip checks "is it a zip?" first and installs the zip's
files, tar readers the tar's, so no scan of one is a scan of what is installed), duplicate
member names (``duplicate``), and every integrity failure (``corrupt``: a gzip CRC or length,
bz2 and xz checks, zip CRCs of every member, all verified by reading to the end).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from shouldi.results import Finding, Severity

__all__ = [
    "CODE_SUFFIXES",
    "Ambiguities",
    "Ambiguity",
    "AmbiguityKind",
    "fold_name",
    "format_from_name",
    "is_code",
    "sdist_layout",
]

AmbiguityKind = Literal[
    "zip-prepended",
    "zip-unlisted",
    "zip-overlap",
    "zip-header-mismatch",
    "zip-appended",
    "zip-type-mismatch",
    "tar-trailing-data",
    "name-mismatch",
    "case-collision",
    "unicode-collision",
    "sdist-extra-top-level",
    "sdist-top-folder",
    "sdist-no-top-folder",
]

#: Files that run (or decide what runs) when installed or imported.
CODE_SUFFIXES = (".py", ".pyw", ".pyc", ".pth", ".so", ".pyd", ".dll", ".dylib", ".pyx")
_EXAMPLES = 3  # member names quoted per finding; the count says how many there were
_NAME_FORMATS = (
    (".tar.gz", "tar.gz"), (".tgz", "tar.gz"), (".tar.bz2", "tar.bz2"), (".tbz2", "tar.bz2"),
    (".tar.xz", "tar.xz"), (".txz", "tar.xz"), (".tar", "tar"), (".zip", "zip"), (".whl", "zip"),
    (".egg", "zip"),
)
_SEPARATORS = re.compile(r"[-_.]+")


@dataclass(frozen=True)
class Ambiguity:
    """One way installers disagree on this archive, with how many members show it."""

    kind: AmbiguityKind
    severity: Severity
    message: str
    member: str | None = None  # the first member concerned, if any
    count: int = 1

    def finding(self) -> Finding:
        """As a finding of the archive check (rule ``archive-<kind>``)."""
        return Finding("archive", f"archive-{self.kind}", self.severity, self.message, self.member)


class Ambiguities:
    """Collects ambiguities while extracting; one :class:`Ambiguity` per (kind, severity)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[AmbiguityKind, Severity], list[tuple[str, str | None]]] = (
            defaultdict(list)
        )
        self._counts: dict[tuple[AmbiguityKind, Severity], int] = defaultdict(int)

    def add(self, kind: AmbiguityKind, severity: Severity, detail: str,
            member: str | None = None) -> None:
        key = (kind, severity)
        self._counts[key] += 1
        if len(self._seen[key]) < _EXAMPLES:
            self._seen[key].append((detail, member))

    def result(self) -> tuple[Ambiguity, ...]:
        out = []
        for key, examples in self._seen.items():
            kind, severity = key
            count = self._counts[key]
            message = "; ".join(detail for detail, _ in examples)
            if count > len(examples):
                message += f" (and {count - len(examples)} more)"
            out.append(Ambiguity(kind, severity, f"installers disagree: {message}",
                                 examples[0][1], count))
        return tuple(sorted(out, key=lambda a: (-a.severity.rank, a.kind)))


def fold_name(rel: str) -> str:
    """``rel`` as a case-insensitive, normalisation-insensitive filesystem would compare it."""
    return unicodedata.normalize("NFC", rel).casefold()


def is_code(rel: str) -> bool:
    return rel.lower().endswith(CODE_SUFFIXES)


def format_from_name(filename: str) -> tuple[str, str] | None:
    """``(format, stem)`` that the file name promises (``None``: the name says nothing)."""
    lower = filename.lower()
    for suffix, fmt in _NAME_FORMATS:
        if lower.endswith(suffix) and len(filename) > len(suffix):
            return fmt, filename[: -len(suffix)]
    return None


def sdist_layout(stem: str, top_level: dict[str, bool], found: Ambiguities) -> None:
    """Check an sdist's top level (name -> is a directory) against ``stem`` ("name-version")."""
    wanted = _norm(stem)
    folders = [n for n, is_dir in top_level.items() if is_dir and _norm(n) == wanted]
    others = sorted(n for n in top_level if n not in folders)
    if folders and others:
        shown = ", ".join(repr(n) for n in others[:_EXAMPLES])
        found.add("sdist-extra-top-level", Severity.HIGH,
                  f"the sdist has {folders[0]!r} and {len(others)} other top-level "
                  f"entr{'y' if len(others) == 1 else 'ies'} ({shown}): pip builds from the "
                  "archive root, a reviewer reads the folder", others[0])
    elif folders or not top_level:
        return
    elif len(top_level) == 1 and next(iter(top_level.values())):
        (name,) = top_level
        found.add("sdist-top-folder", Severity.MEDIUM,
                  f"the sdist's top folder is {name!r}, not {stem!r} as its file name says", name)
    else:
        found.add("sdist-no-top-folder", Severity.MEDIUM,
                  f"the sdist has no {stem!r} folder: its {len(top_level)} top-level entries "
                  "sit at the root", others[0])


def _norm(name: str) -> str:
    return _SEPARATORS.sub("-", name).lower()
