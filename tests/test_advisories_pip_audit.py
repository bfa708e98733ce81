"""The pip-audit source, run for real against a tiny OSV-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from shouldi.advisories.pip_audit import PipAuditSource, pip_audit_argv
from shouldi.results import AdvisoryAnswer, Status

UTC = timezone.utc
VULN = {
    "id": "PYSEC-2099-1",
    "aliases": ["CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"],
    "summary": "Demo is vulnerable.",
    "details": "Long text.",
    "modified": "2099-01-01T00:00:00Z",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "demo-pkg"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1"}]}],
        }
    ],
}


class OsvServer:
    """OSV's /v1/query (what pip-audit 2.x calls) and /v1/querybatch, answering from VULN."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.queries: list[dict[str, object]] = []
        server.expect_request("/v1/query", method="POST").respond_with_handler(self.query)
        server.expect_request("/v1/querybatch", method="POST").respond_with_handler(self.batch)

    def _vulns(self, query: dict[str, object]) -> list[dict[str, object]]:
        package = query.get("package") or {}
        hit = package.get("name") == "demo-pkg" and query.get("version") in ("1.0", "1.0.0")  # type: ignore[union-attr]
        return [VULN] if hit else []

    def query(self, request: Request) -> Response:
        query = json.loads(request.get_data())
        self.queries.append(query)
        vulns = self._vulns(query)
        return Response(
            json.dumps({"vulns": vulns} if vulns else {}), content_type="application/json"
        )

    def batch(self, request: Request) -> Response:
        queries = json.loads(request.get_data())["queries"]
        self.queries.extend(queries)
        results = [
            {"vulns": [{"id": v["id"], "modified": v["modified"]} for v in self._vulns(q)]}
            for q in queries
        ]
        return Response(json.dumps({"results": results}), content_type="application/json")

    @property
    def url(self) -> str:
        return self.server.url_for("/v1/query")


@pytest.fixture
def osv_server(httpserver: HTTPServer) -> OsvServer:
    return OsvServer(httpserver)


def run(source: PipAuditSource, name: str, version: str) -> AdvisoryAnswer:
    return asyncio.run(source.lookup(name, version, datetime(2024, 1, 1, tzinfo=UTC)))


def test_argv_never_resolves_or_builds(tmp_path: Path) -> None:
    argv = pip_audit_argv("python", tmp_path / "r.txt", osv_url="http://x/v1/query")
    assert argv[:6] == ["python", "-m", "pip_audit", "--no-deps", "--disable-pip", "--strict"]
    assert argv[-4:] == ["-s", "osv", "--osv-url", "http://x/v1/query"]


def test_found(osv_server: OsvServer, tmp_path: Path) -> None:
    answer = run(PipAuditSource(osv_url=osv_server.url, cache_dir=tmp_path), "Demo_Pkg", "1.0")
    assert answer.status is Status.OK
    (advisory,) = answer.advisories
    assert advisory.id == "PYSEC-2099-1"
    assert advisory.aliases == {"CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"}
    assert advisory.fixed_versions == ("1.1",)
    assert advisory.summary == "Demo is vulnerable."
    assert advisory.sources == {"pip-audit"}
    assert osv_server.queries == [
        {"package": {"name": "demo-pkg", "ecosystem": "PyPI"}, "version": "1.0"}
    ]


def test_clean(osv_server: OsvServer, tmp_path: Path) -> None:
    answer = run(PipAuditSource(osv_url=osv_server.url, cache_dir=tmp_path), "demo-pkg", "1.1")
    assert (answer.status, answer.advisories, answer.reason) == (Status.OK, (), None)
    assert answer.data_time is not None  # a live service: now


def test_static_mirror_dates_its_answers(osv_server: OsvServer, tmp_path: Path) -> None:
    mirror = PipAuditSource(
        osv_url=osv_server.url, cache_dir=tmp_path, data_time=datetime(2023, 6, 1, tzinfo=UTC)
    )
    answer = run(mirror, "demo-pkg", "1.1")
    assert answer.status is Status.SKIPPED
    assert (
        answer.reason
        == "pip-audit's service data is from 2023-06-01, older than this release (2024-01-01)"
    )


def test_unreachable_service_is_skipped_not_clean(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = PipAuditSource(
        osv_url=f"http://127.0.0.1:{port}/v1/query", cache_dir=tmp_path, request_timeout=2
    )
    answer = run(source, "demo-pkg", "1.0")
    assert answer.status is Status.SKIPPED
    assert (answer.reason or "").startswith("pip-audit failed (exit 1): ")
    assert "ConnectionError" in (answer.reason or "")
    assert answer.advisories == ()


def test_timeout_is_skipped(osv_server: OsvServer, tmp_path: Path) -> None:
    answer = run(
        PipAuditSource(osv_url=osv_server.url, cache_dir=tmp_path, timeout=0.01), "demo-pkg", "1.0"
    )
    assert (answer.status, answer.reason) == (Status.SKIPPED, "pip-audit timed out after 0.01s")


def test_skipped_dependency_is_no_answer(tmp_path: Path) -> None:
    """pip-audit prints "No known vulnerabilities found" and exits 0 when it skipped the package:
    shown here with a stand-in interpreter that prints exactly that output."""
    fake = tmp_path / "python"
    report = {
        "dependencies": [{"name": "demo-pkg", "skip_reason": "Dependency not found on PyPI"}],
        "fixes": [],
    }
    fake.write_text(
        f"#!{sys.executable}\nprint('No known vulnerabilities found')\nprint({json.dumps(json.dumps(report))})\n"
    )
    fake.chmod(0o755)
    answer = run(PipAuditSource(python=str(fake)), "demo-pkg", "1.0")
    assert (answer.status, answer.reason) == (
        Status.SKIPPED,
        "pip-audit skipped demo-pkg==1.0: Dependency not found on PyPI",
    )


def test_unexpected_output_is_an_error_that_says_how_to_skip_it(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    report = {"dependencies": [{"name": "demo-pkg", "version": "1.0", "vulns": [{"no": "id"}]}]}
    fake.write_text(f"#!{sys.executable}\nprint({json.dumps(json.dumps(report))})\n")
    fake.chmod(0o755)
    answer = run(PipAuditSource(python=str(fake)), "demo-pkg", "1.0")
    assert (answer.status, answer.reason) == (
        Status.ERROR,
        "unexpected pip-audit output ('id'): `--no-pip-audit` skips it",
    )


@pytest.mark.online
def test_real_pypi_service_never_reports_a_vulnerable_release_clean(tmp_path: Path) -> None:
    answer = run(PipAuditSource(cache_dir=tmp_path), "django", "3.2")
    if answer.status is Status.OK:
        assert answer.advisories, "django 3.2 has many known vulnerabilities"
    else:
        assert answer.reason


@pytest.mark.parametrize(
    ("name", "version"), [("demo\n--index-url=http://evil", "1.0"), ("demo", "1.0\n-e .")]
)
def test_requirement_injection_is_refused(tmp_path: Path, name: str, version: str) -> None:
    answer = run(PipAuditSource(cache_dir=tmp_path), name, version)
    assert answer.status is Status.SKIPPED
    assert (answer.reason or "").startswith("cannot check ")
