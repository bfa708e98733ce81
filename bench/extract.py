"""Benchmark: shouldi's safe extraction against tarfile.extractall(filter="data").

Builds a ~10k-member sdist-like tar.gz (or takes one with --archive), extracts it with
both, best of N runs each (alternating, so disk cache and load hit both alike), and
prints the times and their ratio. The target is ratio <= 1.5.

    python bench/extract.py --json
    python bench/extract.py --archive django-5.0.tar.gz --json
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shouldi.archive import extract_archive

_VOCABULARY = (
    "def class return import from self if else elif for while in not and or None True False "
    "try except raise with as lambda yield pass break continue assert global value result "
    "request response model field query name data path config settings test case"
)
WORDS = _VOCABULARY.split()


def build_sdist(path: Path, members: int, seed: int = 0) -> Path:
    """A tar.gz shaped like a big sdist: nested packages, mostly small text files."""
    rng = random.Random(seed)
    dirs = ["proj-1.0"]
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tf:
        for i in range(members):
            if i % 12 == 0:  # about one directory per 12 members, nested up to 5 deep
                parent = rng.choice([d for d in dirs if d.count("/") < 5])
                dirs.append(f"{parent}/pkg{i}")
                info = tarfile.TarInfo(dirs[-1])
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(info)
                continue
            size = int(min(rng.lognormvariate(7.5, 1.3), 400_000))
            text = " ".join(rng.choice(WORDS) for _ in range(size // 6 + 1)).encode()[:size]
            info = tarfile.TarInfo(f"{rng.choice(dirs)}/mod{i}.py")
            info.size, info.mode = len(text), 0o644
            tf.addfile(info, io.BytesIO(text))
    return path


def best_of(runs: int, work: Path, archive: Path) -> tuple[float, float, int]:
    ours = theirs = float("inf")
    members = 0
    for _ in range(runs):
        for which in ("ours", "theirs"):
            dest = work / which
            dest.mkdir()
            start = time.perf_counter()
            if which == "ours":
                members = extract_archive(archive, dest).member_count
                ours = min(ours, time.perf_counter() - start)
            else:
                with tarfile.open(archive) as tf:
                    tf.extractall(dest, filter="data")
                theirs = min(theirs, time.perf_counter() - start)
            shutil.rmtree(dest)
    return ours, theirs, members


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, help="a tar archive to use instead of building one")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shouldi-bench-") as tmp:
        work = Path(tmp)
        archive = args.archive or build_sdist(work / "proj-1.0.tar.gz", args.members)
        ours, theirs, members = best_of(args.runs, work, archive)
        result = {
            "archive": str(args.archive or "generated sdist-like tar.gz"),
            "archive_bytes": archive.stat().st_size,
            "members": members,
            "runs": args.runs,
            "shouldi_s": round(ours, 4),
            "tarfile_data_filter_s": round(theirs, 4),
            "ratio": round(ours / theirs, 3),
        }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
