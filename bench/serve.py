"""Benchmark ``shouldi serve`` on cached answers under 200 concurrent connections.

    python bench/serve.py [--json] [--connections 200] [--duration 10] [--workers 2]
                          [--tool wrk|httpx] [--rate 500]

A ``shouldi serve`` subprocess proxies the test suite's local index (tests/index_server.py);
``cleanpkg==1.0.0`` is judged once, then two cached paths are loaded:

- ``get_package``: ``GET /v1/packages/cleanpkg/1.0.0`` (the stored answer, one SQLite read);
- ``post_check``: ``POST /v1/check {"specs": ["cleanpkg==1.0.0"]}`` of the judged spec (the
  answer of a moment ago, through the same path as any check).

Advisory sources are the hermetic ones (the local index's JSON API); the OSV API, pip-audit
and the safety CLI are off. Load comes from ``wrk`` (Debian's package: C, so the load generator costs little of the 2
cores it shares with the server) with ``--connections`` open connections for
``--duration`` seconds each; without wrk, an asyncio httpx client with as many connections
(in this process: it competes with the server for CPU, so its figures are lower bounds).
wrk is closed-loop: each connection sends its next request when the last is answered, so
with 200 connections the latency is about 200 / throughput (Little's law), and a p99 under
100 ms needs some 2,000 requests/s. So each path is also run open-loop-like with ``hey``
(Debian's package) when it is installed: ``--connections`` clients offering ``--rate``
requests/s in all (``*_at_rate``), which is "500 requests/s from 200 concurrent clients".
Targets: at least 500 requests/s and p99 under 100 ms.

The machine is shared: the 1-minute load average before each run is reported, and the
server's own CPU time per request (``server_cpu_ms_per_request``, user + system of the
server and its workers, from /proc), the figure that does not depend on the load: 2 cores
serve at most about ``2000 / server_cpu_ms_per_request`` requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from builders import make_wheel, read_tree  # noqa: E402
from index_server import IndexServer  # noqa: E402
from test_serve_process import start_serve  # noqa: E402

TARGET_RPS, TARGET_P99_MS = 500.0, 100.0
BODY = json.dumps({"specs": ["cleanpkg==1.0.0"]})
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if m is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m[1]) * _UNITS[m[2]]


def run_wrk(url: str, connections: int, duration: float, post: bool) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if post:
            script.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(BODY)}\n'
                         'wrk.headers["Content-Type"] = "application/json"\n')
    try:
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{duration:g}s", "--latency", "--timeout", "10s",
             "-s", script.name, url], capture_output=True, text=True, timeout=duration + 60).stdout
    finally:
        Path(script.name).unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    pct = {m[1]: _ms(m[2]) for m in re.finditer(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    total = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"requests": total, "rps": round(rps, 1), "p50_ms": pct.get("50"),
            "p90_ms": pct.get("90"), "p99_ms": pct.get("99"),
            "non_2xx": int(bad[1]) if bad else 0,
            "socket_errors": sum(map(int, errors.groups())) if errors else 0}


def run_hey(url: str, connections: int, duration: float, post: bool, rate: float
            ) -> dict[str, Any]:
    argv = ["hey", "-z", f"{duration:g}s", "-c", str(connections), "-q", f"{rate / connections:g}",
            "-t", "10"]
    if post:
        argv += ["-m", "POST", "-T", "application/json", "-d", BODY]
    out = subprocess.run([*argv, url], capture_output=True, text=True, timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    pct = {m[1]: float(m[2]) * 1000 for m in re.finditer(r"(50|90|99)% in ([\d.]+) secs", out)}
    codes = {int(m[1]): int(m[2]) for m in re.finditer(r"\[(\d+)\]\s+(\d+) responses", out)}
    return {"offered_rps": rate, "requests": sum(codes.values()), "rps": round(rps, 1),
            "p50_ms": round(pct.get("50", 0), 2), "p90_ms": round(pct.get("90", 0), 2),
            "p99_ms": round(pct["99"], 2) if "99" in pct else None,
            "non_2xx": sum(n for c, n in codes.items() if not 200 <= c < 300),
            "socket_errors": sum(int(n) for n in re.findall(r"^\s+\[(\d+)\]\s+(?:Get|Post)", out, re.M))}


def cpu_seconds(root_pid: int) -> float:
    """User + system CPU seconds of ``root_pid`` and its live descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    tree, total, grew = {root_pid}, 0.0, True
    while grew:
        grew = False
        for pid, (ppid, _) in stats.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    for pid in tree:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def run_httpx(url: str, connections: int, duration: float, post: bool) -> dict[str, Any]:
    import httpx

    async def main() -> dict[str, Any]:
        latencies: list[float] = []
        bad = [0]
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            stop = time.perf_counter() + duration

            async def worker() -> None:
                while time.perf_counter() < stop:
                    t = time.perf_counter()
                    r = await (client.post(url, content=BODY,
                                           headers={"Content-Type": "application/json"})
                               if post else client.get(url))
                    latencies.append((time.perf_counter() - t) * 1000)
                    bad[0] += r.status_code != 200

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(connections)))
            elapsed = time.perf_counter() - start
        q = statistics.quantiles(latencies, n=100)
        return {"requests": len(latencies), "rps": round(len(latencies) / elapsed, 1),
                "p50_ms": round(q[49], 2), "p90_ms": round(q[89], 2), "p99_ms": round(q[98], 2),
                "non_2xx": bad[0], "socket_errors": 0}

    return asyncio.run(main())


def _met(result: dict[str, Any]) -> bool:
    return (result["rps"] >= TARGET_RPS and result["p99_ms"] is not None
            and result["p99_ms"] < TARGET_P99_MS and result["non_2xx"] == 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tool", choices=["wrk", "httpx"],
                        default="wrk" if shutil.which("wrk") else "httpx")
    parser.add_argument("--rate", type=float, default=TARGET_RPS,
                        help="Requests/s offered in all by the open-loop run (hey).")
    args = parser.parse_args()
    load = run_wrk if args.tool == "wrk" else run_httpx
    with tempfile.TemporaryDirectory(prefix="shouldi-bench-serve-") as tmp, IndexServer() as srv:
        home = Path(tmp)
        index = srv.new_index()
        src = ROOT / "tests" / "packages" / "cleanpkg"
        code = {f"cleanpkg/{rel}": data for rel, data in read_tree(src / "cleanpkg").items()}
        wheel = make_wheel(home, "cleanpkg", "1.0.0", code)
        index.add_raw_file("cleanpkg", "1.0.0", wheel.name, wheel.read_bytes())
        server = start_serve(index.url, home, "--workers", str(args.workers), "--no-osv",
                             "--quiet")
        try:
            import httpx

            t = time.perf_counter()
            first = httpx.post(f"{server.url}v1/check", content=BODY, timeout=900,
                               headers={"Content-Type": "application/json"})
            first.raise_for_status()
            cold_s = time.perf_counter() - t
            for _ in range(args.workers * 4):  # every worker has answered once
                httpx.post(f"{server.url}v1/check", content=BODY, timeout=60,
                           headers={"Content-Type": "application/json"}).raise_for_status()
            runs: dict[str, Any] = {}
            for name, path, post in (("get_package", "v1/packages/cleanpkg/1.0.0", False),
                                     ("post_check", "v1/check", True)):
                url = f"{server.url}{path}"
                before, cpu = os.getloadavg()[0], cpu_seconds(server.process.pid)
                result = load(url, args.connections, args.duration, post)
                used = cpu_seconds(server.process.pid) - cpu
                result["server_cpu_ms_per_request"] = round(used * 1000 / max(1, result["requests"]), 3)
                result["load_avg_1m_before"] = round(before, 2)
                result["met"] = _met(result)
                runs[name] = result
                if shutil.which("hey"):
                    before = os.getloadavg()[0]
                    paced = run_hey(url, args.connections, args.duration, post, args.rate)
                    paced["load_avg_1m_before"] = round(before, 2)
                    paced["met"] = _met(paced)
                    runs[f"{name}_at_rate"] = paced
        finally:
            server.stop()
    report = {"tool": args.tool, "connections": args.connections, "duration_s": args.duration,
              "workers": args.workers, "cpus": os.cpu_count(), "first_check_s": round(cold_s, 2),
              "verdict": first.json()["packages"][0]["verdict"],
              "targets": {"rps": TARGET_RPS, "p99_ms": TARGET_P99_MS}, **runs}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name in [k for k in report if k.startswith(("get_package", "post_check"))]:
            r = report[name]
            print(f"{name}: {r['rps']} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
                  f"non-2xx {r['non_2xx']} (load {r['load_avg_1m_before']}) "
                  f"{'met' if r['met'] else 'NOT met'}")


if __name__ == "__main__":
    main()
