"""The one interface of the advisory layer, and the rule every source obeys.

An :class:`AdvisorySource` answers "which known vulnerabilities affect ``name==version``?".
It never raises for its own trouble: an unreachable service, a missing tool or an empty
database is an :class:`~shouldi.results.AdvisoryAnswer` with status SKIPPED (or ERROR when
it crashed) and a reason.

THE KEY RULE (:func:`vouch`): a source answers (status OK) only for a release OLDER than its
data. A 2021 database cannot vouch for a 2024 release, and a dated source cannot vouch for a
release whose upload time is unknown. Matches are reported either way: a match is a match.

How old the data is, is not a per-answer warning: every answer carries its ``data_time`` and
:func:`shouldi.advisories.messages.stale_data_line` says it once per run, against the policy's
``advisory_max_age_days`` (a warning on every package made ``--fail-on-warn`` fail them all).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable

from shouldi.results import AdvisoryAnswer, Status

__all__ = ["AdvisorySource", "Verdict", "as_utc", "utcnow", "vouch"]


@runtime_checkable
class AdvisorySource(Protocol):
    """A place that knows vulnerabilities: "pypi-json", "osv-api", "local-osv", "safety",
    "safety-db", "pip-audit"."""

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
) -> Verdict:
    """Apply the key rule for a source whose data is from ``data_time``.

    ``live`` sources (a service queried now) are current by nature and vouch for any release.
    A dated source vouches only when ``release_time`` is known and strictly older than its
    data.
    """
    if live:
        return Verdict(Status.OK, None)
    if data_time is None:
        return Verdict(Status.SKIPPED, f"{label} data has no known date")
    data_time = as_utc(data_time)
    day = data_time.date().isoformat()
    if release_time is None:
        reason = (
            f"{label} data is from {day} and this release's upload time is unknown,"
            " so it cannot vouch for it"
        )
        return Verdict(Status.SKIPPED, reason)
    release_time = as_utc(release_time)
    if release_time >= data_time:
        reason = (
            f"{label} data is from {day}, older than this release"
            f" ({release_time.date().isoformat()})"
        )
        return Verdict(Status.SKIPPED, reason)
    return Verdict(Status.OK, None)
