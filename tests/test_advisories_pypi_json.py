"""The pypi-json source (per-version JSON) against a fake JSON API and the hermetic index."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from fake_osv import FakePypiJson
from index_server import LocalIndex

from shouldi.advisories.pypi_json import PypiJsonSource, json_root_for, release_json_url
from shouldi.index import make_client
from shouldi.index.jsonapi import fetch_metadata
from shouldi.results import AdvisoryAnswer, PackageMetadata, Status

URLLIB3_VULNS = [
    {
        "id": "PYSEC-2019-132",
        "aliases": ["CVE-2019-11236", "GHSA-r64q-w8jr-g9qp"],
        "details": "In the urllib3 library through 1.24.1, CRLF injection is possible.\nMore.",
        "summary": None,
        "fixed_in": ["1.24.3"],
        "link": "/vulnerability/PYSEC-2019-132",  # relative: resolved against the response URL
        "source": "osv",
        "withdrawn": None,
    },
    {"id": "PYSEC-OLD", "details": "withdrawn", "withdrawn": "2020-01-01T00:00:00Z"},
    "not an entry",
]


def ask(
    root: str | None,
    name: str,
    version: str,
    *,
    metadata: PackageMetadata | None = None,
    retries: int = 0,
    timeout: float = 5.0,
) -> AdvisoryAnswer:
    async def main() -> AdvisoryAnswer:
        async with make_client(timeout=timeout, retries=retries, backoff=0.0) as client:
            source = PypiJsonSource(client, root, metadata=metadata)
            return await source.lookup(name, version, None)

    return asyncio.run(main())


def test_roots_and_urls() -> None:
    assert json_root_for("https://pypi.org/simple/") == "https://pypi.org"
    assert json_root_for("https://mirror.example/pypi/simple") == "https://mirror.example/pypi"
    assert json_root_for("https://mirror.example/index/") is None
    assert (
        release_json_url("https://pypi.org", "Zope.Interface", "5.0+local")
        == "https://pypi.org/pypi/zope-interface/5.0%2Blocal/json"
    )


def test_the_release_list_is_read(fake_pypi_json: FakePypiJson) -> None:
    fake_pypi_json.add("urllib3", "1.24.1", URLLIB3_VULNS)
    answer = ask(fake_pypi_json.root, "URLLib3", "1.24.1")
    assert (answer.source, answer.status, answer.reason) == ("pypi-json", Status.OK, None)
    (advisory,) = answer.advisories  # the withdrawn one and the junk entry are dropped
    assert advisory.id == "PYSEC-2019-132"
    assert advisory.aliases == {"CVE-2019-11236", "GHSA-r64q-w8jr-g9qp"}
    assert advisory.summary == "In the urllib3 library through 1.24.1, CRLF injection is possible."
    assert advisory.fixed_versions == ("1.24.3",)
    assert advisory.url == f"{fake_pypi_json.root}/vulnerability/PYSEC-2019-132"
    assert answer.data_time is not None
    assert fake_pypi_json.requests == ["/pypi/urllib3/1.24.1/json"]


def test_a_clean_release_is_ok(fake_pypi_json: FakePypiJson) -> None:
    fake_pypi_json.add("urllib3", "2.2.0", [])
    answer = ask(fake_pypi_json.root, "urllib3", "2.2.0")
    assert (answer.status, answer.advisories) == (Status.OK, ())


def test_not_served_is_skipped(fake_pypi_json: FakePypiJson) -> None:
    answer = ask(fake_pypi_json.root, "urllib3", "1.24.1")
    url = f"{fake_pypi_json.root}/pypi/urllib3/1.24.1/json"
    assert (answer.status, answer.reason) == (
        Status.SKIPPED,
        f"per-version JSON not served by this index ({url})",
    )


@pytest.mark.parametrize(
    ("kind", "status", "reason"),
    [
        ("503", Status.SKIPPED, "{url}: HTTP 503"),
        ("429", Status.SKIPPED, "{url}: HTTP 429"),
        ("no-list", Status.SKIPPED, "{url} lists no vulnerabilities (a mirror's JSON?)"),
        ("garbage", Status.ERROR, "{url} answered garbage, not JSON"),
        ("html", Status.ERROR, "{url} answered garbage, not JSON"),
        ("wrong-version", Status.ERROR, "{url} answered for version 0.0.0, not 1.24.1"),
    ],
)
def test_faults_are_never_ok(
    fake_pypi_json: FakePypiJson, kind: str, status: Status, reason: str
) -> None:
    fake_pypi_json.add("urllib3", "1.24.1", URLLIB3_VULNS)
    fake_pypi_json.fault(kind)
    answer = ask(fake_pypi_json.root, "urllib3", "1.24.1", retries=1)
    url = f"{fake_pypi_json.root}/pypi/urllib3/1.24.1/json"
    assert (answer.status, answer.reason, answer.advisories) == (status, reason.format(url=url), ())


def test_transient_5xx_is_retried(fake_pypi_json: FakePypiJson) -> None:
    fake_pypi_json.add("urllib3", "1.24.1", URLLIB3_VULNS)
    fake_pypi_json.fault("500", times=2)
    answer = ask(fake_pypi_json.root, "urllib3", "1.24.1", retries=2)
    assert answer.status is Status.OK
    assert len(fake_pypi_json.requests) == 3


def test_timeout_is_skipped(fake_pypi_json: FakePypiJson) -> None:
    fake_pypi_json.add("urllib3", "1.24.1", URLLIB3_VULNS)
    fake_pypi_json.fault("stall")
    started = time.perf_counter()
    answer = ask(fake_pypi_json.root, "urllib3", "1.24.1", timeout=0.3)
    assert time.perf_counter() - started < 1.5
    assert answer.status is Status.SKIPPED
    assert (answer.reason or "").startswith("PyPI JSON API unreachable: ")
    assert "timed out" in (answer.reason or "")


def test_no_json_api_is_skipped() -> None:
    answer = ask(None, "urllib3", "1.24.1")
    assert (answer.status, answer.reason) == (Status.SKIPPED, "this index has no PyPI JSON API")


def test_project_json_covers_the_latest_release_where_the_endpoint_is_missing(
    local_index: LocalIndex, with_client: Any
) -> None:
    """The hermetic index serves the project JSON but not the per-version one (404)."""
    local_index.add_raw_file(
        "cleanpkg", "1.0.0", "cleanpkg-1.0.0.extra.tar.gz", b"x",
        vulnerabilities=[{"id": "PYSEC-2024-1", "fixed_in": ["1.0.1"]}],
    )  # fmt: skip
    local_index.add_raw_file("cleanpkg", "0.9.0", "cleanpkg-0.9.0.tar.gz", b"x")
    root = json_root_for(local_index.url)

    async def main(client: httpx.AsyncClient) -> list[AdvisoryAnswer]:
        out = []
        for version in ("1.0.0", "0.9.0"):
            meta = await fetch_metadata(client, local_index.url, "cleanpkg", version)
            out.append(await PypiJsonSource(client, root, metadata=meta).lookup("cleanpkg", version, None))
        return out

    latest, older = with_client(main)
    assert latest.status is Status.OK
    assert [a.id for a in latest.advisories] == ["PYSEC-2024-1"]
    assert older.status is Status.SKIPPED
    assert (older.reason or "").startswith("per-version JSON not served by this index (")
    assert "pypi/cleanpkg/0.9.0/json" in local_index.paths()  # it was asked, and said 404


@pytest.mark.online
def test_real_pypi_vouches_for_an_old_release_or_says_why() -> None:
    answer = ask("https://pypi.org", "urllib3", "1.24.1", retries=1, timeout=20)
    if answer.status is Status.OK:
        assert "PYSEC-2019-132" in {a.id for a in answer.advisories}
    else:  # the proxy in front of PyPI here does not serve the per-version endpoint
        assert answer.status is Status.SKIPPED
        assert (answer.reason or "").startswith("per-version JSON not served by this index")
