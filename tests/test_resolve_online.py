"""Against real PyPI (``-m online``): our trees equal what pip would install.

pip runs as ``pip install --dry-run --report`` with ``--only-binary=:all:`` (so it builds
nothing), ``--ignore-installed`` (so packages already here are part of the answer) and
``--isolated`` (no pip configuration of this machine): it installs nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shouldi.index import ArtifactCache
from shouldi.resolve import ResolveCache, resolve_tree

pytestmark = pytest.mark.online
PYPI = "https://pypi.org/simple/"


def pip_would_install(spec: str, tmp_path: Path) -> dict[str, str]:
    report = tmp_path / "report.json"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--isolated",
         "--only-binary=:all:", "--quiet", "--index-url", PYPI, "--report", str(report), spec],
        check=True, timeout=300,
    )
    data = json.loads(report.read_text())
    return {
        item["metadata"]["name"].lower().replace("_", "-").replace(".", "-"): item["metadata"]["version"]
        for item in data["install"]
    }


@pytest.mark.parametrize("spec", ["flask", "requests[socks]"])
def test_tree_matches_pip(spec: str, with_client: Any, tmp_path: Path) -> None:
    cache = ResolveCache(tmp_path / "resolve")
    artifacts = ArtifactCache(tmp_path / "artifacts")
    tree = with_client(
        lambda c: resolve_tree(c, PYPI, [spec], cache=cache, artifacts=artifacts),
        timeout=60.0, retries=2,
    )
    ours = {n.name: n.version for n in tree.nodes}
    assert ours == pip_would_install(spec, tmp_path)
    assert tree.complete
    assert all(n.artifact.kind == "wheel" for n in tree.nodes)
    assert {n.dependencies.source for n in tree.nodes} <= {"core-metadata", "wheel"}
    warm = with_client(lambda c: resolve_tree(c, PYPI, [spec], cache=cache, artifacts=artifacts))
    assert warm.requests == 0 and {n.name: n.version for n in warm.nodes} == ours
