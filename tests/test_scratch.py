"""Scratch directories: private, under the temp dir, and gone afterwards whatever happens."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from shouldi.archive import scratch_dir
from shouldi.archive.scratch import _make_removable, clear_dir, remove_tree


def test_private_dir_under_tempdir_removed_on_exit():
    with scratch_dir("shouldi-test-") as path:
        assert path.is_dir()
        assert path.parent == Path(tempfile.gettempdir())
        assert path.name.startswith(f"shouldi-{os.getpid()}-test-")  # the pid: swept if killed
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
        (path / "sub").mkdir()
        (path / "sub" / "f.txt").write_text("x")
    assert not path.exists()


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt, asyncio.CancelledError])
def test_removed_when_the_block_raises(exc):
    seen: list[Path] = []

    def work() -> None:
        with scratch_dir() as path:
            seen.append(path)
            (path / "f").write_text("x")
            raise exc()

    with pytest.raises(exc):
        work()
    assert not seen[0].exists()


def test_removed_when_a_task_is_cancelled():
    seen: list[Path] = []

    async def work() -> None:
        with scratch_dir() as path:
            seen.append(path)
            await asyncio.sleep(3600)

    async def main() -> None:
        task = asyncio.create_task(work())
        while not seen:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert not seen[0].exists()


def locked_tree(top: Path) -> None:
    """Directories without write or search permission, as a hostile build step might leave."""
    (top / "ro" / "deep").mkdir(parents=True)
    (top / "ro" / "deep" / "f.txt").write_text("x")
    (top / "ro" / "deep").chmod(0o500)
    (top / "ro").chmod(0o000)


def test_make_removable_repairs_modes_top_down(tmp_path):
    locked_tree(tmp_path)
    _make_removable(tmp_path)
    assert stat.S_IMODE((tmp_path / "ro").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "ro" / "deep").stat().st_mode) == 0o700


def test_read_only_tree_is_removed():
    with scratch_dir() as path:
        locked_tree(path)
    assert not path.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another user")
def test_read_only_tree_is_removed_as_an_unprivileged_user():
    """As root every chmod is moot; run the same removal as 'nobody' where it is not."""
    script = (
        "from shouldi.archive import scratch_dir\n"
        "with scratch_dir() as p:\n"
        "    (p / 'ro' / 'deep').mkdir(parents=True)\n"
        "    (p / 'ro' / 'deep' / 'f').write_text('x')\n"
        "    (p / 'ro' / 'deep').chmod(0o500); (p / 'ro').chmod(0)\n"
        "print(p.exists())\n"
    )
    repo = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
         sys.executable, "-c", script],
        capture_output=True, text=True, cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)},
    )
    if result.returncode and "setpriv" in result.stderr:
        pytest.skip(f"cannot drop privileges here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_removal_does_not_follow_symlinks(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    with scratch_dir() as path:
        (path / "link").symlink_to(outside)
        (path / "filelink").symlink_to(outside / "keep.txt")
        locked_tree(path)  # forces the permission-repair walk past the links too
    assert not path.exists()
    assert (outside / "keep.txt").read_text() == "keep"


def test_remove_tree_on_a_symlink_removes_only_the_link(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    remove_tree(tmp_path / "link")
    assert not (tmp_path / "link").exists()
    assert (tmp_path / "real" / "f").exists()
    remove_tree(tmp_path / "missing")  # already gone: not an error


def test_clear_dir_keeps_the_dir(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "f").write_text("x")
    (tmp_path / "l").symlink_to(tmp_path / "a")
    clear_dir(tmp_path)
    assert tmp_path.is_dir()
    assert list(tmp_path.iterdir()) == []


def test_prefix_must_be_a_plain_name():
    with pytest.raises(ValueError, match="plain name"), scratch_dir("../escape-"):
        pass


def test_a_killed_runs_directory_is_swept_by_the_next_run(tmp_path):
    """SIGKILL leaves a real run's scratch directory behind; the next process's first scratch
    directory sweeps it once it is older than STALE_AFTER, and never a live process's."""
    from shouldi.archive.scratch import STALE_AFTER, sweep_stale

    code = ("import os, sys, tempfile\nfrom pathlib import Path\ntempfile.tempdir = sys.argv[1]\n"
            "from shouldi.archive import scratch_dir\n"
            "with scratch_dir() as d:\n    (d / 'payload').write_text('x')\n"
            "    print(d, flush=True)\n    os.kill(os.getpid(), 9)\n")
    killed = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert killed.returncode == -9
    left = Path(killed.stdout.strip())
    assert left.is_dir() and left.name.startswith("shouldi-")
    mine = tmp_path / f"shouldi-{os.getpid()}-live"
    mine.mkdir()
    other = tmp_path / "shouldi-model-abc"  # not named with a pid: never touched
    other.mkdir()
    assert sweep_stale(tmp_path) == []  # too recent: it could be a live run elsewhere
    old = os.stat(left).st_mtime - STALE_AFTER - 60
    for path in (left, mine, other):
        os.utime(path, (old, old))
    assert sweep_stale(tmp_path) == [left]
    assert not left.exists() and mine.is_dir() and other.is_dir()
