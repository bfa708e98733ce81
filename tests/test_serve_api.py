"""``shouldi serve``'s check API, in process (uvicorn in a thread, real HTTP): the install
JSON, jobs, stored answers, bad input as one-line 4xx JSON, limits, the token, OpenAPI."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from test_serve_process import free_port

from shouldi.cli.main import cli
from shouldi.service.config import ServiceConfig
from shouldi.settings import Settings

TOKEN = "s3cret-token-0123456789"


def settings(upstream: str, home: Path) -> Settings:
    """The CLI's settings in these tests: the default (per-test) advisory store, no online
    sources (the OSV API is the closed port conftest gives the CLI)."""
    return Settings(index_url=upstream, cache_dir=home / "cache", pip_audit=False, safety_cli=False,
                    osv_url="http://127.0.0.1:9/", timeout=5, max_age=600)


def timeless(body: dict[str, Any]) -> dict[str, Any]:
    """The install JSON without the live sources' data times (when each was asked)."""
    return {**body, "packages": [{**p, "advisory_answers": [
        {**a, "data_time": None} for a in p.get("advisory_answers", [])]} for p in body["packages"]]}


class InProcess:
    def __init__(self, config: ServiceConfig) -> None:
        import uvicorn

        from shouldi.service.run import uvicorn_config

        self.config = config
        self.server = uvicorn.Server(uvicorn_config(config))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{config.port}/"

    def __enter__(self) -> InProcess:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@pytest.fixture
def app_server(local_index, tmp_path) -> Iterator[Callable[..., InProcess]]:
    running: list[InProcess] = []

    def start(**kw: Any) -> InProcess:
        config = ServiceConfig(settings(local_index.url, tmp_path), port=free_port(),
                               state_path=tmp_path / "state.sqlite", **kw).check()
        server = InProcess(config).__enter__()
        running.append(server)
        return server

    yield start
    for s in running:
        s.__exit__()


def cli_json(index, home: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """``shouldi install ARGS --format json`` on ``index``, asking again (``--max-age 0``)."""
    argv = ["install", *args, "--index-url", index.url, "--cache-dir", str(home / "cache"),
            "--no-pip-audit", "--no-safety-cli", "--timeout", "5", "--format", "json", "--max-age", "0"]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def test_check_answers_the_install_json(app_server, local_index, tmp_path):
    server = app_server()
    r = httpx.post(f"{server.url}v1/check", json={"specs": ["evilpkg", "cleanpkg==1.0.0"],
                                                   "max_age": 0}, timeout=600)
    assert r.status_code == 200, r.text
    code, printed = cli_json(local_index, tmp_path, "evilpkg", "cleanpkg==1.0.0")
    assert timeless(r.json()) == timeless(printed)  # the same answers, the same JSON
    assert r.headers["Shouldi-Exit-Code"] == str(code) == "1"
    assert [p["verdict"] for p in r.json()["packages"]] == ["fail", "pass"]
    # asked again within max_age: the answer given, said so (as the CLI says it)
    again = httpx.post(f"{server.url}v1/check", json={"specs": ["evilpkg", "cleanpkg==1.0.0"]},
                       timeout=60)
    assert [(p["verdict"], p["reused_from"] is not None) for p in again.json()["packages"]] == [
        ("fail", True), ("pass", True)]
    # and stored: GET /v1/packages answers without a check (who required it was the request's)
    stored = httpx.get(f"{server.url}v1/packages/cleanpkg/1.0.0").json()
    assert stored["packages"][0]["verdict"] == "pass"
    stored_pkg = {**stored["packages"][0], "reused_from": None}
    assert stored_pkg["required_by"] == []
    alone = {**printed["packages"][1], "required_by": []}
    assert timeless({"packages": [stored_pkg]}) == timeless({"packages": [alone]})
    assert stored["packages"][0]["reused_from"] is not None and stored["notes"] == printed["notes"]
    assert stored["packages"][0]["artifact"]["filename"] == "cleanpkg-1.0.0-py3-none-any.whl"
    assert httpx.get(f"{server.url}v1/packages/EvilPkg/0.1.0").json()["packages"][0]["verdict"] == "fail"


def test_no_such_package_is_exit_code_2_alone_and_422_in_a_tree(app_server, local_index, tmp_path):
    server = app_server()
    r = httpx.post(f"{server.url}v1/check", json={"specs": ["cleanpgk"], "no_deps": True}, timeout=60)
    assert r.status_code == 200 and r.headers["Shouldi-Exit-Code"] == "2"
    (pkg,) = r.json()["packages"]
    assert "no project named 'cleanpgk'" in pkg["input_error"] and "cleanpkg" in pkg["input_error"]
    assert httpx.get(f"{server.url}v1/packages/cleanpgk/1.0").status_code == 404
    # its tree cannot be resolved: `install` exits 2 and prints no JSON; the service says it as
    # a 422, its message the line `install` prints, and the exit code in the same header
    tree = httpx.post(f"{server.url}v1/check", json={"specs": ["cleanpgk"]}, timeout=60)
    assert tree.status_code == 422 and tree.headers["Shouldi-Exit-Code"] == "2"
    result = CliRunner().invoke(cli, ["install", "cleanpgk", "--index-url", local_index.url,
                                      "--cache-dir", str(tmp_path / "cache"), "--quiet"])
    assert result.exit_code == 2 and result.stderr == f"error: {tree.json()['error']}\n"
    assert "no project named 'cleanpgk'" in tree.json()["error"]


def test_jobs_run_in_the_background_and_keep_their_result(app_server):
    server = app_server()
    r = httpx.post(f"{server.url}v1/jobs", json={"specs": ["evilpkg"], "trace": True})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["state"] in ("queued", "running") and r.headers["Location"] == f"/v1/jobs/{job['id']}"
    deadline = time.monotonic() + 600
    while (got := httpx.get(f"{server.url}v1/jobs/{job['id']}").json())["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert got["state"] == "done", got
    assert got["result"]["exit_code"] == 1
    assert got["result"]["packages"][0]["verdict"] == "fail"
    (trace,) = got["result"]["traces"]  # as --trace writes it: every value, with provenance
    report = next(v for v in trace["values"] if v["definition"] == "PackageReport")
    assert report["operation"] == "judge_release" and report["value"]["verdict"] == "fail"
    assert httpx.get(f"{server.url}v1/jobs/nosuchjob").status_code == 404


def test_a_check_that_outlasts_the_wait_goes_on_as_a_job(app_server, local_index):
    local_index.add_wheel({"slowpkg/__init__.py": "X = 1\n"}, "slowpkg", "1.0")
    local_index.fault("files/slowpkg-*", "stall")  # the download hangs (5 s, then retried)
    server = app_server(check_wait=0.2)
    r = httpx.post(f"{server.url}v1/check", json={"specs": ["slowpkg"]}, timeout=30)
    assert r.status_code == 503 and "Retry-After" in r.headers, r.text
    job_id = r.json()["error"].split("as job ")[1].split(" ")[0]
    assert httpx.get(f"{server.url}v1/jobs/{job_id}").json()["state"] == "running"


@pytest.mark.parametrize(("body", "status", "message"), [
    (b"{not json", 400, "the body is not JSON"),
    (b'{"specs": "six"}', 422, "specs: Input should be a valid list"),
    (b'{"specs": []}', 422, "specs: List should have at least 1 item"),
    (b'{"spec": ["six"]}', 422, "specs: Field required"),
    (b'{"specs": ["six"], "index_url": "http://10.0.0.1/"}', 422, "unknown option 'index_url'"),
    (b'{"specs": ["six"], "all_files": "yes"}', 422, "all_files: Input should be a valid boolean"),
    (b'{"specs": ["six"], "no_deps": "yes"}', 422, "no_deps: Input should be a valid boolean"),
    (b'{"specs": ["six"], "no_deps": 1}', 422, "no_deps: Input should be a valid boolean"),
    (b'{"specs": ["six"], "no-deps": true}', 422, "unknown option 'no-deps'"),
    (b'{"specs": ["six"], "deps": false}', 422, "unknown option 'deps'"),
    (b'{"specs": ["foo=="]}', 422, "foo=="),
    (b'{"specs": ["x @ https://example.invalid/x.tgz"]}', 422, "direct"),
    (b'{"specs": ["six"], "max_age": -1}', 422, "max_age: Input should be greater than or equal to 0"),
    (b'{"specs": ["six"], "python_version": "banana"}', 422, "banana"),
    (json.dumps({"specs": ["a" * 1001]}).encode(), 422, "specs.0: String should have at most 1000 characters"),
], ids=["not-json", "not-a-list", "empty", "misspelt", "unknown-option", "not-bool",
        "no-deps-not-bool", "no-deps-number", "no-deps-dashed", "deps", "bad-spec",
        "direct-url", "negative", "bad-python", "too-long"])
def test_bad_input_is_one_line_4xx_json(app_server, body, status, message):
    server = app_server()
    r = httpx.post(f"{server.url}v1/check", content=body,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert message.lower() in error.lower() and "\n" not in error and "Traceback" not in r.text
    assert set(r.json()) == {"error"}


def test_unknown_paths_and_methods_are_json_too(app_server):
    server = app_server()
    assert httpx.get(f"{server.url}nope").json() == {"error": "Not Found"}
    r = httpx.get(f"{server.url}v1/check")
    assert r.status_code == 405 and r.json() == {"error": "Method Not Allowed"}
    assert httpx.get(f"{server.url}files/x/nothex/x.whl").status_code == 404
    for bad in ("simple/.../", "simple/-x/", f"files/...x/{'0' * 64}/x.whl", f"simple/{'a' * 201}/"):
        r = httpx.get(f"{server.url}{bad}")
        assert r.status_code == 404 and "is not a project name" in r.json()["error"], bad


def test_huge_bodies_are_refused(app_server):
    server = app_server(max_body=1024)
    big = json.dumps({"specs": ["six"] * 500}).encode()
    r = httpx.post(f"{server.url}v1/check", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "larger than 1024 bytes" in r.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for i in range(0, len(big), 100):
            yield big[i:i + 100]

    r = httpx.post(f"{server.url}v1/check", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "larger than 1024 bytes" in r.json()["error"]


def test_a_bug_is_a_bare_500_and_a_logged_traceback(app_server, monkeypatch, caplog):
    from shouldi.service import checks

    def broken(self, body):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(checks.Checker, "parse", broken)
    server = app_server()
    with caplog.at_level(logging.ERROR, logger="shouldi.service"):
        r = httpx.post(f"{server.url}v1/check", json={"specs": ["six"]})
    assert r.status_code == 500 and r.json() == {"error": "internal error"}
    assert any(rec.exc_info and rec.exc_info[0] is ZeroDivisionError for rec in caplog.records)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_the_token_guards_every_path(app_server):
    server = app_server(token=TOKEN)
    for path in ("openapi.json", "simple/cleanpkg/", "v1/packages/cleanpkg/1.0.0"):
        assert httpx.get(f"{server.url}{path}").status_code == 401
        r = httpx.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {TOKEN}x"})
        assert r.status_code == 401 and r.json()["error"].startswith("missing or wrong token")
    ok = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{server.url}openapi.json", headers=ok).status_code == 200
    for header in (basic("__token__", TOKEN), basic(TOKEN, "")):
        assert httpx.get(f"{server.url}simple/cleanpkg/", headers={"Authorization": header}).status_code == 200
    assert httpx.get(f"{server.url}openapi.json",
                     headers={"Authorization": basic("__token__", "wrong")}).status_code == 401
    assert httpx.get(f"{server.url}openapi.json", headers={"Authorization": "Basic !!!"}).status_code == 401


@pytest.mark.parametrize(("args", "message"), [
    (["--host", "0.0.0.0"], "--host 0.0.0.0 listens beyond this machine: give --token-file"),
    (["--host", "example.org"], "--host example.org listens beyond this machine"),
    (["--token-file", "MISSING"], "--token-file MISSING: No such file or directory"),
    (["--token-file", "SHORT"], "expected one token of at least 16 printable characters"),
    (["--no-cache"], "--no-cache: shouldi serve serves files from the verified artifact cache"),
    (["--port", "8080", "--upstream", "http://127.0.0.1:8080/simple/"], "is this service itself"),
    (["--upstream", "ftp://x/"], "--upstream 'ftp://x/': expected an http(s) URL"),
], ids=["any-address", "hostname", "no-token-file", "short-token", "no-cache", "itself", "ftp"])
def test_unsafe_or_bad_options_refuse_to_start(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    Path("SHORT").write_text("abc\n")
    result = CliRunner().invoke(cli, ["serve", *args, "--state", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_state_file_that_is_not_ours_is_refused(tmp_path):
    bad = tmp_path / "state.sqlite"
    bad.write_bytes(b"not a database at all" * 100)
    result = CliRunner().invoke(cli, ["serve", "--state", str(bad), "--port", "1"])
    assert result.exit_code == 2 and "not a shouldi service state file" in result.stderr
    assert bad.read_bytes() == b"not a database at all" * 100  # never overwritten


def test_openapi_is_valid_and_says_our_error_shape(app_server):
    validator = pytest.importorskip("openapi_spec_validator")
    server = app_server()
    schema = httpx.get(f"{server.url}openapi.json").json()
    validator.validate(schema)
    assert {"/v1/check", "/v1/jobs", "/v1/jobs/{job_id}", "/v1/packages/{name}/{version}",
            "/simple/", "/simple/{project}/", "/files/{project}/{sha256}/{filename}"} <= set(schema["paths"])
    check = schema["paths"]["/v1/check"]["post"]
    assert check["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    assert "HTTPValidationError" not in json.dumps(schema)
    body = schema["components"]["schemas"]["CheckBody"]
    assert body["additionalProperties"] is False and "specs" in body["required"]


def test_the_schema_holds_for_generated_requests(app_server):
    """Schemathesis (when installed) sends requests generated from /openapi.json: never a
    500, every status and body as documented. (Not "every schema-valid body is accepted":
    a JSON schema cannot say what a PEP 508 requirement is, so ``{"specs": ["!"]}`` is
    schema-valid and rightly a 422.)"""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hsettings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    server = app_server()
    schema = schemathesis.openapi.from_dict(httpx.get(f"{server.url}openapi.json").json())
    operations = [("POST", "/v1/check"), ("GET", "/v1/jobs/{job_id}"),
                  ("GET", "/v1/packages/{name}/{version}"), ("GET", "/simple/{project}/"),
                  ("GET", "/files/{project}/{sha256}/{filename}")]
    for method, path in operations:
        strategy = schema[path][method].as_strategy()

        @given(case=strategy)
        @hsettings(max_examples=15, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call(base_url=server.url.rstrip("/"), timeout=120)
            assert response.status_code < 500 or response.status_code in (502, 503), response.text
            case.validate_response(response, excluded_checks=[positive_data_acceptance])

        check()


def test_an_answer_in_memory_is_not_reused_after_a_db_import(app_server, tmp_path):
    """The in-memory answers follow the answer cache's rule: the local advisory store's
    state is part of the key, so a new advisory is seen at once."""
    server = app_server()
    body = {"specs": ["cleanpkg==1.0.0"]}
    first = httpx.post(f"{server.url}v1/check", json=body, timeout=600).json()["packages"][0]
    again = httpx.post(f"{server.url}v1/check", json=body, timeout=60).json()["packages"][0]
    assert first["verdict"] == again["verdict"] == "pass" and again["reused_from"] is not None
    osv = tmp_path / "osv" / "GHSA-clean-pkg0-0001.json"
    osv.parent.mkdir()
    osv.write_text(json.dumps({
        "id": "GHSA-clean-pkg0-0001", "modified": "2099-01-01T00:00:00Z", "summary": "cleanpkg leaks",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "cleanpkg"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1"}]}]}],
    }))
    from shouldi.cache.paths import default_store_path

    store = default_store_path()  # the store the server reads (this test's data dir)
    imported = CliRunner().invoke(cli, ["db", "--store", str(store), "import", str(osv.parent)])
    assert imported.exit_code == 0, imported.output
    after = httpx.post(f"{server.url}v1/check", json=body, timeout=600).json()["packages"][0]
    assert after["verdict"] == "fail" and after["reused_from"] is None
    assert any(r["message"].startswith("GHSA-clean-pkg0-0001") for r in after["reasons"])


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--port", str(port), "--quiet", "--state",
                                          str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2, result.output
    assert f"--host 127.0.0.1 --port {port}: cannot listen there" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
