"""What the report shows, prepared from checked scan records: counts, rows, advisories, evidence.

:func:`prepare` turns :class:`~shouldi.report.load.Loaded` records into :class:`TriageData`,
plain frozen values that the template only lays out (no logic in the template but loops):

- verdict counts (always all four, zeros included), the scan time range, the tool versions
  with how many records each version wrote, the indexes scanned (without credentials);
- one :class:`PackageRow` per release, worst first (fail, error, warn, pass; then the highest
  risk score; then by name). Its *top reason* is the reason that decided the verdict: the
  worst verdict, then the highest severity, first in the record's order on a tie (the order
  :func:`shouldi.verdict.score` sorted them in);
- advisories, parsed back from the evidence :func:`shouldi.verdict.score` writes for each one
  (``ID (alias, alias); fixed in: 1.2, 2.0`` or ``...; fixed in: no fixed version known``);
- every other reason as evidence, with its ``file:line`` (heuristics, bandit, archive...) or
  none (a check that could not run says why in its message);
- credentials in URLs (``https://user:token@host/``, as an index URL is recorded and quoted
  in errors) masked as ``***@``: a report is made to be shared;
- the charts (:mod:`shouldi.report.charts`).

Each package gets an anchor id made from its position (``pkg-3``), never from its name: names
come from untrusted packages, and the template escapes every one of them.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from shouldi.report.charts import CheckChart, Histogram, check_chart, risk_histogram
from shouldi.report.load import Loaded, ScanRecord, SourceSummary
from shouldi.verdict import Reason, Verdict

__all__ = ["VERDICT_ORDER", "AdvisoryRow", "EvidenceRow", "PackageRow", "ToolVersions",
           "TriageData", "parse_advisory", "prepare", "top_reason"]

#: The order verdicts are counted and offered as filters in.
VERDICT_ORDER = (Verdict.PASS, Verdict.WARN, Verdict.FAIL, Verdict.ERROR)
_ADVISORY = re.compile(r"(?P<id>[^\s;()]+)(?: \((?P<aliases>[^()]*)\))?; fixed in: (?P<fixed>.*)")
_NO_FIX = "no fixed version known"
#: The userinfo of a URL (``scheme://user:secret@``), up to the host.
_CREDENTIALS = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


@dataclass(frozen=True)
class PackageRow:
    anchor: str
    name: str
    version: str
    verdict: Verdict
    top_reason: Reason | None
    risk_score: float | None
    risk_reliable: bool | None
    advisory_ids: tuple[str, ...]
    file: str | None


@dataclass(frozen=True)
class AdvisoryRow:
    anchor: str
    name: str
    version: str
    id: str
    aliases: tuple[str, ...]
    fixed_in: tuple[str, ...]  # empty: no fixed version known
    summary: str
    reason: Reason


@dataclass(frozen=True)
class EvidenceRow:
    anchor: str
    name: str
    version: str
    reason: Reason


@dataclass(frozen=True)
class ToolVersions:
    tool: str
    versions: tuple[tuple[str, int], ...]  # (version, records), most records first


@dataclass(frozen=True)
class TriageData:
    total: int
    counts: tuple[tuple[Verdict, int], ...]
    first_scan: datetime | None
    last_scan: datetime | None
    undated: int
    tools: tuple[ToolVersions, ...]
    indexes: tuple[tuple[str, int], ...]  # (index URL, packages), most packages first
    sources: tuple[SourceSummary, ...]
    duplicates: int
    packages: tuple[PackageRow, ...]
    advisories: tuple[AdvisoryRow, ...]
    evidence: tuple[EvidenceRow, ...]
    scored: int
    unreliable: int
    risk_chart: Histogram | None
    check_chart: CheckChart


def top_reason(reasons: tuple[Reason, ...]) -> Reason | None:
    """The reason that decided the verdict: worst verdict, then severity, then record order."""
    return min(reasons, key=lambda r: (-r.verdict.rank, -r.severity.rank), default=None)


def parse_advisory(reason: Reason) -> tuple[str, tuple[str, ...], tuple[str, ...], str] | None:
    """(id, aliases, fixed-in versions, summary) of an advisory reason; ``None`` for any other
    reason (an advisory source's warning, a check that could not run)."""
    if reason.check != "advisories" or reason.evidence is None:
        return None
    match = _ADVISORY.fullmatch(reason.evidence)
    if match is None:
        return None
    vid = match["id"]
    aliases = tuple(a for a in (match["aliases"] or "").split(", ") if a)
    fixed = () if match["fixed"] == _NO_FIX else tuple(v for v in match["fixed"].split(", ") if v)
    summary = reason.message.removeprefix(f"{vid}: ")
    return vid, aliases, fixed, summary


def _public(url: str | None) -> str:
    """An index URL without its credentials (see :func:`_shareable`)."""
    return "unknown" if url is None else _CREDENTIALS.sub(r"\1***@", url)


def _shareable(reason: Reason) -> Reason:
    """``reason`` with the credentials of any URL in it masked: records keep index URLs (and
    errors quote them) as given, ``https://user:token@host/``, and a report is made to be
    shared."""
    message = _CREDENTIALS.sub(r"\1***@", reason.message)
    evidence = None if reason.evidence is None else _CREDENTIALS.sub(r"\1***@", reason.evidence)
    if (message, evidence) == (reason.message, reason.evidence):
        return reason
    return dataclasses.replace(reason, message=message, evidence=evidence)


def _order(record: ScanRecord) -> tuple[int, float, str, str]:
    score = record.risk_score if record.risk_score is not None else -1.0
    return (-record.verdict.rank, -score, record.name.lower(), record.version)


def _tools(records: tuple[ScanRecord, ...]) -> tuple[ToolVersions, ...]:
    by_tool: dict[str, Counter[str]] = {}
    for record in records:
        for tool, version in record.tools.items():
            by_tool.setdefault(tool, Counter())[version] += 1
    first = ["shouldi"] if "shouldi" in by_tool else []
    return tuple(ToolVersions(t, tuple(sorted(by_tool[t].items(), key=lambda kv: (-kv[1], kv[0]))))
                 for t in first + sorted(set(by_tool) - set(first)))


def prepare(loaded: Loaded) -> TriageData:
    """Everything the report shows, from checked records (see the module docstring)."""
    records = tuple(sorted(loaded.records, key=_order))
    packages, advisories, evidence = [], [], []
    for i, r in enumerate(records, start=1):
        anchor = f"pkg-{i}"
        reasons = tuple(map(_shareable, r.reasons))
        packages.append(PackageRow(anchor, r.name, r.version, r.verdict, top_reason(reasons),
                                   r.risk_score, r.risk_reliable, r.advisory_ids,
                                   r.artifact_filename))
        for reason in reasons:
            parsed = parse_advisory(reason)
            if parsed is None:
                evidence.append(EvidenceRow(anchor, r.name, r.version, reason))
            else:
                advisories.append(AdvisoryRow(anchor, r.name, r.version, *parsed, reason))
    evidence.sort(key=lambda e: (-e.reason.verdict.rank, -e.reason.severity.rank))
    counts = Counter(r.verdict for r in records)
    times = [r.scanned_at for r in records if r.scanned_at is not None]
    scores = [r.risk_score for r in records if r.risk_score is not None]
    return TriageData(
        total=len(records),
        counts=tuple((v, counts.get(v, 0)) for v in VERDICT_ORDER),
        first_scan=min(times, default=None),
        last_scan=max(times, default=None),
        undated=len(records) - len(times),
        tools=_tools(records),
        indexes=tuple(sorted(Counter(_public(r.index_url) for r in records).items(),
                             key=lambda kv: (-kv[1], kv[0]))),
        sources=loaded.sources,
        duplicates=loaded.duplicates,
        packages=tuple(packages),
        advisories=tuple(advisories),
        evidence=tuple(evidence),
        scored=len(scores),
        unreliable=sum(1 for r in records if r.risk_score is not None and r.risk_reliable is False),
        risk_chart=risk_histogram(scores),
        check_chart=check_chart(records),
    )
