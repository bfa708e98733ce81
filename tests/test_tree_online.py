"""Whole trees against real PyPI (``-m online``): ``shouldi install flask`` judges the
packages pip would install, and ``shouldi lock flask`` pins the very files pip picks.

pip runs as ``pip install --dry-run --report`` (``--only-binary=:all:`` so it builds nothing,
``--ignore-installed``, ``--isolated``): it installs nothing.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from shouldi.cli.main import cli

pytestmark = pytest.mark.online
PYPI = "https://pypi.org/simple/"


def pip_report(spec: str, tmp_path: Path) -> dict[str, tuple[str, str]]:
    """name -> (version, sha256 of the file pip would download)."""
    report = tmp_path / "report.json"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--isolated",
         "--only-binary=:all:", "--quiet", "--index-url", PYPI, "--report", str(report), spec],
        check=True, timeout=300,
    )
    out = {}
    for item in json.loads(report.read_text())["install"]:
        name = re.sub(r"[-_.]+", "-", item["metadata"]["name"]).lower()
        digest = item["download_info"]["archive_info"]["hashes"]["sha256"]
        out[name] = (item["metadata"]["version"], digest)
    return out


def shouldi(tmp_path: Path, *args: str) -> Any:
    argv = [*args, "--cache-dir", str(tmp_path / "cache"), "--no-pip-audit", "--no-safety-cli",
            "--index-url", PYPI, "--timeout", "60"]
    return CliRunner().invoke(cli, argv, catch_exceptions=False)


def test_install_flask_judges_the_seven_packages_pip_installs(tmp_path: Path) -> None:
    result = shouldi(tmp_path, "install", "flask", "--format", "json")
    assert result.exit_code in (0, 1, 3), result.output
    packages = json.loads(result.stdout)["packages"]
    pip = pip_report("flask", tmp_path)
    assert {p["name"]: (p["version"], p["artifact"]["sha256"]) for p in packages} == pip
    assert len(packages) == 7 and packages[0]["name"] == "flask"
    assert all(q["parent"] for p in packages[1:] for q in p["required_by"])
    assert all(p["checks"]["bandit"]["status"] == "ok" for p in packages)
    again = shouldi(tmp_path, "install", "flask", "--format", "json")
    assert all(p["reused_from"] for p in json.loads(again.stdout)["packages"])


def test_lock_flask_pins_the_files_pip_picks(tmp_path: Path) -> None:
    result = shouldi(tmp_path, "lock", "flask", "--output", str(tmp_path / "requirements.txt"))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "requirements.txt").read_text()
    pins = dict(re.findall(r"^([a-z0-9-]+)==\S+ \\\n    --hash=sha256:([0-9a-f]{64})$", text, re.M))
    versions = dict(re.findall(r"^([a-z0-9-]+)==(\S+) \\$", text, re.M))
    pip = pip_report("flask", tmp_path)
    assert {n: (versions[n], pins[n]) for n in pins} == pip
    assert "flask==" + pip["flask"][0] + " \\\n    --hash=sha256:" + pip["flask"][1] + \
        "\n    # via the command line\n" in text
    assert "    # via flask\n" in text.split("werkzeug==", 1)[1]
    assert text.split("markupsafe==", 1)[1].split("\n", 2)[2].startswith(
        "    # via\n    #   flask\n    #   jinja2\n    #   werkzeug\n")
