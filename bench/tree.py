"""Benchmark resolving a whole dependency tree from metadata only (resolution time only).

    python bench/tree.py [--json] [--spec flask] [--repeat 3] [--index-url URL] [--compare-pip]

Each round: cold (empty resolve cache and artifact cache in a fresh temp dir: every page,
``.metadata`` file or wheel comes from the index) then warm (the same caches again: no
request). Reports the medians, the requests made, the tree, and the machine's load.
``--compare-pip`` also times pip resolving the same tree (``pip install --dry-run
--ignore-installed --only-binary=:all: --no-cache-dir``: it fetches the same metadata and
installs nothing): a reference for "cold", not a target of this benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shouldi.index import ArtifactCache, default_index_url, make_client
from shouldi.resolve import ResolveCache, Tree, resolve_tree


async def timed(spec: str, index_url: str, root: Path) -> tuple[float, Tree]:
    cache, artifacts = ResolveCache(root / "resolve"), ArtifactCache(root / "artifacts")
    async with make_client() as client:
        start = time.perf_counter()
        tree = await resolve_tree(client, index_url, [spec], cache=cache, artifacts=artifacts)
        return time.perf_counter() - start, tree


def pip_dry_run(spec: str, index_url: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--isolated",
         "--no-cache-dir", "--only-binary=:all:", "--quiet", "--index-url", index_url, spec],
        check=True, capture_output=True, timeout=600,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--spec", default="flask")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--index-url", default=default_index_url())
    parser.add_argument("--compare-pip", action="store_true")
    args = parser.parse_args()
    cold, warm, requests = [], [], []
    tree = None
    for _ in range(max(1, args.repeat)):
        with tempfile.TemporaryDirectory(prefix="shouldi-bench-tree-") as tmp:
            seconds, tree = asyncio.run(timed(args.spec, args.index_url, Path(tmp)))
            cold.append(seconds)
            requests.append(tree.requests)
            seconds, again = asyncio.run(timed(args.spec, args.index_url, Path(tmp)))
            warm.append(seconds)
            assert again.requests == 0, "a warm run made requests"
    assert tree is not None
    out: dict[str, object] = {
        "spec": args.spec,
        "index_url": args.index_url,
        "nodes": [f"{n.name}=={n.version}" for n in tree.nodes],
        "sources": sorted({n.dependencies.source for n in tree.nodes}),
        "cold_s": round(statistics.median(cold), 3),
        "warm_s": round(statistics.median(warm), 3),
        "cold_runs_s": [round(s, 3) for s in cold],
        "warm_runs_s": [round(s, 3) for s in warm],
        "cold_requests": requests,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    if args.compare_pip:
        out["pip_dry_run_s"] = round(pip_dry_run(args.spec, args.index_url), 3)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for key, value in out.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
