"""Pick a source by file extension, and copy records between sources (``dataset export``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from shouldi.inputs.files import same_file
from shouldi.sources.csv_source import CsvSource
from shouldi.sources.errors import SourceError
from shouldi.sources.interface import Source
from shouldi.sources.jsonl import JsonlSource
from shouldi.sources.sqlite import SqliteSource

__all__ = ["FORMATS", "convert", "open_source"]

FORMATS: dict[str, Callable[[Path], Source]] = {
    ".csv": CsvSource,
    ".jsonl": JsonlSource,
    ".ndjson": JsonlSource,
    ".sqlite": SqliteSource,
    ".sqlite3": SqliteSource,
    ".db": SqliteSource,
}


def open_source(path: Path) -> Source:
    """The source for ``path``, chosen by its extension (case-insensitive)."""
    factory = FORMATS.get(path.suffix.lower())
    if factory is None:
        known = ", ".join(FORMATS)
        raise SourceError(f"{path}: unknown record format {path.suffix!r} (use one of {known})")
    return factory(path)


def convert(src: Source, dst: Source) -> int:
    """Stream every record of ``src`` into ``dst``; returns how many were copied.

    ``dst`` keeps its existing records (CSV/JSONL append, SQLite upserts by key) and gets
    ``src``'s column types declared up front, so CSV's header needs no rewrite.
    """
    if same_file(src.path, dst.path):  # also through hard links and symlinks
        raise SourceError(f"cannot convert {src.path} into itself")
    with dst.writer(src.columns()) as writer:
        for record in src.read():
            writer.write(record)
    return writer.written
