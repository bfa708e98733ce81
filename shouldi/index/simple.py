"""Reading a simple repository (PEP 503 HTML, PEP 691 JSON): the files of one project.

We ask for PEP 691 JSON and accept HTML; the response's media type decides the parser.
Relative URLs resolve against the response's final URL (after redirects), or an HTML
``<base href>``. Only http(s) file URLs are kept.

PEP 658/714: a file whose core metadata the index serves at ``<file url>.metadata`` is
announced by ``core-metadata`` (JSON) / ``data-core-metadata`` (HTML), or by the older
PEP 658 names ``data-dist-info-metadata``; the new name wins when both are given, as PEP
714 asks. The value is ``true`` or a hash mapping (``sha256=<hex>`` in HTML); a hash of
another kind still means "served", only without a digest we can check.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from html.parser import HTMLParser
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from shouldi.index.errors import PackageIndexError
from shouldi.results import Artifact

__all__ = [
    "ACCEPT",
    "HTML_TYPES",
    "JSON_TYPE",
    "parse_datetime",
    "parse_html_page",
    "parse_json_page",
    "parse_project_names",
    "parse_simple_page",
]

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPES = frozenset({"text/html", "application/vnd.pypi.simple.v1+html"})
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"


def parse_datetime(value: object) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime (naive means UTC, as on PyPI); else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed


def _kind(filename: str) -> str:
    return "wheel" if filename.endswith(".whl") else "sdist"


def _http_url(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def parse_simple_page(content_type: str, body: bytes, page_url: str) -> tuple[Artifact, ...]:
    """Parse a project page by its media type; anything else is a garbage answer."""
    if content_type == JSON_TYPE:
        return parse_json_page(body, page_url)
    if content_type in HTML_TYPES:
        return parse_html_page(body.decode("utf-8", errors="replace"), page_url)
    raise PackageIndexError(f"{page_url}: unexpected content type {content_type or 'none'!r}")


def _load_json(body: bytes, page_url: str) -> Mapping[str, object]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise PackageIndexError(f"{page_url}: garbage instead of a simple index page") from e
    if not isinstance(data, dict):
        raise PackageIndexError(f"{page_url}: garbage instead of a simple index page")
    meta = data.get("meta")
    version = meta.get("api-version") if isinstance(meta, dict) else None
    if not isinstance(version, str) or version.split(".")[0] != "1":
        raise PackageIndexError(f"{page_url}: unsupported simple API version {version!r}")
    return data


def parse_json_page(body: bytes, page_url: str) -> tuple[Artifact, ...]:
    """PEP 691 project page -> artifacts (files with bad fields are dropped, not fatal)."""
    files = _load_json(body, page_url).get("files")
    if not isinstance(files, list):
        raise PackageIndexError(f"{page_url}: simple index page has no file list")
    out: list[Artifact] = []
    for entry in files:
        if not isinstance(entry, dict):
            continue
        filename, url = entry.get("filename"), entry.get("url")
        if not isinstance(filename, str) or not isinstance(url, str):
            continue
        url = urljoin(page_url, url)
        if not _http_url(url):
            continue
        hashes = entry.get("hashes")
        sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
        yanked = entry.get("yanked", False)
        requires_python = entry.get("requires-python")
        size = entry.get("size")
        served, digest = _json_core_metadata(entry)
        out.append(
            Artifact(
                filename=filename,
                url=urldefrag(url).url,
                sha256=sha256.lower() if isinstance(sha256, str) else None,
                kind=_kind(filename),
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                upload_time=parse_datetime(entry.get("upload-time")),
                yanked=yanked is True or isinstance(yanked, str),
                requires_python=requires_python if isinstance(requires_python, str) else None,
                core_metadata=served,
                core_metadata_sha256=digest,
            )
        )
    return tuple(out)


def _json_core_metadata(entry: Mapping[str, object]) -> tuple[bool, str | None]:
    value = entry.get("core-metadata", entry.get("data-dist-info-metadata", False))
    if isinstance(value, dict):
        digest = value.get("sha256")
        return True, digest.lower() if isinstance(digest, str) and digest else None
    return value is True, None


def _html_core_metadata(attrs: Mapping[str, str | None]) -> tuple[bool, str | None]:
    for key in ("data-core-metadata", "data-dist-info-metadata"):
        if key in attrs:
            value = (attrs[key] or "").strip()
            if value.lower() == "false":
                return False, None
            algo, _, digest = value.partition("=")
            return True, digest.lower() if algo.lower() == "sha256" and digest else None
    return False, None


class _AnchorParser(HTMLParser):
    """Collects ``<a>`` tags (attributes and text) and the first ``<base href>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")
        elif tag == "a":
            self._finish()
            self._open, self._text = dict(attrs), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._finish()

    def _finish(self) -> None:
        if self._open is not None:
            self.anchors.append((self._open, "".join(self._text).strip()))
        self._open = None

    def close(self) -> None:
        super().close()
        self._finish()


def _anchors(html: str, page_url: str) -> tuple[str, list[tuple[dict[str, str | None], str]]]:
    parser = _AnchorParser()
    parser.feed(html)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    return base, parser.anchors


def parse_html_page(html: str, page_url: str) -> tuple[Artifact, ...]:
    """PEP 503 project page -> artifacts (data-yanked, data-requires-python, #sha256=)."""
    base, anchors = _anchors(html, page_url)
    out: list[Artifact] = []
    for attrs, text in anchors:
        href = attrs.get("href")
        if not href:
            continue
        url, fragment = urldefrag(urljoin(base, href))
        if not _http_url(url):
            continue
        filename = text or unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        algo, _, digest = fragment.partition("=")
        served, metadata_digest = _html_core_metadata(attrs)
        out.append(
            Artifact(
                filename=filename,
                url=url,
                sha256=digest.lower() if algo == "sha256" and digest else None,
                kind=_kind(filename),
                yanked="data-yanked" in attrs,
                requires_python=attrs.get("data-requires-python") or None,
                core_metadata=served,
                core_metadata_sha256=metadata_digest,
            )
        )
    return tuple(out)


def parse_project_names(content_type: str, body: bytes, page_url: str) -> list[str]:
    """Project names listed on a simple index root (JSON or HTML); garbage gives []."""
    if content_type == JSON_TYPE:
        try:
            projects = _load_json(body, page_url).get("projects")
        except PackageIndexError:
            return []
        if not isinstance(projects, list):
            return []
        return [
            p["name"] for p in projects if isinstance(p, dict) and isinstance(p.get("name"), str)
        ]
    if content_type in HTML_TYPES:
        _, anchors = _anchors(body.decode("utf-8", errors="replace"), page_url)
        return [text for _, text in anchors if text]
    return []
