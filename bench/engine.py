"""Engine benchmark: three trivial chained operations over N contexts.

    python bench/engine.py --json

Prints, for each N, operations per second and microseconds per operation for the shouldi
orchestrator and for the same work done with plain ``asyncio.gather``, plus peak memory (RSS
high-water mark of a fresh process per N, so runs don't inherit each other's peak).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from typing import NewType

from shouldi.dataflow import DataFlow, Orchestrator, op

A = NewType("A", int)
B = NewType("B", int)
C = NewType("C", int)
D = NewType("D", int)


@op
async def one(a: A) -> B:
    return B(a + 1)


@op
async def two(b: B) -> C:
    return C(b * 2)


@op
async def three(c: C) -> D:
    return D(c - 3)


FLOW = DataFlow.build([one, two, three], seeds=[A])
OPS_PER_CONTEXT = 3


async def engine_run(n: int) -> float:
    async with Orchestrator(FLOW, max_contexts=n) as orch:
        start = time.perf_counter()
        result = await orch.run((f"c{i}", {A: i}) for i in range(n))
        elapsed = time.perf_counter() - start
    assert all(r.get(D) == (i + 1) * 2 - 3 for i, r in enumerate(result.values()))
    return elapsed


async def gather_run(n: int) -> float:
    async def chain(i: int) -> int:
        return await three.func(await two.func(await one.func(A(i))))

    start = time.perf_counter()
    out = await asyncio.gather(*(chain(i) for i in range(n)))
    elapsed = time.perf_counter() - start
    assert out[-1] == n * 2 - 3
    return elapsed


def measure(n: int, repeat: int) -> dict[str, float | int]:
    engine = min(asyncio.run(engine_run(n)) for _ in range(repeat))
    plain = min(asyncio.run(gather_run(n)) for _ in range(repeat))
    ops = n * OPS_PER_CONTEXT
    return {
        "n": n,
        "operations": ops,
        "engine_s": round(engine, 5),
        "engine_ops_per_s": round(ops / engine),
        "engine_us_per_op": round(engine / ops * 1e6, 2),
        "gather_s": round(plain, 5),
        "gather_ops_per_s": round(ops / plain),
        "gather_us_per_op": round(plain / ops * 1e6, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON (the default output)")
    parser.add_argument("--sizes", default="250,1000,2000,4000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.repeat)))
        return
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--repeat", str(args.repeat)],
            check=True, capture_output=True, text=True,
        )
        rows.append(json.loads(out.stdout))
    first, last = rows[0], rows[-1]
    summary = {
        "python": sys.version.split()[0],
        "results": rows,
        "us_per_op_growth": round(last["engine_us_per_op"] / first["engine_us_per_op"], 3),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
