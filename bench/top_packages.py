"""Benchmark: heuristics verdicts on the newest releases of the most downloaded projects.

Real PyPI (not hermetic). For the first ``--top`` names of ``shouldi/data/popular_packages.txt``
it takes the newest release, picks the file pip would install on this interpreter (the
compatible wheel ranked first by ``packaging.tags.sys_tags()``, honouring
``requires-python`` and yanked files; the sdist only when no wheel fits), downloads it into a
cache under /tmp (sha256 checked), extracts it with :func:`shouldi.archive.extract_archive`
and runs :class:`~shouldi.scanners.heuristics.HeuristicsScanner`. Nothing is installed or
built: files are fetched from the JSON API's URLs, never through pip.

A release *fails* when any finding is ``high``/``critical``, *warns* when the worst is
``medium``. ``--sdist NAME[==VERSION]`` adds sdists to judge as well (projects known for busy
``setup.py`` files); targets: at most 1 fail and 10% warn in the top 100, no sdist fails.

    python bench/top_packages.py --json
    python bench/top_packages.py --top 100 --sdist psycopg2 --sdist requests==2.31.0 --json
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import sys_tags
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shouldi.archive import extract_archive  # noqa: E402
from shouldi.results import Severity  # noqa: E402
from shouldi.scanners.heuristics import HeuristicsScanner  # noqa: E402

POPULAR = ROOT / "shouldi" / "data" / "popular_packages.txt"
CACHE = Path(tempfile.gettempdir()) / "shouldi-top-packages"
BUSY_SDISTS = ("psycopg2", "pillow", "uvloop", "ruamel.yaml", "mypy", "djangorestframework",
               "requests==2.31.0", "certifi", "celery")
_PYTHON = Version(".".join(map(str, sys.version_info[:3])))


@dataclass(frozen=True)
class Choice:
    name: str
    version: str
    filename: str
    url: str
    sha256: str
    why: str


def popular(top: int) -> list[str]:
    names = [line.strip() for line in POPULAR.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    return names[:top]


def _json(client: httpx.Client, name: str) -> tuple[dict[str, object], str]:
    """The project's JSON (``/pypi/<name>/json``) and the URL relative links resolve from."""
    url = f"https://pypi.org/pypi/{name}/json"
    path = CACHE / "json" / f"{name}.json"
    if path.is_file() and time.time() - path.stat().st_mtime < 86400:
        return json.loads(path.read_text()), url
    response = client.get(url)
    response.raise_for_status()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(response.text)
    return response.json(), str(response.url)


def _fits_python(entry: dict[str, object]) -> bool:
    spec = entry.get("requires_python")
    if not isinstance(spec, str) or not spec.strip():
        return True
    try:
        return _PYTHON in SpecifierSet(spec)
    except InvalidSpecifier:
        return True


def _best_wheel(files: list[dict[str, object]]) -> dict[str, object] | None:
    priority = {tag: i for i, tag in enumerate(sys_tags())}
    ranked = []
    for entry in files:
        filename = str(entry["filename"])
        if not filename.endswith(".whl"):
            continue
        try:
            tags = parse_wheel_filename(filename)[3]
        except (InvalidWheelFilename, InvalidVersion):
            continue
        best = min((priority[t] for t in tags if t in priority), default=None)
        if best is not None:
            ranked.append((best, filename, entry))
    return min(ranked, key=lambda r: (r[0], r[1]))[2] if ranked else None


def choose(client: httpx.Client, requirement: str, sdist: bool) -> Choice:
    """The file pip would install: newest release with a file for this interpreter."""
    name, _, pinned = requirement.partition("==")
    data, base = _json(client, name)
    releases = data["releases"]
    assert isinstance(releases, dict)
    versions = [pinned] if pinned else sorted(
        (v for v in releases if _is_final(v)), key=Version, reverse=True)
    if not versions:  # like pip: pre-releases when there is nothing else
        versions = sorted((v for v in releases if _parses(v)), key=Version, reverse=True)
    for version in versions:
        files = [f for f in releases.get(version, []) if not f.get("yanked") and _fits_python(f)]
        entry = None if sdist else _best_wheel(files)
        why = "the wheel pip would install on this interpreter"
        if entry is None:
            entry = next((f for f in files if f.get("packagetype") == "sdist"), None)
            why = "sdist asked for" if sdist else "no compatible wheel: the sdist"
        if entry is not None:
            url = str(httpx.URL(base).join(str(entry["url"])))
            return Choice(name, version, str(entry["filename"]), url,
                          str(entry["digests"]["sha256"]), why)  # type: ignore[index]
    raise LookupError(f"{requirement}: no release with a file for this interpreter")


def _parses(version: str) -> bool:
    try:
        Version(version)
    except InvalidVersion:
        return False
    return True


def _is_final(version: str) -> bool:
    try:
        parsed = Version(version)
    except InvalidVersion:
        return False
    return not (parsed.is_prerelease or parsed.is_devrelease)


def download(client: httpx.Client, choice: Choice) -> Path:
    path = CACHE / "files" / choice.filename
    if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == choice.sha256:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    data = client.get(choice.url).content
    if hashlib.sha256(data).hexdigest() != choice.sha256:
        raise ValueError(f"{choice.filename}: sha256 mismatch")
    partial = path.with_suffix(path.suffix + ".part")
    partial.write_bytes(data)
    partial.replace(path)
    return path


def judge(choice: Choice, archive: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="shouldi-top-") as tmp:
        tree = Path(tmp)
        extract_archive(archive, tree)
        started = time.process_time()
        result = HeuristicsScanner().scan(tree)
        cpu = time.process_time() - started
    serious = [f for f in result.findings if f.severity.rank >= Severity.MEDIUM.rank]
    worst = max((f.severity for f in result.findings), key=lambda s: s.rank,
                default=Severity.INFO)
    verdict = ("fail" if worst.rank >= Severity.HIGH.rank else
               "warn" if worst is Severity.MEDIUM else "pass")
    return {
        "name": choice.name, "version": choice.version, "file": choice.filename,
        "why": choice.why, "status": result.status.value, "verdict": verdict,
        "findings": [{"rule": f.rule, "severity": f.severity.value,
                      "where": f"{f.file}:{f.line}" if f.line else f.file,
                      "message": f.message} for f in serious],
        "counts": {k: v for k, v in result.counts.items() if k.startswith("cap_") or k in (
            "files", "python_files", "loc")},
        "cpu_s": round(cpu, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=100)
    parser.add_argument("--sdist", action="append", default=None,
                        help="also judge this project's sdist (NAME or NAME==VERSION); "
                             "default: a list of busy setup.py projects")
    parser.add_argument("--no-sdists", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sdists = [] if args.no_sdists else (args.sdist or list(BUSY_SDISTS))
    jobs = [(name, False) for name in popular(args.top)] + [(s, True) for s in sdists]
    results: list[dict[str, object]] = []
    with httpx.Client(follow_redirects=True, timeout=120,
                      headers={"User-Agent": "shouldi-bench"}) as client:
        def fetch(job: tuple[str, bool]) -> tuple[str, bool, Choice | None, Path | None, str]:
            try:
                choice = choose(client, *job)
                return job[0], job[1], choice, download(client, choice), ""
            except (httpx.HTTPError, LookupError, ValueError, KeyError) as e:
                return job[0], job[1], None, None, f"{type(e).__name__}: {e}"

        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            fetched = list(pool.map(fetch, jobs))
    for requirement, is_sdist, choice, archive, error in fetched:
        if choice is None or archive is None:
            results.append({"name": requirement, "sdist": is_sdist, "verdict": "error",
                            "error": error})
            continue
        row = judge(choice, archive)
        row["sdist"] = is_sdist
        results.append(row)
    top = [r for r in results if not r["sdist"]]
    extra = [r for r in results if r["sdist"]]
    summary = {
        "packages": len(top),
        "judged_on_wheel": sum(1 for r in top if str(r.get("file", "")).endswith(".whl")),
        "fail": [r["name"] for r in top if r["verdict"] == "fail"],
        "warn": [r["name"] for r in top if r["verdict"] == "warn"],
        "errors": [r["name"] for r in top if r["verdict"] == "error"],
        "warn_rate": round(sum(r["verdict"] == "warn" for r in top) / max(1, len(top)), 3),
        "sdists": {str(r["name"]): r["verdict"] for r in extra},
        "cpu_s": round(sum(float(r.get("cpu_s", 0)) for r in results), 2),  # type: ignore[arg-type]
        "targets": {"fail_max": 1, "warn_rate_max": 0.10, "sdist_fail_max": 0},
    }
    report = {"summary": summary, "packages": results}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for r in results:
            print(f"{r['verdict']:5} {r['name']} {r.get('file', r.get('error'))}")
            for f in r.get("findings", []):  # type: ignore[union-attr]
                print(f"        {f['severity']:8} {f['rule']:18} {f['where']}")  # type: ignore[index]
        print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
