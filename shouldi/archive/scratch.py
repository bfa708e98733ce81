"""Private scratch directories that are always removed.

Untrusted archives are extracted only inside a scratch directory: mode 0700 (other
users cannot read or plant files in it), under the system temp dir, and removed when
the ``with`` block ends for any reason, including ``KeyboardInterrupt`` and
``asyncio.CancelledError`` (both ``BaseException``). Removal survives trees whose
directories were made read-only or unsearchable, e.g. by a tool run inside them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["clear_dir", "remove_tree", "scratch_dir"]


@contextlib.contextmanager
def scratch_dir(prefix: str = "shouldi-") -> Iterator[Path]:
    """Yield a new private (0700) directory under :func:`tempfile.gettempdir`; remove it after."""
    if os.sep in prefix or (os.altsep and os.altsep in prefix):
        raise ValueError(f"scratch prefix must be a plain name, not {prefix!r}")
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=tempfile.gettempdir()))
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
