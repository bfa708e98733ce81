"""What a scan-record source is: one flat row per package release, streamed in and out.

A record maps column names to scalars. Its identity is :class:`RecordKey` (name, version,
artifact sha256, index URL); a missing sha256 or index URL counts as ``""`` in the key.
Columns are dynamic: scanners add features over time, so writers accept new columns and
column types are learnt from values (widened int→float, anything else mixed → str) unless
declared. "Missing" and ``None`` are the same thing in every format.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Literal, NamedTuple, Protocol, TypeAlias

from shouldi.sources.errors import SourceError

__all__ = [
    "KEY_COLUMNS",
    "ColumnType",
    "Columns",
    "Record",
    "RecordKey",
    "RecordWriter",
    "Scalar",
    "Source",
    "check_record",
    "column_types",
    "merge_types",
    "record_key",
    "value_type",
]

Scalar: TypeAlias = str | int | float | bool | None
Record: TypeAlias = Mapping[str, Scalar]
ColumnType: TypeAlias = Literal["str", "int", "float", "bool"]
Columns: TypeAlias = Mapping[str, ColumnType] | Sequence[str]
KEY_COLUMNS = ("name", "version", "artifact_sha256", "index_url")


class RecordKey(NamedTuple):
    """The identity of a record: one release's artifact on one index."""

    name: str
    version: str
    artifact_sha256: str
    index_url: str


class RecordWriter(Protocol):
    """Writes records; what was written is published atomically on checkpoints and on exit.

    A writer is opened *before* anything it protects is read: :meth:`known_keys` are read
    under its lock, so deciding "is this release recorded?" and writing it cannot race with
    another writer of the same file (:meth:`write_if_new` does both at once).
    """

    @property
    def written(self) -> int: ...

    def write(self, record: Record) -> None: ...

    def known_keys(self) -> set[RecordKey]:
        """Keys in the file when this writer took it, plus every key written through it."""

    def write_if_new(self, record: Record) -> bool:
        """Write ``record`` unless its key is already recorded; whether it was written.

        Two writers of one file never both write a key this way: file formats hold their
        lock for the writer's life; SQLite inserts such rows with ``ON CONFLICT DO NOTHING``
        at commit (a row another process committed first wins, and is not counted here).
        """

    def checkpoint(self) -> None:
        """Make everything written so far survive a kill of this process."""


class Source(Protocol):
    """A file of records. Reading streams: memory does not grow with the number of rows."""

    path: Path

    def read(self) -> Iterator[dict[str, Scalar]]:
        """Every record, in file order. A missing file is a :class:`SourceError`."""

    def keys(self) -> set[RecordKey]:
        """Keys already recorded (empty when the file does not exist yet): for resuming."""

    def columns(self) -> dict[str, ColumnType]:
        """Known columns and their types, in order (empty when the file does not exist)."""

    def writer(
        self,
        columns: Columns = (),
        *,
        checkpoint_every: int | None = ...,
        checkpoint_seconds: float | None = ...,
    ) -> AbstractContextManager[RecordWriter]:
        """Add records to the file (existing records are kept), committed on exit.

        An existing file that is not a shouldi records file (a CSV without the key columns,
        a JSON Lines file whose first line is no record, an SQLite database with other
        tables), or is not a regular file, is refused with :class:`SourceError` and left as
        it was. A symlink is followed: the file it points to is the one replaced.

        A checkpoint happens every ``checkpoint_every`` records or ``checkpoint_seconds``
        seconds (``None`` disables either); a killed run leaves the previous file or the
        last checkpoint, never a torn file.
        """


_TYPE_NAMES: dict[type, ColumnType | None] = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    type(None): None,
}


def value_type(value: Scalar) -> ColumnType | None:
    """The column type a value implies (``None`` says nothing)."""
    kind = type(value)
    if kind in _TYPE_NAMES:  # the fast path: writers call this for every cell
        return _TYPE_NAMES[kind]
    if isinstance(value, bool):  # subclasses; bool before int: bool is an int subclass
        return "bool"
    if isinstance(value, int):
        return "int"
    return "float" if isinstance(value, float) else "str"


def merge_types(old: ColumnType | None, new: ColumnType | None) -> ColumnType | None:
    """Widen a column's type to hold both: int+float → float, any other mix → str."""
    if old is None or old == new:
        return new if old is None else old
    if new is None:
        return old
    return "float" if {old, new} == {"int", "float"} else "str"


def column_types(columns: Columns) -> dict[str, ColumnType | None]:
    """Declared columns as an ordered name → type mapping (type unknown for a bare list)."""
    if isinstance(columns, Mapping):
        return dict(columns)
    return dict.fromkeys(columns)


def check_record(record: Record) -> None:
    """Refuse records a flat file cannot hold: non-scalar values, missing name/version."""
    for column, value in record.items():
        if type(column) is not str or not column or "\x00" in column:
            raise SourceError(f"invalid column name {column!r}")
        if type(value) not in _TYPE_NAMES and not isinstance(value, (str, int, float)):
            raise SourceError(f"column {column!r}: {type(value).__name__} is not a scalar")
    for column in KEY_COLUMNS[:2]:
        if not isinstance(record.get(column), str) or not record.get(column):
            raise SourceError(f"record without {column!r}: {dict(record)!r:.200}")


def record_key(record: Record) -> RecordKey:
    """The identity of ``record`` (``None`` sha256/index URL count as ``""``)."""
    return RecordKey(*(str(record.get(c) or "") for c in KEY_COLUMNS))
