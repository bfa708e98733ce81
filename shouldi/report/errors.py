"""Errors of the triage report (``shouldi report``).

Every input of a report is a file the user names, so every error is the user's to fix::

    ShouldiError
    └── UsageError                exit 2
        ├── sources.SourceError   a scan file that cannot be opened or read (unknown format,
        │                         missing, malformed): raised by :mod:`shouldi.sources`
        └── ReportError           a readable file that is not a scan-record file (no verdict,
                                  a reasons column that is not shouldi's), no records at all,
                                  an output that is one of the inputs
"""

from __future__ import annotations

from shouldi.errors import UsageError

__all__ = ["ReportError"]


class ReportError(UsageError):
    """The report cannot be made from these inputs. One line, naming the file (and record)."""
