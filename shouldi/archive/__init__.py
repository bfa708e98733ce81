"""Safe extraction of hostile archives (sdists, wheels, model archives).

Use :func:`scratch_dir` for a private directory and :func:`extract_archive` into it::

    with scratch_dir() as tmp:
        stats = extract_archive(sdist_path, tmp)

Nothing from an archive is ever executed or written outside the destination; archives
that try (traversal, links out, devices, bombs) raise :class:`ArchiveRefused`.
"""

from __future__ import annotations

from shouldi.archive.errors import REFUSAL_KINDS, ArchiveError, ArchiveRefused, RefusalKind
from shouldi.archive.extract import detect_format, extract_archive
from shouldi.archive.limits import ExtractLimits, ExtractStats
from shouldi.archive.scratch import scratch_dir

__all__ = [
    "REFUSAL_KINDS",
    "ArchiveError",
    "ArchiveRefused",
    "ExtractLimits",
    "ExtractStats",
    "RefusalKind",
    "detect_format",
    "extract_archive",
    "scratch_dir",
]
