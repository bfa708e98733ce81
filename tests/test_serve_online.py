"""The firewall in front of real PyPI (``pytest -m online``): pip downloads through it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from test_serve_firewall import pip
from test_serve_process import ServeProcess, serving

pytestmark = pytest.mark.online


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    yield from serving(tmp_path)

PYPI = "https://pypi.org/simple/"
JSON = "application/vnd.pypi.simple.v1+json"


def test_pip_downloads_six_through_the_firewall(serve, tmp_path):
    server = serve(PYPI, "--timeout", "30")
    listed = httpx.get(f"{server.url}simple/six/", headers={"Accept": JSON}, timeout=60).json()
    name = "six-1.17.0-py2.py3-none-any.whl"
    wheel = next(f for f in listed["files"] if f["filename"] == name)
    upstream = httpx.get(f"{PYPI}six/", headers={"Accept": JSON}, timeout=60).json()
    theirs = next(f for f in upstream["files"] if f["filename"] == name)
    assert wheel["requires-python"] == theirs["requires-python"] and wheel["requires-python"]
    assert wheel["hashes"]["sha256"] == theirs["hashes"]["sha256"]
    assert bool(wheel["core-metadata"]) == bool(theirs.get("core-metadata")
                                                or theirs.get("data-dist-info-metadata"))
    got = pip("download", "--no-deps", "--only-binary", ":all:", "--index-url",
              f"{server.url}simple/", "-d", str(tmp_path / "dl"), "six==1.17.0")
    assert got.returncode == 0, got.stdout + got.stderr
    (downloaded,) = (tmp_path / "dl").iterdir()
    assert hashlib.sha256(downloaded.read_bytes()).hexdigest() == wheel["hashes"]["sha256"]
    stored = httpx.get(f"{server.url}v1/packages/six/1.17.0").json()["packages"][0]
    assert stored["verdict"] in ("pass", "warn") and stored["artifact"]["filename"] == downloaded.name
