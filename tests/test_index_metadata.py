"""The JSON API: fields, vulnerabilities only for the latest release, absent API, garbage."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from index_server import LocalIndex

from shouldi.index import PackageIndexError, fetch_metadata, json_api_url
from shouldi.index.jsonapi import json_release_files, parse_metadata
from shouldi.results import PackageMetadata

T0 = datetime(2021, 3, 1, 12, 0, tzinfo=timezone.utc)
T1 = datetime(2022, 6, 1, 8, 30, tzinfo=timezone.utc)
T2 = datetime(2023, 9, 9, 9, 9, tzinfo=timezone.utc)
VULN = {
    "id": "GHSA-aaaa-bbbb-cccc",
    "aliases": ["CVE-2023-0001"],
    "summary": "Remote code execution in vulnpkg",
    "details": "Long text.\nMore.",
    "fixed_in": ["2.0.1"],
    "link": "https://osv.dev/vulnerability/GHSA-aaaa-bbbb-cccc",
}


def meta(with_client: Any, index: LocalIndex, name: str, version: str) -> PackageMetadata:
    return with_client(lambda c: fetch_metadata(c, index.url, name, version))  # type: ignore[no-any-return]


@pytest.fixture
def vulnpkg(local_index: LocalIndex) -> LocalIndex:
    files = {"v/__init__.py": "pass\n"}
    local_index.add_sdist(files, "VulnPkg", "1.0", upload_time=T0)
    local_index.add_sdist(files, "VulnPkg", "1.5", upload_time=T1, yanked="bad metadata")
    local_index.add_sdist(
        files,
        "VulnPkg",
        "2.0",
        upload_time=T2,
        vulnerabilities=[VULN, {"id": "OLD-1", "withdrawn": "2023-01-01"}],
        info={
            "summary": "A vulnerable package",
            "license": "MIT License\n\nPermission is hereby granted...",
            "classifiers": ["License :: OSI Approved :: MIT License"],
            "project_urls": {"Source": "https://example.org/vulnpkg"},
            "home_page": "https://example.org",
            "requires_dist": ["requests>=2"],
        },
    )
    local_index.add_sdist(files, "VulnPkg", "3.0a1", upload_time=T2.replace(year=2024))
    return local_index


def test_latest_release_metadata(vulnpkg: LocalIndex, with_client: Any) -> None:
    m = meta(with_client, vulnpkg, "vulnpkg", "2.0")
    assert m.available
    assert (m.name, m.version, m.latest_version) == (
        "vulnpkg",
        "2.0",
        "2.0",
    )  # pre-release not latest
    assert m.summary == "A vulnerable package"
    assert m.license == "MIT License"  # first line of a pasted license text
    assert m.classifiers == ("License :: OSI Approved :: MIT License",)
    assert dict(m.project_urls) == {"Source": "https://example.org/vulnpkg"}
    assert m.home_page == "https://example.org"
    assert m.requires_dist == ("requests>=2",)
    assert m.release_count == 4
    assert m.first_release_time == T0
    assert m.release_time == T2
    assert m.latest_release_time == T2
    assert (m.yanked, m.yanked_reason) == (False, None)
    assert m.ownership == {"organization": None, "roles": [{"role": "Owner", "user": "tester"}]}
    assert m.vulnerabilities is not None
    (adv,) = m.vulnerabilities  # the withdrawn one is dropped
    assert adv.id == "GHSA-aaaa-bbbb-cccc"
    assert adv.aliases == {"CVE-2023-0001"}
    assert adv.summary == "Remote code execution in vulnpkg"
    assert adv.fixed_versions == ("2.0.1",)
    assert adv.sources == {"pypi-json"}
    assert adv.url == VULN["link"]
    assert vulnpkg.paths() == ["pypi/vulnpkg/json"]


def test_older_release_gets_no_vulnerabilities_and_its_own_state(
    vulnpkg: LocalIndex, with_client: Any
) -> None:
    m = meta(with_client, vulnpkg, "VulnPkg", "1.5")
    assert m.vulnerabilities is None  # the API only speaks for the latest release
    assert m.requires_dist == ()  # info.requires_dist belongs to 2.0
    assert (m.yanked, m.yanked_reason) == (True, "bad metadata")
    assert m.release_time == T1
    assert m.latest_version == "2.0"
    assert m.latest_release_time == T2


def test_latest_without_vulnerability_data_is_empty_not_unknown(
    local_index: LocalIndex, with_client: Any
) -> None:
    m = meta(with_client, local_index, "cleanpkg", "1.0.0")
    assert m.vulnerabilities == ()
    assert m.summary == "cleanpkg (test package)"
    assert m.license is None


def test_relative_file_urls_resolve_against_the_response_url(vulnpkg: LocalIndex) -> None:
    doc = vulnpkg.respond("pypi/vulnpkg/json", accept="")  # exactly what the server sends
    import json

    data = json.loads(doc.body)
    assert data["releases"]["2.0"][0]["url"] == "../../files/vulnpkg-2.0.tar.gz"
    files = json_release_files(data, "2.0", vulnpkg.base_url + "pypi/vulnpkg/json")
    assert [f.url for f in files] == [vulnpkg.file_url("vulnpkg-2.0.tar.gz")]
    assert files[0].sha256 == vulnpkg.projects["vulnpkg"].files[2].sha256


def test_no_json_api_is_unavailable_not_an_error(
    local_index_factory: Any, with_client: Any
) -> None:
    index = local_index_factory(json_api=False)
    m = meta(with_client, index, "cleanpkg", "1.0.0")
    assert m == PackageMetadata(name="cleanpkg", version="1.0.0", available=False)
    assert index.paths() == ["pypi/cleanpkg/json"]


def test_index_url_without_simple_has_no_json_api(with_client: Any) -> None:
    assert json_api_url("https://idx.example/root/", "x") is None
    assert (
        json_api_url("https://mirror.example/simple", "Zope.Interface")
        == "https://mirror.example/pypi/zope-interface/json"
    )
    assert json_api_url("https://m.example/a/simple/", "x") == "https://m.example/a/pypi/x/json"
    m = with_client(lambda c: fetch_metadata(c, "https://idx.example/root/", "x", "1"))
    assert not m.available  # and no request was attempted (the host does not exist)


def test_html_answer_means_no_json_api() -> None:
    # some servers answer every path with an HTML page: that is "no JSON API", not garbage
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, html="<html>Welcome to our mirror</html>")

    async def main() -> PackageMetadata:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await fetch_metadata(client, "https://m.example/simple/", "cleanpkg", "1.0.0")

    assert not asyncio.run(main()).available
    assert seen == ["https://m.example/pypi/cleanpkg/json"]


@pytest.mark.parametrize("kind", ["garbage", "500"])
def test_json_api_garbage_or_failure_is_an_error(
    local_index: LocalIndex, with_client: Any, kind: str
) -> None:
    local_index.fault("pypi/*", kind)
    with pytest.raises(PackageIndexError, match="garbage" if kind == "garbage" else "HTTP 500"):
        meta(with_client, local_index, "cleanpkg", "1.0.0")
    assert len(local_index.requests) == (1 if kind == "garbage" else 2)  # 5xx retried once


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"info": {"license_expression": "Apache-2.0", "license": "whatever"}}, "Apache-2.0"),
        ({"info": {"license": "  "}}, None),
        ({"info": {"license": "x" * 500}}, "x" * 200),
    ],
    ids=["expression-wins", "blank", "capped"],
)
def test_license_field(data: dict[str, Any], expected: str | None) -> None:
    assert parse_metadata(data, "p", "1", "https://x/pypi/p/json").license == expected


def test_document_without_releases_leaves_history_unknown() -> None:
    m = parse_metadata({"info": {"version": "1.0"}}, "p", "1.0", "https://x/pypi/p/json")
    assert m.available
    assert (m.release_count, m.first_release_time, m.release_time) == (None, None, None)
    assert m.latest_version == "1.0"
    assert m.vulnerabilities is None  # no "vulnerabilities" key: unknown, not "none known"
