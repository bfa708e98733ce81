"""Known-vulnerability sources (advisories) and how their answers are merged.

One interface (:class:`AdvisorySource`), one module per source: ``pypi_json`` (PyPI's JSON
API), ``local`` (the SQLite OSV store filled by ``shouldi db``), ``safety`` / ``safety_db``,
``pip_audit``; ``merge`` combines their answers. A check passes only when at least one source
answered for that exact release (:func:`~shouldi.advisories.interface.vouch`).
"""

from __future__ import annotations

from shouldi.advisories.errors import (
    AdvisoryError,
    AdvisoryImportError,
    DownloadError,
    StoreError,
    UnsupportedInput,
)
from shouldi.advisories.interface import AdvisorySource, vouch
from shouldi.advisories.local import LocalOsvSource
from shouldi.advisories.merge import MergedAdvisories, merge_answers
from shouldi.advisories.pip_audit import PipAuditSource
from shouldi.advisories.pypi_json import PypiJsonSource, parse_pypi_vulnerabilities
from shouldi.advisories.safety import SafetyCliSource, SafetySource
from shouldi.advisories.safety_db import SafetyDbSource
from shouldi.advisories.store import AdvisoryStore, ImportStats, StoreStatus, default_store_path

__all__ = [
    "AdvisoryError",
    "AdvisoryImportError",
    "AdvisorySource",
    "AdvisoryStore",
    "DownloadError",
    "ImportStats",
    "LocalOsvSource",
    "MergedAdvisories",
    "PipAuditSource",
    "PypiJsonSource",
    "SafetyCliSource",
    "SafetyDbSource",
    "SafetySource",
    "StoreError",
    "StoreStatus",
    "UnsupportedInput",
    "default_store_path",
    "merge_answers",
    "parse_pypi_vulnerabilities",
    "vouch",
]
