"""Typosquatting: does a name imitate a popular project?

Checked against the most downloaded PyPI projects (``shouldi/data/popular_packages.txt``):

* Damerau-Levenshtein distance <= 2 (<= 1 when either name is 5 characters or fewer, where
  two edits reach too many honest names);
* separator games: ``-``/``_``/``.`` collapse under PEP 503, so squatters drop or move them
  (``pythondateutil``);
* look-alike characters: ``0/o``, ``1/l/i``, ``5/s``, ``rn/m``, ``vv/w``;
* affixes: ``python-``, ``py-``, ``-python``, ``-py``, ``2``/``3`` added to or removed from a
  popular name.

A name that *is* popular (after normalisation) is never reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from packaging.utils import canonicalize_name
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from shouldi.results import CheckResult, Finding, Severity, Status
from shouldi.scanners.popular import PopularNames, refresh_popular

__all__ = [
    "MAX_FINDINGS",
    "PopularNames",
    "find_typosquats",
    "refresh_popular",
    "skeleton",
    "squash",
    "typosquat_check",
]

MAX_FINDINGS = 5
SHORT_NAME = 5  # names this short only count at distance 1
_PREFIXES = ("python-", "py-", "python", "py")
_SUFFIXES = ("-python", "-py", "python", "py", "2", "3")
_LOOKALIKES = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"), ("5", "s"))


def squash(name: str) -> str:
    """The name with every separator removed."""
    return re.sub(r"[-_.]+", "", name.lower())


def skeleton(name: str) -> str:
    """The squashed name with look-alike characters folded together."""
    folded = squash(name)
    for seen, means in _LOOKALIKES:
        folded = folded.replace(seen, means)
    return folded


@dataclass(frozen=True)
class _Index:
    squashed: dict[str, str]
    skeletons: dict[str, str]


@lru_cache(maxsize=4)
def _index(popular: PopularNames) -> _Index:
    """Lookup tables, built once per list (the most popular name wins a collision)."""
    index = _Index({}, {})
    for name in popular.names:
        index.squashed.setdefault(squash(name), name)
        index.skeletons.setdefault(skeleton(name), name)
    return index


def _affix_variants(name: str) -> list[tuple[str, str]]:
    """``(variant, how)``: the name with an affix removed or added."""
    out: list[tuple[str, str]] = []
    for prefix in _PREFIXES:
        if name.startswith(prefix) and len(name) - len(prefix) >= 3:
            out.append((name[len(prefix):].strip("-"), f"prefix {prefix!r} added"))
        out.append((prefix + name, f"prefix {prefix!r} dropped"))
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 3:
            out.append((name[: -len(suffix)].strip("-"), f"suffix {suffix!r} added"))
        out.append((name + suffix, f"suffix {suffix!r} dropped"))
    return out


def find_typosquats(name: str, popular: PopularNames) -> tuple[Finding, ...]:
    """Findings (most severe, then most popular target first) for ``name``; () if none."""
    own = canonicalize_name(name)
    if own in popular:
        return ()
    index = _index(popular)
    best: dict[str, tuple[Severity, str, str]] = {}

    def consider(target: str | None, severity: Severity, rule: str, how: str) -> None:
        if target is None or target == own or target not in popular:
            return
        if target not in best or severity.rank > best[target][0].rank:
            best[target] = (severity, rule, how)

    consider(index.squashed.get(squash(own)), Severity.HIGH, "typosquat-separator",
             "same letters, different separators")
    consider(index.skeletons.get(skeleton(own)), Severity.HIGH, "typosquat-lookalike",
             "look-alike characters swapped")
    for variant, how in _affix_variants(own):
        consider(variant, Severity.MEDIUM, "typosquat-affix", how)
    for target, distance, _ in process.extract(
        own, popular.names, scorer=DamerauLevenshtein.distance, score_cutoff=2, limit=None
    ):
        allowed = 1 if min(len(own), len(target)) <= SHORT_NAME else 2
        if 0 < distance <= allowed:
            severity = Severity.MEDIUM if distance == 1 else Severity.LOW
            consider(target, severity, "typosquat-distance", f"{int(distance)} edit(s) away")
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0].rank, popular.rank(kv[0]) or 0))
    return tuple(
        Finding(
            check="typosquat", rule=rule, severity=severity,
            message=(f"{own!r} resembles popular package {target!r} "
                     f"(download rank {(popular.rank(target) or 0) + 1}): {how}"),
        )
        for target, (severity, rule, how) in ranked[:MAX_FINDINGS]
    )


def typosquat_check(name: str, popular: PopularNames) -> CheckResult:
    """:func:`find_typosquats` as a CheckResult, saying which list it compared against."""
    findings = find_typosquats(name, popular)
    return CheckResult(
        check="typosquat", status=Status.OK, findings=findings,
        counts={"popular_names": len(popular.names), "lookalikes": len(findings),
                "is_popular": int(canonicalize_name(name) in popular)},
        reason=f"compared with {len(popular.names)} names from {popular.source}"
               + (f" ({popular.as_of})" if popular.as_of else ""),
    )
