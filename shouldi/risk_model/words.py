"""A shown score in plain language: a review priority, where it stands, and why in words.

``review priority: high — top 10% of releases scanned for training; because: the project
had 4 advisories before this release, a maintenance release: a higher version already existed``

- **Where it stands:** the release's probability is placed among the training releases'
  scores (101 percentiles in the manifest): ``top N%`` with N rounded up to 1, 5, 10, 20, 30
  or 50. **Priority:** high in the top 10%, medium in the top 30%, low otherwise.
- **Because:** the two or three features whose contributions (log-odds, see
  :meth:`~shouldi.risk_model.predict.RiskModel.contributions`) push the score most in the
  direction of its priority (up for high and medium, down for low), each said as a fact about
  the release (:func:`phrase`), never as a raw coefficient. Unknown values are not reasons
  (an unknown is not a fact about the release), though the model does weigh them.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence

__all__ = ["phrase", "placement", "priority_line"]

_STEPS = (1, 5, 10, 20, 30, 50)
_CAPABILITIES = {
    "cap_network": "uses the network", "cap_process": "starts processes",
    "cap_exec": "runs dynamically built code", "cap_file_write": "writes files",
    "cap_env_access": "reads environment variables", "cap_native_code": "ships native code",
    "cap_install_time_code": "runs code at install time",
    "cap_obfuscation": "has obfuscated or encoded code",
}


def _n(v: float) -> str:
    return f"{v:,.0f}"


def _plural(v: float, one: str, many: str) -> str:
    return f"{_n(v)} {one if v == 1 else many}"


def _popularity(v: float) -> str:
    if v > 5000:
        return "not among the 5,000 most downloaded projects"
    bound = next(b for b in (100, 1000, 5000) if v <= b)
    return f"one of the {_n(bound)} most downloaded projects"


_BUMPS = {3: "a major version bump", 2: "a minor version bump", 1: "a patch release",
          0: "not above the previous highest version"}
_HISTORY: dict[str, Callable[[float], str]] = {
    "history.past_advisories": lambda v: (
        f"the project had {_plural(v, 'advisory', 'advisories')} before this release" if v
        else "the project had no advisory before this release"),
    "history.past_advisories_2y": lambda v: (
        f"{_plural(v, 'advisory', 'advisories')} in the two years before" if v
        else "no advisory in the two years before"),
    "history.prior_releases": lambda v: f"{_plural(v, 'earlier release', 'earlier releases')}",
    "history.project_age_days": lambda v: f"the project was {v / 365.25:.1f} years old",
    "history.days_since_previous": lambda v: f"{_plural(v, 'day', 'days')} after the previous release",
    "history.releases_prev_year": lambda v: f"{_plural(v, 'release', 'releases')} in the year before",
    "history.newer_existed": lambda v: (
        "a maintenance release: a higher version already existed" if v
        else "the highest version at the time"),
    "history.version_bump": lambda v: _BUMPS.get(int(v), f"version bump {v:g}"),
    "history.major_zero": lambda v: "a 0.x version" if v else "a 1.0 or later version",
    "history.popularity": _popularity,
}


def phrase(feature: str, value: float | None) -> str:
    """One feature's value as a fact about the release."""
    if value is None or math.isnan(value):
        return f"{feature.split('.', 1)[-1].replace('_', ' ')} unknown"
    if feature in _HISTORY:
        return _HISTORY[feature](value)
    check, _, key = feature.partition(".")
    if key in _CAPABILITIES:
        return f"the code {_CAPABILITIES[key]} ({_plural(value, 'place', 'places')})"
    if key in ("loc", "bandit.loc"):
        return f"{_n(value)} lines of code"
    if check == "bandit" and "_" in key and key.count("_") == 1:
        severity, confidence = key.split("_")
        return f"bandit: {_plural(value, 'finding', 'findings')} of {severity} severity, {confidence} confidence"
    if feature == "archive.bytes":
        return f"a {value / 1024:,.0f} KiB file"
    if feature == "archive.members":
        return f"{_plural(value, 'file', 'files')} in the archive"
    return f"{key.replace('_', ' ').replace('-', ' ')}: {value:g} ({check})"


def placement(probability: float, percentiles: Sequence[float]) -> float:
    """Share (0-100) of training releases that scored strictly below ``probability``."""
    if not percentiles:
        return math.nan
    below = bisect.bisect_left(list(percentiles), probability)
    return 100.0 * max(0, below - 1) / (len(percentiles) - 1) if below else 0.0


def priority_line(probability: float, percentiles: Sequence[float],
                  reasons: Sequence[tuple[str, float | None, float]]) -> tuple[str, str]:
    """(priority, the sentence) for a score; ``reasons``: (feature, value, contribution)."""
    top = 100.0 - placement(probability, percentiles)
    step = next((s for s in _STEPS if top <= s), None)
    priority = "high" if step is not None and step <= 10 else "medium" if step is not None and step <= 30 else "low"
    where = (f"top {step}% of releases scanned for training" if step is not None
             else "in the lower half of releases scanned for training")
    upward = priority != "low"
    chosen = [(f, v) for f, v, c in sorted(reasons, key=lambda r: -abs(r[2]))
              if (c > 0) == upward and c != 0 and v is not None and not math.isnan(v)][:3]
    because = ", ".join(phrase(f, v) for f, v in chosen) or "no single feature stands out"
    return priority, f"review priority: {priority} \u2014 {where}; because: {because}"
