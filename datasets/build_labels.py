"""Build ``datasets/labels.csv``: real PyPI releases labelled by the risk model's question.

Run from the project root (reads ``../shared/data/pypa-advisory-database.tar.gz``; caches PyPI
JSON under ``/tmp/shouldi-risk-pypi``)::

    .venv/bin/python datasets/build_labels.py --output datasets/labels.csv

**Question** (:mod:`shouldi.risk_model.labels`): will an advisory affecting this release be
published within 12 months of its upload? The advisories are the PyPA advisory database
snapshot's (OSV YAML, 2024-10-10; a subset *of packages*: 529 projects, each with its
advisories), matched with OSV range semantics (:func:`shouldi.advisories.osv.match_version`)
and dated by ``published``. The label data's time is the snapshot's: a window must end 60
days before it, so the newest releases are from August 2023.

PyPI's JSON was to be the second source, but the per-version endpoint
(``/pypi/<name>/<version>/json``) answers 404 from here, and the project endpoint lists
``vulnerabilities`` for the *latest* release only, without dates: it is used to leave out a
project the snapshot does not name but PyPI knows to be affected (its older releases could be
unknown positives), never to label.

**Projects:** every project the snapshot names (with or without an advisory in the window),
and ``--clean-projects`` projects drawn at random (seeded) from the 5,000 most downloaded that
the snapshot does not name and whose latest release PyPI knows no vulnerability of.
**Releases:** final PEP 440 releases with a non-yanked sdist or wheel, a file of at most 6 MiB
(so a scan finishes), first uploaded from 2010-01-01 to ``--last-upload``; per project up to
``--per-era`` uploaded before 2021 and as many from mid-2021 on, at random (the time split
trains on the first and tests on the second). A release whose label is unknown is left out and
counted. Rows are shuffled so a partial ``dataset build`` still holds both classes and eras.

Columns: ``name, version, label, label_source, date`` (first upload, UTC), ``advisory_ids``
(published within the window), ``project_advisories`` (publication times of every advisory of
the project in the snapshot, ISO, space separated: the input of the
``history.past_advisories*`` features, which count only those before ``date``).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tarfile
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pypi_cache import DEFAULT_CACHE, cached, fetch_all

from shouldi.advisories.documents import load_documents
from shouldi.advisories.osv import (
    OsvRecord,
    match_version,
    parse_record,
    parse_timestamp,
)
from shouldi.risk_model.labels import DatedAdvisory, label_release

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT.parent / "shared" / "data" / "pypa-advisory-database.tar.gz"
POPULAR = ROOT / "shouldi" / "data" / "popular_packages.txt"
FIRST_UPLOAD = datetime(2010, 1, 1, tzinfo=timezone.utc)
EARLY_END = datetime(2021, 1, 1, tzinfo=timezone.utc)
LATE_START = datetime(2021, 7, 1, tzinfo=timezone.utc)
MAX_FILE_BYTES = 6 << 20
COLUMNS = ("name", "version", "label", "label_source", "date", "advisory_ids",
           "project_advisories")


@dataclass(frozen=True)
class Snapshot:
    records: dict[str, list[tuple[OsvRecord, datetime | None]]]  # project -> its advisories
    published: dict[str, datetime]  # every id and alias -> publication time


def read_snapshot(path: Path) -> Snapshot:
    records: dict[str, list[tuple[OsvRecord, datetime | None]]] = {}
    published: dict[str, datetime] = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            if not member.isfile() or not member.name.endswith((".yaml", ".json")):
                continue
            data = tar.extractfile(member)
            if data is None:
                continue
            for doc in load_documents(member.name, data.read()):
                try:
                    record = parse_record(doc)
                except ValueError:
                    continue
                if record.withdrawn:
                    continue
                when = parse_timestamp(doc["published"]) if doc.get("published") else None
                if when is not None:
                    for ident in (record.id, *record.aliases):
                        published[ident] = min(when, published.get(ident, when))
                for affected in record.affected:
                    records.setdefault(affected.package, []).append((record, when))
    return Snapshot(records, published)


def popular_projects(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [canonicalize_name(n.strip()) for n in lines if n.strip() and not n.startswith("#")]


def _final(version: str) -> bool:
    try:
        return not Version(version).is_prerelease
    except InvalidVersion:
        return False


def _when(f: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(f["upload_time_iso_8601"]).replace("Z", "+00:00"))


def first_uploads(doc: dict[str, Any]) -> dict[str, datetime]:
    out = {}
    for version, files in (doc.get("releases") or {}).items():
        times = [_when(f) for f in files or [] if f.get("upload_time_iso_8601")]
        if times:
            out[version] = min(times)
    return out


def candidates(doc: dict[str, Any], last: datetime) -> list[tuple[str, datetime]]:
    out = []
    for version, files in (doc.get("releases") or {}).items():
        live = [f for f in files or [] if not f.get("yanked") and f.get("upload_time_iso_8601")
                and f.get("packagetype") in ("sdist", "bdist_wheel")]
        if not _final(version) or not live:
            continue
        if min(int(f.get("size") or 0) for f in live) > MAX_FILE_BYTES:
            continue
        uploaded = min(_when(f) for f in files if f.get("upload_time_iso_8601"))
        if FIRST_UPLOAD <= uploaded <= last:
            out.append((version, uploaded))
    return sorted(out, key=lambda c: c[1])


def choose(cands: list[tuple[str, datetime]], rng: random.Random, per_era: int) -> list[tuple[str, datetime]]:
    early = [c for c in cands if c[1] < EARLY_END]
    late = [c for c in cands if c[1] >= LATE_START]
    chosen = rng.sample(early, min(per_era, len(early))) + rng.sample(late, min(per_era, len(late)))
    rest = [c for c in cands if c not in chosen]
    short = 2 * per_era - len(chosen)
    return chosen + rng.sample(rest, min(short, len(rest)))


def advisories_of(name: str, version: str, snapshot: Snapshot) -> list[DatedAdvisory]:
    """The snapshot's advisories affecting ``name==version``, with their publication time."""
    found = []
    for record, when in snapshot.records.get(name, []):
        for affected in record.affected:
            if affected.package == name and match_version(affected, version)[0]:
                found.append(DatedAdvisory(record.id, when, "published" if when else "undated"))
                break
    return found


def project_advisory_times(name: str, snapshot: Snapshot) -> list[datetime]:
    """Publication times of every advisory of the project in the snapshot."""
    return sorted({r.id: when for r, when in snapshot.records.get(name, []) if when}.values())


def pypi_knows_vulnerabilities(doc: dict[str, Any]) -> bool:
    return any(v.get("id") and not v.get("withdrawn") for v in doc.get("vulnerabilities") or [])


def build(args: argparse.Namespace) -> tuple[list[dict[str, str]], Counter[str]]:
    rng = random.Random(args.seed)  # noqa: S311 - a reproducible sample, not a secret
    snapshot = read_snapshot(args.snapshot)
    named = sorted(snapshot.records)
    clean = rng.sample([n for n in popular_projects(POPULAR) if n not in snapshot.records],
                       args.clean_projects)
    fetch_all(args.cache, [(n, None) for n in named + clean], args.concurrency)
    last = datetime.fromisoformat(args.last_upload).replace(tzinfo=timezone.utc)
    data_time = datetime.fromisoformat(args.data_time).replace(tzinfo=timezone.utc)
    rows: list[dict[str, str]] = []
    dropped: Counter[str] = Counter()
    for name in named + clean:
        doc = cached(args.cache, name)
        if doc is None:
            dropped["project not on PyPI"] += 1
            continue
        if name not in snapshot.records and pypi_knows_vulnerabilities(doc):
            dropped["unnamed project PyPI knows to be vulnerable"] += 1
            continue
        times = " ".join(t.isoformat(timespec="seconds") for t in project_advisory_times(name, snapshot))
        for version, uploaded in choose(candidates(doc, last), rng, args.per_era):
            label = label_release(uploaded, advisories_of(name, version, snapshot), data_time)
            if label.value is None:
                dropped["window not observed" if "window" in label.reason else "undatable advisory"] += 1
                continue
            rows.append({
                "name": name, "version": version, "label": str(label.value),
                "label_source": "pypa" if label.value else "none",
                "date": uploaded.isoformat(timespec="seconds"),
                "advisory_ids": " ".join(label.advisory_ids),
                "project_advisories": times,
            })
    rng.shuffle(rows)
    return rows, dropped


def write(rows: list[dict[str, str]], output: Path) -> None:
    """Atomically: a temp file in the same directory, then ``os.replace``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    os.fchmod(fd, 0o644)  # mkstemp makes 0600; this file is meant to be shared
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(buffer.getvalue())
    Path(tmp).replace(output)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "datasets" / "labels.csv")
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--clean-projects", type=int, default=500)
    parser.add_argument("--per-era", type=int, default=2)
    parser.add_argument("--last-upload", default="2023-08-11")
    parser.add_argument("--data-time", default="2024-10-10", help="the label data's time (snapshot)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    if not args.snapshot.is_file():
        print(f"error: no PyPA snapshot at {args.snapshot}", file=sys.stderr)
        return 2
    rows, dropped = build(args)
    write(rows, args.output)
    projects = len({r["name"] for r in rows})
    positives = sum(r["label"] == "1" for r in rows)
    print(f"{len(rows)} releases from {projects} projects ({positives} positive) -> {args.output};"
          f" left out: {dict(dropped)} [{datetime.now(timezone.utc).date()}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
