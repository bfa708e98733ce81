"""Does the kind of project (its trove classifiers and summary words) give the risk model skill?

An experiment, not a feature of shouldi: for each project of a features file, PyPI's JSON of
its *latest* release (``/pypi/<name>/json``, cached in ``--meta-dir``) gives topic flags (web,
Django, security, networking, databases, ...) and summary/keyword words (parser, xml, yaml,
template, auth, crypt, ...). They are added to a feature set and the time split of
:func:`shouldi.risk_model.assess.assess` is run, as ``bench/risk_model.py`` does. The
classifiers are of today, not of the upload (PyPI's per-version JSON is not served here), so
the result can only flatter them. Needs the network the first time. Prints JSON.

    .venv/bin/python bench/risk_project_type.py --features datasets/features-code.csv --meta-dir /tmp/meta
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

TOPICS = {
    "web": ("Topic :: Internet :: WWW/HTTP", "Environment :: Web Environment", "Framework :: Django",
            "Framework :: Flask", "Framework :: FastAPI", "Framework :: Pyramid"),
    "django": ("Framework :: Django",), "security": ("Topic :: Security",),
    "network": ("Topic :: System :: Networking", "Topic :: Internet"),
    "sysadmin": ("Intended Audience :: System Administrators",),
    "science": ("Intended Audience :: Science/Research", "Topic :: Scientific/Engineering"),
    "stubs": ("Typing :: Stubs Only",), "app": ("Environment :: Console", "Intended Audience :: End Users/Desktop"),
    "database": ("Topic :: Database",), "multimedia": ("Topic :: Multimedia",),
    "text": ("Topic :: Text Processing",),
}
WORDS = ("web", "http", "server", "pars", "xml", "yaml", "image", "template", "auth", "crypt", "jwt",
         "oauth", "proxy", "sql", "html", "markdown", "archive", "zip", "ssh", "ssl", "url", "api",
         "cli", "stubs", "plugin", "jupyter", "admin", "upload", "pdf", "render")


def _meta(name: str, folder: Path) -> dict[str, Any]:
    path = folder / f"{name}.json"
    if not path.exists():
        import httpx

        r = httpx.get(f"https://pypi.org/pypi/{name}/json", timeout=30, follow_redirects=True)
        path.write_text(json.dumps(r.json()["info"] if r.status_code == 200 else {}), encoding="utf-8")
    info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return info


def project_columns(name: str, folder: Path) -> dict[str, float]:
    info = _meta(name, folder)
    found = info.get("classifiers") or []
    out = {f"type.topic_{k}": float(any(c.startswith(p) for c in found for p in prefixes))
           for k, prefixes in TOPICS.items()}
    keywords = info.get("keywords") or ""
    text = " ".join([info.get("summary") or "", " ".join(keywords) if isinstance(keywords, list) else keywords,
                     name]).lower()
    out |= {f"type.word_{w}": float(w in text) for w in WORDS}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--meta-dir", type=Path, required=True)
    parser.add_argument("--cutoff", default="2022-01-01")
    args = parser.parse_args()
    from shouldi.record import CAPABILITY_FEATURES
    from shouldi.risk_model import load_table
    from shouldi.risk_model.assess import assess

    args.meta_dir.mkdir(parents=True, exist_ok=True)
    with args.features.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    columns: list[str] = []
    result: dict[str, Any] = {"features": str(args.features), "cutoff": args.cutoff, "runs": {}}
    with tempfile.TemporaryDirectory() as scratch:
        table_path = Path(scratch) / "with-type.jsonl"
        with table_path.open("w", encoding="utf-8") as out:
            for row in rows:
                extra = project_columns(row["name"], args.meta_dir)
                columns = list(extra)
                out.write(json.dumps(row | extra) + "\n")
        sets = {"capabilities": CAPABILITY_FEATURES,
                "capabilities+topics": (*CAPABILITY_FEATURES, *(c for c in columns if "topic" in c)),
                "capabilities+type": (*CAPABILITY_FEATURES, *columns)}
        for set_name, features in sets.items():
            reports, _ = assess(load_table(table_path, features), "gradient-boosting", {}, args.cutoff)
            result["runs"][set_name] = {
                split: {"roc_auc": r.model.roc_auc, "best_baseline": r.best_baseline,
                        "baseline_roc_auc": r.baselines[r.best_baseline].roc_auc, "margin": r.margin}
                for split, r in reports.items()}
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
