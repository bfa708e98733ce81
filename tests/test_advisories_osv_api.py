"""The OSV API source against a fake OSV server: hits, misses, batching, pagination, retries,
unreachable, timeouts, garbage; and against the shared PyPA database served by the fake."""

from __future__ import annotations

import asyncio
import socket
import tarfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from fake_osv import FakeOsv

from shouldi.advisories.documents import load_documents
from shouldi.advisories.errors import ServiceError
from shouldi.advisories.osv_api import OSV_API_URL, OsvApiSource, OsvBatcher, check_service_url
from shouldi.advisories.store import AdvisoryStore
from shouldi.index import make_client
from shouldi.results import AdvisoryAnswer, Severity, Status

SHARED = Path(__file__).resolve().parents[1].parent / "shared/data/pypa-advisory-database.tar.gz"
UTC = timezone.utc


def vuln(ident: str, package: str, versions: Sequence[str], **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "modified": "2024-05-01T10:00:00Z",
        "published": "2024-04-01T10:00:00Z",
        "aliases": [f"CVE-{ident}"],
        "summary": f"{ident} in {package}",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": package},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.0"}]}],
                "versions": list(versions),
            }
        ],
        **extra,
    }


def lookups(
    fake_or_url: FakeOsv | str,
    queries: Sequence[tuple[str, str]],
    *,
    retries: int = 0,
    timeout: float = 5.0,
    stagger: float = 0.0,
    **batcher: Any,
) -> tuple[list[AdvisoryAnswer], OsvBatcher]:
    """Look every (name, version) up concurrently through one shared batcher."""
    url = fake_or_url if isinstance(fake_or_url, str) else fake_or_url.url

    async def main() -> tuple[list[AdvisoryAnswer], OsvBatcher]:
        async with make_client(timeout=timeout, retries=retries, backoff=0.0) as client:
            shared = OsvBatcher(client, url, **batcher)
            source = OsvApiSource(shared)

            async def one(i: int, name: str, version: str) -> AdvisoryAnswer:
                await asyncio.sleep(i * stagger)
                return await source.lookup(name, version, None)

            answers = await asyncio.gather(*(one(i, n, v) for i, (n, v) in enumerate(queries)))
            return list(answers), shared

    return asyncio.run(main())


def test_hit_and_miss_share_one_batch(fake_osv: FakeOsv) -> None:
    fake_osv.add(
        vuln("GHSA-aaaa", "Demo_Pkg", ["1.0", "1.1"],
             severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
             references=[{"type": "ADVISORY", "url": "https://example.org/GHSA-aaaa"}]),
        vuln("PYSEC-1", "other", ["3.0"]),
    )  # fmt: skip
    (hit, miss), batcher = lookups(fake_osv, [("demo-pkg", "1.0"), ("demo-pkg", "2.0")])
    assert (hit.source, hit.status, miss.status) == ("osv-api", Status.OK, Status.OK)
    assert miss.advisories == ()
    (advisory,) = hit.advisories
    assert advisory.id == "GHSA-aaaa"
    assert advisory.aliases == {"CVE-GHSA-aaaa"}
    assert advisory.fixed_versions == ("9.0",)
    assert advisory.affected_versions == ("<9.0",)
    assert advisory.severity is Severity.CRITICAL  # from the CVSS vector
    assert advisory.url == "https://example.org/GHSA-aaaa"
    assert advisory.published == datetime(2024, 4, 1, 10, tzinfo=UTC)
    assert advisory.modified == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert hit.data_time is not None and (datetime.now(UTC) - hit.data_time).total_seconds() < 60
    assert fake_osv.batches == [
        [
            {"package": {"ecosystem": "PyPI", "name": "demo-pkg"}, "version": "1.0"},
            {"package": {"ecosystem": "PyPI", "name": "demo-pkg"}, "version": "2.0"},
        ]
    ]
    assert fake_osv.vuln_requests == ["GHSA-aaaa"]
    assert batcher.requests == 2


def test_many_packages_few_requests(fake_osv: FakeOsv) -> None:
    fake_osv.add(*(vuln(f"PYSEC-{i}", f"pkg{i % 5}", ["1.0"]) for i in range(10)))
    queries = [(f"pkg{i}", "1.0") for i in range(23)] + [("pkg1", "1.0"), ("PKG1", "1.0")]
    answers, batcher = lookups(fake_osv, queries, max_batch=10, stagger=0.001, delay=0.05)
    assert all(a.status is Status.OK for a in answers)
    assert [len(a.advisories) for a in answers[:6]] == [2, 2, 2, 2, 2, 0]
    assert answers[-1].advisories == answers[1].advisories  # the same query, asked once
    sizes = [len(b) for b in fake_osv.batches]
    assert sum(sizes) == 23 and max(sizes) <= 10 and len(sizes) == 3
    assert sorted(fake_osv.vuln_requests) == sorted(f"PYSEC-{i}" for i in range(10))  # once each
    assert batcher.requests == 3 + 10


def test_one_at_a_time_without_a_shared_batcher(fake_osv: FakeOsv) -> None:
    fake_osv.add(vuln("PYSEC-7", "demo", ["1.0"]))

    async def main() -> AdvisoryAnswer:
        async with make_client(timeout=5, retries=0) as client:
            return await OsvApiSource(client=client, url=fake_osv.url).lookup("demo", "1.0", None)

    answer = asyncio.run(main())
    assert [a.id for a in answer.advisories] == ["PYSEC-7"]
    assert len(fake_osv.batches) == 1


def test_pagination_is_followed(fake_osv: FakeOsv) -> None:
    fake_osv.add(*(vuln(f"PYSEC-{i}", "demo", ["1.0"]) for i in range(5)))
    fake_osv.add(vuln("PYSEC-90", "small", ["1.0"]))
    fake_osv.page_size = 2
    (demo, small), _ = lookups(fake_osv, [("demo", "1.0"), ("small", "1.0")])
    assert sorted(a.id for a in demo.advisories) == [f"PYSEC-{i}" for i in range(5)]
    assert [a.id for a in small.advisories] == ["PYSEC-90"]
    tokens = [[q.get("page_token") for q in batch] for batch in fake_osv.batches]
    assert tokens == [[None, None], ["2"], ["4"]]  # only the paginated query is asked again


def test_withdrawn_details_are_dropped(fake_osv: FakeOsv) -> None:
    fake_osv.add(vuln("PYSEC-1", "demo", ["1.0"], withdrawn="2024-06-01T00:00:00Z"))
    fake_osv.add(vuln("PYSEC-2", "demo", ["1.0"]))
    (answer,), _ = lookups(fake_osv, [("demo", "1.0")])
    assert [a.id for a in answer.advisories] == ["PYSEC-2"]


@pytest.mark.parametrize("kind", ["500", "503", "429"])
def test_transient_errors_are_retried(fake_osv: FakeOsv, kind: str) -> None:
    fake_osv.add(vuln("PYSEC-1", "demo", ["1.0"]))
    fake_osv.fault("batch", kind, times=2)
    fake_osv.fault("vuln", kind, times=1)
    (answer,), _ = lookups(fake_osv, [("demo", "1.0")], retries=3)
    assert (answer.status, [a.id for a in answer.advisories]) == (Status.OK, ["PYSEC-1"])
    assert len(fake_osv.batches) == 3
    assert fake_osv.vuln_requests == ["PYSEC-1", "PYSEC-1"]


def test_persistent_5xx_is_skipped_once_for_the_run(fake_osv: FakeOsv) -> None:
    fake_osv.fault("batch", "503")
    answers, batcher = lookups(
        fake_osv, [("a", "1.0"), ("b", "1.0")], retries=1, max_batch=1, concurrency=1
    )
    reason = f"{fake_osv.url}/v1/querybatch: HTTP 503"
    assert [(a.status, a.reason) for a in answers] == [(Status.SKIPPED, reason)] * 2
    assert batcher.requests == 1  # the second batch was not sent: the service is down
    assert len(fake_osv.batches) == 2  # one request and its retry


def test_unreachable_is_skipped_fast() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    answers, _ = lookups(url, [(f"p{i}", "1.0") for i in range(20)], retries=1, max_batch=5)
    assert time.perf_counter() - started < 3
    assert {a.status for a in answers} == {Status.SKIPPED}
    assert (answers[0].reason or "").startswith(f"OSV API at {url} is unreachable (")
    assert len(answers[0].reason or "") < 160


def test_timeout_is_skipped(fake_osv: FakeOsv) -> None:
    fake_osv.fault("batch", "stall")
    started = time.perf_counter()
    (answer,), _ = lookups(fake_osv, [("demo", "1.0")], timeout=0.3)
    assert time.perf_counter() - started < 1.5
    assert (answer.status, answer.reason) == (
        Status.SKIPPED,
        f"OSV API at {fake_osv.url} is unreachable (timed out)",
    )


@pytest.mark.parametrize(
    ("endpoint", "kind", "reason"),
    [
        ("batch", "garbage", "/v1/querybatch answered garbage, not JSON"),
        ("batch", "wrong-count", "/v1/querybatch answered JSON that is not a batch result"),
        ("vuln", "garbage", "/v1/vulns/PYSEC-1 answered garbage, not JSON"),
        ("vuln", "404", "/v1/vulns/PYSEC-1: HTTP 404"),
    ],
    ids=["batch-garbage", "batch-wrong-count", "vuln-garbage", "vuln-missing"],
)
def test_garbage_is_an_error(fake_osv: FakeOsv, endpoint: str, kind: str, reason: str) -> None:
    fake_osv.add(vuln("PYSEC-1", "demo", ["1.0"]))
    fake_osv.fault(endpoint, kind)
    (answer,), _ = lookups(fake_osv, [("demo", "1.0")])
    assert (answer.status, answer.reason) == (Status.ERROR, fake_osv.url + reason)


def test_details_that_are_not_osv_are_an_error(fake_osv: FakeOsv) -> None:
    fake_osv.add(vuln("PYSEC-1", "demo", ["1.0"]))
    fake_osv.vulns["PYSEC-1"] = {**fake_osv.vulns["PYSEC-1"], "modified": "yesterday"}
    (answer,), _ = lookups(fake_osv, [("demo", "1.0")])
    assert answer.status is Status.ERROR
    assert "/v1/vulns/PYSEC-1: not an OSV record (bad timestamp 'yesterday')" in (answer.reason or "")


def test_service_urls_are_checked() -> None:
    assert check_service_url(" https://osv.example/ ") == "https://osv.example/"
    for bad in ("notaurl", "ftp://x", "https://", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="not an http"):
            check_service_url(bad)
    assert OSV_API_URL == "https://api.osv.dev"
    assert issubclass(type(ServiceError("x")), Exception)


# --- the shared PyPA database, served by the fake ------------------------------------------


@pytest.fixture(scope="module")
def pypa_docs() -> list[dict[str, Any]]:
    if not SHARED.is_file():
        pytest.skip("shared advisory archive absent")
    docs = []
    with tarfile.open(SHARED) as archive:
        for member in archive:
            if member.isreg() and member.name.endswith(".yaml"):
                handle = archive.extractfile(member)
                assert handle is not None
                docs += load_documents(member.name, handle.read())
    return docs


@pytest.fixture(scope="module")
def pypa_store(tmp_path_factory: pytest.TempPathFactory) -> AdvisoryStore:
    if not SHARED.is_file():
        pytest.skip("shared advisory archive absent")
    store = AdvisoryStore(tmp_path_factory.mktemp("pypa") / "s.sqlite")
    store.import_path(SHARED)
    return store


def test_agrees_with_the_local_store_on_the_pypa_database(
    fake_osv: FakeOsv, pypa_docs: list[dict[str, Any]], pypa_store: AdvisoryStore
) -> None:
    """Two independent matchers (the fake's explicit version lists; the store's OSV ranges)
    over the same real advisories find the same vulnerabilities."""
    fake_osv.add(*pypa_docs)
    queries = [("urllib3", "1.24.1"), ("werkzeug", "2.3.7"), ("Jinja2", "2.10"), ("django", "3.2"),
               ("requests", "2.19.0"), ("pyyaml", "5.3"), ("cleanpkg", "1.0.0")]  # fmt: skip
    answers, batcher = lookups(fake_osv, queries)
    assert len(fake_osv.batches) == 1
    for (name, version), answer in zip(queries, answers, strict=True):
        assert answer.status is Status.OK
        online = sorted(a.id for a in answer.advisories)
        local = sorted(a.id for a in pypa_store.matches(name.lower(), version)[0])
        assert online == local, name
    urllib3 = answers[0]
    assert len(urllib3.advisories) == 7
    crlf = next(a for a in urllib3.advisories if a.id == "PYSEC-2019-132")
    assert {"CVE-2019-11236", "GHSA-r64q-w8jr-g9qp"} <= crlf.aliases
    assert crlf.fixed_versions == ("1.24.3",)


@pytest.mark.online
def test_real_osv_api_answers_or_says_why() -> None:
    """api.osv.dev is unreachable from the test machines: that must be a short SKIPPED."""
    (answer,), _ = lookups(OSV_API_URL, [("urllib3", "1.24.1")], retries=1, timeout=10)
    if answer.status is Status.OK:
        assert "PYSEC-2019-132" in {a.id for a in answer.advisories}
    else:
        assert answer.status is Status.SKIPPED
        assert (answer.reason or "").startswith(f"OSV API at {OSV_API_URL} is unreachable")
