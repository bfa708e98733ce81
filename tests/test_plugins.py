"""Plugins that work: a check published under ``shouldi.operations`` joins the flow, and the
verdict collects it like a built-in one (it warns or fails, and it is in the report's checks)."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from stores import store_option, store_setting

from shouldi.dataflow import DataFlow, Missing, op
from shouldi.flow import MULTIPLE_PRODUCERS, SEEDS, builtin_operations, reads_tree
from shouldi.plugins import CheckResult, Extraction, Finding, PluginCheck, Release, Severity, Status
from shouldi.verdict import Verdict

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "check-plugin"


@op
def always_warns(release: Release) -> PluginCheck:
    return PluginCheck(CheckResult("license-policy", Status.OK,
                                   (Finding("license-policy", "copyleft", Severity.MEDIUM,
                                            f"{release.name} is GPL-licensed"),)))


@op
def cannot_check(extraction: Extraction) -> PluginCheck:
    raise RuntimeError("plugin service unreachable")


def test_plugin_checks_are_collected_and_judged(local_index, tmp_path):
    import shouldi
    from shouldi import flow as flow_module

    flow = DataFlow.build([*builtin_operations(), always_warns, cannot_check], seeds=SEEDS,
                          multiple_producers=MULTIPLE_PRODUCERS)
    assert reads_tree(flow)  # cannot_check reads the tree: extraction happens even on a cache hit
    original = flow_module._build
    flow_module._build.cache_clear()
    try:
        flow_module._build = lambda: (flow, {})  # type: ignore[assignment]
        settings = shouldi.Settings(index_url=local_index.url, cache_dir=tmp_path / "cache",
                                    advisory_db=store_setting(tmp_path / "adv.sqlite"), pip_audit=False, safety_cli=False, osv_url="http://127.0.0.1:9/",
                                    risk=False)
        (report,) = shouldi.check(["cleanpkg"], settings)
        (again,) = shouldi.check(["cleanpkg"], settings)  # code scans from the result cache
    finally:
        flow_module._build = original
    for r in (report, again):
        assert r.checks["license-policy"].status is Status.OK
        assert r.checks["cannot_check"].status is Status.ERROR
        assert r.verdict is Verdict.ERROR  # a plugin that could not check is never a pass
        messages = [x.message for x in r.reasons]
        assert "copyleft: cleanpkg is GPL-licensed" not in messages  # plugin messages are plain
        assert "cleanpkg is GPL-licensed" in messages
        assert any("cannot_check could not check this release (cannot_check failed: plugin service"
                   in m for m in messages)


def _venv_seeing_this_environment(root: Path) -> Path:
    """A new venv whose interpreter also sees this environment's packages (shouldi and its
    dependencies), so the test installs only the plugin."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    parents = [p for p in {*site.getsitepackages(), sysconfig.get_path("purelib")} if Path(p).is_dir()]
    lines = "".join(f"import site; site.addsitedir({p!r})\n" for p in parents)
    (Path(purelib) / "_parent_environment.pth").write_text(lines)
    return python


@pytest.mark.slow
def test_the_example_plugin_installs_into_a_venv_and_its_check_is_in_the_report(local_index, tmp_path):
    python = _venv_seeing_this_environment(tmp_path / "venv")
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                              "--no-deps", "--no-build-isolation", "--no-index", str(EXAMPLE)],
                             capture_output=True, text=True, check=False)
    assert install.returncode == 0, install.stderr
    env = {**os.environ, "SHOULDI_DATA_DIR": str(tmp_path / "data")}
    listed = subprocess.run([str(python), "-m", "shouldi", "dataflow", "plugins"], capture_output=True,
                            text=True, env=env, check=False)
    assert "binaries_check  (shouldi_binaries_check:binaries_check)" in listed.stdout, listed.stderr
    local_index.add_sdist({"binpkg/__init__.py": "", "binpkg/helper.so": b"\x7fELF\x02\x01\x01" + bytes(64)},
                          "binpkg", "1.0")
    argv = [str(python), "-m", "shouldi", "install", "cleanpkg", "binpkg", "--index-url", local_index.url,
            "--cache-dir", str(tmp_path / "cache"), *store_option(tmp_path / "adv.sqlite"),
            "--no-pip-audit", "--no-safety-cli", "--format", "json", "--quiet"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    packages = {p["name"]: p for p in json.loads(done.stdout)["packages"]}
    assert packages["cleanpkg"]["checks"]["binaries"]["status"] == "ok"
    assert packages["cleanpkg"]["verdict"] != "error"
    binpkg = packages["binpkg"]
    assert binpkg["checks"]["binaries"]["counts"] == {"binaries": 1}
    (reason,) = [r for r in binpkg["reasons"] if r["check"] == "binaries"]
    assert reason["verdict"] == "warn" and reason["evidence"].endswith("binpkg/helper.so")
    # without the plugin, the same environment has no such check
    bare = subprocess.run([sys.executable, "-m", "shouldi", "install", "cleanpkg", *argv[5:]],
                          capture_output=True, text=True, env=env, check=False)
    assert "binaries" not in json.loads(bare.stdout)["packages"][0]["checks"]


def test_a_plugin_that_does_not_fit_is_left_out_and_said(monkeypatch):
    from shouldi import flow as flow_module

    @op
    def needs_nothing_known(x: Missing) -> PluginCheck:  # an input no operation produces
        raise AssertionError("never runs")

    flow_module._build.cache_clear()
    monkeypatch.setattr(flow_module, "plugin_operations", lambda: (needs_nothing_known,))
    try:
        flow, problems = flow_module._build()
        assert "needs_nothing_known" not in {o.name for o in flow.operations}
        assert "no operation produces" in problems["needs_nothing_known"]
    finally:
        flow_module._build.cache_clear()
