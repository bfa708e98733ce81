"""Downloads: streamed, verified, size-capped, cached; nothing partial left behind."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from index_server import LocalIndex

from shouldi.index import (
    ArtifactCache,
    IntegrityError,
    PackageIndexError,
    download,
    parse_spec,
    resolve,
)
from shouldi.results import Artifact, Release


def release_of(with_client: Any, index: LocalIndex, spec: str = "cleanpkg") -> Release:
    return with_client(lambda c: resolve(c, index.url, parse_spec(spec)))  # type: ignore[no-any-return]


def fetch(with_client: Any, artifact: Artifact, dest: Path, **kw: Any) -> Path:
    return with_client(lambda c: download(c, artifact, dest, **kw))  # type: ignore[no-any-return]


def test_download_verifies_and_writes_the_file(
    local_index: LocalIndex, with_client: Any, tmp_path: Path, built_packages: Any
) -> None:
    artifact = release_of(with_client, local_index).artifact
    path = fetch(with_client, artifact, tmp_path / "dl")
    wheel = "cleanpkg-1.0.0-py3-none-any.whl"  # the file pip would install
    assert path == tmp_path / "dl" / wheel
    assert path.read_bytes() == built_packages["cleanpkg"].wheel.read_bytes()
    assert sorted(p.name for p in path.parent.iterdir()) == [wheel]


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("wrong-sha256", "sha256 mismatch"),
        ("truncated", "truncated"),
        ("garbage", "sha256 mismatch"),
    ],
)
def test_bad_bytes_raise_and_leave_nothing(
    local_index: LocalIndex, with_client: Any, tmp_path: Path, kind: str, message: str
) -> None:
    artifact = release_of(with_client, local_index).artifact
    local_index.fault("files/*", kind)
    cache = ArtifactCache(tmp_path / "cache")
    with pytest.raises(IntegrityError, match=message):
        fetch(with_client, artifact, tmp_path / "dl", cache=cache)
    assert list((tmp_path / "dl").iterdir()) == []  # the partial file was deleted
    assert cache.get(artifact.sha256 or "") is None  # and nothing bad was cached


def test_size_cap_from_content_length(
    local_index: LocalIndex, with_client: Any, tmp_path: Path
) -> None:
    artifact = release_of(with_client, local_index).artifact
    with pytest.raises(IntegrityError, match="exceeds the 100-byte cap"):
        fetch(with_client, artifact, tmp_path, max_size=100)
    assert list(tmp_path.iterdir()) == []


def test_size_cap_while_streaming_without_content_length(tmp_path: Path) -> None:
    # a server that does not announce the size is cut off once the cap is passed
    sent: list[int] = []

    async def endless() -> Any:
        for _ in range(1000):
            sent.append(1)
            yield b"\0" * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())

    artifact = Artifact("big-1.0.tar.gz", "https://files.example/big-1.0.tar.gz", "0" * 64, "sdist")

    async def main() -> Path:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await download(client, artifact, tmp_path, max_size=10_000)

    with pytest.raises(IntegrityError, match="larger than the 10000-byte cap"):
        asyncio.run(main())
    assert len(sent) < 1000
    assert list(tmp_path.iterdir()) == []


def test_second_download_comes_from_the_cache_with_zero_requests(
    local_index: LocalIndex, with_client: Any, tmp_path: Path
) -> None:
    artifact = release_of(with_client, local_index).artifact
    assert artifact.sha256
    cache = ArtifactCache(tmp_path / "cache")
    first = fetch(with_client, artifact, tmp_path / "one", cache=cache)
    assert cache.get(artifact.sha256) == cache.path_for(artifact.sha256)
    local_index.clear()
    second = fetch(with_client, artifact, tmp_path / "two", cache=cache)
    assert local_index.requests == []
    assert second.read_bytes() == first.read_bytes()
    assert second != cache.path_for(artifact.sha256)  # callers get their own copy


def test_corrupted_cache_entry_is_replaced(
    local_index: LocalIndex, with_client: Any, tmp_path: Path
) -> None:
    artifact = release_of(with_client, local_index).artifact
    assert artifact.sha256
    cache = ArtifactCache(tmp_path / "cache")
    fetch(with_client, artifact, tmp_path / "one", cache=cache)
    cache.path_for(artifact.sha256).write_bytes(b"tampered")
    local_index.clear()
    path = fetch(with_client, artifact, tmp_path / "two", cache=cache)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == artifact.sha256
    assert local_index.paths() == ["files/cleanpkg-1.0.0-py3-none-any.whl"]
    assert (
        hashlib.sha256(cache.path_for(artifact.sha256).read_bytes()).hexdigest() == artifact.sha256
    )


def test_unverifiable_download_is_not_cached(
    local_index: LocalIndex, with_client: Any, tmp_path: Path
) -> None:
    artifact = replace(release_of(with_client, local_index).artifact, sha256=None)
    cache = ArtifactCache(tmp_path / "cache")
    assert fetch(with_client, artifact, tmp_path / "dl", cache=cache).is_file()
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    "filename", ["../evil.tar.gz", "a/b.tar.gz", "..", ".hidden.tar.gz", "C:x.tar.gz", ""]
)
def test_unsafe_filenames_are_refused(tmp_path: Path, filename: str) -> None:
    artifact = Artifact(filename, "https://files.example/x", None, "sdist")

    async def main() -> Path:
        async with httpx.AsyncClient(
            transport=httpx.MockTransport(lambda r: httpx.Response(500))
        ) as c:
            return await download(c, artifact, tmp_path / "dl")

    with pytest.raises(PackageIndexError, match="unsafe file name"):
        asyncio.run(main())
    assert not (tmp_path / "dl").exists()
    assert list(tmp_path.iterdir()) == []


def test_missing_file_is_an_index_error(
    local_index: LocalIndex, with_client: Any, tmp_path: Path
) -> None:
    artifact = release_of(with_client, local_index).artifact
    local_index.fault("files/*", "404")
    with pytest.raises(PackageIndexError, match="HTTP 404"):
        fetch(with_client, artifact, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_cache_keys_and_atomic_put(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path)
    src = tmp_path / "src.bin"
    src.write_bytes(b"data")
    key = hashlib.sha256(b"data").hexdigest()
    assert cache.get(key) is None
    stored = cache.put(key.upper(), src)
    assert stored == tmp_path / key[:2] / key
    assert cache.get(key) == stored
    assert [p.name for p in stored.parent.iterdir()] == [key]  # no temp files left
    with pytest.raises(ValueError, match="not a sha256"):
        cache.get("../../etc/passwd")


def test_default_cache_root_is_the_user_cache_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert ArtifactCache().root == tmp_path / "shouldi" / "artifacts"
