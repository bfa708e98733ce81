"""``--dask-scheduler``: the same answers on Dask workers as here, failures said, bad input exit 2.

The equality test runs a real ``local:2`` LocalCluster (two worker processes) against the
hermetic local index and compares the records with a local run's, but for the scan time.
Failure tests use a one-process ``local:1`` cluster whose task kills its worker (a closure,
sent by value), or an in-process cluster (``processes=False``) where the task raises.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from stores import store_option

from shouldi.api import Answer, Request
from shouldi.cli.main import cli
from shouldi.distributed import ClusterUnfitError, check_scheduler
from shouldi.distributed.run import batch_size
from shouldi.distributed.tasks import check_worker, decode, encode, not_run
from shouldi.record import report_to_record
from shouldi.settings import Settings, SettingsError
from shouldi.sources import open_source
from shouldi.verdict import Verdict

CLEAN = {"clean_mod/__init__.py": "def add(a, b):\n    return a + b\n"}
EXEC = {"bad_mod/__init__.py": "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n"}
NET = {"net_mod/__init__.py": "import urllib.request\n\ndef get(u):\n    return urllib.request.urlopen(u)\n"}


def scan(index, tmp_path: Path, cache: str, *args: str):
    argv = ["scan", *args, "--cache-dir", str(tmp_path / cache),
            *store_option(tmp_path / "advisories.sqlite"), "--no-pip-audit", "--no-safety-cli",
            "--timeout", "10", "--index-url", index.url]
    return CliRunner().invoke(cli, argv, catch_exceptions=False)


def records(path: Path) -> dict[str, dict]:
    return {r["name"]: {k: v for k, v in r.items() if k != "scanned_at"} for r in open_source(path).read()}


# --- the option's value: no dask needed ----------------------------------------------------------
@pytest.mark.parametrize(("given", "expected"), [
    ("local:2", "local:2"), (" tcp://10.0.0.5:8786/ ", "tcp://10.0.0.5:8786"),
    ("tls://sched.example:8786", "tls://sched.example:8786"), ("inproc://10.1.2.3/123/1", "inproc://10.1.2.3/123/1"),
])
def test_scheduler_addresses(given: str, expected: str) -> None:
    assert check_scheduler(given) == expected
    assert Settings(dask_scheduler=given).dask_scheduler == expected


@pytest.mark.parametrize("bad", ["local:0", "local:65", "local:x", "tcp://host", "http://h:1",
                                 "host:8786", "", "tcp://h:1/path", "tcp://h:99999"])
def test_bad_scheduler_addresses_are_refused(bad: str) -> None:
    with pytest.raises(ClusterUnfitError, match="--dask-scheduler"):
        check_scheduler(bad)


def test_a_bad_address_on_the_command_line_is_one_line_exit_2(local_index, tmp_path: Path) -> None:
    result = scan(local_index, tmp_path, "c", "cleanpkg", "--dask-scheduler", "local:0")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: --dask-scheduler 'local:0': local:N takes N from 1 to 64 (worker processes on this machine)"]
    trace = scan(local_index, tmp_path, "c", "cleanpkg", "--dask-scheduler", "local:1",
                 "--trace", str(tmp_path / "t.json"))
    assert trace.exit_code == 2 and "--trace is not available with --dask-scheduler" in trace.output


def test_worker_checks_and_batches() -> None:
    check_worker({"shouldi": "1.0", "daemon": False}, "w", "1.0")
    with pytest.raises(ClusterUnfitError, match="runs shouldi 0.9"):
        check_worker({"shouldi": "0.9", "daemon": False}, "w", "1.0")
    with pytest.raises(ClusterUnfitError, match="daemonic"):
        check_worker({"shouldi": "1.0", "daemon": True}, "w", "1.0")
    assert batch_size(1, 2, 4) == 1 and batch_size(100, 2, 4) == 4 and batch_size(16, 2, 4) == 2


def test_not_run_is_an_error_that_no_allowlist_covers() -> None:
    answer = not_run(Request("zq-x==1.0"), "its worker died")
    assert answer.report.verdict is Verdict.ERROR and answer.report.name == "zq-x"
    assert answer.report.version is None  # no record: a resumed scan checks it again
    (reason,) = answer.report.reasons
    assert not reason.allowable and reason.message == "not checked: its worker died"
    assert decode(encode(answer)) == answer
    with pytest.raises(ValueError, match="not an encoded answer"):
        decode({"request": {}})


def test_settings_refuse_a_bad_scheduler_as_usage() -> None:
    with pytest.raises(SettingsError, match="expected local:N or a scheduler address"):
        Settings(dask_scheduler="nope")


# --- real clusters ------------------------------------------------------------------------------
distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")


@pytest.mark.slow
def test_local_and_local_2_give_equal_records(local_index, tmp_path: Path) -> None:
    local_index.add_sdist(CLEAN, "zq-clean", "1.0")
    local_index.add_sdist(EXEC, "zq-exec", "2.0")
    local_index.add_wheel(NET, "zq-net", "0.3")
    specs = ["zq-clean", "zq-exec==2.0", "zq-net", "cleanpkg==1.0.0"]
    here, there = tmp_path / "here.jsonl", tmp_path / "there.jsonl"
    local = scan(local_index, tmp_path, "cache-here", *specs, "-o", str(here))
    dask = scan(local_index, tmp_path, "cache-there", *specs, "-o", str(there), "--dask-scheduler", "local:2")
    assert local.exit_code == dask.exit_code == 1, dask.output
    assert records(here) == records(there) and len(records(here)) == 4
    assert local.stdout == dask.stdout  # the same table and summary
    assert "dask: 4 package(s) in 4 task(s) on 2 worker(s), 2 thread(s)" in dask.output
    # resumable as locally: a rerun on the cluster checks nothing again
    again = scan(local_index, tmp_path, "cache-there", *specs, "-o", str(there), "--dask-scheduler", "local:2")
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[-1] == "4 dependencies: 4 already recorded; 0 records written"


@pytest.mark.slow
def test_a_worker_that_dies_every_time_makes_could_not_check(local_index, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import dask

    import shouldi.distributed.run as run_module

    def die(*args: object) -> None:  # a closure: cloudpickle sends it by value
        os._exit(1)

    monkeypatch.setattr(run_module, "run_batch", die)
    out = tmp_path / "out.jsonl"
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        result = scan(local_index, tmp_path, "c", "cleanpkg==1.0.0", "-o", str(out),
                      "--dask-scheduler", "local:1")
    assert result.exit_code == 3, result.output
    row = [line for line in result.stdout.splitlines() if line.startswith("cleanpkg")]
    assert row and row[0].split()[1] == "error" and "not checked: every Dask worker" in row[0]
    assert "1 could not be checked on the cluster" in result.output
    assert "worker(s) died during the run" in result.output
    assert not out.exists() or not list(open_source(out).read())  # nothing recorded: rerun checks it


@pytest.mark.slow
def test_a_worker_that_dies_once_is_replaced_and_the_task_run_again(local_index, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import shouldi.distributed.run as run_module
    from shouldi.distributed.tasks import run_batch

    marker = tmp_path / "died-once"

    def die_once(*args: object) -> object:
        if not marker.exists():
            marker.write_text("x")
            os._exit(1)
        return run_batch(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(run_module, "run_batch", die_once)
    result = scan(local_index, tmp_path, "c", "cleanpkg==1.0.0", "--dask-scheduler", "local:1")
    assert result.exit_code == 0, result.output
    assert [line.split()[:3] for line in result.stdout.splitlines() if line.startswith("cleanpkg")] == [
        ["cleanpkg", "1.0.0", "pass"]]
    assert "1 worker(s) died during the run, 1 task(s) were run again on another worker" in result.output


def test_a_task_that_raises_in_process_is_could_not_check(local_index, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import shouldi.distributed.run as run_module

    def broken(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(run_module, "run_batch", broken)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        result = scan(local_index, tmp_path, "c", "cleanpkg==1.0.0", "--dask-scheduler",
                      cluster.scheduler_address)
    assert result.exit_code == 3, result.output
    assert "not checked: its Dask task failed: RuntimeError: disk full" in result.output
    assert "1 could not be checked on the cluster" in result.output


def test_api_answers_in_process_equal_local_answers(local_index, tmp_path: Path) -> None:
    from shouldi.api import answer

    settings = Settings(index_url=local_index.url, cache_dir=tmp_path / "a", pip_audit=False,
                        safety_cli=False, timeout=10, osv=False)
    local = answer(["cleanpkg==1.0.0", "sentinelpkg"], settings)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        seen: list[Answer] = []
        remote = answer(["cleanpkg==1.0.0", "sentinelpkg"],
                        settings.replace(cache_dir=tmp_path / "b", dask_scheduler=cluster.scheduler_address),
                        on_answer=seen.append)
    assert [a.report.verdict for a in remote] == [a.report.verdict for a in local]
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert [report_to_record(a.report, "", scanned_at=when) for a in remote] == \
        [report_to_record(a.report, "", scanned_at=when) for a in local]
    assert [a.report.reasons for a in remote] == [a.report.reasons for a in local]
    assert sorted(a.spec for a in seen) == ["cleanpkg==1.0.0", "sentinelpkg"]


def test_dataset_build_on_the_cluster_writes_the_local_rows(local_index, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("name,version,label,label_source,date\n"
                      "cleanpkg,1.0.0,0,none,2024-01-01\n"
                      "evilpkg,0.1.0,1,pypa,2024-01-01\n", encoding="utf-8")

    def build(cache: str, output: Path, *extra: str):
        argv = ["dataset", "build", str(labels), "--output", str(output), "--index-url", local_index.url,
                "--cache-dir", str(tmp_path / cache), "--no-pip-audit", "--no-safety-cli",
                "--timeout", "10", *extra]
        return CliRunner().invoke(cli, argv, catch_exceptions=False)

    here, there = tmp_path / "here.jsonl", tmp_path / "there.jsonl"
    assert build("a", here).exit_code == 0
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        result = build("b", there, "--dask-scheduler", cluster.scheduler_address)
    assert result.exit_code == 0, result.output
    assert records(here) == records(there) and sorted(records(here)) == ["cleanpkg", "evilpkg"]
    assert "dask: 2 package(s) in" in result.output


@pytest.mark.online
def test_online_real_pypi_on_local_1_equals_local(tmp_path: Path) -> None:
    from shouldi.api import answer

    settings = Settings(cache_dir=tmp_path / "a", pip_audit=False, safety_cli=False, osv=False, timeout=30)
    local = answer(["six==1.16.0"], settings)
    remote = answer(["six==1.16.0"], settings.replace(cache_dir=tmp_path / "b", dask_scheduler="local:1"))
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert remote[0].report.version == "1.16.0"
    assert report_to_record(remote[0].report, "", scanned_at=when) == \
        report_to_record(local[0].report, "", scanned_at=when)


def test_every_worker_must_hold_the_clients_advisory_data() -> None:
    from shouldi.distributed.tasks import NO_ADVISORY_DATA, check_advisories

    a, b = "2 advisories up to 2024-05-02, sha256 aaaa", "3 advisories up to 2024-06-01, sha256 bbbb"
    assert check_advisories({"w1": a, "w2": a}, a) == a
    assert check_advisories({"w1": a}, NO_ADVISORY_DATA) == a  # the client has none: the workers' data
    with pytest.raises(ClusterUnfitError, match=r"workers hold different advisory data \(w1: 2 adv.*w2: 3 adv"):
        check_advisories({"w1": a, "w2": b}, a)
    with pytest.raises(ClusterUnfitError, match="the Dask workers hold other advisory data .* than this client"):
        check_advisories({"w1": b}, a)
    with pytest.raises(ClusterUnfitError, match="other advisory data"):
        check_advisories({"w1": NO_ADVISORY_DATA}, a)  # workers with none answer "not checked" elsewhere


def test_a_task_refuses_when_its_worker_holds_other_advisory_data(tmp_path: Path) -> None:
    from shouldi.advisories.store import AdvisoryStore
    from shouldi.distributed.tasks import advisory_fact, run_batch

    store = tmp_path / "s.sqlite"
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "A-1.json").write_text(
        '{"id": "A-1", "modified": "2024-01-01T00:00:00Z", "affected": [{"package": '
        '{"ecosystem": "PyPI", "name": "x"}, "versions": ["1.0"]}]}', encoding="utf-8")
    AdvisoryStore(store).import_path(folder)
    here = advisory_fact(store)
    assert here.startswith("1 advisories up to 2024-01-01")
    from shouldi import __version__

    with pytest.raises(ClusterUnfitError, match=r"holds other advisory data \(1 advisories.*\) than the run's"):
        run_batch([], Settings(advisory_db=store), frozenset(), __version__, "2 advisories up to 2024-02-01")
    assert run_batch([], Settings(advisory_db=store), frozenset(), __version__, here) == []


def _fill_store(store: Path, ids: list[str]) -> None:
    from shouldi.advisories.store import AdvisoryStore

    folder = store.parent / f"docs-{len(ids)}"
    folder.mkdir(parents=True)
    for ident in ids:
        (folder / f"{ident}.json").write_text(
            f'{{"id": "{ident}", "modified": "2024-01-01T00:00:00Z", "affected": [{{"package": '
            '{"ecosystem": "PyPI", "name": "zq-other"}, "versions": ["1.0"]}]}', encoding="utf-8")
    AdvisoryStore(store).import_path(folder)


def test_workers_with_other_advisory_data_than_the_client_are_refused(local_index, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Two machines: the worker process reads the default store of its own data dir (its
    environment at spawn), the client another. Nothing is checked: exit 2 before any answer;
    once the client holds no data of its own, the workers' data is the run's."""
    import dask

    worker_data, client_data = tmp_path / "worker-data", tmp_path / "client-data"
    _fill_store(worker_data / "advisories.sqlite", ["A-1"])
    monkeypatch.setenv("SHOULDI_DATA_DIR", str(worker_data))
    argv = ["scan", "cleanpkg==1.0.0", "--cache-dir", str(tmp_path / "cache"), "--no-pip-audit",
            "--no-safety-cli", "--timeout", "10", "--index-url", local_index.url]
    with dask.config.set({"distributed.worker.daemon": False}), distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        monkeypatch.setenv("SHOULDI_DATA_DIR", str(client_data))
        _fill_store(client_data / "advisories.sqlite", ["A-1", "A-2"])
        argv += ["--dask-scheduler", cluster.scheduler_address]
        refused = CliRunner().invoke(cli, argv, catch_exceptions=False)
        assert refused.exit_code == 2, refused.output
        (line,) = [x for x in refused.output.splitlines() if x.startswith("error:")]
        assert "the Dask workers hold other advisory data (1 advisories up to 2024-01-01" in line
        assert "than this client (2 advisories up to 2024-01-01" in line
        assert "cleanpkg" not in refused.stdout
        (client_data / "advisories.sqlite").unlink()
        allowed = CliRunner().invoke(cli, argv, catch_exceptions=False)
    assert allowed.exit_code == 0, allowed.output
    assert [line.split()[:3] for line in allowed.stdout.splitlines() if line.startswith("cleanpkg")] == [
        ["cleanpkg", "1.0.0", "pass"]]
