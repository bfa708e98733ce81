"""Scan records as JSON Lines: one JSON object per line, types preserved natively.

Columns need no header: each line carries its own keys, so new columns cost nothing.
Reading validates every line (an object of scalars) and names ``file:line`` on error. See
:mod:`shouldi.sources._files` for atomicity, checkpoints and locking.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from shouldi.sources._files import (
    FileRecordWriter,
    TempFile,
    filling,
    locked_writer,
    open_regular,
)
from shouldi.sources.errors import SourceError
from shouldi.sources.interface import (
    Columns,
    ColumnType,
    Record,
    RecordKey,
    RecordWriter,
    Scalar,
    check_record,
    column_types,
    merge_types,
    record_key,
    value_type,
)

__all__ = ["JsonlSource"]

_FIRST_LINE_LIMIT = 16 << 20  # a record is a few KiB; a longer first line is not one
_LINE_LIMIT = 64 << 20  # longer is no record, and would be read whole into memory


class JsonlSource:
    """A JSON Lines file of records."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> Iterator[dict[str, Scalar]]:
        try:
            with open_regular(self.path) as f:
                number = 0
                while line := f.readline(_LINE_LIMIT + 1):
                    number += 1
                    if len(line) > _LINE_LIMIT:
                        raise SourceError(f"{self.path}:{number}: line longer than 64 MiB")
                    if line.strip():
                        yield self._parse(line, f"{self.path}:{number}")
        except OSError as e:
            raise SourceError(f"cannot read {self.path}: {e.strerror or e}") from e
        except UnicodeDecodeError as e:
            raise SourceError(f"{self.path}: not UTF-8 text: {e}") from e

    @staticmethod
    def _parse(line: str, where: str) -> dict[str, Scalar]:
        try:
            record = json.loads(line)
        except ValueError as e:
            raise SourceError(f"{where}: invalid JSON: {e}") from e
        except RecursionError as e:
            raise SourceError(f"{where}: invalid JSON: nested too deeply") from e
        if not isinstance(record, dict):
            raise SourceError(f"{where}: not a JSON object")
        try:
            check_record(record)
        except SourceError as e:
            raise SourceError(f"{where}: {e}") from e
        return record

    def keys(self) -> set[RecordKey]:
        return {record_key(r) for r in self.read()} if self.path.exists() else set()

    def columns(self) -> dict[str, ColumnType]:
        """One streaming pass: every key seen, with its widened type (``str`` if only nulls)."""
        types: dict[str, ColumnType | None] = {}
        for record in self.read() if self.path.exists() else ():
            for column, value in record.items():
                types[column] = merge_types(types.get(column), value_type(value))
        return {c: t or "str" for c, t in types.items()}

    def writer(
        self,
        columns: Columns = (),
        *,
        checkpoint_every: int | None = None,
        checkpoint_seconds: float | None = 30.0,
    ) -> AbstractContextManager[RecordWriter]:
        declared = column_types(columns)
        return locked_writer(
            _JsonlWriter(self.path, declared, checkpoint_every, checkpoint_seconds)
        )


class _JsonlWriter(FileRecordWriter):
    def check_ours(self) -> None:
        """The first line must be a record (lines are then copied raw, not parsed again)."""
        try:
            with open_regular(self.target) as f:
                number, line = 1, f.readline(_FIRST_LINE_LIMIT)
                while line and not line.strip():
                    number, line = number + 1, f.readline(_FIRST_LINE_LIMIT)
        except OSError as e:
            raise SourceError(f"cannot read {self.target}: {e.strerror or e}") from e
        except UnicodeDecodeError as e:
            raise SourceError(f"{self.target}: not UTF-8 text: {e}") from e
        try:
            if line:
                JsonlSource._parse(line, f"{self.target}:{number}")
        except SourceError as e:
            raise SourceError(f"not a shouldi records file ({e}); refusing to rewrite it") from e

    def read_keys(self, path: Path) -> set[RecordKey]:
        return JsonlSource(path).keys()

    def start(self, first: Record | None) -> TempFile:
        with filling(self.target) as tmp:  # a failed copy leaves no temp file
            if self.target.exists():  # raw line copy: fast, and the file was ours and whole
                with open_regular(self.target) as f:
                    last = ""
                    for last in f:
                        tmp.handle.write(last)
                    if last and not last.endswith("\n"):
                        tmp.handle.write("\n")
        return tmp

    def write_row(self, record: Record) -> None:
        assert self.tmp is not None
        line = json.dumps(dict(record), ensure_ascii=False, separators=(",", ":"))
        self.tmp.handle.write(line + "\n")

    def before_publish(self) -> None:
        """Nothing to add: each line carries its own columns."""
