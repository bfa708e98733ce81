"""Errors of the scanner layer.

Scanners never let these escape :meth:`CodeScanner.scan`: they are raised inside a scanner
and translated into ``CheckResult(status=Status.ERROR, reason=str(err))`` so that a scanner
that could not look is never read as "clean". The popular-names list is the exception: its
loading and refreshing raise :class:`PopularListError` to the caller::

    ShouldiError                      (shouldi.errors)
    └── ScannerError                  a scanner could not run
        ├── ScannerTimeout            a scanner ran out of time (its processes were killed)
        ├── ToolFailed                an external tool exited badly or printed garbage
        └── PopularListError          the popular-package list cannot be read or refreshed
"""

from __future__ import annotations

from shouldi.errors import ShouldiError

__all__ = ["PopularListError", "ScannerError", "ScannerTimeout", "ToolFailed"]


class ScannerError(ShouldiError):
    """Base of every scanner-layer error: the scan did not happen or is incomplete."""


class ScannerTimeout(ScannerError):
    """The scan took longer than its budget; every process it started was killed."""


class ToolFailed(ScannerError):
    """An external tool (bandit) exited with an unexpected code or unreadable output."""


class PopularListError(ScannerError):
    """The popular-package list is missing, malformed, or could not be downloaded."""
