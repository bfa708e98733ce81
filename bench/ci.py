"""Benchmark ``shouldi ci`` on a 30-package requirements file served by a local index.

    python bench/ci.py [--json] [--packages N] [--warm-runs N] [--jobs N]

The test suite's index server (tests/index_server.py) serves N small but real sdists (a few
modules each, some with findings). We time the whole process, ``python -m shouldi ci -r
requirements.txt``, as CI would run it:

- cold: empty artifact and result caches: every sdist is downloaded, extracted, scanned;
- warm: the same command again with ``--max-age 0``: artifacts and code-scan results come
  from the caches, so only resolution, metadata, advisories and scoring run (target: under
  2 s);
- reused: the same command with the default ``--max-age``: every answer of a moment ago is
  reused, nothing is asked of the index;
- floor: ``python -m shouldi --version``, the interpreter and import cost alone.

Wall times depend on what else runs on the machine; ``*_cpu_s`` (user + sys of the process
and its children: bandit, heuristics workers) is the load-independent figure.

Advisory sources are the hermetic ones (PyPI JSON from the local index, the local store,
safety-db); pip-audit and the safety CLI need the network and are off.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from index_server import IndexServer, LocalIndex

MODULE = '''"""Module {i} of {name}."""
import json
import os


def load(path):
    with open(path) as f:
        return json.load(f)


def home():
    return os.path.expanduser("~")


class Thing{i}:
    def __init__(self, value):
        self.value = value

    def double(self):
        return self.value * 2
'''
CPU: list[float] = []  # user+sys seconds of each run() (children included)
FINDINGS = [
    "import subprocess\n\ndef run(cmd):\n    return subprocess.run(cmd, shell=True)\n",
    "import pickle\n\ndef load(data):\n    return pickle.loads(data)\n",
    "import hashlib\n\ndef digest(b):\n    return hashlib.md5(b).hexdigest()\n",
]


def populate(index: LocalIndex, count: int) -> list[str]:
    """``count`` projects of five modules each; every third has a bandit-visible finding."""
    lines = []
    for n in range(count):
        name = f"benchpkg{n:02d}"
        files = {f"{name}/mod{i}.py": MODULE.format(i=i, name=name) for i in range(5)}
        files[f"{name}/__init__.py"] = f'"""{name}."""\n__version__ = "1.{n}"\n'
        if n % 3 == 0:
            files[f"{name}/risky.py"] = FINDINGS[n % len(FINDINGS)]
        index.add_sdist(files, name, f"1.{n}", summary=f"benchmark package {n}")
        lines.append(f"{name}==1.{n}")
    return lines


def run(argv: list[str], cwd: Path) -> tuple[float, int, str]:
    """Wall seconds, exit code and stdout of one process (its CPU time goes to ``CPU``)."""
    # As installed: byte-compiled. With PYTHONDONTWRITEBYTECODE every run would compile all
    # of shouldi again (~0.3 s), which no pip-installed copy does.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PIP_INDEX_URL")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, proc.returncode, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--packages", type=int, default=30)
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shouldi-bench-ci-") as tmp, IndexServer() as server:
        work = Path(tmp)
        index = server.new_index()
        (work / "requirements.txt").write_text("\n".join(populate(index, args.packages)) + "\n")
        env_python = [sys.executable, "-m", "shouldi"]
        argv = [*env_python, "ci", "-r", "requirements.txt", "--format", "json",
                "--index-url", index.url, "--cache-dir", str(work / "cache"),
                "--advisory-db", str(work / "advisories.sqlite"), "--no-pip-audit",
                "--no-safety-cli", "--jobs", str(args.jobs)]
        run([*env_python, "ci", "--help"], work)  # writes shouldi's bytecode, as pip would
        floor = min(run([*env_python, "--version"], work)[0] for _ in range(3))
        cold, cold_code, cold_out = run(argv, work)
        cold_cpu = CPU[-1]
        cold_requests = len(index.requests)
        warm_times, warm_codes, warm_requests, warm_cpu = [], [], [], []
        for _ in range(args.warm_runs):
            index.clear()
            seconds, code, out = run([*argv, "--max-age", "0"], work)
            warm_times.append(seconds)
            warm_cpu.append(CPU[-1])
            warm_codes.append(code)
            warm_requests.append(len(index.requests))
            if json.loads(out)["packages"] != json.loads(cold_out)["packages"]:
                raise SystemExit("the warm run's answer differs from the cold run's")
        index.clear()
        reused, _, reused_out = run(argv, work)
        reused_requests = len(index.requests)
        if json.loads(reused_out)["packages"] != json.loads(cold_out)["packages"]:
            raise SystemExit("the reused answers differ from the cold run's")
        outcomes = [p["outcome"] for p in json.loads(cold_out)["packages"]]
    result: dict[str, Any] = {
        "packages": args.packages,
        "jobs": args.jobs,
        "cold_s": round(cold, 3),
        "warm_s": [round(t, 3) for t in warm_times],
        "warm_median_s": round(statistics.median(warm_times), 3),
        "reused_s": round(reused, 3),
        "cold_cpu_s": round(cold_cpu, 3),
        "warm_cpu_s": round(statistics.median(warm_cpu), 3),
        "startup_floor_s": round(floor, 3),
        "warm_target_s": 2.0,
        "warm_meets_target": statistics.median(warm_times) < 2.0,
        "exit_codes": {"cold": cold_code, "warm": warm_codes},
        "outcomes": {o: outcomes.count(o) for o in sorted(set(outcomes))},
        "index_requests": {"cold": cold_requests, "warm": warm_requests, "reused": reused_requests},
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:20} {value}")


if __name__ == "__main__":
    main()
