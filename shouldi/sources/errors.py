"""Errors of the scan-record sources (CSV, JSON Lines, SQLite datasets).

A source is a file the user names (``--output results.csv``, ``dataset export a.db b.csv``),
so its errors are the user's to fix and exit 2::

    ShouldiError
    └── UsageError                    exit 2
        └── SourceError               unknown format, unreadable/malformed file, bad record
"""

from __future__ import annotations

from shouldi.errors import UsageError

__all__ = ["SourceError"]


class SourceError(UsageError):
    """A record file could not be opened, read or written. One line, naming the file."""
