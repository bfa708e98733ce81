"""Benchmark judging a whole install through ``shouldi install SPEC`` (the flask tree by default).

    python bench/tree.py [--json] [--spec flask] [--repeat 3] [--index-url URL] [--resolve-only]

Each round, in a fresh cache dir:

- ``cold``: ``shouldi install SPEC`` with empty caches: the tree is resolved, every file is
  downloaded and scanned, the advisory sources asked (PyPI's JSON API; pip-audit, safety's
  CLI and the OSV API are off: their servers are not reachable from the benchmark machine);
- ``warm``: the same command again: the whole answer is reused (target <= 0.5 s);
- ``scan``: a fresh cache dir holding only the cold run's downloads and resolve cache: the
  scan work without the downloads (bandit, heuristics, advisories, metadata, risk);
- ``pip_download``: ``pip download SPEC --only-binary=:all: --no-cache-dir`` into an empty
  dir: pip resolving and downloading the same files.

The target is ``cold <= 1.5 * (pip_download + scan)`` at the medians. Wall times on a shared
machine vary with its load, so the CPU time of the warm run (user + sys of the process) is
reported too, and the load average before and after. ``--resolve-only`` times
:func:`shouldi.resolve.resolve_tree` alone, cold and warm (the resolver's own benchmark).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SHOULDI = [sys.executable, "-m", "shouldi"]


def run(argv: list[str], timeout: float = 1800) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """(wall seconds, CPU seconds of the child, the finished process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done


def install(spec: str, index_url: str, cache: Path, adv: Path) -> tuple[float, float, Any]:
    argv = [*SHOULDI, "install", spec, "--index-url", index_url, "--cache-dir", str(cache),
            *(["--advisory-db", str(adv)] if adv.exists() else []), "--no-pip-audit",
            "--no-safety-cli", "--no-osv", "--format", "json", "-q"]
    wall, cpu, done = run(argv)
    if done.returncode not in (0, 1):
        raise SystemExit(f"shouldi install exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return wall, cpu, json.loads(done.stdout)


def pip_download(spec: str, index_url: str, dest: Path) -> float:
    argv = [sys.executable, "-m", "pip", "download", spec, "--only-binary=:all:", "--no-cache-dir",
            "--isolated", "--quiet", "--index-url", index_url, "-d", str(dest)]
    wall, _, done = run(argv, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"pip download failed: {done.stderr.strip()[-500:]}")
    return wall


def whole(args: argparse.Namespace) -> dict[str, Any]:
    rounds: dict[str, list[float]] = {"cold": [], "warm": [], "warm_cpu": [], "scan": [],
                                      "pip_download": []}
    nodes: list[str] = []
    load_before = os.getloadavg()[0]
    for _ in range(max(1, args.repeat)):
        with tempfile.TemporaryDirectory(prefix="shouldi-bench-tree-") as tmp:
            root = Path(tmp)
            wall, _, data = install(args.spec, args.index_url, root / "cache", root / "adv.sqlite")
            rounds["cold"].append(wall)
            nodes = [f"{p['name']}=={p['version']}" for p in data["packages"]]
            wall, cpu, data = install(args.spec, args.index_url, root / "cache", root / "adv.sqlite")
            assert all(p["reused_from"] for p in data["packages"]), "the warm run was not reused"
            rounds["warm"].append(wall)
            rounds["warm_cpu"].append(cpu)
            for kind in ("artifacts", "resolve"):
                shutil.copytree(root / "cache" / kind, root / "seeded" / kind)
            wall, _, _ = install(args.spec, args.index_url, root / "seeded", root / "adv.sqlite")
            rounds["scan"].append(wall)
            rounds["pip_download"].append(pip_download(args.spec, args.index_url, root / "pip"))
    med = {k: round(statistics.median(v), 3) for k, v in rounds.items()}
    reference = med["pip_download"] + med["scan"]
    return {
        "spec": args.spec,
        "index_url": args.index_url,
        "nodes": nodes,
        **{f"{k}_s": v for k, v in med.items()},
        "runs_s": {k: [round(x, 3) for x in v] for k, v in rounds.items()},
        "cold_over_pip_download_plus_scan": round(med["cold"] / reference, 3),
        "targets": {"warm_s_max": 0.5, "cold_over_pip_download_plus_scan_max": 1.5},
        "warm_ok": med["warm"] <= 0.5,
        "cold_ok": med["cold"] <= 1.5 * reference,
        "loadavg_1m_before": round(load_before, 2),
        "loadavg_1m_after": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }


def resolve_only(args: argparse.Namespace) -> dict[str, Any]:
    from shouldi.index import ArtifactCache, make_client
    from shouldi.resolve import ResolveCache, resolve_tree

    async def timed(root: Path) -> tuple[float, Any]:
        async with make_client() as client:
            start = time.perf_counter()
            tree = await resolve_tree(client, args.index_url, [args.spec],
                                      cache=ResolveCache(root / "resolve"),
                                      artifacts=ArtifactCache(root / "artifacts"))
            return time.perf_counter() - start, tree

    cold, warm = [], []
    tree = None
    for _ in range(max(1, args.repeat)):
        with tempfile.TemporaryDirectory(prefix="shouldi-bench-tree-") as tmp:
            seconds, tree = asyncio.run(timed(Path(tmp)))
            cold.append(seconds)
            seconds, again = asyncio.run(timed(Path(tmp)))
            warm.append(seconds)
            assert again.requests == 0, "a warm resolution made requests"
    assert tree is not None
    return {"spec": args.spec, "nodes": [f"{n.name}=={n.version}" for n in tree.nodes],
            "resolve_cold_s": round(statistics.median(cold), 3),
            "resolve_warm_s": round(statistics.median(warm), 3),
            "loadavg_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}


def main() -> None:
    from shouldi.index import default_index_url

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--spec", default="flask")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--index-url", default=default_index_url())
    parser.add_argument("--resolve-only", action="store_true")
    args = parser.parse_args()
    out = resolve_only(args) if args.resolve_only else whole(args)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for key, value in out.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
