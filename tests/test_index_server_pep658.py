"""The local test index's PEP 658 files and per-version JSON API (used by other tests)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
from index_server import JSON_TYPE


def get(url: str, accept: str = "*/*") -> httpx.Response:
    return httpx.get(url, headers={"Accept": accept})


def test_metadata_files_only_when_enabled(local_index_factory: Any) -> None:
    plain = local_index_factory(preload=False)
    plain.add_wheel({"a/__init__.py": ""}, "a", "1.0", requires=["b>=1"])
    assert get(plain.file_url("a-1.0-py3-none-any.whl") + ".metadata").status_code == 404
    page = json.loads(get(f"{plain.url}a/", JSON_TYPE).content)
    assert page["files"][0]["core-metadata"] is False

    served = local_index_factory(preload=False, core_metadata="pep714")
    entry = served.add_wheel({"a/__init__.py": ""}, "a", "1.0", requires=["b>=1"])
    served.add_sdist({"a/__init__.py": ""}, "a", "1.0")
    body = get(served.file_url(entry.filename) + ".metadata").content
    assert b"Requires-Dist: b>=1" in body and body == entry.metadata
    page = json.loads(get(f"{served.url}a/", JSON_TYPE).content)
    assert page["files"][0]["core-metadata"] == {"sha256": hashlib.sha256(body).hexdigest()}
    assert page["files"][1]["core-metadata"] is False  # sdists have none, as on PyPI
    html = get(f"{served.url}a/", "text/html").text
    assert f'data-core-metadata="sha256={hashlib.sha256(body).hexdigest()}"' in html

    legacy = local_index_factory(preload=False, core_metadata="pep658", metadata_hashed=False)
    legacy.add_wheel({"a/__init__.py": ""}, "a", "1.0")
    page = json.loads(get(f"{legacy.url}a/", JSON_TYPE).content)
    assert page["files"][0]["data-dist-info-metadata"] is True
    assert 'data-dist-info-metadata="true"' in get(f"{legacy.url}a/", "text/html").text


def test_per_version_json_with_vulnerabilities(local_index_factory: Any) -> None:
    index = local_index_factory(preload=False)
    index.add_sdist({"v/__init__.py": ""}, "vulny", "1.0")
    index.add_sdist({"v/__init__.py": ""}, "vulny", "2.0")
    url = f"{index.base_url}pypi/vulny/1.0/json"
    assert get(url).status_code == 404  # off by default, as on mirrors without it
    index.version_json = True
    doc = get(url).json()
    assert doc["info"]["version"] == "1.0" and doc["vulnerabilities"] == []
    assert [f["filename"] for f in doc["urls"]] == ["vulny-1.0.tar.gz"]
    index.set_vulnerabilities("vulny", "1.0", [{"id": "PYSEC-1", "fixed_in": ["2.0"]}])
    doc = get(url).json()
    assert [(v["id"], v["fixed_in"]) for v in doc["vulnerabilities"]] == [("PYSEC-1", ["2.0"])]
    assert get(f"{index.base_url}pypi/vulny/2.0/json").json()["vulnerabilities"] == []
    assert get(f"{index.base_url}pypi/vulny/3.0/json").status_code == 404
    assert get(f"{index.base_url}pypi/vulny/json").json()["vulnerabilities"] == []  # latest is 2.0
