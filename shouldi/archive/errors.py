"""Errors of the archive layer.

An archive that is hostile, over a limit or unreadable is *refused*: the caller learns
why (:attr:`ArchiveRefused.kind`) and which member (:attr:`ArchiveRefused.member`), and
nothing it wrote stays behind. Other failures (the archive file cannot be opened, the
destination is unusable, the disk is full) are plain :class:`ArchiveError`::

    ShouldiError                    (shouldi.errors)
    └── ArchiveError                exit 3: the archive could not be extracted
        └── ArchiveRefused          hostile, over a limit, corrupt or of an unknown format
"""

from __future__ import annotations

from typing import Literal, get_args

from shouldi.errors import ShouldiError

__all__ = ["REFUSAL_KINDS", "ArchiveError", "ArchiveRefused", "RefusalKind"]

RefusalKind = Literal[
    "traversal",  # a member name climbs out with ".."
    "absolute-path",  # "/x", "C:x", "//server/share"
    "link-out",  # a symlink or hard link pointing outside the tree (or to nothing extracted)
    "device",  # character or block device
    "fifo",
    "special",  # any other member type (sockets, unknown tar types)
    "duplicate",  # a name given twice, or a member written under a file or a link
    "bad-name",  # a name the filesystem cannot hold (NUL byte, too long)
    "too-large",  # total uncompressed size over the limit
    "too-many-members",
    "ratio",  # uncompressed/compressed over the limit: a bomb
    "member-too-large",
    "encrypted",
    "unsupported",  # e.g. a zip compression method this Python cannot read
    "corrupt",  # truncated, malformed, or failing an integrity check (CRC, length)
    "ambiguous",  # readers get different files out of it (a tar that is also a zip)
    "unknown-format",  # the bytes are no archive format we extract
]

REFUSAL_KINDS: frozenset[str] = frozenset(get_args(RefusalKind))


class ArchiveError(ShouldiError):
    """The archive could not be extracted. Base of this layer's errors."""


class ArchiveRefused(ArchiveError):
    """The archive was refused: hostile, over a limit, corrupt or not an archive.

    ``str(err)`` is one line; the member name is shown with ``repr`` so control
    characters in a hostile name cannot forge extra output lines.
    """

    def __init__(self, kind: RefusalKind, message: str, member: str | None = None) -> None:
        self.kind: RefusalKind = kind
        self.member = member
        self.message = message
        where = f" (member {member!r})" if member is not None else ""
        super().__init__(f"archive refused [{kind}]: {message}{where}")
