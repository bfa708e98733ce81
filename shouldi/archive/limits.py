"""The limits an extraction enforces, and what an extraction reports."""

from __future__ import annotations

from dataclasses import dataclass

from shouldi.archive.ambiguity import Ambiguity

__all__ = ["ExtractLimits", "ExtractStats"]


@dataclass(frozen=True)
class ExtractLimits:
    """Caps against bombs, all enforced while streaming, never from header claims alone.

    ``max_ratio`` (uncompressed bytes written / compressed bytes consumed) is only
    checked once ``ratio_floor`` bytes have been written, so small, very compressible
    files (a license full of spaces) do not trip it.
    """

    max_total_size: int = 1 << 30
    max_members: int = 100_000
    max_ratio: float = 200.0
    max_member_size: int = 512 << 20
    ratio_floor: int = 10 << 20


@dataclass(frozen=True)
class ExtractStats:
    """What was extracted.

    ``member_count`` counts every entry (files, directories, links). Symbolic links that
    stay inside the tree are not created, only counted in ``skipped_links``: scanners see
    their targets anyway, and a tree without links cannot redirect a later write.
    ``ambiguities`` are the ways installers disagree on this archive (see
    :mod:`shouldi.archive.ambiguity`), most severe first; each is a finding of the archive
    check (:meth:`Ambiguity.finding`).
    """

    format: str  # "tar" | "tar.gz" | "tar.bz2" | "tar.xz" | "zip"
    member_count: int
    total_size: int
    skipped_links: int = 0
    ambiguities: tuple[Ambiguity, ...] = ()
