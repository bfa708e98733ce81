"""Downloading an artifact: streamed, size-capped, sha256-verified, cached.

The file is written to a hidden temp file in ``dest_dir`` and renamed into place only once
its length and digest check out; on any failure the partial file is deleted. The name on
disk is the artifact's filename, refused if it could escape ``dest_dir``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import httpx

from shouldi.cache.artifacts import ArtifactCache
from shouldi.index.client import describe_http_error
from shouldi.index.errors import IntegrityError, PackageIndexError
from shouldi.results import Artifact

__all__ = ["DEFAULT_MAX_SIZE", "download", "safe_filename"]

DEFAULT_MAX_SIZE = 256 << 20
_CHUNK = 1 << 16


def safe_filename(filename: str) -> str:
    """``filename`` if it is a plain file name; otherwise :class:`PackageIndexError`."""
    bad = not filename or filename in (".", "..") or any(c in filename for c in "/\\\0")
    if bad or filename.startswith(".") or ":" in filename:
        raise PackageIndexError(f"refusing artifact with unsafe file name {filename!r}")
    return filename


def _copy_verified(src: Path, tmp: Path, sha256: str) -> bool:
    digest = hashlib.sha256()
    with src.open("rb") as inp, tmp.open("wb") as out:
        while chunk := inp.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest() == sha256


async def _stream(client: httpx.AsyncClient, artifact: Artifact, tmp: Path, max_size: int) -> str:
    """Stream ``artifact.url`` into ``tmp``; return the sha256 of what arrived."""
    digest = hashlib.sha256()
    url = artifact.url
    try:
        # identity: the digest is of the file as stored, never of a transfer encoding of it
        headers = {"Accept-Encoding": "identity"}
        async with client.stream("GET", url, headers=headers, follow_redirects=True) as resp:
            if resp.status_code != 200:
                raise PackageIndexError(f"{url}: HTTP {resp.status_code}")
            header = resp.headers.get("Content-Length", "")
            declared = int(header) if header.isdigit() else None
            if declared is not None and declared > max_size:
                raise IntegrityError(
                    f"{artifact.filename}: {declared} bytes exceeds the {max_size}-byte cap"
                )
            received = 0
            with tmp.open("wb") as out:
                async for chunk in resp.aiter_raw(_CHUNK):
                    received += len(chunk)
                    if received > max_size:
                        raise IntegrityError(
                            f"{artifact.filename}: larger than the {max_size}-byte cap"
                        )
                    digest.update(chunk)
                    out.write(chunk)
    except httpx.RemoteProtocolError as e:
        raise IntegrityError(f"{artifact.filename}: download truncated ({e})") from e
    except httpx.HTTPError as e:
        raise PackageIndexError(describe_http_error(url, e)) from e
    if declared is not None and received != declared:
        raise IntegrityError(f"{artifact.filename}: truncated ({received} of {declared} bytes)")
    return digest.hexdigest()


async def download(
    client: httpx.AsyncClient,
    artifact: Artifact,
    dest_dir: Path,
    *,
    max_size: int = DEFAULT_MAX_SIZE,
    cache: ArtifactCache | None = None,
) -> Path:
    """Fetch ``artifact`` into ``dest_dir`` and return its path.

    With a cache and a known sha256, a cached copy is used (verified while copied; a bad
    entry is discarded) and no request is made. The result is verified against
    ``artifact.sha256`` when the index gave one; mismatch, truncation or exceeding
    ``max_size`` raise :class:`IntegrityError` and leave nothing behind.
    """
    name = safe_filename(artifact.filename)
    expected = artifact.sha256.lower() if artifact.sha256 else None
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest_dir, prefix=".part-")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        cached = cache.get(expected) if cache is not None and expected else None
        if cached is not None and expected and cache is not None:
            if _copy_verified(cached, tmp, expected):
                return _finish(tmp, dest_dir / name)
            cache.discard(expected)
        actual = await _stream(client, artifact, tmp, max_size)
        if expected is not None and actual != expected:
            raise IntegrityError(
                f"{artifact.filename}: sha256 mismatch (index says {expected}, got {actual})"
            )
        if cache is not None and expected is not None:
            cache.put(expected, tmp)
        return _finish(tmp, dest_dir / name)
    finally:
        tmp.unlink(missing_ok=True)


def _finish(tmp: Path, dest: Path) -> Path:
    tmp.replace(dest)  # atomic: same directory
    return dest
