"""Benchmark ``shouldi install`` on django's sdist from a local index.

    python bench/install.py --json [--sdist PATH]

Times, as whole processes: ``shouldi install`` cold (empty caches) and warm (the same command
again: the answer of a moment ago is reused, median of 5 runs), against running bandit,
pip-audit and safety by hand one after another on the same files (bandit -r on the extracted
tree; pip-audit --no-deps --disable-pip on name==version; safety check on the same
requirement). Targets: cold at most 0.6x of the sequential run; warm under 0.3 s.

Also reported, with no target: ``recheck_s``, the same command with ``--max-age 0`` (the
code scan comes from the result cache; resolution, advisories and the risk score run again).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from fetch import fetch_from_pypi  # noqa: E402
from index_server import IndexServer  # noqa: E402


def wall(argv: list[str], **kw: object) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    return time.perf_counter() - start, proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sdist", type=Path)
    parser.add_argument("--spec", default="django")
    args = parser.parse_args()
    import asyncio

    sdist = args.sdist or asyncio.run(fetch_from_pypi(args.spec))
    stem = sdist.name.removesuffix(".tar.gz")
    name, _, version = stem.rpartition("-")
    bin_dir = Path(sys.executable).parent
    out: dict[str, object] = {"sdist": sdist.name, "cpus": os.cpu_count()}
    with IndexServer() as server, tempfile.TemporaryDirectory() as tmp:
        index = server.new_index()
        index.add_raw_file(name, version, sdist.name, sdist.read_bytes())
        spec = f"{name}=={version}"
        env = {**os.environ, "SHOULDI_DATA_DIR": str(Path(tmp) / "data")}
        shouldi = [sys.executable, "-m", "shouldi", "install", spec, "--index-url", index.url,
                   "--cache-dir", str(Path(tmp) / "cache"), "--format", "json"]
        cold, proc = wall(shouldi, env=env)
        report = json.loads(proc.stdout)["packages"][0] if proc.stdout.startswith("{") else {}
        warm = statistics.median(wall(shouldi, env=env)[0] for _ in range(5))
        recheck, _ = wall([*shouldi, "--max-age", "0"], env=env)
        out.update(shouldi_cold_s=round(cold, 2), shouldi_warm_s=round(warm, 3),
                   recheck_s=round(recheck, 2), verdict=report.get("verdict"),
                   exit_code=proc.returncode)

        tree = Path(tmp) / "tree"
        tree.mkdir()
        with tarfile.open(sdist) as tf:
            tf.extractall(tree, filter="data")
        req = Path(tmp) / "req.txt"
        req.write_text(f"{spec}\n")
        t_bandit, _ = wall([str(bin_dir / "bandit"), "-r", str(tree), "-f", "json", "-q"])
        t_audit, _ = wall([str(bin_dir / "pip-audit"), "--no-deps", "--disable-pip", "-r", str(req), "-f", "json"])
        t_safety, _ = wall([str(bin_dir / "safety"), "check", "-r", str(req), "--output", "json"],
                           stdin=subprocess.DEVNULL, timeout=300)
        sequential = t_bandit + t_audit + t_safety
        out.update(bandit_s=round(t_bandit, 2), pip_audit_s=round(t_audit, 2), safety_s=round(t_safety, 2),
                   sequential_s=round(sequential, 2), cold_ratio=round(cold / sequential, 3))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
