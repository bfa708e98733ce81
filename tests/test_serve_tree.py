"""``POST /v1/check`` judges what ``shouldi install`` judges: the specs' whole dependency
tree by default (each package with who required it), the specs alone with ``"no_deps":
true``; the same JSON as ``install --format json`` on the same local index, answered again
from memory, a conflict as a one-line 422."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from index_server import LocalIndex
from test_serve_api import InProcess, cli_json, settings, timeless
from test_serve_process import free_port

from shouldi.service.config import ServiceConfig

EXEC = {"bad_mod/__init__.py": "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n"}


@pytest.fixture
def index(local_index_factory: Any) -> LocalIndex:
    return local_index_factory(preload=False, core_metadata="pep714")  # type: ignore[no-any-return]


@pytest.fixture
def server(index, tmp_path) -> Iterator[Callable[..., InProcess]]:
    running: list[InProcess] = []

    def start(**kw: Any) -> InProcess:
        config = ServiceConfig(settings(index.url, tmp_path), port=free_port(),
                               state_path=tmp_path / "state.sqlite", **kw).check()
        running.append(InProcess(config).__enter__())
        return running[-1]

    yield start
    for s in running:
        s.__exit__()


def wheel(index: LocalIndex, name: str, version: str, *requires: str) -> None:
    index.add_wheel({f"{name.replace('-', '_')}/__init__.py": f"VERSION = {version!r}\n"}, name,
                    version, requires=list(requires))


def check(server: InProcess, body: dict[str, Any], timeout: float = 600) -> httpx.Response:
    return httpx.post(f"{server.url}v1/check", json=body, timeout=timeout)


def test_a_tree_is_answered_as_install_answers_it_then_from_memory(server, index, tmp_path):
    wheel(index, "zq-app", "1.0", "zq-lib>=1")
    wheel(index, "zq-lib", "1.0")
    wheel(index, "zq-lib", "0.5")
    s = server()
    r = check(s, {"specs": ["zq-app"], "max_age": 0})
    assert r.status_code == 200, r.text
    code, printed = cli_json(index, tmp_path, "zq-app")
    assert timeless(r.json()) == timeless(printed)  # the same answers, the same JSON
    assert r.headers["Shouldi-Exit-Code"] == str(code) == "0"
    app, lib = r.json()["packages"]  # the root first
    assert (app["name"], lib["name"], lib["version"]) == ("zq-app", "zq-lib", "1.0")
    assert app["required_by"] == [{"requirement": "zq-app", "parent": None, "parent_version": None}]
    assert lib["required_by"] == [{"requirement": "zq-lib>=1", "parent": "zq-app",
                                   "parent_version": "1.0"}]
    # asked again: from memory, nothing asked of the index, who required what kept
    index.clear()
    again = check(s, {"specs": ["zq-app"]}, timeout=60)
    assert index.paths() == []
    assert [p["reused_from"] is not None for p in again.json()["packages"]] == [True, True]
    assert [{**p, "reused_from": None} for p in again.json()["packages"]] == [
        {**p, "reused_from": None} for p in r.json()["packages"]]
    # the spec alone, as `install --no-deps` judges it
    alone = check(s, {"specs": ["zq-app"], "no_deps": True, "max_age": 0})
    _, printed_alone = cli_json(index, tmp_path, "zq-app", "--no-deps")
    assert timeless(alone.json()) == timeless(printed_alone)
    assert [(p["name"], p["required_by"]) for p in alone.json()["packages"]] == [("zq-app", [])]


def test_a_failing_dependency_fails_the_root_unless_it_is_judged_alone(server, index, tmp_path,
                                                                      sentinel_dir):
    wheel(index, "zq-top", "1.0", "zq-evil")
    index.add_wheel(EXEC, "zq-evil", "0.1")
    s = server()
    r = check(s, {"specs": ["zq-top"]})
    assert r.status_code == 200 and r.headers["Shouldi-Exit-Code"] == "1"
    top, evil = r.json()["packages"]
    assert (top["verdict"], evil["verdict"]) == ("fail", "fail")
    assert top["reasons"][0]["message"] == "depends on zq-evil 0.1, which fails"
    assert evil["required_by"][0]["parent"] == "zq-top"
    # a job judges the same tree (here: the answer of a moment ago)
    job = httpx.post(f"{s.url}v1/jobs", json={"specs": ["zq-top"]}).json()
    assert [{**p, "reused_from": None} for p in wait_for(s, job["id"])["result"]["packages"]] == [
        {**p, "reused_from": None} for p in r.json()["packages"]]
    alone = check(s, {"specs": ["zq-top"], "no_deps": True})
    assert alone.headers["Shouldi-Exit-Code"] == "0"
    assert [p["verdict"] for p in alone.json()["packages"]] == ["pass"]
    assert list(sentinel_dir.iterdir()) == []


def test_a_conflict_is_a_one_line_422_and_a_failed_job_not_worth_retrying(server, index, tmp_path):
    wheel(index, "zq-app", "1.0", "zq-web>=3")
    wheel(index, "zq-web", "3.0")
    wheel(index, "zq-web", "2.0")
    s = server()
    r = check(s, {"specs": ["zq-app", "zq-web<3"]})
    assert r.status_code == 422 and r.headers["Shouldi-Exit-Code"] == "2"
    assert r.json() == {"error": (
        "cannot resolve the dependency tree: you asked for 'zq-web<3' and zq-app 1.0 needs "
        "'zq-web>=3', but no release of 'zq-web' meets them all (newest on the index: 2.0, 3.0)")}
    job = httpx.post(f"{s.url}v1/jobs", json={"specs": ["zq-app", "zq-web<3"]})
    assert job.status_code == 202
    failed = wait_for(s, job.json()["id"])
    assert failed["state"] == "failed" and failed["retryable"] is False
    assert failed["error"] == r.json()["error"]
    # each spec alone has an answer
    alone = check(s, {"specs": ["zq-app", "zq-web<3"], "no_deps": True})
    assert [(p["name"], p["version"]) for p in alone.json()["packages"]] == [
        ("zq-app", "1.0"), ("zq-web", "2.0")]


def wait_for(server: InProcess, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 600
    while (got := httpx.get(f"{server.url}v1/jobs/{job_id}").json())["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return got  # type: ignore[no-any-return]
