"""Private scratch directories that are always removed.

Untrusted archives are extracted only inside a scratch directory: mode 0700 (other
users cannot read or plant files in it), under the system temp dir, and removed when
the ``with`` block ends for any reason, including ``KeyboardInterrupt`` and
``asyncio.CancelledError`` (both ``BaseException``). Removal survives trees whose
directories were made read-only or unsearchable, e.g. by a tool run inside them.

A process killed outright (``SIGKILL``, the OOM killer, a power cut) cannot remove its own
directories, so every one is named ``shouldi-<pid>-...`` (:func:`private_dir`), and the first
one a process makes sweeps the temp dir for directories of *dead* shouldi processes of the
same user, left more than :data:`STALE_AFTER` seconds ago (the age guard keeps the sweep from
touching a live process in another PID namespace that shares ``/tmp``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["STALE_AFTER", "clear_dir", "private_dir", "remove_tree", "scratch_dir", "sweep_stale"]

STALE_AFTER = 6 * 3600.0  # seconds; longer than any scan (the scan timeout is 15 minutes)
_OURS = re.compile(r"shouldi-(\d+)-")
_SWEPT: set[str] = set()


def private_dir(label: str = "", base: str | None = None) -> Path:
    """A new private (0700) directory ``shouldi-<pid>-<label>-XXXX`` under ``base`` (the
    system temp dir); the caller removes it. The first call per base sweeps stale ones."""
    where = base or tempfile.gettempdir()
    if where not in _SWEPT:
        _SWEPT.add(where)
        sweep_stale(Path(where))
    safe = "".join(c if c.isalnum() else "-" for c in label)[:40]
    return Path(tempfile.mkdtemp(prefix=f"shouldi-{os.getpid()}-{safe + '-' if safe else ''}",
                                 dir=where))


def sweep_stale(base: Path, now: float | None = None) -> list[Path]:
    """Remove the directories of dead shouldi processes of this user under ``base`` that
    were last changed more than :data:`STALE_AFTER` seconds ago; what was removed. Never
    raises: a directory it cannot judge or remove is left."""
    import time

    removed: list[Path] = []
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        match = _OURS.match(entry.name)
        if match is None or int(match.group(1)) == os.getpid():
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid()
                    or now - info.st_mtime < STALE_AFTER or _alive(int(match.group(1)))):
                continue
            remove_tree(Path(entry.path))
            removed.append(Path(entry.path))
        except (OSError, ValueError):
            continue
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


@contextlib.contextmanager
def scratch_dir(prefix: str = "shouldi-") -> Iterator[Path]:
    """Yield a new private (0700) directory under :func:`tempfile.gettempdir`; remove it after."""
    if os.sep in prefix or (os.altsep and os.altsep in prefix):
        raise ValueError(f"scratch prefix must be a plain name, not {prefix!r}")
    path = private_dir(prefix.removeprefix("shouldi-").rstrip("-"))
    try:
        yield path
    finally:
        remove_tree(path)


def remove_tree(path: Path) -> None:
    """Remove ``path`` and everything under it, never following symlinks.

    The fast path is a plain :func:`shutil.rmtree`. If that fails (a directory without
    write or search permission), permissions are repaired top-down and it is retried;
    a second failure propagates. A symlink is unlinked, never followed.
    """
    if path.is_symlink():
        path.unlink()
        return
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        return
    except OSError:
        if not path.exists() and not path.is_symlink():
            return
        _make_removable(path)
        shutil.rmtree(path)


def clear_dir(path: Path) -> None:
    """Remove everything inside ``path`` but keep ``path`` itself."""
    for entry in os.scandir(path):
        if entry.is_dir(follow_symlinks=False):
            remove_tree(Path(entry.path))
        else:
            Path(entry.path).unlink()


def _make_removable(top: Path) -> None:
    """Give every directory under ``top`` (not through symlinks) mode 0700.

    ``os.walk`` is top-down: a directory is made searchable in the loop body before
    the walk descends into it.
    """
    _chmod_dir(top)
    for root, dirs, _files in os.walk(top):
        for name in dirs:
            _chmod_dir(Path(root, name))


def _chmod_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        if stat.S_ISDIR(path.lstat().st_mode):
            path.chmod(stat.S_IRWXU)
