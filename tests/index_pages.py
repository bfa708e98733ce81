"""What the local test index serves: PEP 691/503 pages and JSON API documents, as bytes.

Pure functions of the index's projects, so tests can also look at exactly what the server
sends. File URLs are relative to the page's path (``../../files/x``), as on PyPI's JSON
API, so clients must resolve them against the response URL.
"""

from __future__ import annotations

import hashlib
import html
import json
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from packaging.utils import canonicalize_name
from packaging.version import Version

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@dataclass
class IndexFile:
    project: str
    version: str
    filename: str
    data: bytes
    upload_time: datetime
    yanked: bool | str = False  # a string is the reason
    requires_python: str | None = None
    metadata: bytes | None = None  # core metadata served as <file>.metadata (PEP 658)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def metadata_sha256(self) -> str | None:
        return hashlib.sha256(self.metadata).hexdigest() if self.metadata is not None else None


@dataclass
class Project:
    name: str  # as first added (display name)
    files: list[IndexFile] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # overrides of the JSON API info
    vulnerabilities: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ownership: dict[str, Any] | None = None


def vulnerability(v: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON API vulnerability entry: PyPI's keys with defaults, overridden by ``v``."""
    out: dict[str, Any] = {"aliases": [], "details": "", "summary": None, "fixed_in": []}
    out.update({"link": None, "source": "osv", "withdrawn": None})
    out.update(v)
    return out


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _relative(filename: str, page_path: str) -> str:
    return posixpath.relpath(f"files/{quote(filename)}", posixpath.dirname(page_path))


def _html(title: str, body: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.1">'
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>\n"
        f"{body}</body></html>\n"
    ).encode()


def root_page(names: list[str], as_json: bool) -> tuple[bytes, str]:
    """The simple root listing every project: (body, content type)."""
    if as_json:
        doc = {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in names]}
        return json.dumps(doc).encode(), JSON_TYPE
    links = "".join(
        f'<a href="{quote(str(canonicalize_name(n)))}/">{html.escape(n)}</a>\n' for n in names
    )
    return _html("Simple index", links), "text/html"


#: How a page announces ``.metadata`` files: PEP 714's name, or PEP 658's original one.
METADATA_KEYS = {"pep714": "core-metadata", "pep658": "dist-info-metadata"}


def _metadata_json(f: IndexFile, style: str | None, hashed: bool) -> dict[str, Any]:
    if style is None or f.metadata is None:
        return {"core-metadata": False}
    value: Any = {"sha256": f.metadata_sha256} if hashed else True
    key = "core-metadata" if style == "pep714" else "data-dist-info-metadata"
    return {key: value}


def _metadata_attr(f: IndexFile, style: str | None, hashed: bool) -> str:
    if style is None or f.metadata is None:
        return ""
    value = f"sha256={f.metadata_sha256}" if hashed else "true"
    return f' data-{METADATA_KEYS[style]}="{value}"'


def project_page(
    name: str,
    files: list[IndexFile],
    path: str,
    as_json: bool,
    *,
    metadata_style: str | None = None,
    metadata_hashed: bool = True,
) -> tuple[bytes, str]:
    """A project's page served at ``path`` (e.g. ``simple/x/``): (body, content type).

    ``metadata_style`` ("pep714" or "pep658") announces the files' ``.metadata`` files.
    """
    rel = {f.filename: _relative(f.filename, path) for f in files}
    if as_json:
        entries = [
            {
                "filename": f.filename,
                "url": rel[f.filename],
                "hashes": {"sha256": f.sha256},
                "requires-python": f.requires_python,
                "size": len(f.data),
                "upload-time": _iso(f.upload_time),
                "yanked": f.yanked,
                **_metadata_json(f, metadata_style, metadata_hashed),
            }
            for f in files
        ]
        versions = sorted({f.version for f in files}, key=Version)
        doc = {"meta": {"api-version": "1.1"}, "name": name, "versions": versions, "files": entries}
        return json.dumps(doc).encode(), JSON_TYPE
    links = []
    for f in files:
        attrs = f'href="{html.escape(rel[f.filename])}#sha256={f.sha256}"'
        if f.requires_python:
            attrs += f' data-requires-python="{html.escape(f.requires_python)}"'
        if f.yanked is not False:
            reason = f.yanked if isinstance(f.yanked, str) else ""
            attrs += f' data-yanked="{html.escape(reason)}"'
        attrs += _metadata_attr(f, metadata_style, metadata_hashed)
        links.append(f"<a {attrs}>{html.escape(f.filename)}</a><br/>\n")
    return _html(f"Links for {name}", "".join(links)), "text/html"


def latest_version(by_version: Mapping[str, list[IndexFile]]) -> str:
    """PyPI's info.version: the newest final release with a live file, else the newest."""
    live = [v for v, fs in by_version.items() if any(f.yanked is False for f in fs)]
    finals = [v for v in live if not Version(v).is_prerelease]
    return max(finals or live or list(by_version), key=Version)


def _file_doc(f: IndexFile, path: str) -> dict[str, Any]:
    return {
        "filename": f.filename,
        "url": _relative(f.filename, path),
        "digests": {"sha256": f.sha256, "md5": hashlib.md5(f.data).hexdigest()},
        "packagetype": "bdist_wheel" if f.filename.endswith(".whl") else "sdist",
        "size": len(f.data),
        "upload_time": f.upload_time.strftime("%Y-%m-%dT%H:%M:%S"),
        "upload_time_iso_8601": _iso(f.upload_time),
        "requires_python": f.requires_python,
        "yanked": f.yanked is not False,
        "yanked_reason": f.yanked if isinstance(f.yanked, str) else None,
    }


def json_api(project: Project, path: str) -> bytes:
    """``/pypi/<name>/json`` served at ``path``: info, releases, urls, vulnerabilities, ownership."""
    by_version: dict[str, list[IndexFile]] = {}
    for f in project.files:
        by_version.setdefault(f.version, []).append(f)
    latest = latest_version(by_version)
    info: dict[str, Any] = {
        "name": project.name,
        "version": latest,
        "summary": f"{project.name} (test package)",
        "license": None,
        "license_expression": None,
        "classifiers": [],
        "project_urls": None,
        "home_page": None,
        "requires_dist": None,
        "requires_python": None,
        "yanked": False,
        "yanked_reason": None,
    }
    info.update(project.info)
    owners = {"organization": None, "roles": [{"role": "Owner", "user": "tester"}]}
    doc = {
        "info": info,
        "last_serial": 1,
        "releases": {v: [_file_doc(f, path) for f in fs] for v, fs in by_version.items()},
        "urls": [_file_doc(f, path) for f in by_version.get(latest, [])],
        "vulnerabilities": project.vulnerabilities.get(latest, []),
        "ownership": project.ownership or owners,
    }
    return json.dumps(doc).encode()


def json_version_api(project: Project, version: str, path: str) -> bytes:
    """``/pypi/<name>/<version>/json``: that release's info, urls and vulnerabilities."""
    mine = [f for f in project.files if f.version == version]
    info = json.loads(json_api(project, path))["info"]
    info["version"] = version
    doc = {
        "info": info,
        "last_serial": 1,
        "urls": [_file_doc(f, path) for f in mine],
        "vulnerabilities": project.vulnerabilities.get(version, []),
    }
    return json.dumps(doc).encode()
