"""Known-vulnerability sources (advisories) and how their answers are merged and told.

One interface (:class:`AdvisorySource`), one module per source: ``pypi_json`` (PyPI's
per-version JSON, the project JSON folded in), ``osv_api`` (OSV's query API, batched per run),
``local`` (the SQLite OSV store filled by ``shouldi db``), ``safety`` / ``safety_db``,
``pip_audit``. ``merge`` combines their answers: the check holds only when at least one source
answered for that exact release (:func:`~shouldi.advisories.interface.vouch`) and none is
broken. ``messages`` turns answers into the one line a person reads.

Names load on first use (PEP 562): the OSV batcher alone does not import the SQLite store,
YAML or the safety database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shouldi.lazy import lazy_exports

if TYPE_CHECKING:
    from shouldi.advisories.errors import (
        AdvisoryError,
        AdvisoryImportError,
        DownloadError,
        ServiceError,
        ServiceUnavailable,
        StoreError,
        UnsupportedInput,
    )
    from shouldi.advisories.interface import AdvisorySource, vouch
    from shouldi.advisories.local import LocalOsvSource
    from shouldi.advisories.merge import MergedAdvisories, merge_answers
    from shouldi.advisories.messages import problem_line, source_lines, stale_data_line
    from shouldi.advisories.osv_api import OSV_API_URL, OsvApiSource, OsvBatcher, check_service_url
    from shouldi.advisories.pip_audit import PipAuditSource
    from shouldi.advisories.pypi_json import (
        PypiJsonSource,
        json_root_for,
        parse_pypi_vulnerabilities,
    )
    from shouldi.advisories.safety import SafetyCliSource, SafetySource
    from shouldi.advisories.safety_db import SafetyDbSource
    from shouldi.advisories.store import (
        ADVISORY_DB_ENV,
        AdvisoryStore,
        ImportStats,
        StoreStatus,
        default_store_path,
    )

_LAZY = {
    "ADVISORY_DB_ENV": "shouldi.advisories.store",
    "AdvisoryError": "shouldi.advisories.errors",
    "AdvisoryImportError": "shouldi.advisories.errors",
    "AdvisorySource": "shouldi.advisories.interface",
    "AdvisoryStore": "shouldi.advisories.store",
    "check_service_url": "shouldi.advisories.osv_api",
    "default_store_path": "shouldi.advisories.store",
    "DownloadError": "shouldi.advisories.errors",
    "ImportStats": "shouldi.advisories.store",
    "json_root_for": "shouldi.advisories.pypi_json",
    "LocalOsvSource": "shouldi.advisories.local",
    "merge_answers": "shouldi.advisories.merge",
    "MergedAdvisories": "shouldi.advisories.merge",
    "OSV_API_URL": "shouldi.advisories.osv_api",
    "OsvApiSource": "shouldi.advisories.osv_api",
    "OsvBatcher": "shouldi.advisories.osv_api",
    "parse_pypi_vulnerabilities": "shouldi.advisories.pypi_json",
    "PipAuditSource": "shouldi.advisories.pip_audit",
    "problem_line": "shouldi.advisories.messages",
    "PypiJsonSource": "shouldi.advisories.pypi_json",
    "SafetyCliSource": "shouldi.advisories.safety",
    "SafetyDbSource": "shouldi.advisories.safety_db",
    "SafetySource": "shouldi.advisories.safety",
    "ServiceError": "shouldi.advisories.errors",
    "ServiceUnavailable": "shouldi.advisories.errors",
    "source_lines": "shouldi.advisories.messages",
    "stale_data_line": "shouldi.advisories.messages",
    "StoreError": "shouldi.advisories.errors",
    "StoreStatus": "shouldi.advisories.store",
    "UnsupportedInput": "shouldi.advisories.errors",
    "vouch": "shouldi.advisories.interface",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
del TYPE_CHECKING, lazy_exports

__all__ = [
    "ADVISORY_DB_ENV",
    "OSV_API_URL",
    "AdvisoryError",
    "AdvisoryImportError",
    "AdvisorySource",
    "AdvisoryStore",
    "DownloadError",
    "ImportStats",
    "LocalOsvSource",
    "MergedAdvisories",
    "OsvApiSource",
    "OsvBatcher",
    "PipAuditSource",
    "PypiJsonSource",
    "SafetyCliSource",
    "SafetyDbSource",
    "SafetySource",
    "ServiceError",
    "ServiceUnavailable",
    "StoreError",
    "StoreStatus",
    "UnsupportedInput",
    "check_service_url",
    "default_store_path",
    "json_root_for",
    "merge_answers",
    "parse_pypi_vulnerabilities",
    "problem_line",
    "source_lines",
    "stale_data_line",
    "vouch",
]
