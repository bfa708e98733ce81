"""The one interface of the advisory layer, and the rule every source obeys.

An :class:`AdvisorySource` answers "which known vulnerabilities affect ``name==version``?".
It never raises for its own trouble: an unreachable service, a missing tool or an empty
database is an :class:`~shouldi.results.AdvisoryAnswer` with status SKIPPED (or ERROR when
it crashed) and a reason.

THE KEY RULE (:func:`vouch`): a source answers (status OK) only for a release OLDER than its
data. A 2021 database cannot vouch for a 2024 release, and a dated source cannot vouch for a
release whose upload time is unknown. Matches are reported either way: a match is a match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable

from shouldi.results import AdvisoryAnswer, Status

__all__ = ["STALE_AFTER_DAYS", "AdvisorySource", "Verdict", "as_utc", "utcnow", "vouch"]

#: Data older than this many days still answers, with a warning.
STALE_AFTER_DAYS = 30


@runtime_checkable
class AdvisorySource(Protocol):
    """A place that knows vulnerabilities: "pypi-json", "local-osv", "safety", "safety-db",
    "pip-audit"."""

    name: str

    async def lookup(
        self, name: str, version: str, release_time: datetime | None
    ) -> AdvisoryAnswer:
        """Advisories affecting this exact release; SKIPPED/ERROR with a reason, never raises."""
        ...


@dataclass(frozen=True)
class Verdict:
    """Whether a source's data can vouch for a release (see :func:`vouch`)."""

    status: Status
    reason: str | None
    warnings: tuple[str, ...]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(when: datetime) -> datetime:
    """Aware UTC datetime; a naive one is taken to be UTC already (as PyPI's are)."""
    if when.tzinfo is None:
        return when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def vouch(
    label: str,
    data_time: datetime | None,
    release_time: datetime | None,
    *,
    live: bool = False,
    now: datetime | None = None,
) -> Verdict:
    """Apply the key rule for a source whose data is from ``data_time``.

    ``live`` sources (a service queried now) are current by nature and vouch for any release.
    A dated source vouches only when ``release_time`` is known and strictly older than its
    data. Data older than :data:`STALE_AFTER_DAYS` adds a warning even when it vouches.
    """
    if live:
        return Verdict(Status.OK, None, ())
    if data_time is None:
        return Verdict(Status.SKIPPED, f"{label} data has no known date", ())
    data_time = as_utc(data_time)
    age = ((now or utcnow()) - data_time).days
    warnings = (f"advisory data is {age} days old",) if age > STALE_AFTER_DAYS else ()
    day = data_time.date().isoformat()
    if release_time is None:
        reason = (
            f"{label} data is from {day} and this release's upload time is unknown,"
            " so it cannot vouch for it"
        )
        return Verdict(Status.SKIPPED, reason, warnings)
    release_time = as_utc(release_time)
    if release_time >= data_time:
        reason = (
            f"{label} data is from {day}, older than this release"
            f" ({release_time.date().isoformat()})"
        )
        return Verdict(Status.SKIPPED, reason, warnings)
    return Verdict(Status.OK, None, warnings)
