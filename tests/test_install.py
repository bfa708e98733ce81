"""``shouldi install`` end to end on the hermetic local index: real sdists, real bandit runs."""

from __future__ import annotations

import json
from pathlib import Path

import hostile_archives
import pytest
from click.testing import CliRunner
from index_server import vulnerability
from stores import store_option

from shouldi.cli.main import cli

CLEAN_FILES = {"cleanpkg2/__init__.py": "def add(a, b):\n    return a + b\n"}


def run(index, tmp_path: Path, *args: str, fmt: str = "json"):
    argv = [
        "install", *args, "--index-url", index.url, "--cache-dir", str(tmp_path / "cache"),
        *store_option(tmp_path / "advisories.sqlite"), "--no-pip-audit", "--no-safety-cli",
        "--timeout", "5", "--format", fmt,
    ]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    data = json.loads(result.stdout) if fmt == "json" and result.stdout.startswith("{") else None
    return result, data


def only(data):
    (pkg,) = data["packages"]
    return pkg


def test_clean_package_passes(local_index, tmp_path):
    result, data = run(local_index, tmp_path, "cleanpkg")
    pkg = only(data)
    assert (pkg["name"], pkg["version"], pkg["verdict"]) == ("cleanpkg", "1.0.0", "pass"), pkg["reasons"]
    assert result.exit_code == 0
    assert pkg["checks"]["bandit"]["status"] == "ok"
    assert pkg["checks"]["heuristics"]["status"] == "ok"
    assert pkg["checks"]["advisories"]["status"] == "ok"
    assert "pypi-json" in pkg["checks"]["advisories"]["reason"]
    # the file pip installs: the pure wheel, not the sdist beside it
    assert pkg["artifact"]["filename"] == "cleanpkg-1.0.0-py3-none-any.whl"
    assert pkg["artifact_reason"].startswith("wheel py3-none-any: the best match for CPython")
    # the shipped model has no measured skill: no score is shown (`shouldi model info` says why)
    assert pkg["risk"] is None
    assert pkg["checks"]["history"]["status"] in ("ok", "skipped")


def test_a_risk_gate_without_a_skilled_model_is_refused(local_index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("shouldi.toml").write_text("max_risk_score = 0\n")
    result, _ = run(local_index, tmp_path, "cleanpkg")
    assert result.exit_code == 2
    assert "max_risk_score needs a risk model with measured skill" in result.stderr
    assert local_index.paths() == []  # refused before anything was fetched


def test_text_output_is_one_line_per_package_with_reasons(local_index, tmp_path):
    result, _ = run(local_index, tmp_path, "cleanpkg", "evilpkg", fmt="text")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("PASS  cleanpkg 1.0.0")
    evil = next(i for i, line in enumerate(lines) if line.startswith("FAIL  evilpkg 0.1.0"))
    assert "setup.py:" in lines[evil + 1]
    assert result.exit_code == 1


def test_advisory_in_the_json_api_fails_with_its_id(local_index, tmp_path):
    local_index.add_sdist(CLEAN_FILES, "vulnpkg", "2.0", vulnerabilities=[{
        "id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001"], "summary": "remote code execution",
        "fixed_in": ["2.1"], "details": "bad", "link": "https://example.invalid/PYSEC-2099-1",
    }])
    result, data = run(local_index, tmp_path, "vulnpkg")
    pkg = only(data)
    assert pkg["verdict"] == "fail" and result.exit_code == 1
    reason = next(r for r in pkg["reasons"] if r["check"] == "advisories")
    assert reason["message"].startswith("PYSEC-2099-1")
    assert "CVE-2099-0001" in reason["evidence"] and "fixed in: 2.1" in reason["evidence"]


def test_local_osv_advisory_fails_an_older_release(local_index, tmp_path):
    local_index.add_sdist(CLEAN_FILES, "oldpkg", "1.0")
    local_index.add_sdist(CLEAN_FILES, "oldpkg", "1.1")
    osv = tmp_path / "osv" / "GHSA-xxxx-yyyy-zzzz.json"
    osv.parent.mkdir()
    osv.write_text(json.dumps({
        "id": "GHSA-xxxx-yyyy-zzzz", "modified": "2099-01-01T00:00:00Z", "aliases": ["CVE-2099-7"],
        "summary": "oldpkg leaks secrets",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "oldpkg"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1"}]}]}],
    }))
    db = tmp_path / "advisories.sqlite"
    imported = CliRunner().invoke(cli, ["db", "--store", str(db), "import", str(osv.parent)])
    assert imported.exit_code == 0, imported.output
    result, data = run(local_index, tmp_path, "oldpkg==1.0")
    pkg = only(data)
    assert pkg["verdict"] == "fail", pkg["reasons"]
    assert any(r["message"].startswith("GHSA-xxxx-yyyy-zzzz") for r in pkg["reasons"])
    result, data = run(local_index, tmp_path, "oldpkg==1.1")
    assert only(data)["verdict"] == "pass"


def test_no_advisory_source_for_an_old_release_is_an_error_not_a_pass(local_index, tmp_path):
    local_index.add_sdist(CLEAN_FILES, "twopkg", "1.0")
    local_index.add_sdist(CLEAN_FILES, "twopkg", "2.0")
    result, data = run(local_index, tmp_path, "twopkg==1.0")
    pkg = only(data)
    assert pkg["verdict"] == "error" and result.exit_code == 3
    assert pkg["checks"]["advisories"]["status"] == "skipped"
    assert "no advisory source could vouch" in pkg["checks"]["advisories"]["reason"]


def test_a_broken_store_is_said_never_outvoted(local_index, tmp_path):
    """Silent pass 1: a garbage --advisory-db (or a store a killed import left) is an error with
    the repair, even where PyPI's JSON vouches for the latest release."""
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all" * 100)
    argv = ["install", "cleanpkg", "--index-url", local_index.url, "--cache-dir", str(tmp_path / "cache"),
            "--advisory-db", str(garbage), "--no-pip-audit", "--no-safety-cli", "--format", "text"]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    assert result.exit_code == 3, result.output
    (line,) = [x for x in result.stdout.splitlines() if "advisories:" in x]
    assert "garbage.sqlite" in line and len(line.split("advisories: ", 1)[1]) <= 160


def test_an_old_release_says_how_to_load_advisories_in_one_line(local_index, tmp_path):
    local_index.add_sdist(CLEAN_FILES, "twopkg", "1.0")
    local_index.add_sdist(CLEAN_FILES, "twopkg", "2.0")
    result, data = run(local_index, tmp_path, "twopkg==1.0", fmt="text")
    assert result.exit_code == 3
    (line,) = [x for x in result.stdout.splitlines() if "advisories:" in x]
    message = line.split("advisories: ", 1)[1]
    assert message.startswith("no advisory source could vouch for twopkg 1.0: load advisories with")
    assert "`shouldi db update`" in message and len(message) <= 160


def test_malicious_setup_py_fails_with_file_and_line(local_index, tmp_path):
    result, data = run(local_index, tmp_path, "evilpkg")
    pkg = only(data)
    assert pkg["verdict"] == "fail" and result.exit_code == 1
    setup_lines = (Path(__file__).parent / "packages/evilpkg/setup.py").read_text().splitlines()
    exec_line = next(i for i, line in enumerate(setup_lines, 1) if "exec(base64" in line)
    evidence = [r["evidence"] for r in pkg["reasons"] if r["check"] == "heuristics" and r["verdict"] == "fail"]
    assert any(e and e.endswith(f"setup.py:{exec_line}") for e in evidence), evidence


def test_package_code_is_never_executed(local_index, tmp_path, sentinel_dir):
    result, data = run(local_index, tmp_path, "sentinelpkg")
    assert only(data)["version"] == "0.1.0"
    assert list(sentinel_dir.iterdir()) == []  # setup.py, __init__.py, backend.py never ran


def test_wheel_only_package_is_scanned(local_index, tmp_path):
    local_index.add_wheel(CLEAN_FILES, "wheelonly", "3.0")
    result, data = run(local_index, tmp_path, "wheelonly")
    pkg = only(data)
    assert pkg["artifact"]["filename"] == "wheelonly-3.0-py3-none-any.whl"
    assert pkg["verdict"] == "pass", pkg["reasons"]


def test_unknown_name_is_bad_input_with_a_suggestion(local_index, tmp_path):
    result, _ = run(local_index, tmp_path, "cleanpgk")
    assert result.exit_code == 2
    assert "cleanpkg" in result.stderr  # did you mean
    assert "Traceback" not in result.output


@pytest.mark.parametrize("spec", ["foo==", "foo @ https://example.invalid/x.tgz", "==1.0"], ids=["dangling", "url", "no-name"])
def test_bad_spec_is_a_usage_error(local_index, tmp_path, spec):
    result, _ = run(local_index, tmp_path, spec)
    assert result.exit_code == 2
    assert "Invalid value for 'SPECS...'" in result.stderr
    assert "Traceback" not in result.output


def test_scanner_timeout_is_an_error_verdict(local_index, tmp_path):
    result, data = run(local_index, tmp_path, "cleanpkg", "--scan-timeout", "0.01")
    pkg = only(data)
    assert pkg["verdict"] == "error" and result.exit_code == 3
    assert pkg["checks"]["bandit"]["status"] == "error"
    assert "timed out" in pkg["checks"]["bandit"]["reason"]


def test_scanner_crash_is_an_error_verdict(local_index, tmp_path, monkeypatch):
    from shouldi.scanners.bandit import BanditScanner

    def crash(self, tree):
        raise RuntimeError("scanner blew up")

    monkeypatch.setattr(BanditScanner, "scan", crash)
    result, data = run(local_index, tmp_path, "cleanpkg")
    pkg = only(data)
    assert pkg["verdict"] == "error" and result.exit_code == 3
    assert pkg["checks"]["bandit"] == {"status": "error", "reason": "bandit_scan failed: scanner blew up",
                                       "counts": {}, "tool_version": None, "warnings": []}
    # one cause, one reason: the crash (not also "bandit did not run")
    about_bandit = [r for r in pkg["reasons"] if "bandit" in r["message"]]
    assert [r["message"] for r in about_bandit] == [
        "bandit could not check this release (bandit_scan failed: scanner blew up)"]
    assert about_bandit[0]["allowable"] is False


@pytest.mark.parametrize("builder", ["traversal_tar", "symlink_out_tar", "char_device_tar"])
def test_hostile_archive_fails(local_index, tmp_path, builder):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "built").mkdir()
    archive = getattr(hostile_archives, builder)(tmp_path / "built", outside)
    local_index.add_raw_file("hostile", "1.0", "hostile-1.0.tar.gz", archive.read_bytes())
    result, data = run(local_index, tmp_path, "hostile")
    pkg = only(data)
    assert pkg["verdict"] == "fail" and result.exit_code == 1
    assert pkg["reasons"][0]["check"] == "archive"
    assert list(outside.iterdir()) == []


def test_download_fault_is_an_error(local_index, tmp_path):
    local_index.fault("files/*", "500")
    result, data = run(local_index, tmp_path, "cleanpkg")
    pkg = only(data)
    assert pkg["verdict"] == "error" and result.exit_code == 3
    assert any("download_artifact" in r["message"] for r in pkg["reasons"])


def test_second_scan_downloads_nothing(local_index, tmp_path):
    run(local_index, tmp_path, "cleanpkg")
    local_index.clear()
    result, data = run(local_index, tmp_path, "cleanpkg", "--max-age", "0")
    assert only(data)["verdict"] == "pass"
    assert only(data)["reused_from"] is None
    assert local_index.paths()  # resolution and advisories were asked again...
    assert not [p for p in local_index.paths() if "/files/" in p]  # ...the artifact was not


def test_asking_again_reuses_the_answer_without_a_request(local_index, tmp_path):
    first, data = run(local_index, tmp_path, "cleanpkg")
    assert only(data)["reused_from"] is None
    local_index.clear()
    again, reused = run(local_index, tmp_path, "cleanpkg")
    assert local_index.paths() == []
    assert again.exit_code == first.exit_code == 0
    pkg = only(reused)
    assert pkg["reused_from"] is not None
    assert {k: v for k, v in pkg.items() if k != "reused_from"} == {
        k: v for k, v in only(data).items() if k != "reused_from"}
    text, _ = run(local_index, tmp_path, "cleanpkg", fmt="text")
    assert "ago; --max-age 0 asks again" in text.stdout.splitlines()[1]


def test_a_changed_world_is_seen_after_max_age(local_index, tmp_path):
    run(local_index, tmp_path, "cleanpkg")
    local_index.project("cleanpkg").vulnerabilities.setdefault("1.0.0", []).append(vulnerability({
        "id": "PYSEC-2099-7", "aliases": [], "summary": "new", "fixed_in": ["1.0.1"], "details": "",
    }))
    _, reused = run(local_index, tmp_path, "cleanpkg")
    assert only(reused)["verdict"] == "pass"  # within --max-age: the answer of a moment ago
    result, fresh = run(local_index, tmp_path, "cleanpkg", "--max-age", "0")
    assert only(fresh)["verdict"] == "fail" and result.exit_code == 1


def test_error_answers_and_other_settings_are_not_reused(local_index, tmp_path):
    local_index.fault("files/*", "500")
    run(local_index, tmp_path, "cleanpkg")
    local_index.clear()
    _, data = run(local_index, tmp_path, "cleanpkg")
    assert only(data)["verdict"] == "pass" and only(data)["reused_from"] is None
    _, other = run(local_index, tmp_path, "cleanpkg", "--policy", str(_strict_policy(tmp_path)))
    assert only(other)["reused_from"] is None  # another policy is another question
    _, uncached = run(local_index, tmp_path, "cleanpkg", "--no-cache")
    assert only(uncached)["reused_from"] is None


def _strict_policy(tmp_path: Path) -> Path:
    path = tmp_path / "strict.toml"
    path.write_text("heuristics_warn = 'low'\n")
    return path


def test_policy_file_is_honoured_and_typos_refused(local_index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("shouldi.toml").write_text("heuristics_fail = 'critical'\nheuristics_warn = 'critical'\n")
    result, data = run(local_index, tmp_path, "evilpkg")
    assert only(data)["verdict"] in {"fail", "warn"}
    Path("shouldi.toml").write_text("heuristic_fail = 'high'\n")
    result, _ = run(local_index, tmp_path, "cleanpkg")
    assert result.exit_code == 2
    assert "unknown policy setting 'heuristic_fail'" in result.stderr


def test_a_rechecked_release_is_scored_without_loading_scikit_learn(local_index, tmp_path):
    """Scores are cached by model and features: re-checking a scanned release (--max-age 0)
    asks the index and the advisory sources again, but needs neither bandit nor the model."""
    import subprocess
    import sys

    _, first = run(local_index, tmp_path, "cleanpkg")
    argv = ["shouldi", "install", "cleanpkg", "--index-url", local_index.url,
            "--cache-dir", str(tmp_path / "cache"), *store_option(tmp_path / "advisories.sqlite"),
            "--no-pip-audit", "--no-safety-cli", "--format", "json", "--max-age", "0", "--quiet"]
    code = ("import sys\nfrom shouldi.cli.main import main\n"
            f"sys.argv = {argv!r}\n"
            "try:\n    main()\nexcept SystemExit as e:\n"
            "    print(e.code, 'sklearn' in sys.modules, 'bandit' in sys.modules, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stderr.split() == ["0", "False", "False"], done.stderr
    again = only(json.loads(done.stdout))
    assert again["reused_from"] is None
    assert again["risk"] == only(first)["risk"]


def test_all_files_judges_each_file_and_a_hash_pin_decides_the_file(local_index, tmp_path, built_packages):
    import hashlib

    result, data = run(local_index, tmp_path, "cleanpkg", "--all-files")
    files = sorted(p["artifact"]["filename"] for p in data["packages"])
    assert files == ["cleanpkg-1.0.0-py3-none-any.whl", "cleanpkg-1.0.0.tar.gz"]
    assert result.exit_code == 0
    sdist = built_packages["cleanpkg"].sdist
    pin = hashlib.sha256(sdist.read_bytes()).hexdigest()
    (tmp_path / "req.txt").write_text(f"cleanpkg==1.0.0 --hash=sha256:{pin}\n")
    argv = ["ci", "-r", str(tmp_path / "req.txt"), "--index-url", local_index.url, "--cache-dir",
            str(tmp_path / "cache"), *store_option(tmp_path / "advisories.sqlite"),
            "--no-pip-audit", "--no-safety-cli", "--format", "json"]
    ci = CliRunner().invoke(cli, argv, catch_exceptions=False)
    (pkg,) = json.loads(ci.stdout)["packages"]
    # the pin names the sdist, so the sdist is judged, though pip would prefer the wheel
    assert (pkg["artifact"], pkg["sha256"]) == ("cleanpkg-1.0.0.tar.gz", pin)


def test_a_target_picks_its_file(local_index, tmp_path):
    files = {"twowheels/__init__.py": ""}
    local_index.add_wheel(files, "twowheels", "1.0", tag="cp311-cp311-win_amd64")
    local_index.add_sdist(files, "twowheels", "1.0")
    _, here = run(local_index, tmp_path, "twowheels")
    assert only(here)["artifact"]["filename"] == "twowheels-1.0.tar.gz"  # no wheel fits linux
    assert "sdist: no wheel fits" in only(here)["artifact_reason"]
    _, windows = run(local_index, tmp_path, "twowheels", "--platform", "win_amd64", "--python-version", "3.11")
    assert only(windows)["artifact"]["filename"] == "twowheels-1.0-cp311-cp311-win_amd64.whl"
    bad = CliRunner().invoke(cli, ["install", "six", "--python", "/bin/sh", "--platform", "x"])
    assert bad.exit_code == 2 and "do not combine it" in bad.stderr


# --- --then-install: exactly the judged tree, into the environment named -----------------------
def _venv(tmp_path: Path) -> Path:
    """A real, empty virtualenv (no pip in it: shouldi's pip drives it with --python)."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    return tmp_path / "venv" / "bin" / "python"


def _installed(python: Path) -> list[str]:
    site = next(python.parent.parent.glob("lib/python*/site-packages"))
    return sorted(p.name for p in site.glob("*.dist-info"))


@pytest.fixture
def quiet_pip(monkeypatch):
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)


def _two_wheels(index):
    index.add_wheel({"zq_app/__init__.py": ""}, "zq-app", "1.0", requires=["zq-lib"])
    index.add_wheel({"zq_lib/__init__.py": ""}, "zq-lib", "1.0")
    index.add_wheel({"zq_lib/__init__.py": ""}, "zq-lib", "0.9")


def test_then_install_refuses_without_an_environment(local_index, tmp_path, monkeypatch):
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    result, _ = run(local_index, tmp_path, "cleanpkg", "--then-install")
    assert result.exit_code == 2
    assert result.stderr == ("error: --then-install: no virtualenv is active ($VIRTUAL_ENV is not "
                             "set); name the environment to install into with --python PATH\n")
    assert local_index.paths() == []  # refused before anything was asked
    other = CliRunner().invoke(cli, ["install", "six", "--then-install", "--platform", "win_amd64"])
    assert other.exit_code == 2 and "name it with --python PATH instead" in other.stderr


def test_then_install_puts_exactly_the_judged_tree_into_the_active_venv(local_index, tmp_path,
                                                                        monkeypatch, quiet_pip):
    _two_wheels(local_index)
    python = _venv(tmp_path)
    monkeypatch.setenv("VIRTUAL_ENV", str(python.parent.parent))
    result, _ = run(local_index, tmp_path, "zq-app", "--then-install", fmt="text")
    assert result.exit_code == 0, result.output
    assert _installed(python) == ["zq_app-1.0.dist-info", "zq_lib-1.0.dist-info"]
    ran = next(line for line in result.stderr.splitlines() if line.startswith("running: "))
    assert "install --require-hashes --no-deps" in ran and "--only-binary=:all:" in ran
    assert f"--python {python}" in ran  # the venv has no pip of its own
    assert result.stderr.splitlines()[-1] == f"installed 2 packages into {python}"


def test_then_install_refuses_an_sdist_without_allow_build(local_index, tmp_path, quiet_pip):
    local_index.add_sdist({"zq_src/__init__.py": ""}, "zq-src", "1.0")
    python = _venv(tmp_path)
    result, _ = run(local_index, tmp_path, "zq-src", "--then-install", "--python", str(python))
    assert result.exit_code == 2, result.output
    assert ("error: not installing: pip would build zq-src 1.0 (zq_src-1.0.tar.gz) from source, "
            "which runs its code; pass --allow-build") in result.stderr
    assert _installed(python) == []


def test_a_failing_pip_is_exit_3(local_index, tmp_path, quiet_pip):
    _two_wheels(local_index)
    python = _venv(tmp_path)
    first, _ = run(local_index, tmp_path, "zq-app")
    assert first.exit_code == 0
    local_index.fault("files/*", "500")  # the answer is reused; pip cannot download
    result, _ = run(local_index, tmp_path, "zq-app", "--then-install", "--python", str(python))
    assert result.exit_code == 3
    assert result.stderr.splitlines()[-1] == (
        f"error: pip install of the judged files into {python} failed (exit 1)")
    assert _installed(python) == []
