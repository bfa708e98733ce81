"""OSV advisories: the parts a PyPI lookup needs, and version matching with OSV semantics.

Only what a PyPI lookup needs is kept: ``affected`` entries of ecosystem "PyPI" (names
normalised), their explicit ``versions`` and their ECOSYSTEM/SEMVER ``ranges`` (GIT ranges
name commits, not versions: ignored, but the explicit list still applies). See
https://ossf.github.io/osv-schema/ for the format and the range algorithm followed here.

Severity: ``database_specific.severity`` (GitHub's LOW/MODERATE/HIGH/CRITICAL) when given,
else the highest rating of the record's CVSS vectors (``severity[].score``), computed by the
``cvss`` library (CVSS v2, v3.x and v4); a vector it cannot parse is no severity, not an error.
Decoding files (JSON/YAML, hostile) is :mod:`shouldi.advisories.documents`.
Functions raise ``ValueError`` with a readable message; callers add where the data came from.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import cvss
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from shouldi.results import Advisory, Severity, VulnId

__all__ = [
    "OsvAffected",
    "OsvRecord",
    "match_version",
    "parse_record",
    "parse_timestamp",
    "to_advisory",
]

_SUMMARY_MAX = 240
_EVENT_ORDER = {"introduced": 0, "fixed": 1, "last_affected": 2, "limit": 3}
_SEVERITIES = {
    "LOW": Severity.LOW,
    "MODERATE": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "HIGH": Severity.HIGH,
    "CRITICAL": Severity.CRITICAL,
}
_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?)?\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)
_CVSS = {"CVSS_V2": cvss.CVSS2, "CVSS_V3": cvss.CVSS3, "CVSS_V4": cvss.CVSS4}


@dataclass(frozen=True)
class OsvAffected:
    """One PyPI package an advisory affects."""

    package: str  # canonical name
    versions: tuple[str, ...]
    ranges: tuple[tuple[tuple[str, str], ...], ...]  # per range: (event kind, version), in order
    severity: Severity | None = None


@dataclass(frozen=True)
class OsvRecord:
    """The parts of an OSV advisory that shouldi uses."""

    id: str
    modified: datetime
    withdrawn: bool
    aliases: frozenset[str]
    summary: str
    url: str | None
    severity: Severity | None
    affected: tuple[OsvAffected, ...]
    published: datetime | None = None


def parse_timestamp(value: object) -> datetime:
    """An RFC 3339 time as aware UTC; any number of fraction digits, "Z" or an offset."""
    match = _TIMESTAMP.match(str(value).strip())
    if match is None:
        raise ValueError(f"bad timestamp {value!r}")
    day, clock, fraction, zone = match.groups()
    zone = "+00:00" if zone in (None, "Z", "z") else f"{zone[:3]}:{zone[-2:]}"
    iso = f"{day}T{clock or '00:00:00'}.{(fraction or '0')[:6].ljust(6, '0')}{zone}"
    return datetime.fromisoformat(iso).astimezone(timezone.utc)


def parse_record(doc: Mapping[str, Any]) -> OsvRecord:
    """Validate one OSV document and keep its PyPI parts."""
    ident, modified = doc.get("id"), doc.get("modified")
    if not isinstance(ident, str) or not ident or modified is None:
        raise ValueError("not an OSV advisory (no id or modified)")
    refs = [r for r in _list(doc.get("references")) if isinstance(r, Mapping)]
    url = next((str(r["url"]) for r in refs if r.get("type") == "ADVISORY" and "url" in r), None)
    url = url or next((str(r["url"]) for r in refs if r.get("type") == "WEB" and "url" in r), None)
    affected = tuple(_parse_affected(a) for a in _list(doc.get("affected")) if _is_pypi(a))
    return OsvRecord(
        id=ident,
        modified=parse_timestamp(modified),
        withdrawn=doc.get("withdrawn") not in (None, ""),
        aliases=frozenset(str(a) for a in _list(doc.get("aliases"))) - {ident},
        summary=_summary(doc),
        url=url,
        severity=_severity(doc.get("database_specific")) or _cvss_severity(doc.get("severity")),
        affected=affected,
        published=_optional_timestamp(doc.get("published")),
    )


def match_version(affected: OsvAffected, version: str) -> tuple[bool, str | None]:
    """Whether ``version`` is affected, and a problem note when a range could not be evaluated."""
    wanted = _version(version)
    for listed in affected.versions:
        if listed == version or (wanted is not None and _version(listed) == wanted):
            return True, None
    if not affected.ranges:
        return False, None
    if wanted is None:
        return False, f"version {version!r} is not PEP 440: ranges not evaluated"
    problem = None
    for events in affected.ranges:
        try:
            if _in_range(events, wanted):
                return True, None
        except InvalidVersion as e:
            problem = f"a range of {affected.package} has an invalid version ({e})"
    return False, problem


def to_advisory(record: OsvRecord, affected: OsvAffected, source: str) -> Advisory:
    """The shared :class:`Advisory` value for one record and one affected package."""
    fixed = tuple(dict.fromkeys(v for events in affected.ranges for k, v in events if k == "fixed"))
    return Advisory(
        id=VulnId(record.id),
        aliases=record.aliases,
        summary=record.summary,
        affected_versions=tuple(d for events in affected.ranges for d in _describe(events))
        or affected.versions,
        fixed_versions=fixed,
        sources=frozenset({source}),
        url=record.url,
        severity=record.severity or affected.severity,
        published=record.published,
        modified=record.modified,
    )


def _in_range(events: tuple[tuple[str, str], ...], version: Version) -> bool:
    """The OSV algorithm: walk events sorted by version, toggling "affected"."""

    def key(event: tuple[str, str]) -> tuple[Version, int]:
        kind, value = event
        floor = kind == "introduced" and value == "0"
        return (Version("0") if floor else Version(value), _EVENT_ORDER[kind])

    affected = False
    for kind, value in sorted(events, key=key):
        if kind == "introduced" and (value == "0" or version >= Version(value)):
            affected = True
        elif (kind in ("fixed", "limit") and version >= Version(value)) or (
            kind == "last_affected" and version > Version(value)
        ):
            affected = False
    return affected


def _describe(events: tuple[tuple[str, str], ...]) -> list[str]:
    """One specifier-like string per interval: ``["<2.3.8", ">=3.0.0,<3.0.1"]``."""
    ops = {"introduced": ">=", "fixed": "<", "last_affected": "<=", "limit": "<"}
    intervals: list[list[str]] = []
    for kind, value in events:
        if kind == "introduced" or not intervals:
            intervals.append([])
        if not (kind == "introduced" and value == "0"):
            intervals[-1].append(f"{ops[kind]}{value}")
    return [",".join(parts) or "all versions" for parts in intervals]


def _parse_affected(entry: Mapping[str, Any]) -> OsvAffected:
    ranges = []
    for rng in _list(entry.get("ranges")):
        if not isinstance(rng, Mapping) or rng.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        events = tuple(
            (kind, str(value))
            for event in _list(rng.get("events"))
            if isinstance(event, Mapping)
            for kind, value in event.items()
            if kind in _EVENT_ORDER and value is not None
        )
        if events:
            ranges.append(events)
    return OsvAffected(
        package=canonicalize_name(str(entry["package"]["name"])),
        versions=tuple(str(v) for v in _list(entry.get("versions"))),
        ranges=tuple(ranges),
        severity=_severity(entry.get("database_specific")),
    )


def _is_pypi(entry: object) -> bool:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("package"), Mapping):
        return False
    package = entry["package"]
    return package.get("ecosystem") == "PyPI" and bool(package.get("name"))


def _summary(doc: Mapping[str, Any]) -> str:
    for text in (doc.get("summary"), doc.get("details")):
        lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
        if lines:
            first = lines[0]
            return first if len(first) <= _SUMMARY_MAX else first[: _SUMMARY_MAX - 1] + "…"
    return ""


def _severity(specific: object) -> Severity | None:
    if isinstance(specific, Mapping):
        return _SEVERITIES.get(str(specific.get("severity", "")).upper())
    return None


def _cvss_severity(entries: object) -> Severity | None:
    """The highest rating among the CVSS vectors of an OSV ``severity`` list."""
    found: list[Severity] = []
    for entry in _list(entries):
        kind = _CVSS.get(str(entry.get("type"))) if isinstance(entry, Mapping) else None
        if kind is None:
            continue
        try:
            vector = kind(str(entry.get("score", "")))
            rating = vector.severity if kind is cvss.CVSS4 else vector.severities()[0]
        except (cvss.CVSSError, ValueError, KeyError, IndexError, TypeError):
            continue  # a vector we cannot read is no severity, not a reason to drop the record
        rating = str(rating).upper()
        if rating in _SEVERITIES or rating == "NONE":
            found.append(_SEVERITIES.get(rating, Severity.INFO))
    return max(found, key=lambda s: s.rank) if found else None


def _optional_timestamp(value: object) -> datetime | None:
    try:
        return parse_timestamp(value) if value not in (None, "") else None
    except ValueError:
        return None


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


@functools.lru_cache(maxsize=4096)
def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None
