"""Metadata signals: how old, how maintained, how accountable a project looks.

None of these proves anything; together they are what the risk model learns from. A
brand-new project with one release and no repository is how most malicious uploads look.
Two outputs from the same inputs: :func:`features` (a flat numeric dict, ``None`` =
unknown, for the model) and :func:`metadata_signals` (a CheckResult with findings).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import urlsplit

from shouldi.results import CheckResult, Finding, PackageMetadata, Release, Severity, Status

__all__ = ["FEATURE_NAMES", "NEW_PROJECT_DAYS", "RECENT_RELEASE_DAYS", "features",
           "metadata_signals"]

NEW_PROJECT_DAYS = 30
RECENT_RELEASE_DAYS = 7  # a release this fresh has had no time to be noticed if hijacked

FEATURE_NAMES = (
    "days_since_first_release", "release_count", "days_since_release",
    "days_since_latest_release", "is_latest", "missing_repository_url", "missing_homepage",
    "missing_license", "yanked",
)
_FORGES = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "sr.ht", "gitee.com",
           "launchpad.net", "salsa.debian.org", "sourceforge.net", "heptapod.net")
_REPO_KEYS = frozenset({"source", "sourcecode", "repository", "repo", "code", "github", "gitlab",
                        "git", "src", "sources"})
_HOME_KEYS = frozenset({"homepage", "home", "website", "projecthomepage"})


def _days(now: datetime, then: datetime | None) -> float | None:
    if then is None:
        return None
    now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    then = then if then.tzinfo else then.replace(tzinfo=timezone.utc)
    return max(0.0, (now - then).total_seconds() / 86400)


def _key(label: str) -> str:
    return re.sub(r"[^a-z0-9]", "", label.lower())


def _is_forge(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == forge or host.endswith("." + forge) for forge in _FORGES)


def _has_repository(meta: PackageMetadata) -> bool:
    urls = dict(meta.project_urls)
    if any(_key(label) in _REPO_KEYS or _is_forge(url) for label, url in urls.items()):
        return True
    return bool(meta.home_page) and _is_forge(meta.home_page or "")


def _has_homepage(meta: PackageMetadata) -> bool:
    return bool(meta.home_page) or any(_key(label) in _HOME_KEYS for label in meta.project_urls)


def _has_license(meta: PackageMetadata) -> bool:
    text = (meta.license or "").strip()
    if text and text.upper() not in {"UNKNOWN", "NONE"}:
        return True
    return any(c.startswith("License ::") for c in meta.classifiers)


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def features(meta: PackageMetadata, release: Release, now: datetime) -> dict[str, float | int | None]:
    """Numeric signals, ``None`` where unknown. Works from ``release`` alone when
    ``meta.available`` is False (count of versions, upload time, yank flag)."""
    known = meta.available
    count = meta.release_count if known and meta.release_count is not None else (
        len(release.all_versions) or None)
    released = (meta.release_time if known else None) or release.artifact.upload_time
    latest = meta.latest_version if known else None
    yanked = meta.yanked if known and meta.yanked is not None else release.artifact.yanked
    return {
        "days_since_first_release": _days(now, meta.first_release_time) if known else None,
        "release_count": count,
        "days_since_release": _days(now, released),
        "days_since_latest_release": _days(now, meta.latest_release_time) if known else None,
        "is_latest": _flag(latest == release.version) if latest else None,
        "missing_repository_url": _flag(not _has_repository(meta)) if known else None,
        "missing_homepage": _flag(not _has_homepage(meta)) if known else None,
        "missing_license": _flag(not _has_license(meta)) if known else None,
        "yanked": int(yanked),
    }


def metadata_signals(meta: PackageMetadata, release: Release, now: datetime) -> CheckResult:
    """Findings for the risky signals; ``SKIPPED`` (with what could be computed) when the
    index has no JSON API."""
    feats = features(meta, release, now)
    findings: list[Finding] = []

    def add(rule: str, severity: Severity, message: str) -> None:
        findings.append(Finding(check="metadata", rule=rule, severity=severity, message=message))

    first = feats["days_since_first_release"]
    if first is not None and first < NEW_PROJECT_DAYS:
        add("new-project", Severity.MEDIUM, f"first release only {first:.0f} days ago")
    if feats["release_count"] == 1:
        add("single-release", Severity.LOW, "the project has a single release")
    recent = feats["days_since_release"]
    if recent is not None and recent < RECENT_RELEASE_DAYS:
        add("recent-release", Severity.LOW, f"this release is {recent:.1f} days old")
    if feats["yanked"]:
        reason = (meta.yanked_reason if meta.available else None) or "no reason given"
        add("yanked", Severity.HIGH, f"release {release.version} is yanked: {reason}")
    if feats["missing_repository_url"]:
        add("no-repository", Severity.LOW, "no source repository URL in the metadata")
    if feats["missing_homepage"]:
        add("no-homepage", Severity.INFO, "no homepage in the metadata")
    if feats["missing_license"]:
        add("no-license", Severity.INFO, "no license, license expression or License classifier")
    counts = {name: int(value) for name, value in feats.items() if value is not None}
    if meta.available:
        return CheckResult(check="metadata", status=Status.OK, findings=tuple(findings),
                           counts=counts)
    return CheckResult(
        check="metadata", status=Status.SKIPPED, findings=tuple(findings), counts=counts,
        reason="the index has no JSON API: only what the release itself says was checked",
    )
