"""``shouldi install`` against real PyPI (marked online: skipped unless ``pytest -m online``)."""

from __future__ import annotations

import importlib.util
import json

import pytest
from click.testing import CliRunner
from stores import store_option

from shouldi.cli.main import cli

pytestmark = pytest.mark.online


def install(tmp_path, *args):
    argv = ["install", *args, "--format", "json", "--cache-dir", str(tmp_path / "cache"),
            *store_option(tmp_path / "adv.sqlite")]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    return result, json.loads(result.stdout)["packages"][0]


def test_requests_passes_or_warns(tmp_path):
    result, pkg = install(tmp_path, "requests", "--no-safety-cli")
    assert pkg["verdict"] in {"pass", "warn"}, pkg["reasons"]
    assert result.exit_code == 0
    assert pkg["checks"]["bandit"]["status"] == "ok"
    assert pkg["checks"]["advisories"]["status"] == "ok"


@pytest.mark.skipif(importlib.util.find_spec("safety_db") is None, reason="needs the safety-db extra")
def test_insecure_package_fails(tmp_path):
    result, pkg = install(tmp_path, "insecure-package==0.1.0", "--no-safety-cli")
    assert pkg["verdict"] == "fail", pkg["reasons"]
    assert result.exit_code == 1
    assert any(r["check"] == "advisories" for r in pkg["reasons"])
