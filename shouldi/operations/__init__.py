"""shouldi's built-in operations (published under the ``shouldi.operations`` entry point)."""

from __future__ import annotations

from shouldi.operations.advisories import (
    local_advisories,
    merge_advisory_answers,
    pip_audit_advisories,
    pypi_json_advisories,
    safety_advisories,
)
from shouldi.operations.cache import (
    cached_archive,
    cached_bandit,
    cached_heuristics,
    lookup_cached_scan,
    scan_needed,
    store_cached_scan,
)
from shouldi.operations.fetch import (
    archive_check,
    download_artifact,
    extract_artifact,
    fetch_package_metadata,
    make_scratch,
    remove_scratch,
    resolve_release,
)
from shouldi.operations.scan import bandit_scan, heuristics_scan, metadata_scan, typosquat_scan
from shouldi.operations.score import preload_risk_model, score_release

__all__ = [
    "archive_check",
    "bandit_scan",
    "cached_archive",
    "cached_bandit",
    "cached_heuristics",
    "download_artifact",
    "extract_artifact",
    "fetch_package_metadata",
    "heuristics_scan",
    "local_advisories",
    "lookup_cached_scan",
    "make_scratch",
    "merge_advisory_answers",
    "metadata_scan",
    "pip_audit_advisories",
    "preload_risk_model",
    "pypi_json_advisories",
    "remove_scratch",
    "resolve_release",
    "safety_advisories",
    "scan_needed",
    "score_release",
    "store_cached_scan",
    "typosquat_scan",
]
