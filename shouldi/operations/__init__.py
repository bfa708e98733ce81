"""shouldi's built-in operations (published under the ``shouldi.operations`` entry point)."""

from __future__ import annotations

from shouldi.operations.advisories import (
    local_advisories,
    merge_advisory_answers,
    osv_advisories,
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
    tree_needed,
)
from shouldi.operations.fetch import (
    archive_check,
    download_artifact,
    extract_artifact,
    fetch_package_metadata,
    make_scratch,
    release_wanted,
    remove_scratch,
    resolve_release,
    spec_wanted,
)
from shouldi.operations.scan import (
    bandit_scan,
    heuristics_scan,
    history_scan,
    metadata_scan,
    prestart_bandit,
    typosquat_scan,
)
from shouldi.operations.score import (
    gather_checks,
    hash_check,
    judge_release,
    preload_risk_model,
    risk_score,
)

__all__ = [
    "archive_check",
    "bandit_scan",
    "cached_archive",
    "cached_bandit",
    "cached_heuristics",
    "download_artifact",
    "extract_artifact",
    "fetch_package_metadata",
    "gather_checks",
    "hash_check",
    "heuristics_scan",
    "history_scan",
    "judge_release",
    "local_advisories",
    "lookup_cached_scan",
    "make_scratch",
    "merge_advisory_answers",
    "metadata_scan",
    "osv_advisories",
    "pip_audit_advisories",
    "preload_risk_model",
    "prestart_bandit",
    "pypi_json_advisories",
    "release_wanted",
    "remove_scratch",
    "resolve_release",
    "risk_score",
    "safety_advisories",
    "scan_needed",
    "spec_wanted",
    "store_cached_scan",
    "tree_needed",
    "typosquat_scan",
]
