"""Real processes: a writer killed with SIGKILL mid-run, and two writers on one file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from shouldi.sources import RecordKey, open_source

ROOT = Path(__file__).resolve().parents[1]
EXTS = ["csv", "jsonl", "sqlite"]

CHILD = """
import sys, time
from pathlib import Path
from shouldi.sources import open_source

path, prefix, start, stop, every = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
source = open_source(Path(path))
with source.writer(checkpoint_every=every, checkpoint_seconds=None) as writer:
    for i in range(start, stop):
        writer.write({"name": f"{prefix}{i}", "version": "1.0", "score": i / 2, prefix: i})
        print(i, flush=True)
        time.sleep(0.002)
"""


def child(tmp_path, path, prefix, start, stop, every):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, str(script), str(path), prefix, str(start), str(stop), str(every)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("ext", EXTS)
def test_killed_writer_leaves_previous_rows_plus_checkpoints_and_resume_skips(tmp_path, ext):
    path = tmp_path / f"data.{ext}"
    source = open_source(path)
    with source.writer() as writer:
        for i in range(5):
            writer.write({"name": f"old{i}", "version": "1.0"})

    proc = child(tmp_path, path, "p", 0, 10_000, 10)
    assert proc.stdout is not None
    printed = 0
    for _ in proc.stdout:
        printed += 1
        if printed == 35:
            break
    os.kill(proc.pid, signal.SIGKILL)
    printed += sum(1 for _ in proc.stdout)
    proc.stdout.close()
    assert proc.wait() == -signal.SIGKILL

    rows = list(source.read())  # parses: the file is whole
    names = [r["name"] for r in rows]
    assert names[:5] == [f"old{i}" for i in range(5)]
    new = len(rows) - 5
    assert new % 10 == 0, (new, printed)  # only whole checkpoints
    assert 30 <= new <= printed, (new, printed)
    assert names[5:] == [f"p{i}" for i in range(new)]

    done = source.keys()
    with source.writer() as writer:  # resume: skip what is recorded
        for i in range(new + 20):
            record = {"name": f"p{i}", "version": "1.0", "score": i / 2}
            if (RecordKey(f"p{i}", "1.0", "", "")) not in done:
                writer.write(record)
    assert writer.written == 20
    assert sorted(r["name"] for r in source.read()) == sorted(
        [f"old{i}" for i in range(5)] + [f"p{i}" for i in range(new + 20)]
    )
    leftovers = {p.name for p in tmp_path.iterdir()} - {"child.py", path.name}
    assert not {n for n in leftovers if n.endswith(".tmp")}, leftovers


@pytest.mark.parametrize("ext", EXTS)
def test_two_processes_writing_one_file_lose_nothing(tmp_path, ext):
    path = tmp_path / f"data.{ext}"
    procs = [child(tmp_path, path, prefix, 0, 150, 20) for prefix in ("a", "b")]
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        assert len(out.split()) == 150
    rows = list(open_source(path).read())
    names = sorted(r["name"] for r in rows)
    assert names == sorted([f"a{i}" for i in range(150)] + [f"b{i}" for i in range(150)])
    a_rows = [r for r in rows if r["name"].startswith("a")]
    assert all(r["a"] == int(r["name"][1:]) for r in a_rows)  # each writer's own column
