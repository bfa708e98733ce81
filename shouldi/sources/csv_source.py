"""Scan records as CSV: one header row, one row per release, readable by any spreadsheet.

CSV has no types, so the writer keeps them in a sidecar ``<file>.types.json`` (published
before the CSV itself) and the reader converts with it; types passed to :class:`CsvSource`
override it, and without either every value reads back as ``str``. An empty cell reads as
``None`` (so ``""`` and ``None`` are the same). Booleans are ``true``/``false``, floats use
``repr`` (exact round trip). A record with a column the header lacks *extends* the header:
the temp file is rewritten once with the wider header (rows padded) — columns may grow as
scanners are added. See :mod:`shouldi.sources._files` for atomicity, checkpoints and locking.

Text that a spreadsheet would run as a formula (it starts with ``= + - @``, a tab or a carriage
return, as a package summary may) is written with a leading ``'`` (OWASP's advice against CSV
injection); the reader removes it, so the round trip stays exact. Numbers are never quoted.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Generator, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shouldi.sources._files import (
    FileRecordWriter,
    TempFile,
    filling,
    locked_writer,
    open_regular,
    write_atomically,
)
from shouldi.sources.errors import SourceError
from shouldi.sources.interface import (
    KEY_COLUMNS,
    Columns,
    ColumnType,
    Record,
    RecordKey,
    RecordWriter,
    Scalar,
    column_types,
    merge_types,
    record_key,
    value_type,
)

if TYPE_CHECKING:
    from _csv import Writer

__all__ = ["CsvSource"]

#: Scanner output (summaries, messages) can exceed csv's 128 KiB default; a bigger cell is
#: not a record's (and would be read whole into memory).
csv.field_size_limit(64 << 20)
_SIDECAR_LIMIT = 16 << 20
_BOOLS = {"true": True, "false": False}
#: Text a spreadsheet would evaluate, after any quotes added before it (so escaping is lossless).
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")


def _cell(value: Scalar) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is str:
        return "'" + value if _FORMULA.match(value) else value
    return repr(value) if type(value) is float else str(value)


def _parse(text: str, kind: ColumnType | None, where: str, column: str) -> Scalar:
    if text == "":
        return None
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            return _BOOLS[text]
    except (ValueError, KeyError) as e:
        raise SourceError(f"{where}: column {column!r}: not a {kind}: {text!r:.80}") from e
    return text[1:] if _ESCAPED.match(text) else text


class CsvSource:
    """A CSV file of records (``types`` overrides the sidecar's column types)."""

    def __init__(self, path: Path, types: Mapping[str, ColumnType] | None = None) -> None:
        self.path = path
        self._types = dict(types or {})

    @property
    def sidecar(self) -> Path:
        return self.path.with_name(self.path.name + ".types.json")

    def stored_types(self) -> dict[str, ColumnType]:
        try:
            with open_regular(self.sidecar) as f:
                text = f.read(_SIDECAR_LIMIT + 1)
            if len(text) > _SIDECAR_LIMIT:
                raise SourceError(f"cannot read {self.sidecar}: larger than 16 MiB")
            data: Any = json.loads(text)
            stored = dict(data["columns"])
        except FileNotFoundError:
            stored = {}
        except RecursionError as e:
            raise SourceError(f"cannot read {self.sidecar}: JSON nested too deeply") from e
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise SourceError(f"cannot read {self.sidecar}: {e}") from e
        return {**stored, **self._types}

    def raw_rows(self) -> Generator[tuple[str, list[str]], None, None]:
        """Raw rows with ``file:line``; the header comes first."""
        try:
            with open_regular(self.path, newline="") as f:
                for row in (reader := csv.reader(f, strict=True)):
                    yield f"{self.path}:{reader.line_num}", row
        except OSError as e:
            raise SourceError(f"cannot read {self.path}: {e.strerror or e}") from e
        except (csv.Error, UnicodeDecodeError) as e:
            raise SourceError(f"{self.path}: not a valid CSV file: {e}") from e

    def header(self) -> list[str]:
        """The header row ([] when the file is missing or empty)."""
        if not self.path.exists():
            return []
        rows = self.raw_rows()
        try:
            return next(rows, ("", []))[1]
        finally:
            rows.close()

    def read(self) -> Iterator[dict[str, Scalar]]:
        types = self.stored_types()
        header: list[str] | None = None
        for where, row in self.raw_rows():
            if header is None:
                header = row
                continue
            if len(row) != len(header):
                raise SourceError(f"{where}: {len(row)} fields, the header has {len(header)}")
            yield {c: _parse(v, types.get(c), where, c) for c, v in zip(header, row, strict=True)}

    def keys(self) -> set[RecordKey]:
        return {record_key(r) for r in self.read()} if self.path.exists() else set()

    def columns(self) -> dict[str, ColumnType]:
        types = self.stored_types()
        return {c: types.get(c, "str") for c in self.header()}

    def writer(
        self,
        columns: Columns = (),
        *,
        checkpoint_every: int | None = None,
        checkpoint_seconds: float | None = 30.0,
    ) -> AbstractContextManager[RecordWriter]:
        declared = column_types(columns)
        return locked_writer(_CsvWriter(self, declared, checkpoint_every, checkpoint_seconds))


class _CsvWriter(FileRecordWriter):
    def __init__(
        self,
        source: CsvSource,
        declared: dict[str, ColumnType | None],
        every: int | None,
        seconds: float | None,
    ) -> None:
        super().__init__(source.path, declared, every, seconds)
        self.source = source
        self.types: dict[str, ColumnType | None] = {}
        self.header: list[str] = []
        self.known: set[str] = set()
        self.out: Writer | None = None

    def check_ours(self) -> None:
        header = self.source.header()
        missing = [c for c in KEY_COLUMNS if c not in header]
        if missing:
            raise SourceError(
                f"{self.target}: not a shouldi records file (its header lacks "
                f"{', '.join(missing)}); refusing to rewrite it"
            )

    def read_keys(self, path: Path) -> set[RecordKey]:
        return CsvSource(path).keys()  # keys are text: the sidecar's types do not matter

    def start(self, first: Record | None) -> TempFile:
        existing = self.source.header()
        self.types = {**self.source.stored_types(), **{c: t for c, t in self.declared.items() if t}}
        names = [*(existing or KEY_COLUMNS), *self.declared, *(first or {})]
        self.header = list(dict.fromkeys(names))
        self.known = set(self.header)
        with filling(self.target) as tmp:  # a refused copy leaves no temp file
            self._copy(self.source.raw_rows() if existing else iter(()), tmp)
        return tmp

    def _copy(self, rows: Iterator[tuple[str, list[str]]], tmp: TempFile) -> None:
        """Write the header, then ``rows`` (header first) padded to it, raw: no re-typing."""
        out = csv.writer(tmp.handle)
        out.writerow(self.header)
        old: list[str] | None = None
        for where, row in rows:
            if old is None:
                old = row
                continue
            if len(row) != len(old):
                raise SourceError(f"{where}: {len(row)} fields, the header has {len(old)}")
            values = dict(zip(old, row, strict=True))
            out.writerow([values.get(c, "") for c in self.header])
        self.out = out

    def write_row(self, record: Record) -> None:
        if not self.known.issuperset(record):
            self._extend([c for c in record if c not in self.known])
        types = self.types
        for column, value in record.items():
            kind = value_type(value)
            if kind is not None and kind != types.get(column):
                types[column] = merge_types(types.get(column), kind)
        assert self.out is not None
        self.out.writerow([_cell(record.get(c)) for c in self.header])

    def _extend(self, new: list[str]) -> None:
        """Rewrite the temp file with a wider header (rare: once per new column set)."""
        assert self.tmp is not None
        old = self.tmp
        old.sync()
        self.header += new
        self.known.update(new)
        with filling(self.target) as tmp:
            self._copy(CsvSource(old.path).raw_rows(), tmp)
        self.tmp = tmp
        old.discard()

    def before_publish(self) -> None:
        typed = {c: t for c, t in self.types.items() if t is not None}
        write_atomically(self.source.sidecar, json.dumps({"columns": typed}, indent=1) + "\n")
