"""The question the risk score answers, and how a release's answer (its label) is decided.

**Question:** will an advisory affecting this release be published within 12 months of its
upload? A release uploaded at ``u`` is positive when some advisory that affects its version
was published in ``(u, u + 365 days]``. Everything the model sees is known at ``u``
(:mod:`shouldi.risk_model.features`), so the score predicts the future, not counts the past:
a release that has merely been public for a long time is not more positive.

**Dating an advisory.** Advisories from the PyPA database carry ``published``: used as is.
PyPI's per-version JSON lists every advisory affecting the version (ids, aliases,
``fixed_in``) but no date; such an advisory is dated by the first upload of its earliest
fixed version (most advisories are published with the fix: on the PyPA snapshot's 1,274 dated
advisory/package pairs, the publication was within [-30, +180] days of that upload for 75%,
median +10 days), never before January 1 of the year in a CVE/PYSEC id it carries. Without a
fixed version, a CVE/PYSEC year that starts after the window rules the advisory out; anything
else cannot be dated and makes the label **unknown** (the release is left out, never guessed).

**Coverage.** A window that ends after the label data's time (minus a lag for advisories to
reach the databases) is not yet observed: the label is unknown, never 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = ["QUESTION", "WINDOW", "DatedAdvisory", "Label", "estimate_date", "label_release"]

QUESTION = ("will an advisory affecting this release be published within 12 months of its "
            "upload?")
WINDOW = timedelta(days=365)
COVERAGE_LAG = timedelta(days=60)
_ID_YEAR = re.compile(r"^(?:CVE|PYSEC)-(\d{4})-\d+$")


@dataclass(frozen=True)
class DatedAdvisory:
    """One advisory affecting a release, with its publication time (exact or estimated).

    ``published`` is None when it cannot be dated; ``not_before`` then bounds it (an id year)."""

    id: str
    published: datetime | None
    how: str  # "published" (PyPA), "fix-upload" (estimated), "undated"
    not_before: datetime | None = None


@dataclass(frozen=True)
class Label:
    value: int | None  # None: unknown (window not observed, or an advisory that cannot be dated)
    reason: str
    advisory_ids: tuple[str, ...] = ()


def id_year_start(ids: Iterable[str]) -> datetime | None:
    """January 1 of the earliest year in a CVE-/PYSEC- id, if any (GHSA ids carry none)."""
    years = [int(m.group(1)) for i in ids if (m := _ID_YEAR.match(i))]
    return datetime(min(years), 1, 1, tzinfo=timezone.utc) if years else None


def estimate_date(ident: str, aliases: Iterable[str], fix_uploads: Iterable[datetime]) -> DatedAdvisory:
    """Date an advisory known only from PyPI JSON (see the module docstring)."""
    floor = id_year_start([ident, *aliases])
    fixes = sorted(fix_uploads)
    if fixes:
        when = max(fixes[0], floor) if floor else fixes[0]
        return DatedAdvisory(ident, when, "fix-upload")
    return DatedAdvisory(ident, None, "undated", floor)


def label_release(uploaded: datetime, advisories: Iterable[DatedAdvisory],
                  data_time: datetime) -> Label:
    """1 if an advisory affecting the release was published in ``(uploaded, uploaded + 1 year]``;
    0 if none was and the window is observed; ``None`` (unknown) otherwise."""
    end = uploaded + WINDOW
    if end > data_time - COVERAGE_LAG:
        return Label(None, f"window ends {end.date()}, after the label data ({data_time.date()})")
    hits, unsure = [], []
    for a in advisories:
        if a.published is not None:
            if uploaded < a.published <= end:
                hits.append(a.id)
        elif a.not_before is None or a.not_before <= end:
            unsure.append(a.id)
    if hits:
        return Label(1, "published within the window", tuple(sorted(hits)))
    if unsure:
        return Label(None, f"cannot date {', '.join(sorted(unsure)[:3])}", tuple(sorted(unsure)))
    return Label(0, "no advisory published within the window")
