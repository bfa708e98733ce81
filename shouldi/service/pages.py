"""The firewall's simple-index pages: PEP 503 HTML and PEP 691 JSON, chosen by ``Accept``.

Content negotiation follows PEP 691 as PyPI does it: the media type with the highest
quality wins, ties go to the client's order; ``*/*`` or no ``Accept`` at all gets
``text/html`` (what every old client expects); the ``latest`` aliases name v1; nothing
acceptable is a 406. Responses carry ``Vary: Accept``.

Pages keep what clients decide with: ``requires-python``, ``yanked``, the file's sha256 (in
the URL fragment and ``hashes``), and PEP 658/714 core metadata, announced under both names
(``core-metadata`` and the older ``dist-info-metadata``) as PyPI does, so old and new pips
both use it. File URLs are relative (``../../files/...``), so the pages work behind a proxy
that mounts the service under a prefix. Releases the firewall hides are named in a
``_shouldi`` key (PEP 691 reserves underscore keys for the server) and a paragraph of the
HTML page, with the reason, for the person who wonders where a version went.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from shouldi.index.simple import JSON_TYPE
from shouldi.results import Artifact

__all__ = ["HTML_V1", "JSON_TYPE", "Hidden", "Listed", "negotiate", "project_page", "root_page"]

HTML_V1 = "application/vnd.pypi.simple.v1+html"
_ALIASES = {
    JSON_TYPE: JSON_TYPE, "application/vnd.pypi.simple.latest+json": JSON_TYPE,
    HTML_V1: HTML_V1, "application/vnd.pypi.simple.latest+html": HTML_V1,
    "text/html": "text/html", "text/*": "text/html", "*/*": "text/html",
    "application/*": JSON_TYPE,
}


def negotiate(accept: str | None) -> str | None:
    """The media type to answer with, or None when the client accepts none we serve."""
    if not accept or not accept.strip():
        return "text/html"
    best: tuple[float, int, str] | None = None
    for i, part in enumerate(accept.split(",")[:64]):
        kind, *params = (p.strip() for p in part.split(";"))
        served = _ALIASES.get(kind.lower())
        q = 1.0
        for p in params:
            key, _, value = p.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if served is None or not 0 < q <= 1:
            continue
        if best is None or q > best[0]:
            best = (q, i, served)
    return best[2] if best else None


@dataclass(frozen=True)
class Listed:
    """A file on a project page, with where the firewall serves it."""

    artifact: Artifact
    url: str  # relative to the project page


@dataclass(frozen=True)
class Hidden:
    """A release the firewall hides, and why."""

    version: str
    verdict: str
    reason: str


def file_url(project: str, artifact: Artifact) -> str:
    """Where the firewall serves ``artifact``, relative to ``/simple/<project>/``."""
    return f"../../files/{quote(project)}/{artifact.sha256}/{quote(artifact.filename)}"


def _metadata_value(a: Artifact) -> object:
    if not a.core_metadata:
        return False
    return {"sha256": a.core_metadata_sha256} if a.core_metadata_sha256 else True


def project_page(name: str, files: Sequence[Listed], versions: Sequence[str],
                 hidden: Sequence[Hidden], media: str) -> bytes:
    if media == JSON_TYPE:
        return _project_json(name, files, versions, hidden)
    return _project_html(name, files, hidden)


def _project_json(name: str, files: Sequence[Listed], versions: Sequence[str],
                  hidden: Sequence[Hidden]) -> bytes:
    entries = []
    for f in files:
        a = f.artifact
        entry: dict[str, object] = {
            "filename": a.filename, "url": f.url, "hashes": {"sha256": a.sha256},
            "requires-python": a.requires_python, "yanked": a.yanked,
            "core-metadata": _metadata_value(a), "dist-info-metadata": _metadata_value(a),
        }
        if a.size is not None:
            entry["size"] = a.size
        if a.upload_time is not None:
            entry["upload-time"] = a.upload_time.isoformat().replace("+00:00", "Z")
        entries.append(entry)
    # PEP 700 (api 1.1) makes ``size`` and ``versions`` required: 1.0 when a size is unknown
    full = all(f.artifact.size is not None for f in files)
    doc: dict[str, object] = {"meta": {"api-version": "1.1" if full else "1.0"}, "name": name,
                              "files": entries}
    if full:
        doc["versions"] = list(versions)
    if hidden:
        doc["_shouldi"] = {"hidden": [h.__dict__ for h in hidden]}
    return json.dumps(doc).encode()


def _html(title: str, body: str) -> bytes:
    return ('<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.0">'
            f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>\n"
            f"{body}</body></html>\n").encode()


def _project_html(name: str, files: Sequence[Listed], hidden: Sequence[Hidden]) -> bytes:
    links = []
    for f in files:
        a = f.artifact
        attrs = f'href="{html.escape(f.url)}#sha256={a.sha256}"'
        if a.requires_python:
            attrs += f' data-requires-python="{html.escape(a.requires_python)}"'
        if a.yanked:
            attrs += ' data-yanked=""'
        if a.core_metadata:
            value = f"sha256={a.core_metadata_sha256}" if a.core_metadata_sha256 else "true"
            attrs += f' data-core-metadata="{value}" data-dist-info-metadata="{value}"'
        links.append(f"<a {attrs}>{html.escape(a.filename)}</a><br/>\n")
    for h in hidden:
        links.append(f"<p>hidden by shouldi: {html.escape(name)} {html.escape(h.version)} "
                     f"({html.escape(h.verdict)}): {html.escape(h.reason)}</p>\n")
    return _html(f"Links for {name}", "".join(links))


def root_page(names: Sequence[str], media: str) -> bytes:
    """The root listing: every project, linked to ``<normalised name>/``."""
    from shouldi.index.spec import normalize_name

    if media == JSON_TYPE:
        doc = {"meta": {"api-version": "1.0"}, "projects": [{"name": n} for n in names]}
        return json.dumps(doc).encode()
    links = "".join(f'<a href="{quote(normalize_name(n))}/">{html.escape(n)}</a>\n' for n in names)
    return _html("Simple index", links)
