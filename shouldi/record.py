"""Scan records: one flat row per package release, for datasets, CI reports and the risk model.

A record holds the release's identity (:data:`shouldi.sources.KEY_COLUMNS`), every feature the
flow collected (a fixed schema, :data:`FEATURE_COLUMNS`, so files from different runs line up),
the verdict and its reasons, and the tools' versions and the time of the scan.

Leakage: ``advisories.*`` columns stay in the record (the verdict uses them) but are not model
inputs: the model's label is derived from the same advisory data. Nor are ``metadata.*`` and
``typosquat.*``: they are measured at scan time (days since release, "is latest"), and the
model's question is about the year after the upload, so they would let release age answer it.
:data:`MODEL_FEATURES` is the list a model may learn from: the ``history.*`` columns (the
project as of the upload, :mod:`shouldi.risk_model.features`) and the scanned file's code
columns (:data:`CODE_FEATURES`: bandit, heuristics including the capability counts
``heuristics.cap_*``, archive size).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone

from shouldi import __version__
from shouldi.verdict import PackageReport, report_to_dict

__all__ = ["CAPABILITY_FEATURES", "CODE_FEATURES", "FEATURE_COLUMNS", "HISTORY_COLUMNS", "MODEL_FEATURES", "RECORD_COLUMNS",
           "Scalar", "report_to_record"]

Scalar = str | int | float | bool | None

_LEVELS = ("low", "medium", "high")
HEURISTIC_RULES = (
    "exec-decoded-data", "exec-dynamic", "dynamic-import", "process-spawn", "network",
    "secret-env", "environ-dump", "credential-path", "write-outside", "custom-install-command",
    "in-tree-build-backend", "pth-import-line", "long-line", "high-entropy-string",
    "encoded-blob", "binary-file", "compiled-bytecode", "file-too-large", "unparsable-install-code",
)
#: Capability counts of the heuristics scanner (and its line count), once it reports them.
CAPABILITIES = ("cap_network", "cap_process", "cap_exec", "cap_file_write", "cap_env_access",
                "cap_native_code", "cap_install_time_code", "cap_obfuscation", "loc")
#: Keys of the ``history`` check (:data:`shouldi.risk_model.features.HISTORY_KEYS`; kept here so
#: that reading a record does not import the model layer).
HISTORY_KEYS = ("prior_releases", "project_age_days", "days_since_previous", "releases_prev_year",
                "newer_existed", "version_bump", "major_zero", "past_advisories",
                "past_advisories_2y", "requires", "popularity")
METADATA_FEATURES = (
    "days_since_first_release", "release_count", "days_since_release",
    "days_since_latest_release", "is_latest", "missing_repository_url", "missing_homepage",
    "missing_license", "yanked",
)

#: (column, check, count key) for every numeric feature.
_FEATURES: tuple[tuple[str, str, str], ...] = (
    *((f"bandit.{s}_{c}", "bandit", f"{s}_{c}") for s in _LEVELS for c in _LEVELS),
    *((f"bandit.{k}", "bandit", k) for k in ("loc", "files", "skipped_files", "nosec")),
    *((f"heuristics.severity_{s}", "heuristics", f"severity_{s}")
      for s in ("info", "low", "medium", "high", "critical")),
    *((f"heuristics.{r}", "heuristics", r) for r in HEURISTIC_RULES),
    *((f"heuristics.{k}", "heuristics", k) for k in ("files", "python_files", "unparsable_files")),
    *((f"heuristics.{k}", "heuristics", k) for k in CAPABILITIES),
    *((f"metadata.{k}", "metadata", k) for k in METADATA_FEATURES),
    ("typosquat.lookalikes", "typosquat", "lookalikes"),
    ("typosquat.is_popular", "typosquat", "is_popular"),
    ("archive.members", "archive", "members"),
    ("archive.bytes", "archive", "bytes"),
    ("archive.refused", "archive", "refused"),
    ("advisories.count", "advisories", "advisories"),
    *((f"history.{k}", "history", k) for k in HISTORY_KEYS),
)
FEATURE_COLUMNS: tuple[str, ...] = tuple(c for c, _, _ in _FEATURES)
HISTORY_COLUMNS: tuple[str, ...] = tuple(f"history.{k}" for k in HISTORY_KEYS if k != "requires")
CODE_FEATURES: tuple[str, ...] = tuple(
    c for c in FEATURE_COLUMNS if c.startswith(("bandit.", "heuristics.", "archive.")))
#: ``history.requires`` is left out: PyPI's JSON gives Requires-Dist for the latest release
#: only, so it cannot be known as of the upload of an older one.
MODEL_FEATURES: tuple[str, ...] = (*HISTORY_COLUMNS, *CODE_FEATURES)
#: The history beside a few code columns that say what the code can do and how much of it
#: there is (capability counts, lines, files, bytes, bandit's confident findings), instead of
#: every rule's count: ~20 inputs where :data:`MODEL_FEATURES` has ~70, for a few hundred
#: positives.
CAPABILITY_FEATURES: tuple[str, ...] = (
    *HISTORY_COLUMNS, *(f"heuristics.{k}" for k in CAPABILITIES),
    "heuristics.python_files", "archive.bytes", "bandit.high_high", "bandit.medium_high",
    "bandit.high_medium")

_STATUS_COLUMNS = tuple(f"{c}.status" for c in
                        ("archive", "bandit", "heuristics", "advisories", "metadata", "typosquat",
                         "history"))
RECORD_COLUMNS: tuple[str, ...] = (
    "name", "version", "artifact_sha256", "index_url", "requested", "artifact_filename",
    "artifact_kind", "verdict", "reasons", "advisory_ids", *_STATUS_COLUMNS, *FEATURE_COLUMNS,
    "risk.score", "risk.reliable", "bandit.version", "shouldi.version", "scanned_at",
)


def report_to_record(report: PackageReport, index_url: str,
                     scanned_at: datetime | None = None) -> dict[str, Scalar]:
    """The flat record of one report. Unknown features are ``None``, never 0."""
    checks = report.checks
    artifact = report.artifact
    record: dict[str, Scalar] = {
        "name": report.name,
        "version": report.version,
        "artifact_sha256": artifact.sha256 if artifact else None,
        "index_url": index_url,
        "requested": report.requested,
        "artifact_filename": artifact.filename if artifact else None,
        "artifact_kind": artifact.kind if artifact else None,
        "verdict": report.verdict.value,
        "reasons": json.dumps(report_to_dict(report)["reasons"]),
        "advisory_ids": " ".join(a.id for a in report.advisories),
    }
    for column in _STATUS_COLUMNS:
        check = checks.get(column.split(".")[0])
        record[column] = check.status.value if check else None
    for column, check_name, key in _FEATURES:
        record[column] = _count(checks.get(check_name), key)
    record["risk.score"] = report.risk.score if report.risk else None
    record["risk.reliable"] = report.risk.reliable if report.risk else None
    bandit = checks.get("bandit")
    record["bandit.version"] = bandit.tool_version if bandit else None
    record["shouldi.version"] = __version__
    record["scanned_at"] = (scanned_at or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    return record


def _count(check: object, key: str) -> Scalar:
    """A count of a check that ran (``ok``); unknown (None) when it did not."""
    from shouldi.verdict import CheckSummary

    if not isinstance(check, CheckSummary):
        return None
    counts: Mapping[str, int] = check.counts
    if key in counts:
        return counts[key]
    # Metadata, history and the capability counts omit what they do not know (capabilities:
    # a heuristics scanner that does not report them yet); other checks omit zero counts.
    unknowable = key in METADATA_FEATURES or key in HISTORY_KEYS or key in CAPABILITIES
    return 0 if check.status.value == "ok" and not unknowable else None
