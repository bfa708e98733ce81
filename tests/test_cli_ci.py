"""``shouldi ci`` end to end on the hermetic local index: exit codes, allowlist, outputs.

Packages are tiny real sdists; each test reuses one result cache, so a package is scanned
(bandit + heuristics) once per test however many times the gate runs.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from stores import store_option
from test_cli_scan import CLEAN, EXEC

from shouldi.cli.main import cli

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
# a risky capability that really runs (at import): a warning, not a fail
WARNS = {"env_mod/__init__.py": "import subprocess\n\n"
         "OUT = subprocess.run(['make', 'native'], capture_output=True).stdout\n"}
VULN = [{"id": "PYSEC-2099-5", "aliases": ["CVE-2099-5"], "summary": "remote code execution",
         "fixed_in": ["9.9"]}]


@pytest.fixture
def gate(local_index, tmp_path, monkeypatch):
    """Run ``shouldi ci ARGS`` in tmp_path against the local index; one cache per test."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str):
        argv = ["ci", *args, "--index-url", local_index.url, "--cache-dir", str(tmp_path / "cache"),
                *store_option(tmp_path / "advisories.sqlite"), "--no-pip-audit",
                "--no-safety-cli", "--timeout", "5"]
        return CliRunner().invoke(cli, argv, catch_exceptions=False)

    return run


def requirements(tmp_path: Path, *lines: str) -> str:
    (tmp_path / "requirements.txt").write_text("".join(f"{line}\n" for line in lines))
    return "requirements.txt"


def test_exit_codes_pass_fail_not_checked_and_bad_input(local_index, tmp_path, gate):
    local_index.add_sdist(CLEAN, "zq-good", "1.0")
    local_index.add_sdist(EXEC, "zq-evil", "1.0")
    ok = gate("-r", requirements(tmp_path, "zq-good==1.0"))
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.splitlines()[-1] == "gate: pass: 1 pass (exit 0)"
    failing = gate("-r", requirements(tmp_path, "zq-good==1.0", "zq-evil==1.0"))
    assert failing.exit_code == 1
    assert "FAIL  zq-evil 1.0  requirements.txt:2" in failing.stdout
    unchecked = gate("-r", requirements(tmp_path, "zq-good==1.0", "https://example.invalid/x.whl"))
    assert unchecked.exit_code == 3
    assert "not checked: URL or path requirement" in unchecked.stdout
    missing = gate("-r", requirements(tmp_path, "zq-good==1.0", "", "zq-absent==1.0"))
    assert missing.exit_code == 2
    assert "error: requirements.txt:3: no project named 'zq-absent'" in missing.stderr
    assert local_index.paths().count("files/zq_good-1.0.tar.gz") == 1  # then the cache


def test_allowlist_allows_until_it_expires(local_index, tmp_path, gate):
    local_index.add_sdist(EXEC, "zq-evil", "1.0")
    req = requirements(tmp_path, "zq-evil==1.0")
    today = date.today()
    entry = ('[[allow]]\npackage = "zq-evil"\ncheck = "heuristics"\nreason = "vendored, reviewed"\n'
             'expires = {}\n')
    (tmp_path / "allow.toml").write_text(entry.format(today.isoformat()))
    allowed = gate("-r", req, "--allowlist", "allow.toml")
    assert allowed.exit_code == 0, allowed.output
    assert "allowed heuristics: exec-decoded-data" in allowed.stdout
    assert "vendored, reviewed" in allowed.stdout
    (tmp_path / "allow.toml").write_text(entry.format((today - timedelta(days=1)).isoformat()))
    expired = gate("-r", req, "--allowlist", "allow.toml")
    assert expired.exit_code == 1
    assert "allowlist: entry 1 (zq-evil check heuristics" in expired.stdout
    assert "has expired: it no longer allows anything" in expired.stdout
    (tmp_path / "allow.toml").write_text('[[allow]]\npackage = "zq-evil"\n')
    bad = gate("-r", req, "--allowlist", "allow.toml")
    assert bad.exit_code == 2 and "allow.toml: entry 1 (zq-evil): 'reason' is required" in bad.stderr


def test_sarif_output_file_is_valid_located_and_atomic_with_a_markdown_summary(
        local_index, tmp_path, gate):
    local_index.add_sdist(EXEC, "zq-evil", "1.0")
    local_index.add_sdist(CLEAN, "zq-loose", "2.0")
    req = requirements(tmp_path, "# pinned first", "zq-loose", "zq-evil==1.0")
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    result = gate("-r", req, "--format", "sarif", "--output", "out.sarif", "--summary", str(summary))
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[-1].startswith("gate: fail")  # the log still gets text
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    validator = jsonschema.Draft4Validator(json.loads(SCHEMA.read_text()))
    assert list(validator.iter_errors(sarif)) == []
    results = sarif["runs"][0]["results"]
    evil = next(r for r in results if r["ruleId"] == "heuristics")
    location = evil["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "requirements.txt"
    assert location["region"]["startLine"] == 3
    unpinned = next(r for r in results if r["ruleId"] == "unpinned")
    assert unpinned["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    md = summary.read_text()
    assert md.startswith("# earlier step\n## :x: shouldi: fail: 1 fail, 1 pass (exit 1)")
    assert "| :x: | zq-evil | 1.0 | `requirements.txt:3` |" in md
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp files
    unwritable = gate("-r", req, "--format", "json", "--output", "no/such/dir/out.json")
    assert unwritable.exit_code == 2 and "--output no/such/dir/out.json: no such directory" in unwritable.stderr


def test_fail_on_warn_and_severity_floor(local_index, tmp_path, gate):
    local_index.add_sdist(WARNS, "zq-env", "1.0")
    local_index.add_sdist(CLEAN, "zq-vuln", "1.0", vulnerabilities=VULN)
    warns = gate("zq-env==1.0", "--format", "json")
    data = json.loads(warns.stdout)
    assert warns.exit_code == 0 and data["packages"][0]["outcome"] == "warn"
    assert data["packages"][0]["file"] is None  # a command-line spec has no file
    assert gate("zq-env==1.0", "--fail-on-warn").exit_code == 1
    vulnerable = gate("zq-vuln==1.0")
    assert vulnerable.exit_code == 1 and "PYSEC-2099-5" in vulnerable.stdout
    # PyPI gives no severity: it counts as high, so only a critical floor ignores it
    assert gate("zq-vuln==1.0", "--severity-floor", "high").exit_code == 1
    floored = gate("zq-vuln==1.0", "--severity-floor", "critical")
    assert floored.exit_code == 0
    assert "ignored advisories: PYSEC-2099-5" in floored.stdout


def test_pyproject_and_markdown_format_on_stdout(local_index, tmp_path, gate):
    local_index.add_sdist(CLEAN, "zq-good", "1.0")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\ndependencies = [\n  "zq-good==1.0",\n]\n')
    result = gate("--pyproject", "pyproject.toml", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout == "## :white_check_mark: shouldi: pass: 1 pass (exit 0)\n"


@pytest.mark.online
def test_gate_on_real_pypi_gives_valid_sarif(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.txt").write_text("idna\n")
    argv = ["ci", "-r", "requirements.txt", "--index-url", "https://pypi.org/simple/",
            "--cache-dir", str(tmp_path / "cache"), *store_option(tmp_path / "adv.sqlite"),
            "--no-pip-audit", "--no-safety-cli", "--format", "sarif", "--output", "out.sarif"]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    assert result.exit_code in (0, 1, 3), result.output
    assert result.stdout.splitlines()[0].split()[1] == "idna"
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    validator = jsonschema.Draft4Validator(json.loads(SCHEMA.read_text()))
    assert list(validator.iter_errors(sarif)) == []
    unpinned = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "unpinned"]
    assert unpinned[0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
