"""The pip-audit source, run for real against a tiny OSV-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from shouldi.advisories.pip_audit import PipAuditBatcher, PipAuditSource, batches, pip_audit_argv
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
    assert argv[:5] == ["python", "-m", "pip_audit", "--no-deps", "--disable-pip"]
    assert "--strict" not in argv  # it would end a process answering for many at one skip
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


# --- one process for many releases (PipAuditBatcher) -------------------------------------------

WHEN = datetime(2024, 1, 1, tzinfo=UTC)


def gather(batcher: PipAuditBatcher, *pins: tuple[str, str]) -> list[AdvisoryAnswer]:
    async def main() -> list[AdvisoryAnswer]:
        return list(await asyncio.gather(*(batcher.lookup(n, v, WHEN) for n, v in pins)))

    return asyncio.run(main())


def test_one_process_answers_every_planned_release(osv_server: OsvServer, tmp_path: Path) -> None:
    source = PipAuditSource(osv_url=osv_server.url, cache_dir=tmp_path)
    planned = [("Demo_Pkg", "1.0"), ("other-pkg", "2.0"), ("third", "3")]
    found, other, third = gather(PipAuditBatcher(source, planned), *planned)
    assert source.processes == 1
    assert found.status is Status.OK and [a.id for a in found.advisories] == ["PYSEC-2099-1"]
    assert (other.status, other.advisories) == (Status.OK, ())
    assert (third.status, third.advisories) == (Status.OK, ())
    assert sorted(q["package"]["name"] for q in osv_server.queries) == ["demo-pkg", "other-pkg", "third"]  # type: ignore[index]


def test_two_versions_of_one_name_go_to_two_processes(osv_server: OsvServer, tmp_path: Path) -> None:
    source = PipAuditSource(osv_url=osv_server.url, cache_dir=tmp_path)
    planned = [("demo-pkg", "1.0"), ("demo-pkg", "1.1")]
    old, new = gather(PipAuditBatcher(source, planned), *planned)
    assert source.processes == 2
    assert [a.id for a in old.advisories] == ["PYSEC-2099-1"] and new.advisories == ()


def test_releases_not_planned_are_asked_together(osv_server: OsvServer, tmp_path: Path) -> None:
    source = PipAuditSource(osv_url=osv_server.url, cache_dir=tmp_path)
    answers = gather(PipAuditBatcher(source, delay=0.2), ("demo-pkg", "1.0"), ("other-pkg", "2.0"))
    assert source.processes == 1
    assert [len(a.advisories) for a in answers] == [1, 0]


def _fake_pip_audit(tmp_path: Path, report: object, code: int = 0) -> str:
    fake = tmp_path / "python"
    fake.write_text(f"#!{sys.executable}\nimport sys\nprint({json.dumps(json.dumps(report))})\n"
                    f"sys.exit({code})\n")
    fake.chmod(0o755)
    return str(fake)


def test_a_skipped_release_leaves_the_others_of_its_process_answered(tmp_path: Path) -> None:
    report = {"dependencies": [
        {"name": "gone-pkg", "skip_reason": "Dependency not found on PyPI and could not be audited"},
        {"name": "demo-pkg", "version": "1.0", "vulns": []}]}
    source = PipAuditSource(python=_fake_pip_audit(tmp_path, report))
    gone, demo, missing = gather(PipAuditBatcher(source, [("gone-pkg", "1"), ("demo-pkg", "1.0"), ("absent", "1")]),
                                 ("gone-pkg", "1"), ("demo-pkg", "1.0"), ("absent", "1"))
    assert source.processes == 1
    assert (gone.status, gone.reason) == (
        Status.SKIPPED, "pip-audit skipped gone-pkg==1: Dependency not found on PyPI and could not be audited")
    assert (demo.status, demo.advisories) == (Status.OK, ())
    assert (missing.status, missing.reason) == (Status.SKIPPED, "pip-audit did not report on absent==1")


def test_an_entry_of_another_version_is_not_the_answer(tmp_path: Path) -> None:
    report = {"dependencies": [{"name": "demo-pkg", "version": "9.0", "vulns": []}]}
    answer = run(PipAuditSource(python=_fake_pip_audit(tmp_path, report)), "demo-pkg", "1.0")
    assert (answer.status, answer.reason) == (Status.SKIPPED, "pip-audit did not report on demo-pkg==1.0")


def test_a_failed_process_gives_each_of_its_releases_the_reason(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text(f"#!{sys.executable}\nimport sys\nprint('boom', file=sys.stderr)\nsys.exit(1)\n")
    fake.chmod(0o755)
    source = PipAuditSource(python=str(fake))
    answers = gather(PipAuditBatcher(source, [("a", "1"), ("b", "2")]), ("a", "1"), ("b", "2"))
    assert [(a.status, a.reason) for a in answers] == [(Status.SKIPPED, "pip-audit failed (exit 1): boom")] * 2


def test_a_refused_pin_is_said_and_the_others_still_run(osv_server: OsvServer, tmp_path: Path) -> None:
    source = PipAuditSource(osv_url=osv_server.url, cache_dir=tmp_path)
    bad, good = gather(PipAuditBatcher(source, [("demo\n-e .", "1"), ("demo-pkg", "1.0")]),
                       ("demo\n-e .", "1"), ("demo-pkg", "1.0"))
    assert bad.status is Status.SKIPPED and (bad.reason or "").startswith("cannot check ")
    assert len(good.advisories) == 1 and source.processes == 1


def test_batches_hold_one_version_per_name_and_at_most_max_batch() -> None:
    pins = [("a", "1"), ("b", "1"), ("a", "2"), ("c", "1"), ("a", "3")]
    assert batches(pins, 2) == [[("a", "1"), ("b", "1")], [("a", "2"), ("c", "1")], [("a", "3")]]
    assert batches(pins, 10) == [[("a", "1"), ("b", "1"), ("c", "1")], [("a", "2")], [("a", "3")]]


def test_a_stopped_run_leaves_no_pip_audit_running(tmp_path: Path) -> None:
    import os
    import uuid

    marker = f"shouldi-test-{uuid.uuid4().hex}"
    fake = tmp_path / "python"
    fake.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(60)  # {marker}\n")
    fake.chmod(0o755)
    source = PipAuditSource(python=str(fake))

    async def main() -> None:
        task = asyncio.ensure_future(PipAuditBatcher(source, [("a", "1")]).lookup("a", "1", WHEN))
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.2)  # the batch's own task is cancelled with the loop's end

    asyncio.run(main())

    def running() -> list[str]:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if str(fake).encode() in cmdline:
                found.append(pid)
        return found

    assert running() == []


@pytest.fixture
def audits(monkeypatch: Any) -> list[list[tuple[str, str]]]:
    """The pins of every pip-audit process the flow starts (sorted), each run for real."""
    from shouldi.advisories import pip_audit as module

    calls: list[list[tuple[str, str]]] = []
    real = module.PipAuditSource.audit

    async def audit(self: PipAuditSource, pins: Any) -> Any:
        calls.append(sorted(pins))
        return await real(self, pins)

    monkeypatch.setattr(module.PipAuditSource, "audit", audit)
    return calls


def test_a_tree_check_runs_one_pip_audit_for_all_its_packages(
        osv_server: OsvServer, local_index_factory: Any, tmp_path: Path,
        audits: list[list[tuple[str, str]]]) -> None:
    from click.testing import CliRunner
    from stores import store_option

    from shouldi.cli.main import cli

    index = local_index_factory(preload=False, core_metadata="pep714")
    for name, requires in (("zq-app", ["zq-lib", "demo-pkg"]), ("zq-lib", []), ("demo-pkg", [])):
        index.add_wheel({f"{name.replace('-', '_')}/__init__.py": "X = 1\n"}, name, "1.0",
                        requires=requires)
    argv = ["install", "zq-app==1.0", "--index-url", index.url, "--no-cache", "--no-safety-cli",
            "--no-osv", "--pip-audit-osv-url", osv_server.url, "--timeout", "5", "--format", "json",
            *store_option(tmp_path / "advisories.sqlite")]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    assert result.exit_code == 1, result.output  # demo-pkg has a known vulnerability
    assert audits == [[("demo-pkg", "1.0"), ("zq-app", "1.0"), ("zq-lib", "1.0")]]
    packages = {p["name"]: p for p in json.loads(result.stdout)["packages"]}
    assert set(packages) == {"zq-app", "zq-lib", "demo-pkg"}
    answers = {n: {a["source"]: a for a in p["advisory_answers"]}["pip-audit"] for n, p in packages.items()}
    assert all(a["status"] == "ok" for a in answers.values())
    assert [a["id"] for a in packages["demo-pkg"]["advisories"]] == ["PYSEC-2099-1"]
    assert packages["demo-pkg"]["verdict"] == "fail"


def test_exact_pins_are_asked_in_one_process_before_any_resolves(
        osv_server: OsvServer, local_index_factory: Any,
        audits: list[list[tuple[str, str]]]) -> None:
    """A locked requirements file (``shouldi ci -r``): its ``name==version`` pins are known
    before anything is resolved, so the first lookup asks for all of them."""
    import shouldi

    index = local_index_factory(preload=False)
    for name in ("demo-pkg", "other-pkg", "third-pkg"):
        index.add_wheel({f"{name.replace('-', '_')}/__init__.py": "X = 1\n"}, name, "1.0")
    reports = shouldi.check(["demo-pkg==1.0", "other-pkg==1.0", "third-pkg>=1"], index_url=index.url,
                            no_cache=True, safety_cli=False, osv=False, advisory_db=None,
                            pip_audit_osv_url=osv_server.url, timeout=5, jobs=1)
    # jobs=1: one package at a time, yet the pinned ones were asked together, the third alone
    assert audits == [[("demo-pkg", "1.0"), ("other-pkg", "1.0")], [("third-pkg", "1.0")]]
    assert [r.verdict.value for r in reports] == ["fail", "pass", "pass"]
