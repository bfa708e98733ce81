"""Errors of the advisory layer (known-vulnerability sources and the local store).

Advisory *sources* never let these escape :meth:`AdvisorySource.lookup`: source trouble is an
:class:`~shouldi.results.AdvisoryAnswer` with status SKIPPED (the source could not look: not
served, unreachable) or ERROR (the source is broken: garbage, a corrupt store) and a one-line
reason, so a source that could not look is never read as "no known vulnerabilities". The local
store, its import/download and the online services raise them to their caller, translated from
sqlite3, yaml, zipfile, tarfile and httpx errors with ``raise ... from e``::

    ShouldiError                      (shouldi.errors)
    └── AdvisoryError                 exit 3: advisory data could not be read or written
        ├── AdvisoryImportError       exit 2: the data to import is unreadable, corrupt, too
        │   │                         large, too deeply nested, uses YAML aliases, or is not OSV
        │   └── UnsupportedInput      exit 2: the path is neither a file nor an archive we read
        ├── StoreError                the SQLite store is unusable (corrupt, foreign, newer,
        │                             locked); ``repairable`` when ``--replace`` can rebuild it
        ├── DownloadError             the advisory download failed (unreachable, HTTP, garbage)
        └── ServiceError              an online source answered garbage (answer: ERROR)
            └── ServiceUnavailable    it could not be asked: unreachable, timed out, 5xx/429
                                      after the client's retries, not served (answer: SKIPPED)
"""

from __future__ import annotations

from shouldi.errors import EXIT_BAD_INPUT, ShouldiError

__all__ = [
    "AdvisoryError",
    "AdvisoryImportError",
    "DownloadError",
    "ServiceError",
    "ServiceUnavailable",
    "StoreError",
    "UnsupportedInput",
]


class AdvisoryError(ShouldiError):
    """Base of every advisory-layer error: advisory data could not be read or written."""


class AdvisoryImportError(AdvisoryError):
    """The advisories to import cannot be used (bad input); nothing was changed in the store."""

    exit_code = EXIT_BAD_INPUT


class UnsupportedInput(AdvisoryImportError):
    """The user pointed at something we do not import (wrong type of file): bad input."""


class StoreError(AdvisoryError):
    """The local advisory database cannot be opened, read or written.

    ``repairable`` is true when ``shouldi db import FILE --replace`` can rebuild it (the file is
    ours or not a database at all); false when it must be left alone (another program's SQLite
    database, a directory, a lock held by a running import)."""

    def __init__(self, message: str, *, repairable: bool = False) -> None:
        super().__init__(message)
        self.repairable = repairable


class DownloadError(AdvisoryError):
    """Downloading an advisory database failed; the store was left as it was."""


class ServiceError(AdvisoryError):
    """An online advisory service (PyPI's JSON API, the OSV API) answered something unusable."""


class ServiceUnavailable(ServiceError):
    """An online advisory service could not be asked (unreachable, timed out, overloaded, or
    the endpoint is not served): the source says SKIPPED, it is not broken."""
