"""Benchmark the scan-record sources: rows/s and peak RSS writing then reading N rows.

Each (format, size) runs in a fresh child process so ``ru_maxrss`` (a high-water mark) is
its own. Running each format at N/10 and N rows shows whether memory grows with rows.

    python bench/sources.py --rows 200000 --json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def rss_mb() -> float:
    """Resident set size now (Linux /proc), to see growth the high-water mark might hide."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def record(i: int) -> dict[str, object]:
    return {
        "name": f"package-{i}",
        "version": f"1.{i % 100}.0",
        "artifact_sha256": f"{i:064x}",
        "index_url": "https://pypi.org/simple",
        "score": i / 7,
        "bandit_high": i % 5,
        "bandit_medium": i % 11,
        "has_setup_py": i % 2 == 0,
        "downloads": i * 13,
        "summary": f"Package number {i}, a fairly ordinary summary line",
        "license": "MIT" if i % 3 else None,
        "checks_skipped": "safety" if i % 4 == 0 else "",
    }


def child(fmt: str, rows: int, directory: Path, every: int | None) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    from shouldi.sources import open_source

    path = directory / f"bench-{rows}.{fmt}"
    source = open_source(path)
    base, base_peak = rss_mb(), peak_rss_mb()
    start = time.perf_counter()
    kwargs = {} if every is None else {"checkpoint_every": every}
    with source.writer(**kwargs) as writer:  # type: ignore[arg-type]
        for i in range(rows):
            writer.write(record(i))  # type: ignore[arg-type]
    write_s = time.perf_counter() - start
    after_write = rss_mb()
    write_peak = peak_rss_mb()
    start = time.perf_counter()
    count = sum(1 for _ in source.read())
    read_s = time.perf_counter() - start
    after_read, read_peak = rss_mb(), peak_rss_mb()
    assert count == rows, (count, rows)
    return {
        "rows": rows,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "write_rows_per_s": round(rows / write_s),
        "read_rows_per_s": round(rows / read_s),
        "rss_after_import_mb": round(base, 1),
        "rss_after_write_mb": round(after_write, 1),
        "rss_after_read_mb": round(after_read, 1),
        "peak_rss_after_import_mb": round(base_peak, 1),
        "peak_rss_write_mb": round(write_peak, 1),
        "peak_rss_read_mb": round(read_peak, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--formats", default="csv,jsonl,sqlite")
    parser.add_argument("--checkpoint-every", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows, Path(args.dir), args.checkpoint_every)))
        return
    results: dict[str, list[object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            for rows in (args.rows // 10, args.rows):
                cmd = [sys.executable, __file__, "--child", fmt, "--rows", str(rows), "--dir", tmp]
                if args.checkpoint_every is not None:
                    cmd += ["--checkpoint-every", str(args.checkpoint_every)]
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                results.setdefault(fmt, []).append(json.loads(out))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for fmt, runs in results.items():
        for run in runs:
            print(fmt, " ".join(f"{k}={v}" for k, v in run.items()))  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
