"""A content-addressed artifact cache, so a second scan of a release downloads nothing.

Files are stored by their sha256 (``<root>/ab/abcdef...``), written atomically (temp file in
the same directory, then ``os.replace``), so a crash never leaves a half file under a valid
key. Readers still verify the hash when copying out (see :func:`shouldi.index.download`); an
entry that is not a regular file (a FIFO, a symlink, a directory) is a miss. A cache that
cannot be written is skipped.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from shouldi.cache.files import shard_dir
from shouldi.cache.paths import cache_root

__all__ = ["ArtifactCache", "default_cache_root"]

_SHA256 = re.compile(r"[0-9a-f]{64}")


def default_cache_root() -> Path:
    """``<user cache dir>/shouldi/artifacts``."""
    return cache_root() / "artifacts"


def _check_key(sha256: str) -> str:
    key = sha256.lower()
    if not _SHA256.fullmatch(key):
        raise ValueError(f"not a sha256 hex digest: {sha256!r}")
    return key


class ArtifactCache:
    """Artifacts keyed by sha256 under ``root`` (default: the user cache directory)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else default_cache_root()

    def path_for(self, sha256: str) -> Path:
        """Where the artifact with this digest lives (whether or not it is there)."""
        key = _check_key(sha256)
        return self.root / key[:2] / key

    def get(self, sha256: str) -> Path | None:
        """The cached file for ``sha256`` if it is a regular file; else None."""
        path = self.path_for(sha256)
        try:
            shard_dir(path.parent, create=False)
            st = path.lstat()
        except OSError:
            return None
        return path if stat.S_ISREG(st.st_mode) else None

    def put(self, sha256: str, src: Path) -> Path | None:
        """Copy ``src`` (already verified by the caller) into the cache; its path, or None
        when the cache cannot be written (never raises ``OSError``)."""
        dest = self.path_for(sha256)
        try:
            shard_dir(dest.parent, create=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        except OSError:
            return None
        try:
            with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
                shutil.copyfileobj(inp, out, 1 << 20)
            Path(tmp).replace(dest)
        except OSError:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
            return None
        except BaseException:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
            raise
        return dest

    def discard(self, sha256: str) -> None:
        """Forget an entry (e.g. one that no longer matches its digest)."""
        with contextlib.suppress(OSError):
            self.path_for(sha256).unlink(missing_ok=True)
