"""Feature tables: scan records (any source format) turned into the matrix a model reads.

Rows are records (:mod:`shouldi.record`); the model's columns are a fixed, ordered list of
feature names (by default :data:`shouldi.record.MODEL_FEATURES`, which leaves out the advisory
columns the label is derived from). An unknown value (a check that did not run) is ``NaN``,
never 0: the pipeline imputes it and marks it with a missing-indicator column. Booleans are
0/1. Values in a CSV without its type sidecar arrive as text and are parsed here. A value
that is not finite (``inf``) is refused: no model can read it, and it is never "unknown".

Beside the features, a table keeps what the time-split evaluation needs: each release's
upload time (the ``date`` column, ISO; ``NaN`` when absent) and the columns the baselines read
(:data:`shouldi.risk_model.timesplit.BASELINES`), whether or not the model reads them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import numpy.typing as npt
from packaging.utils import canonicalize_name

from shouldi.record import MODEL_FEATURES
from shouldi.risk_model.errors import TrainingDataError
from shouldi.risk_model.timesplit import BASELINES

__all__ = ["LABEL", "RULE_COLUMN", "FeatureTable", "file_sha256", "load_table", "records_matrix"]

LABEL = "label"
RULE_COLUMN = "bandit.high_high"  # DFFML's old rule: more than 5 high/high bandit findings
_TEXT = {"true": 1.0, "false": 0.0, "": math.nan}
ADVISORY_TIMES = "project_advisories"
_ABSENT = object()

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FeatureTable:
    """A loaded features file: ``x`` (rows x features), labels, and the project of each row."""

    features: tuple[str, ...]
    x: Matrix
    y: npt.NDArray[np.int64] | None
    groups: tuple[str, ...]  # canonical project name per row (CV keeps a project on one side)
    releases: tuple[tuple[str, str], ...]  # (name, version) per row
    rule_counts: Matrix  # RULE_COLUMN per row (NaN when bandit did not run)
    sha256: str
    path: Path
    uploaded: Matrix | None = None  # first upload, POSIX seconds (NaN: unknown)
    extra: Mapping[str, Matrix] = field(default_factory=dict)  # baseline columns by name
    #: per row: the project has at least one advisory in the label data (``project_advisories``
    #: not empty); None when the file does not say
    advised: npt.NDArray[np.bool_] | None = None

    @property
    def n(self) -> int:
        return int(self.x.shape[0])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _number(value: object, where: str, column: str) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip().lower()
        if text in _TEXT:
            return _TEXT[text]
        try:
            number = float(text)
        except ValueError:
            raise TrainingDataError(f"{where}: column {column!r} is not a number: {value!r:.40}") from None
    if math.isinf(number):
        raise TrainingDataError(f"{where}: column {column!r} is not finite: {value!r:.40}")
    return number


def _when(value: object, where: str) -> float:
    """An ISO upload time as POSIX seconds (UTC when naive); NaN when absent."""
    if value is None or str(value).strip() == "":
        return math.nan
    try:
        when = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise TrainingDataError(f"{where}: 'date' is not an ISO date: {value!r:.40}") from None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


def records_matrix(records: Iterable[Mapping[str, object]], features: Sequence[str]) -> Matrix:
    """The feature matrix of ``records`` (missing columns and ``None`` are ``NaN``)."""
    rows = [[_number(r.get(f), f"record {i}", f) for f in features] for i, r in enumerate(records)]
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(features))


def _label(value: object, where: str) -> int:
    text = str(value).strip().lower() if value is not None else ""
    if text in ("1", "1.0", "true"):
        return 1
    if text in ("0", "0.0", "false"):
        return 0
    raise TrainingDataError(f"{where}: {LABEL!r} must be 0 or 1, not {value!r:.40}")


def load_table(path: Path, features: Sequence[str] = MODEL_FEATURES, *,
               require_label: bool = True) -> FeatureTable:
    """Read a features file (.csv/.jsonl/.sqlite). Raises :class:`TrainingDataError`."""
    from shouldi.sources import SourceError, open_source

    if not path.is_file():
        raise TrainingDataError(f"{path}: no such features file")
    rows: list[list[float]] = []
    labels: list[int] = []
    groups: list[str] = []
    releases: list[tuple[str, str]] = []
    rule: list[float] = []
    uploaded: list[float] = []
    extra_columns = sorted({c for c, _ in BASELINES.values() if c != "date"})
    extra: dict[str, list[float]] = {c: [] for c in extra_columns}
    advised: list[bool | None] = []
    seen: set[str] = set()
    try:
        for i, record in enumerate(open_source(path).read(), start=1):
            where = f"{path}: record {i}"
            seen.update(record)
            name, version = str(record.get("name") or ""), str(record.get("version") or "")
            if not name:
                raise TrainingDataError(f"{where}: no 'name' (needed to group releases by project)")
            if require_label:
                labels.append(_label(record.get(LABEL), where))
            rows.append([_number(record.get(f), where, f) for f in features])
            rule.append(_number(record.get(RULE_COLUMN), where, RULE_COLUMN))
            uploaded.append(_when(record.get("date"), where))
            times = record.get(ADVISORY_TIMES, _ABSENT)
            advised.append(None if times is _ABSENT else bool(str(times or "").strip()))
            for column in extra_columns:
                extra[column].append(_number(record.get(column), where, column))
            groups.append(canonicalize_name(name))
            releases.append((name, version))
    except SourceError as e:
        raise TrainingDataError(str(e)) from e
    if not rows:
        raise TrainingDataError(f"{path}: no records")
    if not seen.intersection(features):
        raise TrainingDataError(f"{path}: none of the model's {len(features)} feature columns "
                                f"(e.g. {features[0]!r}); is it a `shouldi dataset build` output?")
    x = np.array(rows, dtype=np.float64)
    return FeatureTable(tuple(features), x, np.array(labels, dtype=np.int64) if require_label else None,
                        tuple(groups), tuple(releases), np.array(rule, dtype=np.float64),
                        file_sha256(path), path, np.array(uploaded, dtype=np.float64),
                        {c: np.array(v, dtype=np.float64) for c, v in extra.items()},
                        None if None in advised else np.array(advised, dtype=np.bool_))
