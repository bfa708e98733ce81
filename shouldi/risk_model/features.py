"""The risk model's inputs: pure functions of what was known when the release was uploaded.

Every feature is a function of (the release, the project's metadata, the project's advisory
publication times, the scanned file's check results) and of nothing else, so ``dataset build``
(training) and the flow (prediction) compute exactly the same numbers:

- ``history.*`` (:func:`history_features`) from :attr:`PackageMetadata.history` restricted
  to uploads *before* this release's first upload ``u``: how many releases, how old the project
  was, the gap since the previous release, the cadence of the year before, whether a higher
  version already existed (a maintenance release), the version bump; and the project's
  advisories published before ``u`` (all of them, and those of the two years before). Nothing
  after ``u`` is looked at: the label is about the year after ``u``.
- ``history.requires`` from the release's own ``Requires-Dist`` (unconditional requirements;
  extras are not counted); ``None`` when the release's metadata is not known.
- ``history.popularity`` is the project's download rank in the shipped list
  (``shouldi/data/popular_packages.txt``, 5,000 names; 5,001 when not in it). That list is of
  *today*, not of ``u``: popularity as of then is not published by PyPI. The datasheet says so.
- code features (``bandit.*``, ``heuristics.*``, ``archive.*``) are the scanned file's counts,
  taken from the record as they are (:mod:`shouldi.record`).

They are delivered as a check result (:func:`history_check`, check ``"history"``) whose
``counts`` are whole numbers (days, counts, a rank), so a report and a record carry them like
any other check's (``history.<key>`` columns, :mod:`shouldi.record`). A value that is not
known is left out of ``counts`` (unknown, never 0); the pipeline imputes it and marks it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from importlib import resources

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from shouldi.record import HISTORY_KEYS
from shouldi.results import CheckResult, PackageMetadata, ReleaseUpload, Status

__all__ = ["HISTORY_FEATURES", "HISTORY_KEYS", "history_check", "history_features",
           "popularity_rank", "upload_time"]

Value = float | None

HISTORY_FEATURES: tuple[str, ...] = (
    "history.prior_releases", "history.project_age_days", "history.days_since_previous",
    "history.releases_prev_year", "history.newer_existed", "history.version_bump",
    "history.major_zero", "history.past_advisories", "history.past_advisories_2y",
    "history.requires", "history.popularity",
)
assert tuple(f"history.{k}" for k in HISTORY_KEYS) == HISTORY_FEATURES  # one list, two layers
_YEAR = timedelta(days=365)
_OUTSIDE_RANK = 5001


@functools.lru_cache(maxsize=1)
def _ranks() -> dict[str, int]:
    text = (resources.files("shouldi") / "data" / "popular_packages.txt").read_text(encoding="utf-8")
    names = [n.strip() for n in text.splitlines() if n.strip() and not n.startswith("#")]
    return {canonicalize_name(n): i for i, n in enumerate(names, start=1)}


def popularity_rank(name: str) -> int:
    """1 = most downloaded; 5,001 = not among the 5,000 in the shipped list."""
    return _ranks().get(canonicalize_name(name), _OUTSIDE_RANK)


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def upload_time(meta: PackageMetadata, version: str) -> datetime | None:
    """The first upload of ``version`` in the history (else ``release_time``, when the metadata
    is about that very version)."""
    wanted = _version(version)
    for entry in meta.history:
        if entry.version == version or (wanted is not None and _version(entry.version) == wanted):
            return entry.uploaded
    return meta.release_time if meta.version == version else None


def _bump(previous: Version | None, current: Version | None) -> Value:
    """3 major, 2 minor, 1 micro (or later part), 0 not above the previous highest; None unknown."""
    if previous is None or current is None:
        return None
    if current <= previous:
        return 0.0
    a, b = (*previous.release, 0, 0), (*current.release, 0, 0)
    for part, level in ((0, 3.0), (1, 2.0)):
        if b[part] != a[part]:
            return level
    return 1.0


def _requires(requires_dist: Sequence[str] | None) -> Value:
    if requires_dist is None:
        return None
    names = set()
    for line in requires_dist:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is None or "extra" not in str(req.marker):
            names.add(canonicalize_name(req.name))
    return float(len(names))


def history_features(meta: PackageMetadata, version: str,
                     advisory_times: Sequence[datetime] | None,
                     requires_dist: Sequence[str] | None) -> dict[str, Value]:
    """The ``history.*`` features of ``version`` as of its first upload (see the module doc).

    ``advisory_times``: publication times of the project's known advisories (None: unknown);
    ``requires_dist``: the release's own Requires-Dist (None: unknown)."""
    out: dict[str, Value] = dict.fromkeys(HISTORY_FEATURES)
    out["history.requires"] = _requires(requires_dist)
    out["history.popularity"] = float(popularity_rank(meta.name))
    uploaded = upload_time(meta, version)
    if uploaded is None or not meta.history:
        return out
    prior: list[ReleaseUpload] = [r for r in meta.history if r.uploaded < uploaded]
    current = _version(version)
    versions = [v for v in (_version(r.version) for r in prior) if v is not None]
    highest = max(versions, default=None)
    out["history.prior_releases"] = float(len(prior))
    out["history.project_age_days"] = (uploaded - prior[0].uploaded).total_seconds() / 86400 if prior else 0.0
    out["history.days_since_previous"] = (
        (uploaded - prior[-1].uploaded).total_seconds() / 86400 if prior else None)
    out["history.releases_prev_year"] = float(sum(1 for r in prior if r.uploaded >= uploaded - _YEAR))
    out["history.newer_existed"] = (
        float(highest is not None and current is not None and highest > current))
    out["history.version_bump"] = _bump(highest, current) if prior else None
    out["history.major_zero"] = None if current is None else float(current.major == 0)
    if advisory_times is not None:
        past = [t for t in advisory_times if t < uploaded]
        out["history.past_advisories"] = float(len(past))
        out["history.past_advisories_2y"] = float(sum(1 for t in past if t >= uploaded - 2 * _YEAR))
    return out


def history_check(meta: PackageMetadata, version: str, advisory_times: Sequence[datetime] | None,
                  requires_dist: Sequence[str] | None = None) -> CheckResult:
    """:func:`history_features` as check ``"history"``: whole-number counts, unknown ones left
    out; ``SKIPPED`` when the release's place in the project's history is not known (no JSON
    API, or the version is not in it), ``OK`` otherwise."""
    feats = history_features(meta, version, advisory_times, requires_dist)
    counts = {k.removeprefix("history."): round(v) for k, v in feats.items() if v is not None}
    if not meta.available or not meta.history or upload_time(meta, version) is None:
        return CheckResult("history", Status.SKIPPED, counts=counts,
                           reason="the project's release history is not known")
    note = None if advisory_times is not None else "the project's advisory history is not known"
    return CheckResult("history", Status.OK, counts=counts, reason=note)
