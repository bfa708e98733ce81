"""The public API is the CLI's answer: ``shouldi.check`` gives the report ``install --format
json`` prints; ``--trace`` holds every value with its provenance; bad settings are exit 2."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from stores import store_option, store_setting

import shouldi
from shouldi.cli.main import cli
from shouldi.settings import Settings, SettingsError
from shouldi.verdict import report_to_dict


def settings(index, tmp_path: Path, **kw) -> Settings:
    return Settings(index_url=index.url, cache_dir=tmp_path / "cache", advisory_db=store_setting(tmp_path / "adv.sqlite"),
                    pip_audit=False, safety_cli=False, osv_url="http://127.0.0.1:9/", timeout=5, **kw)


def cli_json(index, tmp_path: Path, *args: str):
    argv = ["install", *args, "--index-url", index.url, "--cache-dir", str(tmp_path / "cache"),
            *store_option(tmp_path / "adv.sqlite"), "--no-pip-audit", "--no-safety-cli",
            "--timeout", "5", "--format", "json", "--max-age", "0", "--no-deps"]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    return result, json.loads(result.stdout)


def test_check_gives_the_clis_answer(local_index, tmp_path):
    (api,) = shouldi.check(["cleanpkg==1.0.0"], settings(local_index, tmp_path))
    result, data = cli_json(local_index, tmp_path, "cleanpkg==1.0.0")
    (printed,) = data["packages"]
    assert api.verdict.value == printed["verdict"] and result.exit_code == 0

    def timeless(d):  # a live source's data time is when it was asked
        return {**d, "advisory_answers": [{**a, "data_time": None} for a in d["advisory_answers"]]}

    assert timeless({**report_to_dict(api), "reused_from": None, "required_by": []}) == timeless(printed)


def test_acheck_and_overrides(local_index, tmp_path):
    import asyncio

    base = settings(local_index, tmp_path)
    (report,) = asyncio.run(shouldi.acheck("evilpkg", base, jobs=1))
    assert report.verdict is shouldi.Verdict.FAIL


def test_the_trace_resolves_every_input_and_names_every_operation(local_index, tmp_path):
    trace = tmp_path / "trace.json"
    argv = ["install", "cleanpkg", "--index-url", local_index.url, "--cache-dir", str(tmp_path / "cache"),
            *store_option(tmp_path / "adv.sqlite"), "--no-pip-audit", "--no-safety-cli",
            "--format", "json", "--trace", str(trace)]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (answer,) = json.loads(trace.read_text())["answers"]
    values = {v["id"]: v for v in answer["values"]}
    assert all(i in values for v in values.values() for i in v["inputs"])
    by_def = {v["definition"]: v for v in values.values()}
    assert by_def["RequirementSpec"]["operation"] == "seed"
    report = by_def["PackageReport"]
    assert report["operation"] == "judge_release"
    assert report["value"] == {k: v for k, v in json.loads(result.stdout)["packages"][0].items()
                               if k not in ("reused_from", "required_by")}
    # provenance: the report comes from the gathered checks, which come from bandit's result
    checks = values[next(i for i in report["inputs"] if values[i]["definition"] == "CheckSet")]
    assert any(values[i]["operation"] == "bandit_scan" for i in checks["inputs"])


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--timeout", "nan", "timeout = nan: expected a finite number"),
    ("--scan-timeout", "nan", "scan_timeout = nan: expected a finite number"),
    ("--timeout", "inf", "timeout = inf: expected a finite number"),
    ("--index-url", "notaurl", "--index-url 'notaurl': expected an http(s) URL"),
    ("--index-url", "ftp://x/simple", "expected an http(s) URL"),
], ids=["timeout-nan", "scan-timeout-nan", "timeout-inf", "not-a-url", "ftp"])
def test_bad_settings_are_one_line_and_exit_2(tmp_path, option, value, message):
    result = CliRunner().invoke(cli, ["install", "six", option, value, "--cache-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_garbage_pip_index_url_is_bad_input(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "garbage value")
    result = CliRunner().invoke(cli, ["install", "six", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 2 and "not a URL" in result.stderr


def test_a_huge_name_is_bad_input():
    result = CliRunner().invoke(cli, ["install", "a" * 100_000])
    assert result.exit_code == 2 and "is not one (at most 1000)" in result.output
    assert len(result.output) < 500


def test_settings_validate_in_python_too():
    with pytest.raises(SettingsError, match="jobs = 0"):
        Settings(jobs=0)


def test_an_unwritable_cache_dir_costs_speed_never_the_answer(local_index, tmp_path):
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache dir should be")
    (report,) = shouldi.check(["cleanpkg"], settings(local_index, tmp_path))
    assert report.verdict is shouldi.Verdict.PASS, report.reasons


def test_an_unreadable_cache_dir_costs_speed_never_the_answer(local_index, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads every directory")
    cache = tmp_path / "cache"
    cache.mkdir(mode=0)
    (report,) = shouldi.check(["cleanpkg"], settings(local_index, tmp_path))
    assert report.verdict is shouldi.Verdict.PASS
