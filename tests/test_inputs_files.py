"""Input files are hostile: FIFOs, devices, /proc, binaries, huge or looping includes.

Each case is a real file on disk (a FIFO made with mkfifo, /dev/zero, a listening Unix
socket, a sparse 9 MiB file...) given to the real readers; every refusal must come quickly,
as one line naming the file, and be an InputError (exit 2).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import shouldi.inputs.requirements as requirements
from shouldi.errors import EXIT_BAD_INPUT
from shouldi.inputs import (
    InputError,
    installed_distributions,
    read_pyproject,
    read_requirements,
    read_text_input,
    same_file,
)
from shouldi.inputs.pyproject import load_toml, tool_table

MiB = 1 << 20


def refused(call: Callable[[], Any], match: str, seconds: float = 5.0) -> InputError:
    """Run ``call`` in a thread: it must raise InputError matching ``match`` within ``seconds``."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
        except BaseException as e:  # kept for the assertion below
            outcome.append(e)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run, daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(seconds)
    assert outcome, f"still reading after {seconds} s (a FIFO or device was opened blocking?)"
    err = outcome[0]
    assert isinstance(err, InputError), repr(err)
    assert err.exit_code == EXIT_BAD_INPUT
    assert "\n" not in str(err)
    assert time.monotonic() - start < seconds
    import re

    assert re.search(match, str(err)), str(err)
    return err


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- what kind of file ---------------------------------------------------------------------


def test_a_fifo_with_no_writer_is_refused_at_once(tmp_path):
    fifo = tmp_path / "reqs.txt"
    os.mkfifo(fifo)
    err = refused(lambda: read_requirements(fifo), rf"^cannot read {fifo}: it is a named pipe \(FIFO\); "
            r"a requirements file must be a regular file$")
    assert str(fifo) in str(err)


def test_an_include_of_dev_zero_is_refused_before_reading(tmp_path):
    req = write(tmp_path / "r.txt", "six\n-r /dev/zero\n")
    err = refused(lambda: read_requirements(req), r"^cannot read /dev/zero: it is a character device",
                  seconds=2.0)
    assert "/dev/zero" in str(err)


def test_a_directory_and_a_socket_are_refused(tmp_path):
    (tmp_path / "dir.txt").mkdir()
    req = write(tmp_path / "r.txt", "-r dir.txt\n")
    err = refused(lambda: read_requirements(req), r"dir.txt: it is a directory; a requirements file must be")
    assert "dir.txt" in str(err)
    sock_path = tmp_path / "s.txt"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(sock_path))
        server.listen()
        err = refused(lambda: read_requirements(sock_path),
                      r"s.txt: it is a socket; a requirements file must be a regular file$")
    assert str(sock_path) in str(err)


def test_a_symlink_to_a_regular_file_is_read_and_to_a_device_refused(tmp_path):
    real = write(tmp_path / "real.txt", "six==1.16.0\n")
    (tmp_path / "link.txt").symlink_to(real)
    assert read_requirements(tmp_path / "link.txt").dependencies[0].name == "six"
    (tmp_path / "null.txt").symlink_to("/dev/null")
    refused(lambda: read_requirements(tmp_path / "null.txt"), r"null.txt: it is a character device")


def test_a_symlink_loop_is_one_line(tmp_path):
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    req = write(tmp_path / "r.txt", "-r loop.txt\n")
    err = refused(lambda: read_requirements(req), r"loop.txt: too many levels of symbolic links$")
    assert err.exit_code == EXIT_BAD_INPUT and "\n" not in str(err)


# --- how big -------------------------------------------------------------------------------


def test_size_is_measured_while_reading_not_by_stat():
    """/proc files say st_size 0 and still have content: the limit must hold anyway."""
    maps = Path("/proc/self/maps")
    if not maps.exists() or maps.stat().st_size != 0:
        pytest.skip("needs a Linux /proc whose files report size 0")
    refused(lambda: read_text_input(maps, limit=100, what="test file"),
            r"^cannot read /proc/self/maps: larger than 100 bytes, the limit for a test file$")
    assert "\n" in read_text_input(maps, limit=1 << 24, what="test file")


def test_a_requirements_file_over_the_limit_is_refused(tmp_path):
    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.truncate(requirements.MAX_FILE_BYTES + 1)  # sparse: costs nothing on disk
    err = refused(lambda: read_requirements(big), r"big.txt: larger than 8 MiB, the limit for a requirements file$")
    assert str(big) in str(err) and err.exit_code == EXIT_BAD_INPUT


def test_includes_are_bounded_in_depth_and_in_total(tmp_path, monkeypatch):
    for i in range(40):
        write(tmp_path / f"r{i}.txt", f"pkg{i}\n-r r{i + 1}.txt\n")
    write(tmp_path / "r40.txt", "last\n")
    err = refused(lambda: read_requirements(tmp_path / "r0.txt"),
                  r"r31.txt:2: includes nested more than 32 files deep$")
    assert str(tmp_path / "r0.txt") not in str(err)  # names where, not the whole chain

    monkeypatch.setattr(requirements, "MAX_TOTAL_BYTES", 50)
    write(tmp_path / "a.txt", "-r b.txt\n" + "# padding\n" * 3)
    write(tmp_path / "b.txt", "six\n" + "# padding\n" * 3)
    refused(lambda: read_requirements(tmp_path / "a.txt"),
            r"a.txt:1: requirements files total more than 0 MiB$")


def test_include_loops_of_any_length_are_refused(tmp_path):
    write(tmp_path / "a.txt", "-r b.txt\n")
    write(tmp_path / "b.txt", "-c c.txt\n")
    write(tmp_path / "c.txt", "-r sub/../a.txt\n")
    (tmp_path / "sub").mkdir()
    err = refused(lambda: read_requirements(tmp_path / "a.txt"), r"c.txt:1: include cycle: .*a.txt -> "
                  r".*b.txt -> .*c.txt -> .*sub/../a.txt$")
    assert str(err).count(" -> ") == 3  # the whole cycle, each file once


# --- what is in it -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", r"not UTF-8 text \(invalid start byte at byte 0\)"),
        (b"six\x00==1.0\n", r"binary data \(a NUL byte at character 3\)"),
        (b"\xff\xfes\x00i\x00x\x00\n\x00", None),  # UTF-16 with a BOM is text
    ],
    ids=["png", "nul", "utf16"],
)
def test_binary_files_are_refused_and_text_encodings_read(tmp_path, data, why):
    path = tmp_path / "r.txt"
    path.write_bytes(data)
    if why is None:
        assert [d.name for d in read_requirements(path).dependencies] == ["six"]
    else:
        refused(lambda: read_requirements(path), rf"^cannot read .*r.txt: {why}$")


# --- pyproject.toml ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('project = "x"\n', r"\[project\] must be a table, not a string$"),
        ("[project]\noptional-dependencies = 5\n", r"\[project.optional-dependencies\] must be a "
         r"table, not a number$"),
        ('[project]\nname = "x"\ndynamic = "dependencies"\n', r"dynamic must be a list of strings$"),
        ("dependency-groups = [1]\n", r"\[dependency-groups\] must be a table, not an array$"),
        ("a = " + "[" * 50_000 + "]" * 50_000 + "\n", r"invalid TOML: arrays or tables nested too "
         r"deeply$"),
    ],
    ids=["project-string", "extras-number", "dynamic-string", "groups-array", "deep"],
)
def test_pyproject_of_the_wrong_shape_is_one_line(tmp_path, text, message):
    path = write(tmp_path / "pyproject.toml", text)
    err = refused(lambda: read_pyproject(path), message)
    assert str(path) in str(err) and "\n" not in str(err)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tool = 5\n", r"pyproject.toml: \[tool\] must be a table, not a number$"),
        ("[tool]\nshouldi = 5\n", r"pyproject.toml: \[tool.shouldi\] must be a table, not a number$"),
        ('[tool]\nshouldi = "strict"\n', r"\[tool.shouldi\] must be a table, not a string$"),
    ],
    ids=["tool-number", "shouldi-number", "shouldi-string"],
)
def test_tool_table_refuses_what_is_not_a_table(tmp_path, text, message):
    path = write(tmp_path / "pyproject.toml", text)
    _text, data = load_toml(path, what="policy file")
    err = refused(lambda: tool_table(data, "shouldi", str(path)), message)
    assert str(path) in str(err) and err.exit_code == EXIT_BAD_INPUT


def test_tool_table_reads_the_table_or_nothing(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[tool.shouldi]\nmax_risk_score = 80\n[tool.x]\n")
    assert tool_table(load_toml(path)[1], "shouldi", str(path)) == {"max_risk_score": 80}
    assert tool_table(load_toml(path)[1], "other", str(path)) == {}
    os.mkfifo(tmp_path / "fifo.toml")
    refused(lambda: load_toml(tmp_path / "fifo.toml", what="policy file"),
            r"^cannot read .*fifo.toml: it is a named pipe \(FIFO\); a policy file must be")


# --- installed metadata --------------------------------------------------------------------


def test_installed_metadata_that_is_a_fifo_or_huge_is_refused(tmp_path):
    site = tmp_path / "site"
    info = site / "ok-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ok\nVersion: 1.0\n")
    assert [d.spec for d in installed_distributions([str(site)])] == ["ok==1.0"]

    bad = site / "bad-1.0.dist-info"
    bad.mkdir()
    os.mkfifo(bad / "METADATA")
    refused(lambda: installed_distributions([str(site)]),
            rf"^cannot read {bad}/METADATA: it is a named pipe \(FIFO\); a metadata file must be")
    (bad / "METADATA").unlink()
    with (bad / "METADATA").open("wb") as f:
        f.truncate(17 * MiB)
    refused(lambda: installed_distributions([str(site)]), r"METADATA: larger than 16 MiB, the limit for a")
    (bad / "METADATA").write_text("Metadata-Version: 2.1\nName: bad\nVersion: 1.0\n")
    (bad / "direct_url.json").symlink_to("/dev/zero")
    refused(lambda: installed_distributions([str(site)]), r"direct_url.json: it is a character")


# --- same_file -----------------------------------------------------------------------------


def test_same_file_sees_through_spellings_links_and_inodes(tmp_path):
    a = write(tmp_path / "deps.csv", "name,version\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(a)
    os.link(a, tmp_path / "hard.csv")
    (tmp_path / "dirlink").symlink_to(tmp_path)
    assert same_file(a, tmp_path / "sub" / ".." / "deps.csv")
    assert same_file(a, tmp_path / "link.csv")
    assert same_file(a, tmp_path / "hard.csv")  # another name, the same inode
    assert same_file(tmp_path / "dirlink" / "new.csv", tmp_path / "new.csv")  # neither exists
    with a.open() as f:
        fd_path = Path(f"/proc/self/fd/{f.fileno()}")
        if fd_path.exists():
            assert same_file(fd_path, a)
    other = write(tmp_path / "other.csv", "name,version\n")
    assert not same_file(a, other)
    assert not same_file(a, tmp_path / "missing.csv")
    assert same_file(Path("relative.txt"), Path.cwd() / "relative.txt")
