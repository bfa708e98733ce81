"""Project metadata from the PyPI JSON API (``<index>/../pypi/<name>/json``).

Only the project endpoint is used: ``/pypi/<name>/<version>/json`` is not served by every
mirror. Its ``info`` block (summary, license, classifiers, ...) describes the LATEST
release; ``requires_dist`` and ``vulnerabilities`` are therefore kept only when the
requested version is the latest, never attributed to another version. ``history`` (every
version with its first upload) feeds the risk model's as-of-upload features. An index without a
JSON API is normal (``available=False``), not an error; a JSON API answering garbage is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

import httpx
from packaging.version import InvalidVersion, Version

from shouldi.index.client import get_page
from shouldi.index.errors import PackageIndexError
from shouldi.index.simple import parse_datetime
from shouldi.index.spec import normalize_name
from shouldi.results import Advisory, Artifact, PackageMetadata, ReleaseUpload, VulnId

__all__ = ["fetch_metadata", "json_api_url", "json_release_files", "parse_metadata",
           "release_history"]

_LICENSE_MAX = 200


def json_api_url(index_url: str, name: str) -> str | None:
    """The JSON API URL for ``name``: the index's final ``simple/`` becomes ``pypi/<name>/json``."""
    parts = urlsplit(index_url)
    path = parts.path.rstrip("/")
    if path.rsplit("/", 1)[-1] != "simple":
        return None
    path = path[: -len("simple")] + f"pypi/{normalize_name(name)}/json"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


async def fetch_metadata(
    client: httpx.AsyncClient, index_url: str, name: str, version: str
) -> PackageMetadata:
    """What the JSON API says about ``name`` at ``version``; ``available=False`` if no API."""
    name = normalize_name(name)
    unavailable = PackageMetadata(name=name, version=version, available=False)
    url = json_api_url(index_url, name)
    if url is None:
        return unavailable
    page = await get_page(client, url, accept="application/json")
    if page.status in (404, 410):
        return unavailable
    if page.status != 200:
        raise PackageIndexError(f"{url}: HTTP {page.status}")
    if not (page.content_type == "application/json" or page.content_type.endswith("+json")):
        return unavailable
    try:
        data = json.loads(page.body)
    except (ValueError, UnicodeDecodeError) as e:
        raise PackageIndexError(f"{url}: garbage instead of JSON API data") from e
    if not isinstance(data, dict) or not isinstance(data.get("info"), dict):
        raise PackageIndexError(f"{url}: JSON API answer has no 'info' object")
    return parse_metadata(data, name, version, page.url)


def _version(text: object) -> Version | None:
    try:
        return Version(text) if isinstance(text, str) else None
    except InvalidVersion:
        return None


def _releases(data: Mapping[str, object]) -> dict[Version, list[Mapping[str, object]]]:
    raw = data.get("releases")
    out: dict[Version, list[Mapping[str, object]]] = {}
    if isinstance(raw, dict):
        for key, files in raw.items():
            version = _version(key)
            if version is not None and isinstance(files, list):
                out[version] = [f for f in files if isinstance(f, dict)]
    return out


def json_release_files(
    data: Mapping[str, object], version: str, page_url: str
) -> tuple[Artifact, ...]:
    """The files of one release as artifacts, URLs resolved against the response URL."""
    wanted = _version(version)
    files = _releases(data).get(wanted, []) if wanted is not None else []
    out = []
    for f in files:
        filename, url = f.get("filename"), f.get("url")
        if not isinstance(filename, str) or not isinstance(url, str):
            continue
        digests = f.get("digests")
        sha256 = digests.get("sha256") if isinstance(digests, dict) else None
        size, requires_python = f.get("size"), f.get("requires_python")
        out.append(
            Artifact(
                filename=filename,
                url=urldefrag(urljoin(page_url, url)).url,
                sha256=sha256 if isinstance(sha256, str) else None,
                kind="wheel" if f.get("packagetype") == "bdist_wheel" else "sdist",
                size=size if isinstance(size, int) else None,
                upload_time=_upload_time(f),
                yanked=f.get("yanked") is True,
                requires_python=requires_python if isinstance(requires_python, str) else None,
            )
        )
    return tuple(out)


def _upload_time(f: Mapping[str, object]) -> datetime | None:
    return parse_datetime(f.get("upload_time_iso_8601")) or parse_datetime(f.get("upload_time"))


def _first_upload(files: list[Mapping[str, object]]) -> datetime | None:
    times = [t for t in map(_upload_time, files) if t is not None]
    return min(times) if times else None


def release_history(data: Mapping[str, object]) -> tuple[ReleaseUpload, ...]:
    """Every version with at least one dated file, by first upload (then version text).

    Versions that are not PEP 440 are kept (they were releases all the same); a version whose
    files all lack an upload time is left out (it cannot be placed in time)."""
    raw = data.get("releases")
    out = []
    for key, files in (raw.items() if isinstance(raw, dict) else ()):
        if not isinstance(key, str) or not isinstance(files, list):
            continue
        dicts: list[Mapping[str, object]] = [f for f in files if isinstance(f, dict)]
        first = _first_upload(dicts)
        if first is not None:
            out.append(ReleaseUpload(key, first, all(f.get("yanked") is True for f in dicts)))
    return tuple(sorted(out, key=lambda r: (r.uploaded, r.version)))


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _license(info: Mapping[str, object]) -> str | None:
    """SPDX expression if given, else the first line of ``license`` (some hold a whole text)."""
    expression = _text(info.get("license_expression"))
    if expression:
        return expression
    text = _text(info.get("license"))
    return text.splitlines()[0][:_LICENSE_MAX] if text else None


def _strings(value: object) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def advisory_from_pypi(vuln: Mapping[str, object]) -> Advisory | None:
    """One entry of ``vulnerabilities`` as an Advisory; None if withdrawn or without id."""
    vid = vuln.get("id")
    if not isinstance(vid, str) or not vid or vuln.get("withdrawn"):
        return None
    summary = _text(vuln.get("summary")) or _text(vuln.get("details")) or ""
    link = vuln.get("link")
    return Advisory(
        id=VulnId(vid),
        aliases=frozenset(_strings(vuln.get("aliases"))),
        summary=summary.splitlines()[0] if summary else "",
        fixed_versions=_strings(vuln.get("fixed_in")),
        sources=frozenset({"pypi-json"}),
        url=link if isinstance(link, str) else None,
    )


def _vulnerabilities(data: Mapping[str, object]) -> tuple[Advisory, ...] | None:
    raw = data.get("vulnerabilities")
    if not isinstance(raw, list):
        return None
    found = (advisory_from_pypi(v) for v in raw if isinstance(v, dict))
    return tuple(a for a in found if a is not None)


def parse_metadata(
    data: Mapping[str, object], name: str, version: str, page_url: str
) -> PackageMetadata:
    """Build :class:`PackageMetadata` from a decoded project JSON document."""
    info = data.get("info")
    info = info if isinstance(info, dict) else {}
    releases = _releases(data)
    wanted, latest = _version(version), _version(info.get("version"))
    is_latest = wanted is not None and wanted == latest
    mine = json_release_files(data, version, page_url)
    yanked: bool | None = all(a.yanked for a in mine) if mine else None
    yanked_reason = None
    if mine and yanked and wanted is not None:
        reasons = (_text(f.get("yanked_reason")) for f in releases.get(wanted, []))
        yanked_reason = next((r for r in reasons if r), None)
    elif not mine and is_latest:
        yanked = bool(info.get("yanked"))
        yanked_reason = _text(info.get("yanked_reason"))
    urls = info.get("project_urls")
    firsts = [t for t in map(_first_upload, releases.values()) if t is not None]
    ownership = data.get("ownership")
    return PackageMetadata(
        name=name,
        version=version,
        available=True,
        summary=_text(info.get("summary")),
        license=_license(info),
        classifiers=_strings(info.get("classifiers")),
        project_urls={k: v for k, v in urls.items() if isinstance(v, str)}
        if isinstance(urls, dict)
        else {},
        home_page=_text(info.get("home_page")),
        requires_dist=_strings(info.get("requires_dist")) if is_latest else (),
        release_count=sum(1 for fs in releases.values() if fs) if "releases" in data else None,
        first_release_time=min(firsts) if firsts else None,
        release_time=min((a.upload_time for a in mine if a.upload_time), default=None),
        latest_version=str(info["version"]) if isinstance(info.get("version"), str) else None,
        latest_release_time=_first_upload(releases.get(latest, [])) if latest else None,
        yanked=yanked,
        yanked_reason=yanked_reason,
        vulnerabilities=_vulnerabilities(data) if is_latest else None,
        ownership=ownership if isinstance(ownership, dict) else None,
        history=release_history(data),
    )
