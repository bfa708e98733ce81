"""Scan-record sources: one row per package release, in CSV, JSON Lines or SQLite.

:func:`open_source` picks the format by extension; every :class:`Source` streams records
in and out, knows which :class:`RecordKey` it already holds (to resume a run), and publishes
writes atomically. Errors are :class:`SourceError` (a :class:`~shouldi.errors.UsageError`).
"""

from __future__ import annotations

from shouldi.sources.csv_source import CsvSource
from shouldi.sources.errors import SourceError
from shouldi.sources.interface import (
    KEY_COLUMNS,
    ColumnType,
    Record,
    RecordKey,
    RecordWriter,
    Scalar,
    Source,
    record_key,
)
from shouldi.sources.jsonl import JsonlSource
from shouldi.sources.registry import FORMATS, convert, open_source
from shouldi.sources.sqlite import SqliteSource

__all__ = [
    "FORMATS",
    "KEY_COLUMNS",
    "ColumnType",
    "CsvSource",
    "JsonlSource",
    "Record",
    "RecordKey",
    "RecordWriter",
    "Scalar",
    "Source",
    "SourceError",
    "SqliteSource",
    "convert",
    "open_source",
    "record_key",
]
