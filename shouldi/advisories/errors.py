"""Errors of the advisory layer (known-vulnerability sources and the local store).

Advisory *sources* never let these escape :meth:`AdvisorySource.lookup`: source trouble is an
:class:`~shouldi.results.AdvisoryAnswer` with status SKIPPED or ERROR and a reason, so a source
that could not look is never read as "no known vulnerabilities". The local store and its
import/download raise them to the caller (``shouldi db ...``), translated from sqlite3, yaml,
zipfile, tarfile and httpx errors with ``raise ... from e``::

    ShouldiError                      (shouldi.errors)
    └── AdvisoryError                 exit 3: advisory data could not be read or written
        ├── AdvisoryImportError       the data to import is unreadable, corrupt, too large or not OSV
        │   └── UnsupportedInput      exit 2: the path is neither a file nor an archive we read
        ├── StoreError                the SQLite store is unusable (corrupt, wrong format, locked)
        └── DownloadError             the advisory download failed (unreachable, HTTP error, too big)
"""

from __future__ import annotations

from shouldi.errors import EXIT_BAD_INPUT, ShouldiError

__all__ = [
    "AdvisoryError",
    "AdvisoryImportError",
    "DownloadError",
    "StoreError",
    "UnsupportedInput",
]


class AdvisoryError(ShouldiError):
    """Base of every advisory-layer error: advisory data could not be read or written."""


class AdvisoryImportError(AdvisoryError):
    """The advisories to import cannot be used; nothing was changed in the store."""


class UnsupportedInput(AdvisoryImportError):
    """The user pointed at something we do not import (wrong type of file): bad input."""

    exit_code = EXIT_BAD_INPUT


class StoreError(AdvisoryError):
    """The local advisory database cannot be opened, read or written."""


class DownloadError(AdvisoryError):
    """Downloading an advisory database failed; the store was left as it was."""
