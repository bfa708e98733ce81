"""PyPI JSON documents fetched once and kept on disk, for the dataset scripts.

``https://pypi.org/pypi/<name>/json`` (the project: every release's files and upload times) and
``https://pypi.org/pypi/<name>/<version>/json`` (one release: its own ``requires_dist`` and the
``vulnerabilities`` PyPI knows for *that* version) are cached under ``--cache`` (default
``/tmp/shouldi-risk-pypi``) as ``<name>.json`` and ``<name>/<version>.json``; a 404 is cached as
``null`` so a re-run asks nothing twice. Requests are polite: at most ``concurrency`` at once
(default 4), a descriptive User-Agent, retries with back-off (:func:`shouldi.index.make_client`).
Writes are atomic (temp file + ``os.replace``): an interrupted run leaves no half file.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from shouldi.index.client import make_client

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "shouldi-risk-pypi"
BASE = "https://pypi.org/pypi"


def _path(cache: Path, name: str, version: str | None) -> Path:
    if version is None:
        return cache / f"{name}.json"
    return cache / name / f"{version.replace('/', '_')}.json"


def cached(cache: Path, name: str, version: str | None = None) -> dict[str, Any] | None:
    """The cached document, or None (absent, 404, or unreadable)."""
    try:
        doc = json.loads(_path(cache, name, version).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _store(path: Path, doc: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    Path(tmp).replace(path)


async def _one(client: httpx.AsyncClient, gate: asyncio.Semaphore, cache: Path, name: str,
               version: str | None) -> None:
    path = _path(cache, name, version)
    if path.exists():
        return
    url = f"{BASE}/{name}/json" if version is None else f"{BASE}/{name}/{version}/json"
    async with gate:
        try:
            response = await client.get(url)
        except httpx.HTTPError as e:
            print(f"  {url}: {type(e).__name__}", file=sys.stderr)
            return
    if response.status_code == 404:
        _store(path, None)
    elif response.status_code == 200:
        _store(path, response.json())
    else:
        print(f"  {url}: HTTP {response.status_code}", file=sys.stderr)


async def _fetch_all(cache: Path, wanted: Sequence[tuple[str, str | None]], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)
    async with make_client(timeout=60) as client:
        client.headers["User-Agent"] = "shouldi-dataset-builder (risk model labels; cached)"
        await asyncio.gather(*(_one(client, gate, cache, n, v) for n, v in wanted))


def fetch_all(cache: Path, wanted: Sequence[tuple[str, str | None]], concurrency: int = 4) -> None:
    """Fetch every ``(name, version-or-None)`` not cached yet."""
    todo = [(n, v) for n, v in wanted if not _path(cache, n, v).exists()]
    if todo:
        print(f"fetching {len(todo)} PyPI JSON documents ({len(wanted) - len(todo)} cached)",
              file=sys.stderr)
        asyncio.run(_fetch_all(cache, todo, concurrency))
