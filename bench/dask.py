"""Benchmark ``shouldi scan --dask-scheduler local:N``: packages per minute, local vs 1 and 2 workers.

    python bench/dask.py [--json] [--packages 30] [--modes local,local:1,local:2]

The packages are real code without a download: each is a wheel built at run time from one
module of this interpreter's standard library (``json/``, ``csv.py``, ``argparse.py``, ...:
8-100 KB of real Python each, the size of a small PyPI package), served by the test suite's
local index (tests/index_server.py). Each mode is one cold ``shouldi scan SPECS -o out.jsonl``
subprocess (its own empty cache dir, so nothing is reused): bandit and the heuristics on
every file, advisories from the local index's JSON API (the OSV API, pip-audit and the
safety CLI are off). A ``local:N`` time includes starting the LocalCluster's N worker
processes (each imports shouldi) and closing them.

Reported per mode: wall seconds, packages per minute, the 1-minute load average before the
run, and whether the records equal the local run's (but for ``scanned_at``). The machine is
shared: the load is part of the result.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from index_server import IndexServer  # noqa: E402

STDLIB = ("json", "csv", "argparse", "textwrap", "difflib", "pprint", "calendar", "configparser",
          "fractions", "statistics", "heapq", "bisect", "shlex", "string", "glob", "fnmatch",
          "colorsys", "dataclasses", "enum", "functools", "gettext", "graphlib", "ipaddress",
          "locale", "mailbox", "netrc", "numbers", "optparse", "queue", "sched", "secrets",
          "selectors", "shelve", "tabnanny", "tomllib", "wave", "zipapp", "html", "http", "email")


def packages(count: int) -> list[tuple[str, dict[str, str]]]:
    """(name, files) of ``count`` wheels, each one stdlib module or package as ``bx_NAME``."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    out: list[tuple[str, dict[str, str]]] = []
    for module in STDLIB:
        if len(out) == count:
            break
        package, single = lib / module, lib / f"{module}.py"
        if package.is_dir():
            files = {f"bx_{module}/{p.relative_to(package)}": p.read_text("utf-8")
                     for p in sorted(package.glob("*.py"))}
        elif single.is_file():
            files = {f"bx_{module}/__init__.py": single.read_text("utf-8")}
        else:
            continue
        out.append((f"bx-{module}", files))
    if len(out) < count:
        raise SystemExit(f"only {len(out)} stdlib modules found; ask for fewer --packages")
    return out


def records(path: Path) -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return {r["name"]: {k: v for k, v in r.items() if k != "scanned_at"} for r in rows}


def run(mode: str, specs: list[str], index_url: str, root: Path) -> dict[str, Any]:
    out = root / f"{mode.replace(':', '-')}.jsonl"
    argv = [sys.executable, "-m", "shouldi", "scan", *specs, "--index-url", index_url,
            "--cache-dir", str(root / f"cache-{mode.replace(':', '-')}"), "--no-pip-audit",
            "--no-safety-cli", "--no-osv", "--quiet", "-o", str(out)]
    if mode != "local":
        argv += ["--dask-scheduler", mode]
    env = {**os.environ, "SHOULDI_DATA_DIR": str(root / "data")}
    load = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=3600)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{mode}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    dask_line = next((ln for ln in done.stderr.splitlines() if ln.startswith("dask: ")), None)
    return {"wall_s": round(wall, 2), "packages_per_minute": round(60 * len(specs) / wall, 1),
            "load_before": round(load, 2), "exit": done.returncode, "dask": dask_line,
            "records": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--packages", type=int, default=30)
    parser.add_argument("--modes", default="local,local:1,local:2")
    args = parser.parse_args()
    report: dict[str, Any] = {"cores": os.cpu_count(), "packages": args.packages, "modes": {}}
    with IndexServer() as server, tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        root = Path(tmp)
        index = server.new_index()
        made = packages(args.packages)
        for name, files in made:
            index.add_wheel(files, name, "1.0")
        report["package_kib"] = round(sum(len(t) for _, f in made for t in f.values()) / 1024 / len(made), 1)
        specs = [f"{name}==1.0" for name, _ in made]
        baseline: dict[str, dict[str, Any]] | None = None
        for mode in args.modes.split(","):
            result = run(mode, specs, index.url, root)
            got = records(result.pop("records"))
            if baseline is None:
                baseline = got
            result["records_equal_first_mode"] = got == baseline and len(got) == len(specs)
            report["modes"][mode] = result
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for mode, r in report["modes"].items():
            print(f"{mode:8} {r['wall_s']:7.1f} s  {r['packages_per_minute']:6.1f} packages/min  "
                  f"load {r['load_before']}  equal {r['records_equal_first_mode']}")


if __name__ == "__main__":
    main()
