"""Build ``datasets/labels.csv``: real PyPI releases labelled "a known vulnerability affects it".

Run from the project root (it reads ``../shared/data/pypa-advisory-database.tar.gz``)::

    .venv/bin/python datasets/build_labels.py --output datasets/labels.csv

Label sources (a release is positive when any of them says it is affected):

- ``pypa``: the PyPA advisory database snapshot (OSV YAML), imported into a throw-away
  :class:`~shouldi.advisories.AdvisoryStore` and matched with OSV range semantics;
- ``safety-db``: the frozen ``safety-db`` package (installed in the dev venv), read as data;
- ``pypi-json``: PyPI's ``vulnerabilities`` of the project's *latest* release (all PyPI gives).

Projects come from two pools: projects named in the advisory snapshot (up to two affected
releases and one unaffected, e.g. fixed, release each) and popular projects
(``shouldi/data/popular_packages.txt``) that no source knows (up to two releases each). A popular
project whose latest release has PyPI vulnerabilities is dropped: the snapshot is a subset, so
its older releases could be unknown positives. Only releases uploaded on or before the snapshot
date, with a non-yanked sdist or wheel listed in ``/pypi/<name>/json`` "releases", and small
enough to scan in reasonable time, are kept. Rows are shuffled (seeded) so that a partial
``dataset build`` over the file still sees both classes. One JSON request per chosen project.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import httpx
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from shouldi.advisories import AdvisoryStore, parse_pypi_vulnerabilities
from shouldi.advisories.safety_db import SafetyDb, locate_safety_db

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT.parent / "shared" / "data" / "pypa-advisory-database.tar.gz"
POPULAR = ROOT / "shouldi" / "data" / "popular_packages.txt"
CUTOFF = date(2024, 10, 10)  # the snapshot's commit date
MAX_ARTIFACT_BYTES = 6 << 20
COLUMNS = ("name", "version", "label", "label_source", "date", "advisory_ids")


@dataclass(frozen=True)
class Row:
    name: str
    version: str
    label: int
    label_source: str
    date: str
    advisory_ids: str


@dataclass(frozen=True)
class Candidate:
    version: str
    uploaded: datetime
    affected_by: dict[str, list[str]]  # source -> advisory ids


def snapshot_projects(path: Path) -> list[str]:
    """Project names in the snapshot, from member paths ``.../vulns/<project>/<id>.yaml``."""
    names: set[str] = set()
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if member.isfile() and len(parts) >= 3 and parts[-3] == "vulns":
                names.add(canonicalize_name(parts[-2]))
    return sorted(names)


def popular_projects(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [canonicalize_name(n.strip()) for n in lines if n.strip() and not n.startswith("#")]


def usable_releases(doc: dict[str, Any]) -> list[tuple[str, datetime]]:
    """(version, first upload) of final releases with a small non-yanked sdist or wheel."""
    out = []
    for version, files in (doc.get("releases") or {}).items():
        try:
            if Version(version).is_prerelease:
                continue
        except InvalidVersion:
            continue
        live = [f for f in files or [] if not f.get("yanked")
                and f.get("packagetype") in ("sdist", "bdist_wheel")]
        if not live:
            continue
        sdists = [f for f in live if f["packagetype"] == "sdist"]
        scanned = sdists[0] if sdists else min(live, key=lambda f: int(f.get("size") or 0))
        if int(scanned.get("size") or 0) > MAX_ARTIFACT_BYTES:
            continue
        uploaded = min(datetime.fromisoformat(f["upload_time_iso_8601"].replace("Z", "+00:00"))
                       for f in live)
        if uploaded.date() <= CUTOFF:
            out.append((version, uploaded))
    return out


def label(name: str, version: str, latest: str, pypi_ids: list[str], store: AdvisoryStore,
          safety: SafetyDb) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    pypa, _ = store.matches(name, version)
    if pypa:
        found["pypa"] = [a.id for a in pypa]
    safe, _ = safety.matches(name, version)
    if safe:
        found["safety-db"] = [a.id for a in safe]
    if version == latest and pypi_ids:
        found["pypi-json"] = pypi_ids
    return found


async def fetch(client: httpx.AsyncClient, gate: asyncio.Semaphore, name: str) -> dict[str, Any] | None:
    async with gate:
        try:
            response = await client.get(f"https://pypi.org/pypi/{name}/json")
        except httpx.HTTPError as e:
            print(f"  {name}: {type(e).__name__}", file=sys.stderr)
            return None
    if response.status_code != 200:
        print(f"  {name}: HTTP {response.status_code}", file=sys.stderr)
        return None
    data: dict[str, Any] = response.json()
    return data


def pick(name: str, doc: dict[str, Any], store: AdvisoryStore, safety: SafetyDb,
         rng: random.Random, advisory_project: bool) -> list[Row]:
    latest = str(doc.get("info", {}).get("version") or "")
    pypi_ids = [str(a.id) for a in parse_pypi_vulnerabilities(doc.get("vulnerabilities") or [])]
    if not advisory_project and pypi_ids:
        return []  # known to some advisory DB beyond our snapshot: negatives would be unsure
    candidates = [Candidate(v, t, label(name, v, latest, pypi_ids, store, safety))
                  for v, t in usable_releases(doc)]
    positives = [c for c in candidates if c.affected_by]
    negatives = [c for c in candidates if not c.affected_by]
    if advisory_project:
        chosen = rng.sample(positives, min(2, len(positives)))
        chosen += rng.sample(negatives, min(1, len(negatives)))
    else:
        if positives:  # safety-db knows it after all
            return []
        chosen = rng.sample(negatives, min(2, len(negatives)))
    return [Row(name, c.version, int(bool(c.affected_by)),
                "+".join(sorted(c.affected_by)) or "none",
                c.uploaded.date().isoformat(),
                " ".join(sorted({i for ids in c.affected_by.values() for i in ids})))
            for c in chosen]


async def collect(args: argparse.Namespace, store: AdvisoryStore, safety: SafetyDb) -> list[Row]:
    rng = random.Random(args.seed)  # noqa: S311 - a reproducible sample, not a secret
    popular = popular_projects(POPULAR)
    rank = {n: i for i, n in enumerate(popular)}
    advisory = snapshot_projects(args.snapshot)
    known = set(advisory) | set(safety.entries)
    # Advisory projects: the popular ones first (real, maintained code), then the rest.
    pool_a = sorted(advisory, key=lambda n: (rank.get(n, len(rank)), n))[: args.advisory_projects]
    pool_n = rng.sample([n for n in popular if n not in known], args.clean_projects)
    rows: list[Row] = []
    gate = asyncio.Semaphore(6)
    headers = {"User-Agent": "shouldi-dataset-builder (labels.csv)"}
    async with httpx.AsyncClient(timeout=60, headers=headers, follow_redirects=True) as client:
        for pool, is_advisory in ((pool_a, True), (pool_n, False)):
            docs = await asyncio.gather(*(fetch(client, gate, n) for n in pool))
            for name, doc in zip(pool, docs, strict=True):
                if doc is not None:
                    rows += pick(name, doc, store, safety, rng, is_advisory)
    rng.shuffle(rows)
    return rows


def write(rows: list[Row], output: Path) -> None:
    """Atomically: a temp file in the same directory, then ``os.replace``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([r.name, r.version, r.label, r.label_source, r.date, r.advisory_ids]
                     for r in rows)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    os.fchmod(fd, 0o644)  # mkstemp makes 0600; this file is meant to be shared
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(buffer.getvalue())
    Path(tmp).replace(output)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "datasets" / "labels.csv")
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    parser.add_argument("--advisory-projects", type=int, default=150)
    parser.add_argument("--clean-projects", type=int, default=130)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    safety_path = locate_safety_db()
    if not args.snapshot.is_file() or safety_path is None:
        print("error: needs the PyPA snapshot and the safety-db package", file=sys.stderr)
        return 2
    safety = SafetyDb.load(safety_path)
    with tempfile.TemporaryDirectory(prefix="shouldi-labels-") as tmp:
        store = AdvisoryStore(Path(tmp) / "osv.sqlite")
        store.import_path(args.snapshot)
        rows = asyncio.run(collect(args, store, safety))
    write(rows, args.output)
    projects = len({r.name for r in rows})
    positives = sum(r.label for r in rows)
    print(f"{len(rows)} releases from {projects} projects ({positives} positive) -> {args.output}"
          f" [{datetime.now(timezone.utc).date()}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
