"""What a cold check starts and loads: no worker for small work, no scikit-learn for a model
that shows no score, no warning filter of the host changing what parses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings

import pytest
import speed_ops
from scanner_trees import write_tree

from shouldi.dataflow import DataFlow, OperationError, Orchestrator, op, run_flow
from shouldi.scanners.heuristics import HeuristicsScanner


def _pids(sizes: dict[str, int]) -> tuple[dict[str, int], bool]:
    import asyncio

    flow = DataFlow.build([speed_ops.where_sized], seeds=[speed_ops.Size])

    async def main() -> tuple[dict[str, int], bool]:
        async with Orchestrator(flow, process_workers=1) as orch:
            result = await orch.run({k: {speed_ops.Size: v} for k, v in sizes.items()})
            return {k: result[k].get(speed_ops.Where) for k in sizes}, orch._pool is not None

    return asyncio.run(main())


def test_small_process_calls_run_here_and_start_no_pool():
    pids, pooled = _pids({"a": 1, "b": 2})
    assert pids == {"a": os.getpid(), "b": os.getpid()}
    assert not pooled


def test_large_process_calls_and_failing_predicates_use_the_pool():
    pids, pooled = _pids({"small": 1, "large": 100, "broken": -1})
    assert pids["small"] == os.getpid()
    assert pids["large"] != os.getpid() and pids["broken"] == pids["large"]  # one worker, reused
    assert pooled


def test_here_when_is_for_process_operations_only():
    with pytest.raises(OperationError, match="here_when applies to executor='process' only"):
        op(here_when=lambda n: True)(speed_ops.where_sized.func)


def test_run_flow_result_is_the_same_here_or_in_a_worker():
    flow = DataFlow.build([speed_ops.where_sized], seeds=[speed_ops.Size])
    result = run_flow(flow, {"x": {speed_ops.Size: 3}})
    assert result["x"].ok and result["x"].get(speed_ops.Where) == os.getpid()


def test_heuristics_in_a_thread_ignore_the_hosts_warning_filters(tmp_path):
    # an invalid escape warns at compile time; under an "error" filter (pytest's, an API
    # caller's) the compiler would raise SyntaxError and the file would read as unparsable
    tree = write_tree(tmp_path / "t", {"pkg/__init__.py": 'import re\nP = re.compile("\\d+")\n'})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = HeuristicsScanner().scan(tree)
    assert result.counts["unparsable_files"] == 0
    assert result.counts["python_files"] == 1


CHILD = textwrap.dedent("""
    import json, sys
    import shouldi
    import shouldi.dataflow.pool as pool
    from shouldi.settings import Settings

    made = []
    real = pool.make_process_pool
    pool.make_process_pool = lambda *a, **k: made.append(1) or real(*a, **k)
    (report,) = shouldi.check(["cleanpkg==1.0.0"], Settings(
        index_url=sys.argv[1], no_cache=True, pip_audit=False, safety_cli=False, osv=False,
        timeout=5, advisory_db=None))
    print(json.dumps({"verdict": report.verdict.value, "pools": len(made),
                      "sklearn": "sklearn" in sys.modules, "numpy": "numpy" in sys.modules}))
""")


def test_a_cold_check_of_a_small_package_starts_no_pool_and_loads_no_model(local_index, tmp_path):
    from shouldi.risk_model.skill import shipped_skill

    judged = shipped_skill()
    if judged is not None and judged.skilled:
        pytest.skip("the shipped model shows scores: it is loaded on purpose")
    env = {**os.environ, "SHOULDI_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-c", CHILD, local_index.url], capture_output=True,
                          text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"verdict": "pass", "pools": 0, "sklearn": False, "numpy": False}


def test_no_bandit_chunk_is_smaller_than_a_process_is_worth():
    from shouldi.scanners.bandit import SINGLE_BELOW, plan_chunks

    files = [(f"m{i}.py", 70_000) for i in range(10)]  # 700 KB: once six chunks, now two
    chunks = plan_chunks(files, workers=2)
    assert len(chunks) == 700_000 // SINGLE_BELOW == 2
    assert sorted(n for c in chunks for n in c) == sorted(n for n, _ in files)
    assert len(plan_chunks([(f"m{i}.py", 400_000) for i in range(40)], workers=2)) == 6


def test_a_spare_runs_the_command_as_a_fresh_start_would(tmp_path):
    from shouldi.scanners._procs import Spares, run_all

    spares = Spares("json.tool", limit=1, preload="json")  # never the module run itself
    assert spares.prestart()
    assert not spares.prestart()  # limit reached
    (tmp_path / "x.json").write_text('{"b": 1, "a": [2]}')
    command = [*spares.command(), "--sort-keys", "x.json"]
    (warm,) = run_all([command], tmp_path, timeout=60, workers=1, what="probe", spares=spares)
    (cold,) = run_all([command], tmp_path, timeout=60, workers=1, what="probe")
    assert warm == cold and warm[0] == 0 and b'"a"' in warm[1]
    assert spares.take(command) is None  # used up
    spares.close()


def test_a_spare_started_ahead_stands_for_the_first_need():
    from shouldi.scanners._procs import Spares

    spares = Spares("json.tool", limit=2, preload="json")
    try:
        assert spares.prestart_ahead()
        assert not spares.prestart_ahead()  # one waits already
        assert len(spares._idle) == 1
        assert not spares.prestart()  # the need it was started for: no second interpreter
        assert len(spares._idle) == 1
        assert spares.prestart()  # a second need: a second spare, up to the limit
        assert len(spares._idle) == 2 and not spares.prestart()
    finally:
        spares.close()


def test_a_need_after_the_ahead_spare_was_used_starts_one():
    from shouldi.scanners._procs import Spares

    spares = Spares("json.tool", limit=2, preload="json")
    try:
        assert spares.prestart_ahead()
        taken = spares.take([*spares.command(), "x.json"])  # taken before any need
        assert taken is not None
        assert spares.prestart() and len(spares._idle) == 1
    finally:
        spares.close()
    taken.kill()
    taken.communicate()


AHEAD = textwrap.dedent("""
    import json, sys
    import shouldi
    import shouldi.scanners.bandit as bandit
    from shouldi.settings import Settings

    seen = []
    real = bandit.prestart_ahead
    bandit.prestart_ahead = lambda: seen.append("shouldi.flow" in sys.modules) or real()
    (report,) = shouldi.check(["cleanpkg==1.0.0"], Settings(
        index_url=sys.argv[1], no_cache=True, pip_audit=False, safety_cli=False, osv=False,
        timeout=5, advisory_db=None))
    print(json.dumps({"verdict": report.verdict.value, "flow_loaded_first": seen,
                      "bandit": report.checks["bandit"].status.value}))
""")


def test_a_cold_run_starts_bandit_before_the_flow_is_imported(local_index, tmp_path):
    env = {**os.environ, "SHOULDI_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-c", AHEAD, local_index.url], capture_output=True,
                          text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["flow_loaded_first"] == [False]  # called once, before the flow was imported
    assert out["verdict"] == "pass" and out["bandit"] == "ok"


def test_unused_spares_are_killed(tmp_path):
    from shouldi.scanners._procs import Spares

    spares = Spares("json.tool", limit=2)
    assert spares.prestart() and spares.prestart()
    procs = list(spares._idle)
    spares.close()
    assert all(p.poll() is not None for p in procs)


def test_bandit_in_a_spare_gives_the_same_result(tmp_path):
    from shouldi.scanners import BanditScanner
    from shouldi.scanners.bandit import _spares, prestart

    tree = write_tree(tmp_path / "t", {"pkg/a.py": "import subprocess\neval(input())\n",
                                       "pkg/b.py": "print 'py2'\n", ".bandit": "[bandit]\nskips: B307\n"})
    cold = BanditScanner().scan(tree)
    assert prestart()
    warm = BanditScanner().scan(tree)
    assert _spares()._idle == []  # the spare ran it
    assert (warm.status, warm.findings, warm.counts, warm.warnings) == (
        cold.status, cold.findings, cold.counts, cold.warnings)
    assert {f.rule for f in warm.findings} >= {"B307", "B404"}


WARM = textwrap.dedent("""
    import json, sys
    from shouldi.cli.main import main
    sys.argv = ["shouldi", "install", "cleanpkg==1.0.0", "--no-deps", "--index-url", sys.argv[1],
                "--cache-dir", sys.argv[2], "--no-pip-audit", "--no-safety-cli", "--no-osv", "-q"]
    try:
        main()
    except SystemExit as e:
        code = e.code
    heavy = ["shouldi.flow", "shouldi.scanners", "shouldi.inputs", "httpx", "sklearn",
             "importlib.metadata"]
    print(json.dumps({"exit": code, "imported": [m for m in heavy if m in sys.modules],
                      "httpx_cli": sys.modules.get("httpx._main") is not None,
                      "pygments": "pygments" in sys.modules}))
""")


def test_a_reused_answer_imports_neither_the_flow_nor_the_inputs(local_index, tmp_path):
    """The warm path (the answer given a moment ago) costs what printing it costs: not even
    the installed plugins are read from the metadata again (shouldi.cache.plugins)."""
    env = {**os.environ, "SHOULDI_DATA_DIR": str(tmp_path / "data")}
    runs = [subprocess.run([sys.executable, "-c", WARM, local_index.url, str(tmp_path / "cache")],
                           capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
            for _ in range(2)]
    cold, warm = (json.loads(r.stdout.strip().splitlines()[-1]) for r in runs)
    assert cold["exit"] == warm["exit"] == 0, runs[0].stderr
    assert "shouldi.flow" in cold["imported"]  # the first run checked
    assert warm["imported"] == []
    assert "httpx" in cold["imported"] and not cold["httpx_cli"] and not cold["pygments"]


@pytest.mark.parametrize("package", ["shouldi.scanners", "shouldi.advisories", "shouldi.index"])
def test_public_names_load_lazily_from_their_modules(package):
    import importlib

    pkg = importlib.import_module(package)
    public = {n for n in dir(pkg) if not n.startswith("_")}
    assert set(pkg.__all__) <= public
    for name in pkg.__all__:
        value = getattr(pkg, name)
        assert value is getattr(importlib.import_module(pkg._LAZY[name]), name)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        pkg.nope  # noqa: B018


def test_the_typosquat_check_does_not_load_the_heuristics():
    code = ("import sys\nfrom shouldi.scanners.typosquat import typosquat_check\n"
            "import shouldi.advisories.osv_api\n"
            "print(sorted(m for m in ('shouldi.scanners.heuristics', 'shouldi.advisories.store',"
            " 'yaml') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_scanner_worker_imports_only_its_operation():
    """A heuristics worker process unpickles shouldi.operations.scan.heuristics_scan: that
    module alone, not every operation with httpx and the advisory sources (~25 MB each)."""
    code = ("import sys\nimport shouldi.operations.scan\n"
            "print(sorted(m for m in ('httpx', 'shouldi.operations.fetch', 'shouldi.advisories.osv_api',"
            " 'shouldi.operations.advisories') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
