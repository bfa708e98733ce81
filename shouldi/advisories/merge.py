"""Merge what several sources said into one list of distinct vulnerabilities.

The same vulnerability has many names: PYSEC-…, GHSA-…, CVE-…, PYUP-…. Two advisories are
the same when their id sets (id + aliases) overlap, transitively (union-find over all ids).
Each merged advisory keeps every name, the union of sources and fixed versions, and a
primary id chosen PYSEC > GHSA > CVE > others.

``answered`` is the key rule at the level of a check: true only when at least one source
answered (status OK) for this exact release. Advisories from sources that could not vouch
are still merged in: a match is a match.

``status`` is what the known-vulnerabilities check says: ERROR when any source is broken (a
configured store that cannot be opened, garbage from a service) even if another one answered,
because a broken source is said and repaired, never outvoted; else OK when some source
vouched; else SKIPPED (nobody could look). Both non-OK statuses make the verdict ``error``.
:meth:`MergedAdvisories.check` is that check as a :class:`CheckResult`, its reason the one
line of :func:`~shouldi.advisories.messages.problem_line` (or who answered).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from shouldi.advisories.messages import problem_line
from shouldi.results import Advisory, AdvisoryAnswer, CheckResult, Status, VulnId

__all__ = ["MergedAdvisories", "merge_advisories", "merge_answers", "primary_id"]

_PREFERENCE = ("PYSEC-", "GHSA-", "CVE-")


@dataclass(frozen=True)
class MergedAdvisories:
    """The merged result of all advisory sources for one release."""

    advisories: tuple[Advisory, ...]
    answered: bool  # at least one source vouched (status OK)
    answers: tuple[AdvisoryAnswer, ...]
    warnings: tuple[str, ...]  # "source: warning", from every answer

    @property
    def answered_by(self) -> tuple[str, ...]:
        return tuple(a.source for a in self.answers if a.status is Status.OK)

    @property
    def broken(self) -> tuple[AdvisoryAnswer, ...]:
        """The answers of sources that are broken (status ERROR)."""
        return tuple(a for a in self.answers if a.status is Status.ERROR)

    @property
    def status(self) -> Status:
        """ERROR if any source is broken, else OK if one vouched, else SKIPPED."""
        if self.broken:
            return Status.ERROR
        return Status.OK if self.answered else Status.SKIPPED

    def check(self, name: str, version: str) -> CheckResult:
        """The known-vulnerabilities check for ``name==version``: :attr:`status`; as reason
        the one-line problem, or "answered by ..."; counts per source and status; as warnings
        the notes of the sources that vouched (ranges they could not evaluate)."""
        counts = {f"source_{a.source.replace('-', '_')}_{a.status.value}": 1 for a in self.answers}
        counts["advisories"] = len(self.advisories)
        line = problem_line(name, version, self.answers)
        reason = line if line is not None else "answered by " + ", ".join(self.answered_by)
        warnings = tuple(
            f"{a.source}: {w}" for a in self.answers if a.status is Status.OK for w in a.warnings
        )
        return CheckResult("advisories", self.status, (), reason, counts, warnings=warnings)


def merge_answers(answers: Sequence[AdvisoryAnswer]) -> MergedAdvisories:
    """Merge the advisories of all answers; see the module docstring."""
    return MergedAdvisories(
        advisories=merge_advisories(adv for answer in answers for adv in answer.advisories),
        answered=any(a.status is Status.OK for a in answers),
        answers=tuple(answers),
        warnings=tuple(f"{a.source}: {w}" for a in answers for w in a.warnings),
    )


def merge_advisories(advisories: Iterable[Advisory]) -> tuple[Advisory, ...]:
    """De-duplicate advisories whose ids or aliases overlap (transitively)."""
    items = list(advisories)
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]  # path halving
            node = parent[node]
        return node

    for adv in items:
        ids = sorted(adv.all_ids)
        for other in ids[1:]:
            parent[find(other)] = find(ids[0])
        find(ids[0])
    groups: dict[str, list[Advisory]] = {}
    for adv in items:
        groups.setdefault(find(adv.id), []).append(adv)
    merged = [_combine(group) for group in groups.values()]
    return tuple(sorted(merged, key=lambda a: a.id))


def primary_id(ids: Iterable[str]) -> str:
    """The id to show: PYSEC before GHSA before CVE before anything else; then by name."""

    def rank(ident: str) -> tuple[int, str]:
        upper = ident.upper()
        prefix = next((i for i, p in enumerate(_PREFERENCE) if upper.startswith(p)), None)
        return (len(_PREFERENCE) if prefix is None else prefix, ident)

    return min(ids, key=rank)


def _combine(group: list[Advisory]) -> Advisory:
    all_ids = frozenset().union(*(a.all_ids for a in group))
    primary = primary_id(all_ids)
    ordered = sorted(group, key=lambda a: a.id != primary)  # the primary's own text first
    severities = [a.severity for a in group if a.severity is not None]
    published = [a.published for a in group if a.published is not None]
    modified = [a.modified for a in group if a.modified is not None]
    return Advisory(
        id=VulnId(primary),
        aliases=all_ids - {primary},
        summary=next((a.summary for a in ordered if a.summary), ""),
        affected_versions=_union(v for a in ordered for v in a.affected_versions),
        fixed_versions=_sorted_versions(_union(v for a in group for v in a.fixed_versions)),
        sources=frozenset().union(*(a.sources for a in group)),
        url=next((a.url for a in ordered if a.url), None),
        severity=max(severities, key=lambda s: s.rank) if severities else None,
        published=min(published, default=None),
        modified=max(modified, default=None),
    )


def _union(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _sorted_versions(values: tuple[str, ...]) -> tuple[str, ...]:
    """Fixed versions in version order (de-duplicated by normalised form when possible)."""
    parsed: dict[Version | str, str] = {}
    for value in values:
        try:
            parsed.setdefault(Version(value), value)
        except InvalidVersion:
            parsed.setdefault(value, value)
    versions = sorted((k, v) for k, v in parsed.items() if isinstance(k, Version))
    others = sorted(v for k, v in parsed.items() if not isinstance(k, Version))
    return tuple(v for _, v in versions) + tuple(others)
