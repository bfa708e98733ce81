"""Benchmark the index layer and safe extraction on django's sdist, served locally.

    python bench/fetch.py [--json] [--sdist PATH] [--repeat N]

Without ``--sdist`` the sdist is fetched from PyPI with shouldi's own client (resolve +
verified download into the user artifact cache), NOT with ``pip download``: pip prepares
metadata for an sdist by running its build backend, i.e. executes the package's code.

The sdist is then served by the test suite's local index (tests/index_server.py) and we
time: resolve, download cold (empty cache), download warm (cache hit, must make zero
requests), shouldi.archive.extract_archive, and plain tarfile extractall(filter="data").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tarfile
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from index_server import IndexServer

from shouldi.archive import extract_archive, scratch_dir
from shouldi.index import (
    ArtifactCache,
    default_index_url,
    download,
    make_client,
    parse_spec,
    resolve,
)
from shouldi.index.select import file_version

T = TypeVar("T")


async def fetch_from_pypi(spec: str) -> Path:
    """The sdist for ``spec`` from the real index, via the artifact cache."""
    async with make_client() as client:
        files = await resolve(client, default_index_url(), parse_spec(spec), all_files=True)
        release = next((r for r in files if r.artifact.kind == "sdist"), None)
        if release is None:
            raise SystemExit(f"{spec}: no sdist on the index")
        dest = Path(tempfile.gettempdir()) / "shouldi-bench"
        return await download(client, release.artifact, dest, cache=ArtifactCache())


def timed(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """Median wall time of ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result  # type: ignore[return-value]


async def atimed(fn: Callable[[], Awaitable[T]], repeat: int) -> tuple[float, T]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = await fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result  # type: ignore[return-value]


async def bench_index(sdist: Path, repeat: int, work: Path) -> dict[str, Any]:
    name = sdist.name.split("-")[0]
    version = file_version(sdist.name, name)
    if version is None:
        raise SystemExit(f"{sdist.name}: not an sdist file name")
    out: dict[str, Any] = {"artifact": sdist.name, "size_bytes": sdist.stat().st_size}
    with IndexServer() as server:
        index = server.new_index()
        index.add_raw_file(name, str(version), sdist.name, sdist.read_bytes())
        async with make_client(timeout=30.0, retries=0) as client:
            req = parse_spec(name)
            out["resolve_s"], release = await atimed(
                lambda: resolve(client, index.url, req), repeat
            )
            colds = []
            for i in range(repeat):
                cache = ArtifactCache(work / f"cache{i}")
                start = time.perf_counter()
                await download(client, release.artifact, work / f"cold{i}", cache=cache)
                colds.append(time.perf_counter() - start)
            out["download_cold_s"] = statistics.median(colds)
            index.clear()
            out["download_warm_s"], _ = await atimed(
                lambda: download(client, release.artifact, work / "warm", cache=cache), repeat
            )
            out["warm_requests"] = len(index.requests)
    return out


def bench_extract(sdist: Path, repeat: int, work: Path) -> dict[str, Any]:
    def shouldi_extract() -> Any:
        with scratch_dir() as tmp:
            return extract_archive(sdist, tmp)

    def plain_extract() -> None:
        with tempfile.TemporaryDirectory(dir=work) as tmp, tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter="data")

    extract_s, stats = timed(shouldi_extract, repeat)
    plain_s, _ = timed(plain_extract, repeat)
    return {
        "extract_s": extract_s,
        "extract_members": stats.member_count,
        "extract_bytes": stats.total_size,
        "tarfile_data_filter_s": plain_s,
        "extract_vs_tarfile": extract_s / plain_s if plain_s else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--sdist", type=Path, help="use this sdist instead of fetching django's")
    parser.add_argument("--spec", default="django", help="what to fetch without --sdist")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    sdist = args.sdist or asyncio.run(fetch_from_pypi(args.spec))
    with tempfile.TemporaryDirectory(prefix="shouldi-bench-") as work:
        results = asyncio.run(bench_index(sdist, args.repeat, Path(work)))
        results.update(bench_extract(sdist, args.repeat, Path(work)))
    results["repeat"] = args.repeat
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key:24} {value:.4f}" if isinstance(value, float) else f"{key:24} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
