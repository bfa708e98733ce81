"""shouldi's built-in operations (published under the ``shouldi.operations`` entry point).

Names load on first use (PEP 562): a worker process that runs one operation (the heuristics)
imports that operation's module, not every other one with httpx and the advisory sources
(~25 MB less resident in each worker).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shouldi.lazy import lazy_exports

if TYPE_CHECKING:
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

_LAZY = {
    "archive_check": "shouldi.operations.fetch",
    "bandit_scan": "shouldi.operations.scan",
    "cached_archive": "shouldi.operations.cache",
    "cached_bandit": "shouldi.operations.cache",
    "cached_heuristics": "shouldi.operations.cache",
    "download_artifact": "shouldi.operations.fetch",
    "extract_artifact": "shouldi.operations.fetch",
    "fetch_package_metadata": "shouldi.operations.fetch",
    "gather_checks": "shouldi.operations.score",
    "hash_check": "shouldi.operations.score",
    "heuristics_scan": "shouldi.operations.scan",
    "history_scan": "shouldi.operations.scan",
    "judge_release": "shouldi.operations.score",
    "local_advisories": "shouldi.operations.advisories",
    "lookup_cached_scan": "shouldi.operations.cache",
    "make_scratch": "shouldi.operations.fetch",
    "merge_advisory_answers": "shouldi.operations.advisories",
    "metadata_scan": "shouldi.operations.scan",
    "osv_advisories": "shouldi.operations.advisories",
    "pip_audit_advisories": "shouldi.operations.advisories",
    "preload_risk_model": "shouldi.operations.score",
    "prestart_bandit": "shouldi.operations.scan",
    "pypi_json_advisories": "shouldi.operations.advisories",
    "release_wanted": "shouldi.operations.fetch",
    "remove_scratch": "shouldi.operations.fetch",
    "resolve_release": "shouldi.operations.fetch",
    "risk_score": "shouldi.operations.score",
    "safety_advisories": "shouldi.operations.advisories",
    "scan_needed": "shouldi.operations.cache",
    "spec_wanted": "shouldi.operations.fetch",
    "store_cached_scan": "shouldi.operations.cache",
    "tree_needed": "shouldi.operations.cache",
    "typosquat_scan": "shouldi.operations.scan",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
del TYPE_CHECKING, lazy_exports

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
