"""Safe extraction of hostile archives (sdists, wheels, model archives).

Use :func:`scratch_dir` for a private directory and :func:`extract_archive` into it::

    with scratch_dir() as tmp:
        stats = extract_archive(sdist_path, tmp)

Nothing from an archive is ever executed or written outside the destination; archives
that try (traversal, links out, devices, bombs), corrupt ones (every checksum is verified)
and ambiguous ones (a tar that is also a zip) raise :class:`ArchiveRefused`. Archives that
installers read differently in lesser ways are extracted as pip would and reported in
:attr:`ExtractStats.ambiguities` (see :mod:`shouldi.archive.ambiguity`)::

    stats = extract_archive(sdist_path, tmp, kind="sdist")
    findings = [a.finding() for a in stats.ambiguities]  # high: fail, medium: warn
"""

from __future__ import annotations

from shouldi.archive.ambiguity import Ambiguity, AmbiguityKind
from shouldi.archive.errors import REFUSAL_KINDS, ArchiveError, ArchiveRefused, RefusalKind
from shouldi.archive.extract import detect_format, extract_archive
from shouldi.archive.limits import ExtractLimits, ExtractStats
from shouldi.archive.scratch import scratch_dir

__all__ = [
    "REFUSAL_KINDS",
    "Ambiguity",
    "AmbiguityKind",
    "ArchiveError",
    "ArchiveRefused",
    "ExtractLimits",
    "ExtractStats",
    "RefusalKind",
    "detect_format",
    "extract_archive",
    "scratch_dir",
]
