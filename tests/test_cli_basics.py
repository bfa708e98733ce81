"""The CLI's basics: help, version, the flow's diagram and export, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from shouldi import __version__
from shouldi.cli.main import cli
from shouldi.dataflow import flow_from_json, flow_to_json
from shouldi.flow import build_flow

README = Path(__file__).resolve().parents[1] / "README.md"


def test_version_and_help_list_the_commands_and_exit_codes():
    runner = CliRunner()
    assert runner.invoke(cli, ["--version"]).output == f"shouldi, version {__version__}\n"
    out = runner.invoke(cli, ["--help"]).output
    for command in ("install", "db", "dataflow"):
        assert f"  {command} " in out
    assert "3  nothing failed, but at least one package could not be fully checked" in out
    install_help = runner.invoke(cli, ["install", "--help"]).output
    assert "Exit codes: 0 pass or warn; 1 at least one fail; 2 bad input" in install_help


def test_readme_diagram_is_the_built_in_flow():
    diagram = CliRunner().invoke(cli, ["dataflow", "diagram"]).output
    assert diagram.startswith("flowchart TD\n")
    assert f"```mermaid\n{diagram}```" in README.read_text(encoding="utf-8")


def test_export_is_the_flow_and_reads_back():
    text = CliRunner().invoke(cli, ["dataflow", "export"]).output
    data = json.loads(text)
    assert {o["name"] for o in data["operations"]} >= {"resolve_release", "bandit_scan", "gather_checks", "judge_release"}
    assert flow_to_json(flow_from_json(text)) == flow_to_json(build_flow())


def test_console_script_runs_as_a_module():
    out = subprocess.run([sys.executable, "-m", "shouldi", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"shouldi, version {__version__}"


def test_unknown_option_is_a_usage_error_without_traceback():
    result = CliRunner().invoke(cli, ["install", "requests", "--no-such-option"])
    assert result.exit_code == 2
    assert "No such option '--no-such-option'" in result.output
    assert "Traceback" not in result.output


def test_cli_default_index_is_the_index_layers_default():
    from shouldi.cli.install import install
    from shouldi.index.spec import PYPI_SIMPLE_URL
    from shouldi.settings import PYPI_SIMPLE_URL as SETTINGS_DEFAULT

    (option,) = [p for p in install.params if p.name == "index_url"]
    assert option.default == PYPI_SIMPLE_URL == SETTINGS_DEFAULT
    from shouldi.advisories.osv_api import OSV_API_URL
    from shouldi.settings import OSV_API_URL as SETTINGS_OSV

    assert OSV_API_URL == SETTINGS_OSV
    assert option.envvar == "PIP_INDEX_URL"
