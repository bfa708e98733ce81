"""Against real PyPI (run with ``-m online``): resolve, metadata, relative URLs, download."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shouldi.index import (
    ArtifactCache,
    NotFound,
    download,
    fetch_metadata,
    json_api_url,
    parse_spec,
    resolve,
)
from shouldi.index.client import get_page
from shouldi.index.jsonapi import json_release_files

pytestmark = pytest.mark.online
PYPI = "https://pypi.org/simple/"


def test_requests_latest(with_client: Any) -> None:
    async def go(c: Any) -> Any:
        release = await resolve(c, PYPI, parse_spec("requests"))
        return release, await fetch_metadata(c, PYPI, "requests", release.version)

    release, meta = with_client(go, timeout=30.0, retries=2)
    assert release.artifact.kind == "wheel"  # what pip installs: its py3-none-any wheel
    assert release.artifact.filename == f"requests-{release.version}-py3-none-any.whl"
    assert release.artifact_reason.startswith("wheel py3-none-any: the best match for ")
    assert {a.kind for a in release.files} == {"sdist", "wheel"}
    assert release.artifact.url.startswith("https://")
    assert len(release.artifact.sha256 or "") == 64
    assert meta.available
    assert meta.latest_version == release.version  # newest final release on both APIs
    assert meta.vulnerabilities is not None  # known for the latest release
    assert meta.release_count is not None
    assert meta.release_count > 100
    assert meta.first_release_time is not None
    assert meta.first_release_time.year == 2011
    assert meta.ownership is not None


def test_six_pinned_old_release_and_download(with_client: Any, tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")

    async def go(c: Any) -> Any:
        release = await resolve(c, PYPI, parse_spec("six==1.16.0"))
        meta = await fetch_metadata(c, PYPI, "six", "1.16.0")
        first = await download(c, release.artifact, tmp_path / "a", cache=cache)
        second = await download(c, release.artifact, tmp_path / "b", cache=cache)
        return release, meta, first, second

    release, meta, first, second = with_client(go, timeout=30.0, retries=2)
    assert release.artifact.filename == "six-1.16.0-py2.py3-none-any.whl"
    assert meta.vulnerabilities is None  # 1.16.0 is not the latest: the API cannot say
    assert meta.release_time is not None
    assert meta.release_time.year == 2021
    assert first.read_bytes() == second.read_bytes()


def test_django_relative_json_api_urls(with_client: Any) -> None:
    async def go(c: Any) -> Any:
        release = await resolve(c, PYPI, parse_spec("django>=4.2,<4.3"))
        url = json_api_url(PYPI, "django")
        assert url is not None
        page = await get_page(c, url, accept="application/json")
        return release, page

    release, page = with_client(go, timeout=30.0, retries=2)
    assert release.version.startswith("4.2.")
    data = json.loads(page.body)
    raw = data["releases"][release.version][0]["url"]
    files = json_release_files(data, release.version, page.url)
    assert files
    assert all(f.url.startswith("https://") and "/../" not in f.url for f in files)
    chosen = next(f for f in files if f.filename == release.artifact.filename)
    assert chosen.sha256 == release.artifact.sha256
    print(f"raw JSON API url: {raw}")


def test_pypi_unknown_project(with_client: Any) -> None:
    name = "shouldi-no-such-project-7f3a9c"
    with pytest.raises(NotFound, match=f"no project named '{name}' on {PYPI}$"):
        with_client(lambda c: resolve(c, PYPI, parse_spec(name)), timeout=30.0, retries=2)


def test_six_hash_pin_decides_the_file(with_client: Any) -> None:
    """Issue 11: ``six==1.16.0 --hash=<wheel hash>`` must judge that wheel, not the sdist."""

    async def go(c: Any) -> Any:
        files = await resolve(c, PYPI, parse_spec("six==1.16.0"), all_files=True)
        by_kind = {r.artifact.kind: r.artifact for r in files}
        wheel = await resolve(c, PYPI, parse_spec("six==1.16.0"), hashes=[by_kind["wheel"].sha256 or ""])
        sdist = await resolve(c, PYPI, parse_spec("six==1.16.0"), hashes=[by_kind["sdist"].sha256 or ""])
        return files, wheel, sdist

    files, wheel, sdist = with_client(go, timeout=30.0, retries=2)
    assert sorted(r.artifact.filename for r in files) == [
        "six-1.16.0-py2.py3-none-any.whl", "six-1.16.0.tar.gz"
    ]
    assert wheel.artifact.filename == "six-1.16.0-py2.py3-none-any.whl"
    assert sdist.artifact.filename == "six-1.16.0.tar.gz"
    assert sdist.artifact_reason == "sdist: the --hash pin allows no wheel"
