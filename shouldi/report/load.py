"""Read scan records for a report: any source format, checked strictly, one row per release.

Records come from :func:`shouldi.sources.open_source`, so ``.csv``, ``.jsonl`` and ``.sqlite``
files (and their aliases) all work, with the same errors (:class:`~shouldi.sources.SourceError`).
What this module adds is the check that a file really holds *shouldi's* scan records
(:mod:`shouldi.record`), because a report built from a foreign file would look like a clean
scan: every record needs a ``name``, a ``version``, a ``verdict`` shouldi knows and a
``reasons`` column that parses into :class:`shouldi.verdict.Reason` values. The reasons are
parsed with ``dacite`` into the real dataclass (strict: an unknown key, a wrong type or an
unknown severity/verdict is refused), so the report reads exactly what the verdict wrote. A
broken record is an error naming the file and the record, never a row left out.

Values may arrive as text (a CSV without its ``.types.json`` sidecar), so numbers, booleans and
times are converted here. Optional columns:

- ``risk.score`` (0-100) and ``risk.reliable``: the risk model's score when the records carry
  it (the model may be withheld: then no record has it, and the report says so);
- ``<tool>.version`` columns (``shouldi.version``, ``bandit.version``, ...): the tool versions;
- ``<check>.status``: whether each check ran.

The same release (its :class:`~shouldi.sources.RecordKey`) in several files, or twice in one,
counts once: the record with the latest ``scanned_at`` wins (a later file wins a tie), and the
number left out is kept for the report to say.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import dacite

from shouldi.report.errors import ReportError
from shouldi.results import Severity
from shouldi.sources import RecordKey, Scalar, open_source, record_key
from shouldi.verdict import Reason, Verdict

__all__ = ["RISK_RELIABLE", "RISK_SCORE", "Loaded", "ScanRecord", "SourceSummary", "load_scans",
           "parse_record"]

RISK_SCORE = "risk.score"
RISK_RELIABLE = "risk.reliable"
_DACITE = dacite.Config(cast=[Severity, Verdict], strict=True)
_BOOLS = {"true": True, "false": False, "1": True, "0": False}


@dataclass(frozen=True)
class ScanRecord:
    """One scan record as the report reads it (see the module docstring for the columns)."""

    name: str
    version: str
    verdict: Verdict
    reasons: tuple[Reason, ...]
    advisory_ids: tuple[str, ...] = ()
    artifact_filename: str | None = None
    index_url: str | None = None
    scanned_at: datetime | None = None
    risk_score: float | None = None
    risk_reliable: bool | None = None
    statuses: Mapping[str, str] = field(default_factory=dict)  # check -> ok | skipped | error
    tools: Mapping[str, str] = field(default_factory=dict)  # tool -> version


@dataclass(frozen=True)
class SourceSummary:
    """One input file and how many records it gave."""

    path: Path
    records: int


@dataclass(frozen=True)
class Loaded:
    """Every release once (latest scan wins), the inputs, and how many duplicates were dropped."""

    records: tuple[ScanRecord, ...]
    sources: tuple[SourceSummary, ...]
    duplicates: int = 0


def load_scans(paths: Sequence[Path]) -> Loaded:
    """Read and check every record of ``paths``; see the module docstring.

    Raises :class:`~shouldi.sources.SourceError` for a file that cannot be read and
    :class:`ReportError` for one that is not a scan-record file, or when no file has a record.
    """
    latest: dict[RecordKey, ScanRecord] = {}
    sources = []
    total = 0
    seen: set[Path] = set()
    for path in paths:
        if path.resolve() in seen:  # named twice: read once
            continue
        seen.add(path.resolve())
        if not path.exists():
            raise ReportError(f"no such scan file: {path}")
        if path.is_dir():
            raise ReportError(f"{path} is a directory, not a scan file")
        count = 0
        for count, raw in enumerate(open_source(path).read(), start=1):
            record = parse_record(raw, f"{path}: record {count}")
            key = record_key(raw)
            old = latest.get(key)
            if old is None or _when(record) >= _when(old):
                latest[key] = record
        sources.append(SourceSummary(path, count))
        total += count
    if not latest:
        raise ReportError(f"no scan records in {', '.join(map(str, paths))}")
    return Loaded(tuple(latest.values()), tuple(sources), total - len(latest))


def _when(record: ScanRecord) -> datetime:
    return record.scanned_at or datetime.min.replace(tzinfo=timezone.utc)


def parse_record(raw: Mapping[str, Scalar], where: str) -> ScanRecord:
    """One record, checked; ``where`` names it in errors (``file: record N``)."""
    name, version = raw.get("name"), raw.get("version")
    if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
        raise ReportError(f"{where}: not a scan record (no name and version)")
    where = f"{where} ({name} {version})"
    verdict = raw.get("verdict")
    if "verdict" not in raw or "reasons" not in raw:
        raise ReportError(f"{where}: not a shouldi scan record (no verdict or reasons column)")
    try:
        parsed_verdict = Verdict(verdict)
    except ValueError:
        raise ReportError(f"{where}: unknown verdict {verdict!r:.40}") from None
    return ScanRecord(
        name=name,
        version=version,
        verdict=parsed_verdict,
        reasons=_reasons(raw.get("reasons"), where),
        advisory_ids=tuple(str(raw.get("advisory_ids") or "").split()),
        artifact_filename=_text(raw.get("artifact_filename")),
        index_url=_text(raw.get("index_url")),
        scanned_at=_time(raw.get("scanned_at"), where),
        risk_score=_score(raw.get(RISK_SCORE), where),
        risk_reliable=_bool(raw.get(RISK_RELIABLE), where),
        statuses=_by_suffix(raw, ".status"),
        tools=_by_suffix(raw, ".version"),
    )


def _by_suffix(raw: Mapping[str, Scalar], suffix: str) -> dict[str, str]:
    """``{"bandit": "ok"}`` from ``{"bandit.status": "ok"}`` (unknown values left out)."""
    return {c.removesuffix(suffix): str(v) for c, v in raw.items()
            if v is not None and c.endswith(suffix)}


def _text(value: Scalar) -> str | None:
    return None if value is None or value == "" else str(value)


def _reasons(value: Scalar, where: str) -> tuple[Reason, ...]:
    if not isinstance(value, str):
        raise ReportError(f"{where}: the reasons column is empty (a scan record always has one)")
    try:
        items = json.loads(value)
    except json.JSONDecodeError as e:
        raise ReportError(f"{where}: the reasons column is not JSON ({e.msg})") from e
    if not isinstance(items, list):
        raise ReportError(f"{where}: the reasons column is not a list")
    return tuple(_reason(item, where, i) for i, item in enumerate(items, start=1))


def _reason(item: object, where: str, number: int) -> Reason:
    if not isinstance(item, dict):
        raise ReportError(f"{where}: reason {number} is not an object")
    try:
        return dacite.from_dict(Reason, item, config=_DACITE)
    except (dacite.DaciteError, ValueError) as e:
        raise ReportError(f"{where}: reason {number} is not a shouldi reason ({e})") from e


def _time(value: Scalar, where: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        raise ReportError(f"{where}: scanned_at is not an ISO time: {value!r:.40}") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _score(value: Scalar, where: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        score = float(value) if not isinstance(value, bool) else math.nan
    except ValueError:
        raise ReportError(f"{where}: {RISK_SCORE} is not a number: {value!r:.40}") from None
    if not math.isfinite(score) or not 0 <= score <= 100:
        raise ReportError(f"{where}: {RISK_SCORE} is not a score from 0 to 100: {value!r:.40}")
    return score


def _bool(value: Scalar, where: str) -> bool | None:
    if isinstance(value, bool):
        return value
    if value is None or value == "":
        return None
    text = str(value).lower()
    if text not in _BOOLS:
        raise ReportError(f"{where}: {RISK_RELIABLE} is not true or false: {value!r:.40}")
    return _BOOLS[text]
