"""Real sdists from PyPI with busy setup.py files: publish commands under argv checks, build
helpers calling compilers and pkg-config, test keys in folders the wheel does not contain.
None may fail; bandit and the heuristics both run on them. Marked ``online``."""

from __future__ import annotations

import httpx
import pytest
from scanner_trees import extract

from shouldi.results import Severity, Status
from shouldi.scanners import BanditScanner
from shouldi.scanners.heuristics import HeuristicsScanner

pytestmark = pytest.mark.online

SDISTS = ["six-1.17.0.tar.gz", "requests-2.31.0.tar.gz", "djangorestframework-3.14.0.tar.gz",
          "certifi-2024.8.30.tar.gz", "psycopg2-2.9.9.tar.gz"]


def _download(client: httpx.Client, filename: str, dest):
    project = filename.rsplit("-", 1)[0]
    url = f"https://pypi.org/simple/{project}/"
    index = client.get(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    index.raise_for_status()
    entry = next(f for f in index.json()["files"] if f["filename"] == filename)
    archive = dest / filename
    archive.write_bytes(client.get(str(httpx.URL(str(index.url)).join(entry["url"]))).content)
    return archive


@pytest.fixture(scope="module")
def client():
    with httpx.Client(follow_redirects=True, timeout=120) as c:
        yield c


@pytest.mark.parametrize("filename", SDISTS)
def test_busy_setup_py_sdists_do_not_fail(client, tmp_path, filename):
    tree = extract(_download(client, filename, tmp_path), tmp_path / "tree")
    result = HeuristicsScanner().scan(tree)
    assert result.status is Status.OK
    serious = [(f.rule, f.file, f.line) for f in result.findings
               if f.severity.rank >= Severity.HIGH.rank]
    assert serious == []
    assert result.counts["cap_install_time_code"] >= 1  # setup.py runs at install time


def test_bandit_and_heuristics_on_six(client, tmp_path):
    tree = extract(_download(client, "six-1.17.0.tar.gz", tmp_path), tmp_path / "tree")
    heuristics = HeuristicsScanner().scan(tree)
    bandit = BanditScanner().scan(tree)
    assert heuristics.status is bandit.status is Status.OK
    assert bandit.counts["files"] >= 2 and bandit.counts["loc"] > 500
    assert heuristics.counts["loc"] > 500
    assert all(f.file and f.file.startswith("six-1.17.0/") for f in heuristics.findings)
