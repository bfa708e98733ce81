"""shouldi beside guarddog (and bandit + pip-audit by hand) on the same files, in one run.

    python bench/peers.py --json [--runs 3] [--cases six,requests,flask,django] [--guarddog PATH]

Every file is downloaded once from real PyPI (the file pip would install here: wheels where
they exist; django's sdist is its "large" case as in ``bench/install.py``), then served by a
local PyPI-compatible index (``tests/index_server.py``), so no tool's time includes the
internet. Each command runs as a whole process, ``runs`` times; medians are reported, with:

- ``wall_s``, ``cpu_s`` (user + system of the process and its children, from ``wait4``),
  ``peak_mib`` (the largest resident set among them), ``left_behind`` (processes of its
  session still alive after it exited);
- shouldi ``cold`` (empty caches, ``--no-cache``), ``warm`` (the same command again: the
  answer is reused) and ``recheck`` (``--max-age 0``: code scans from the cache);
- guarddog (``guarddog pypi scan FILE``, one process per file);
- by hand: ``bandit -r`` on the extracted files, then ``pip-audit`` on ``name==version``;
- ``limit_s``, the physical limit of a cold check: start-up (``python -c "import
  shouldi.cli.main"``) plus max(download, scanning CPU / cores), where scanning CPU is bandit's
  and the heuristics' CPU on the extracted files, measured in this process tree;
- ratios: shouldi cold / guarddog, shouldi cold / limit, shouldi cold / by hand.

shouldi runs with ``--no-pip-audit --no-safety-cli --no-osv`` (pip-audit is timed by hand;
safety's servers and OSV are unreachable here), guarddog with its defaults. A guarddog that
is not installed is reported as absent (install it into its own venv: ``python -m venv
/tmp/gd && /tmp/gd/bin/pip install guarddog``, then ``--guarddog /tmp/gd/bin/guarddog``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from index_server import IndexServer  # noqa: E402

CASES = {  # name -> (pip download arguments, the spec shouldi checks)
    "six": (["six==1.16.0", "--no-deps", "--only-binary=:all:"], "six==1.16.0"),
    "requests": (["requests==2.32.3", "--no-deps", "--only-binary=:all:"], "requests==2.32.3"),
    "flask": (["flask==3.0.3", "--only-binary=:all:"], "flask==3.0.3"),
    "django": (["django==5.0.6", "--no-deps", "--no-binary=:all:"], "django==5.0.6"),
}


def shouldi_flags(case: str) -> list[str]:
    """Judge what was downloaded: a case fetched with ``--no-deps`` is judged with it too
    (its dependencies are not on the local index, so the tree would not resolve)."""
    return ["--no-deps"] if "--no-deps" in CASES[case][0] else []


def measured(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
             ) -> dict[str, Any]:
    """One whole process, reaped with ``wait4``: wall, CPU and peak RSS of it and the children
    it waited for, and how many processes of its session outlived it."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
                            start_new_session=True)
    err: list[bytes] = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read() if proc.stderr else b""))
    reader.start()
    out = proc.stdout.read() if proc.stdout else b""
    reader.join()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return {"wall_s": wall, "code": proc.returncode, "stdout": out.decode(errors="replace"),
            "stderr": b"".join(err).decode(errors="replace")[-2000:],
            "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mib": usage.ru_maxrss / 1024,
            "left_behind": _session(proc.pid)}


run = measured


def _session(sid: int) -> int:
    """Processes still alive in session ``sid`` (the command's own, started with setsid)."""
    time.sleep(0.2)
    alive = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            alive += 1
    return alive


def summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "wall_s": round(statistics.median(s["wall_s"] for s in samples), 3),
        "cpu_s": round(statistics.median(s["cpu_s"] for s in samples), 3),
        "peak_mib": round(max(s["peak_mib"] for s in samples), 1),
        "left_behind": max(s["left_behind"] for s in samples),
        "runs": len(samples),
        "exit_codes": sorted({s["code"] for s in samples}),
    }


def download(case: str, dest: Path) -> list[Path]:
    args, _ = CASES[case]
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "-d", str(dest), *args], check=True)
    return sorted(p for p in dest.iterdir() if p.is_file())


def serve(index: Any, files: list[Path]) -> None:
    from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

    for f in files:
        if f.name.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(f.name)
        else:
            name, version = parse_sdist_filename(f.name)
        index.add_raw_file(str(canonicalize_name(name)), str(version), f.name, f.read_bytes())


def scanning_cpu(files: list[Path], work: Path) -> float:
    """CPU seconds of the scanning itself (bandit + heuristics) on the extracted files."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from shouldi.archive import extract_archive\n"
        "from shouldi.scanners.bandit import BanditScanner\n"
        "from shouldi.scanners.heuristics import HeuristicsScanner\n"
        "for i, f in enumerate(sys.argv[1:]):\n"
        "    d = Path(sys.argv[0]).parent / f'x{i}'\n"
        "    d.mkdir()\n"
        "    extract_archive(Path(f), d)\n"
        "    BanditScanner(timeout=3600).scan(d)\n"
        "    HeuristicsScanner().scan(d)\n"
    )
    script = work / "scan.py"
    script.write_text(code)
    return float(measured([sys.executable, str(script), *map(str, files)])["cpu_s"])


def by_hand(files: list[Path], spec: str, work: Path) -> dict[str, Any]:
    bindir = Path(sys.executable).parent
    tree = work / "tree"
    tree.mkdir()
    from shouldi.archive import extract_archive

    for i, f in enumerate(files):
        (tree / str(i)).mkdir()
        extract_archive(f, tree / str(i))
    req = work / "req.txt"
    req.write_text(spec + "\n")
    bandit = measured([str(bindir / "bandit"), "-r", str(tree), "-f", "json", "-q"])
    audit = measured([str(bindir / "pip-audit"), "--no-deps", "--disable-pip", "-r", str(req), "-f", "json"])
    return {"wall_s": bandit["wall_s"] + audit["wall_s"], "cpu_s": bandit["cpu_s"] + audit["cpu_s"],
            "bandit_s": bandit["wall_s"], "pip_audit_s": audit["wall_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cases", default="six,requests,flask,django")
    parser.add_argument("--guarddog", default=shutil.which("guarddog") or "/tmp/gd/bin/guarddog")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    report: dict[str, Any] = {"cores": cores, "load_before": os.getloadavg()[0], "cases": {}}
    startup = statistics.median(
        run([sys.executable, "-c", "import shouldi.cli.main"])["wall_s"] for _ in range(5))
    report["startup_s"] = round(startup, 3)
    with IndexServer() as server, tempfile.TemporaryDirectory(prefix="peers-") as tmp:
        root = Path(tmp)
        for case in args.cases.split(","):
            files = download(case, root / "files" / case)
            index = server.new_index()
            serve(index, files)
            spec = CASES[case][1]
            out: dict[str, Any] = {"files": [f.name for f in files],
                                   "bytes": sum(f.stat().st_size for f in files)}
            env = {**os.environ, "SHOULDI_DATA_DIR": str(root / "data" / case)}
            base = [sys.executable, "-m", "shouldi", "install", spec, "--index-url", index.url,
                    "--no-pip-audit", "--no-safety-cli", "--no-osv", "--format", "json", "--quiet",
                    *shouldi_flags(case)]
            cache = ["--cache-dir", str(root / "cache" / case)]
            out["shouldi_cold"] = summary([measured([*base, "--no-cache"], env=env) for _ in range(args.runs)])
            measured([*base, *cache], env=env)  # fill the caches
            out["shouldi_warm"] = summary([measured([*base, *cache], env=env) for _ in range(args.runs)])
            out["shouldi_recheck"] = summary(
                [measured([*base, *cache, "--max-age", "0"], env=env) for _ in range(args.runs)])
            if Path(args.guarddog).is_file():
                samples = []
                for _ in range(args.runs):
                    parts = [measured([args.guarddog, "pypi", "scan", str(f)]) for f in files]
                    samples.append({"wall_s": sum(p["wall_s"] for p in parts),
                                    "cpu_s": sum(p["cpu_s"] for p in parts),
                                    "peak_mib": max(p["peak_mib"] for p in parts),
                                    "left_behind": max(p["left_behind"] for p in parts),
                                    "code": max(p["code"] for p in parts)})
                out["guarddog"] = summary(samples)
            else:
                out["guarddog"] = None
            work = root / "work" / case
            work.mkdir(parents=True)
            out["by_hand"] = by_hand(files, spec, work)
            cpu = scanning_cpu(files, work)
            out["scanning_cpu_s"] = round(cpu, 3)
            limit = startup + cpu / cores  # download from the local index is ~0
            out["limit_s"] = round(limit, 3)
            cold = out["shouldi_cold"]["wall_s"]
            out["ratio_to_limit"] = round(cold / limit, 3)
            out["ratio_to_by_hand"] = round(cold / out["by_hand"]["wall_s"], 3)
            if out["guarddog"]:
                out["ratio_to_guarddog"] = round(cold / out["guarddog"]["wall_s"], 3)
            report["cases"][case] = out
    report["load_after"] = os.getloadavg()[0]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
