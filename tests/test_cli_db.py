"""``shouldi db import|update|status`` through click's CliRunner: exact messages, exit codes."""

from __future__ import annotations

import io
import json
import os
import socket
import tarfile
import time
import tracemalloc
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from shouldi.cli.db import db


def osv(ident: str, package: str, modified: str = "2024-03-01T00:00:00Z") -> dict[str, object]:
    return {
        "id": ident,
        "modified": modified,
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": package},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}
                ],
            }
        ],
    }


def days_since(day: datetime) -> int:
    return (datetime.now(timezone.utc) - day).days


AGE = days_since(datetime(2024, 3, 1, tzinfo=timezone.utc))


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("SHOULDI_DATA_DIR", str(folder))
    monkeypatch.delenv("SHOULDI_ADVISORY_DB", raising=False)
    return folder


@pytest.fixture
def advisories(tmp_path: Path) -> Path:
    folder = tmp_path / "vulns"
    folder.mkdir()
    for doc in (osv("PYSEC-1", "demo"), osv("PYSEC-2", "other", "2024-02-01T00:00:00Z")):
        (folder / f"{doc['id']}.json").write_text(json.dumps(doc))
    return folder


def invoke(*args: str) -> Result:
    return CliRunner().invoke(db, list(args), catch_exceptions=False)


def test_status_of_an_empty_store(data_dir: Path) -> None:
    result = invoke("status")
    assert result.exit_code == 0
    assert result.stdout == (
        f"store:       {data_dir / 'advisories.sqlite'}\n"
        "advisories:  none (run `shouldi db update`, or `shouldi db import FILE` offline)\n"
    )
    assert not (data_dir / "advisories.sqlite").exists()


def test_import_then_status(data_dir: Path, advisories: Path) -> None:
    store = data_dir / "advisories.sqlite"
    result = invoke("import", str(advisories))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"imported 2 advisories for 2 packages (2 new or changed, 0 withdrawn) into {store};"
        f" data time 2024-03-01 00:00 UTC ({AGE} days old)\n"
    )
    again = invoke("import", str(advisories))
    assert "(0 new or changed, 0 withdrawn)" in again.stdout

    status = invoke("status")
    lines = status.stdout.splitlines()
    assert lines[:3] == [
        f"store:       {store}",
        "advisories:  2 (0 withdrawn) for 2 packages",
        f"data time:   2024-03-01 00:00 UTC ({AGE} days old)",
    ]
    assert lines[3].startswith(f"last import: {advisories} at ")


def test_store_option_overrides_the_data_dir(
    data_dir: Path, advisories: Path, tmp_path: Path
) -> None:
    other = tmp_path / "elsewhere.sqlite"
    assert invoke("--store", str(other), "import", str(advisories)).exit_code == 0
    assert other.is_file()
    assert not (data_dir / "advisories.sqlite").exists()
    # --advisory-db, the name `install`/`scan`/`ci` give the same file, names it too
    status = invoke("--advisory-db", str(other), "status")
    assert status.exit_code == 0 and str(other) in status.output


def test_import_missing_path_is_a_usage_error(data_dir: Path) -> None:
    result = invoke("import", "/nonexistent/advisories.zip")
    assert result.exit_code == 2
    assert (
        "Error: Invalid value for 'PATH': Path '/nonexistent/advisories.zip' does not exist."
        in result.stderr
    )


def test_import_unsupported_file(data_dir: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hi")
    result = invoke("import", str(notes))
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"error: {notes}: not an advisory file (.json/.yaml), directory, .zip or tar archive\n"
    )


def test_corrupt_archive_keeps_previous_data(
    data_dir: Path, advisories: Path, tmp_path: Path
) -> None:
    assert invoke("import", str(advisories)).exit_code == 0
    before = invoke("status").stdout
    corrupt = tmp_path / "db.tar.gz"
    corrupt.write_bytes(b"\x1f\x8b\x08\x00garbage that is not gzip")
    result = invoke("import", str(corrupt))
    assert result.exit_code == 2  # bad input, with the file's name
    assert result.stderr.startswith(f"error: {corrupt}: corrupt or unreadable archive (")
    assert result.stderr.count("\n") == 1  # one line, no traceback
    assert invoke("status").stdout == before


def zip_bytes(docs: list[dict[str, object]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for doc in docs:
            zf.writestr(f"{doc['id']}.json", json.dumps(doc))
    return buffer.getvalue()


def test_update_from_a_local_server(data_dir: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/PyPI/all.zip").respond_with_data(
        zip_bytes([osv("PYSEC-5", "x"), osv("PYSEC-6", "y")])
    )
    url = httpserver.url_for("/PyPI/all.zip")
    result = invoke("update", "--url", url)
    assert result.exit_code == 0, result.output
    assert result.stderr == f"downloading {url}\n"
    assert result.stdout.startswith(
        "imported 2 advisories for 2 packages (2 new or changed, 0 withdrawn)"
    )
    assert f"last import: {url} at " in invoke("status").stdout


def test_update_unreachable_is_one_line_and_exit_3(data_dir: Path, advisories: Path) -> None:
    assert invoke("import", str(advisories)).exit_code == 0
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/all.zip"
    result = invoke("update", "--url", url)
    assert result.exit_code == 3
    error = result.stderr.splitlines()[-1]
    assert error.startswith(f"error: cannot download {url}: ")
    assert "Connection refused" in error
    assert error.endswith("(offline: `shouldi db import FILE`)")
    assert "advisories:  2 (0 withdrawn) for 2 packages" in invoke("status").stdout


def test_update_http_error(data_dir: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/all.zip").respond_with_data("nope", status=503)
    url = httpserver.url_for("/all.zip")
    result = invoke("update", "--url", url)
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        3,
        f"error: cannot download {url}: HTTP 503",
    )


# --- hostile imports: bad input is exit 2, one line naming the file, quickly ---------------

LAUGHS = b"\n".join(
    [b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]".encode()
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    + [b"id: PYSEC-LOL", b'modified: "2024-01-01T00:00:00Z"', b""]
)


def hostile(tmp_path: Path, kind: str) -> tuple[Path, str]:
    """A hostile input for ``db import`` and the message it must get (after the file name)."""
    if kind == "billion-laughs":
        path = tmp_path / "lol.yaml"
        path.write_bytes(LAUGHS)
        return path, "lol.yaml: uses YAML aliases (line 2): refused, an alias can expand without bound"
    if kind == "nested-json":
        path = tmp_path / "deep.json"
        path.write_bytes(b"[" * 200_000 + b"]" * 200_000)
        return path, "deep.json: nested more than 32 levels deep"
    if kind == "nested-yaml":
        path = tmp_path / "deep.yaml"
        path.write_bytes(b"id: X\nmodified: '2024-01-01'\nx: " + b"[" * 500 + b"]" * 500)
        return path, "deep.yaml: nested more than 32 levels deep"
    if kind == "not-osv-yaml":
        path = tmp_path / "config.yaml"
        path.write_text("server:\n  port: 8080\n")
        return path, "config.yaml: not an OSV advisory (no id or modified)"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        for i in range(50):
            data = json.dumps(osv(f"PYSEC-{i}", "demo")).encode() + b" " * 20_000
            info = tarfile.TarInfo(f"vulns/PYSEC-{i}.json")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    raw = bytearray(buffer.getvalue())
    path = tmp_path / "db.tar.gz"
    if kind == "truncated-tar":
        path.write_bytes(bytes(raw[: len(raw) // 2]))
        return path, "corrupt or unreadable archive (Compressed file ended before the end-of-stream marker was reached)"
    raw[-8] ^= 0x55  # gzip CRC-32 of the data
    path.write_bytes(bytes(raw))
    return path, "corrupt or unreadable archive (CRC check failed"


@pytest.mark.parametrize(
    "kind",
    ["billion-laughs", "nested-json", "nested-yaml", "not-osv-yaml", "truncated-tar", "bad-crc"],
)
def test_hostile_imports_are_bad_input(
    data_dir: Path, advisories: Path, tmp_path: Path, kind: str
) -> None:
    assert invoke("import", str(advisories)).exit_code == 0
    before = invoke("status").stdout
    path, message = hostile(tmp_path, kind)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = invoke("import", str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 10
    assert peak < 64 << 20
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1  # one line, no traceback
    assert f"{path.name}: {path.name}" not in result.stderr  # the file is named once
    assert invoke("status").stdout == before


def test_broken_store_status_says_how_to_repair(data_dir: Path, advisories: Path) -> None:
    store = data_dir / "advisories.sqlite"
    data_dir.mkdir()
    store.write_bytes(b"garbage" * 100)
    result = invoke("status")
    assert result.exit_code == 3
    assert result.stderr == (
        f"error: advisory store {store} is not a SQLite database: rebuild it with"
        " `shouldi db import FILE --replace`, or remove it\n"
    )
    fixed = invoke("import", str(advisories), "--replace")
    assert fixed.exit_code == 0, fixed.output
    assert fixed.stderr.startswith(f"moved the unusable store aside to {store}.unusable-")
    assert "advisories:  2 (0 withdrawn) for 2 packages" in invoke("status").stdout


def test_the_environment_names_the_store_for_db_too(
    data_dir: Path, advisories: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = tmp_path / "chosen.sqlite"
    monkeypatch.setenv("SHOULDI_ADVISORY_DB", str(chosen))
    assert invoke("import", str(advisories)).exit_code == 0
    assert chosen.is_file() and not (data_dir / "advisories.sqlite").exists()
    assert f"store:       {chosen}" in invoke("status").stdout


@pytest.mark.parametrize("url", ["notaurl", "ftp://mirror/all.zip", "https://"])
def test_update_refuses_a_bad_url(data_dir: Path, url: str) -> None:
    result = CliRunner().invoke(db, ["update", "--url", url])
    assert result.exit_code == 2
    assert "Invalid value for '--url': not an http(s) URL" in result.stderr


def test_update_with_garbage_from_the_server_is_exit_3(data_dir: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/all.zip").respond_with_data(b"PK\x03\x04 not really a zip")
    result = invoke("update", "--url", httpserver.url_for("/all.zip"))
    assert result.exit_code == 3
    assert result.stderr.splitlines()[-1].startswith(
        f"error: the download is unusable: {httpserver.url_for('/all.zip')}: corrupt or unreadable zip"
    )


def test_update_from_an_osv_export_of_the_shared_database(
    data_dir: Path, httpserver: HTTPServer
) -> None:
    """OSV's PyPI export is a zip of <ID>.json files: the shared PyPA database, served as one."""
    shared = Path(__file__).resolve().parents[1].parent / "shared/data/pypa-advisory-database.tar.gz"
    if not shared.is_file():
        pytest.skip("shared advisory archive absent")
    from shouldi.advisories.documents import load_documents

    buffer = io.BytesIO()
    with tarfile.open(shared) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for member in source:
            handle = source.extractfile(member) if member.isreg() else None
            if handle is not None and member.name.endswith(".yaml"):
                for doc in load_documents(member.name, handle.read()):
                    out.writestr(f"{doc['id']}.json", json.dumps(doc))
    httpserver.expect_request("/PyPI/all.zip").respond_with_data(buffer.getvalue())
    result = invoke("update", "--url", httpserver.url_for("/PyPI/all.zip"))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("imported 1459 advisories for 529 packages")
    age = days_since(datetime(2024, 10, 10, 17, 22, tzinfo=timezone.utc))
    assert f"data time:   2024-10-10 17:22 UTC ({age} days old)" in invoke("status").stdout


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "1e999"])
def test_update_refuses_a_bad_timeout(data_dir: Path, value: str) -> None:
    result = CliRunner().invoke(db, ["update", "--timeout", value, "--url", "http://127.0.0.1:9/a.zip"])
    assert result.exit_code == 2
    assert "Invalid value for '--timeout'" in result.stderr


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_import_of_a_special_file_is_bad_input_at_once(data_dir: Path, tmp_path: Path, kind: str) -> None:
    path = Path("/dev/zero") if kind == "device" else tmp_path / "advisories.json"
    if kind == "fifo":
        os.mkfifo(path)  # reading it would block forever
    started = time.perf_counter()
    result = invoke("import", str(path))
    assert time.perf_counter() - started < 5
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: {path}: not a regular file, directory or archive\n",
    )
