"""Round trips and format rules of the CSV, JSON Lines and SQLite sources, on real files."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import time
import tracemalloc

import pytest

import shouldi.sources as sources
from shouldi.errors import EXIT_BAD_INPUT
from shouldi.sources import (
    CsvSource,
    JsonlSource,
    RecordKey,
    SourceError,
    SqliteSource,
    convert,
    open_source,
)
from shouldi.sources._files import TempFile

RECORDS = [
    {
        "name": "requests",
        "version": "2.31.0",
        "artifact_sha256": "ab" * 32,
        "index_url": "https://index.example/simple",
        "score": 0.1 + 0.2,  # repr round trip, not str
        "findings": 3,
        "has_setup_py": True,
        "summary": 'Python HTTP, "for humans",\nwith a newline',
        "nothing": None,
    },
    {"name": "six", "version": "1.16.0", "findings": 0, "has_setup_py": False, "new_col": "late"},
]
EXTS = ["csv", "jsonl", "sqlite"]


def written(path, records=RECORDS, **kw):
    source = open_source(path)
    with source.writer(**kw) as writer:
        for record in records:
            writer.write(record)
    return source


def normal(record):
    """What every format must agree on: missing == None."""
    return {k: v for k, v in record.items() if v is not None}


def test_all_names_the_public_api():
    public = {n for n in vars(sources) if not n.startswith("_")}
    modules = {"annotations", "csv_source", "errors", "interface", "jsonl", "registry", "sqlite"}
    assert set(sources.__all__) == public - modules


@pytest.mark.parametrize("ext", EXTS)
def test_round_trip_preserves_values_and_types(tmp_path, ext):
    source = written(tmp_path / f"data.{ext}")
    back = list(source.read())
    assert [normal(r) for r in back] == [normal(r) for r in RECORDS]
    assert [type(v) for v in back[0].values() if v is not None] == [
        str, str, str, str, float, int, bool, str,
    ]  # fmt: skip
    assert source.keys() == {
        RecordKey("requests", "2.31.0", "ab" * 32, "https://index.example/simple"),
        RecordKey("six", "1.16.0", "", ""),
    }
    assert source.columns()["has_setup_py"] == "bool"
    assert source.columns()["score"] == "float"
    assert list(source.columns())[:4] == ["name", "version", "artifact_sha256", "index_url"]


FORMULAS = ["=HYPERLINK(\"http://evil.example\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx",
            "'=already quoted", "''+twice", "'plain", "a=b", "-", ""]


def test_csv_cells_never_run_as_spreadsheet_formulas(tmp_path):
    records = [{"name": f"p{i}", "version": "1", "summary": text or None, "delta": -5, "ratio": -0.5}
               for i, text in enumerate(FORMULAS)]
    source = written(tmp_path / "data.csv", records)
    (_, header), *rows = source.raw_rows()
    at = header.index("summary")
    cells = [row[at] for _, row in rows]
    dangerous = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert dangerous == []
    assert cells[0] == "'" + FORMULAS[0]
    assert cells[9] == "a=b" and cells[8] == "'plain"  # only what a spreadsheet would evaluate
    numbers = [row[header.index("delta")] + " " + row[header.index("ratio")] for _, row in rows]
    assert set(numbers) == {"-5 -0.5"}  # numbers as they are
    assert [normal(r) for r in source.read()] == [normal(r) for r in records]  # and read back exactly
    untyped = CsvSource(tmp_path / "data.csv")
    untyped.sidecar.unlink()
    assert [r["summary"] for r in untyped.read()] == [t or None for t in FORMULAS]


@pytest.mark.parametrize("ext", EXTS)
def test_a_second_writer_keeps_existing_records(tmp_path, ext):
    source = written(tmp_path / f"data.{ext}", RECORDS[:1])
    written(tmp_path / f"data.{ext}", RECORDS[1:])
    assert [r["name"] for r in source.read()] == ["requests", "six"]


@pytest.mark.parametrize("ext", EXTS)
def test_empty_run_and_missing_file(tmp_path, ext):
    source = open_source(tmp_path / f"data.{ext}")
    assert source.keys() == set()
    assert source.columns() == {}
    with pytest.raises(SourceError, match="No such file"):
        list(source.read())
    with source.writer(columns={"score": "float"}):
        pass
    assert list(source.read()) == []
    # declared columns live in CSV's header and SQLite's schema; JSON Lines has only rows
    assert source.columns().get("score") == (None if ext == "jsonl" else "float")


@pytest.mark.parametrize("ext", EXTS)
@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"version": "1"}, "record without 'name'"),
        ({"name": "x", "version": "1", "tags": ["a"]}, "column 'tags': list is not a scalar"),
        ({"name": "x", "version": "1", "": 1}, "invalid column name"),
    ],
    ids=["no-name", "not-scalar", "empty-column"],
)
def test_bad_records_are_refused_and_the_file_is_kept(tmp_path, ext, record, message):
    source = written(tmp_path / f"data.{ext}", RECORDS[:1])
    with pytest.raises(SourceError, match=message):
        written(source.path, [RECORDS[1], record])
    assert [r["name"] for r in source.read()] == ["requests", "six"]  # committed the good row


def test_csv_header_grows_by_rewrite_and_types_come_from_the_sidecar(tmp_path):
    path = tmp_path / "data.csv"
    written(path, checkpoint_every=1)
    header = path.read_text().splitlines()[0]
    assert header.split(",")[-1] == "new_col"  # extended after the first record was written
    assert (
        json.loads(path.with_name("data.csv.types.json").read_text())["columns"]["score"] == "float"
    )
    path.with_name("data.csv.types.json").unlink()
    untyped = list(CsvSource(path).read())
    assert untyped[0]["findings"] == "3"
    assert untyped[1]["has_setup_py"] == "false"
    typed = list(CsvSource(path, types={"findings": "int"}).read())
    assert typed[0]["findings"] == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,version\na,1,extra\n", r"data.csv:2: 3 fields, the header has 2"),
        ('name,version\n"a,1\n', "not a valid CSV file"),
    ],
)
def test_csv_malformed(tmp_path, text, message):
    (tmp_path / "data.csv").write_text(text)
    with pytest.raises(SourceError, match=message):
        list(CsvSource(tmp_path / "data.csv").read())


def test_csv_typed_column_with_bad_value(tmp_path):
    (tmp_path / "data.csv").write_text("name,version,n\na,1,x\n")
    with pytest.raises(SourceError, match=r"data.csv:2: column 'n': not a int: 'x'"):
        list(CsvSource(tmp_path / "data.csv", types={"n": "int"}).read())


@pytest.mark.parametrize(
    ("line", "message"),
    [("{not json", "data.jsonl:2: invalid JSON"), ("[1]", "data.jsonl:2: not a JSON object"),
     ('{"name": "x"}', "data.jsonl:2: record without 'version'")],
)  # fmt: skip
def test_jsonl_malformed(tmp_path, line, message):
    (tmp_path / "data.jsonl").write_text('{"name": "a", "version": "1"}\n' + line + "\n")
    with pytest.raises(SourceError, match=message):
        list(JsonlSource(tmp_path / "data.jsonl").read())


def test_sqlite_upserts_by_key_and_has_a_real_schema(tmp_path):
    path = tmp_path / "data.sqlite"
    written(path)
    written(path, [{"name": "six", "version": "1.16.0", "findings": 7}])
    source = SqliteSource(path)
    six = [r for r in source.read() if r["name"] == "six"]
    assert len(six) == 1
    assert six[0]["findings"] == 7
    assert six[0]["new_col"] == "late"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        pk = [r[1] for r in conn.execute("PRAGMA table_info(records)") if r[5]]
        assert pk == ["name", "version", "artifact_sha256", "index_url"]
        assert conn.execute(
            "SELECT typeof(score), typeof(findings) FROM records LIMIT 1"
        ).fetchone() == ("real", "integer")
    conn.close()


def test_sqlite_refuses_columns_differing_only_in_case(tmp_path):
    source = written(tmp_path / "data.db", RECORDS[:1])
    with pytest.raises(SourceError, match="clashes with 'score'"):
        written(source.path, [{"name": "x", "version": "1", "Score": 1}])


def test_sqlite_not_a_dataset(tmp_path):
    (tmp_path / "data.db").write_bytes(b"not a database at all" * 10)
    with pytest.raises(SourceError, match="file is not a database"):
        list(SqliteSource(tmp_path / "data.db").read())


def test_open_source_picks_by_extension(tmp_path):
    assert isinstance(open_source(tmp_path / "x.CSV"), CsvSource)
    assert isinstance(open_source(tmp_path / "x.ndjson"), JsonlSource)
    assert isinstance(open_source(tmp_path / "x.db"), SqliteSource)
    with pytest.raises(SourceError, match=r"unknown record format '\.xlsx'") as info:
        open_source(tmp_path / "x.xlsx")
    assert info.value.exit_code == EXIT_BAD_INPUT


@pytest.mark.parametrize(("a", "b"), [("sqlite", "csv"), ("csv", "jsonl"), ("jsonl", "sqlite")])
def test_convert_streams_everything_with_types(tmp_path, a, b):
    src = written(tmp_path / f"src.{a}")
    dst = open_source(tmp_path / f"dst.{b}")
    assert convert(src, dst) == 2
    assert [normal(r) for r in dst.read()] == [normal(r) for r in RECORDS]
    with pytest.raises(SourceError, match="into itself"):
        convert(src, open_source(tmp_path / f"src.{a}"))


@pytest.mark.parametrize("ext", EXTS)
def test_memory_does_not_grow_with_rows(tmp_path, ext):
    """Peak Python memory to write then read 10k rows stays close to that for 1k rows."""

    def peak(n):
        path = tmp_path / f"data{n}.{ext}"
        tracemalloc.start()
        source = written(path, ({"name": f"p{i}", "version": "1", "x": i * 1.5} for i in range(n)))
        for _ in source.read():
            pass
        result = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return result

    small, large = peak(1_000), peak(10_000)
    assert large < small * 1.5 + 100_000, (small, large)


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.mark.parametrize("ext", EXTS)
def test_time_checkpoints_publish_while_the_caller_is_busy(tmp_path, ext):
    path = tmp_path / f"data.{ext}"
    source = open_source(path)
    with source.writer(checkpoint_every=None, checkpoint_seconds=0.05) as writer:
        writer.write(RECORDS[0])
        wait_for(lambda: path.exists() and bool(source.keys()))  # no write() in between
        assert [normal(r) for r in source.read()] == [normal(RECORDS[0])]
        writer.write(RECORDS[1])
    assert len(list(source.read())) == 2


@pytest.mark.parametrize("ext", ["csv", "jsonl"])
def test_a_failed_checkpoint_is_raised_and_leaves_the_published_file(tmp_path, ext, monkeypatch):
    source = written(tmp_path / f"data.{ext}", RECORDS[:1])

    def disk_full(self):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(TempFile, "publish_copy", disk_full)

    def busy_run():
        with source.writer(checkpoint_every=None, checkpoint_seconds=0.05) as writer:
            writer.write(RECORDS[1])
            time.sleep(0.3)  # the ticker's checkpoint fails meanwhile
            writer.write(RECORDS[1])

    with pytest.raises(SourceError, match="No space left on device"):
        busy_run()
    assert [r["name"] for r in source.read()] == ["requests"]
    assert not list(tmp_path.glob("*.tmp"))
