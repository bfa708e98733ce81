"""A hermetic PyPI-compatible index on 127.0.0.1 for the whole test suite.

One threaded HTTP server per test session hosts many independent indexes, each under its
own path prefix (``/<key>/simple/``), so every test gets a fresh index (its own projects,
faults and request log) without starting a server. Each index serves:

- ``simple/`` and ``simple/<name>/``: PEP 691 JSON when asked for it, else PEP 503 HTML;
  file URLs are RELATIVE (``../../files/x``), non-normalised names redirect like PyPI;
- ``pypi/<name>/json``: the JSON API (info, releases, urls, vulnerabilities, ownership);
- ``pypi/<name>/<version>/json``: the per-version JSON API, only with ``version_json=True``
  (404 otherwise, as on mirrors without it); its ``vulnerabilities`` are that version's
  (``add_*(vulnerabilities=...)`` or ``set_vulnerabilities``);
- ``files/<filename>``: the artifacts; ``files/<filename>.metadata``: a file's core
  metadata (PEP 658), served and announced on the project page only with
  ``core_metadata="pep714"`` (``core-metadata`` / ``data-core-metadata``) or ``"pep658"``
  (``data-dist-info-metadata``); ``metadata_hashed=False`` announces ``true`` instead of a
  sha256. A wheel's ``.metadata`` is its dist-info METADATA unless ``metadata=`` says else.

Faults (``LocalIndex.fault(pattern, kind)``) match the path after the prefix with
fnmatch, e.g. ``"files/*.tar.gz"``, ``"simple/*"``, ``"pypi/*"``.
"""

from __future__ import annotations

import fnmatch
import io
import itertools
import re
import threading
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from builders import Files, metadata_text, sdist_bytes, wheel_bytes, wheel_bytes_with_metadata
from index_pages import (
    JSON_TYPE,
    METADATA_KEYS,
    IndexFile,
    Project,
    json_api,
    json_version_api,
    project_page,
    root_page,
    vulnerability,
)
from packaging.utils import canonicalize_name

FAULT_KINDS = frozenset({"404", "500", "stall", "wrong-sha256", "truncated", "garbage"})
GARBAGE = b"\x89\x00{not json, not html<<\xff\xfe" * 8
_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # after the index prefix, e.g. "simple/cleanpkg/"
    accept: str


@dataclass
class Fault:
    pattern: str
    kind: str
    remaining: int | None  # None: forever


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain"
    location: str | None = None


class LocalIndex:
    """One index on the shared server. ``url`` is its simple root (ends in ``/simple/``)."""

    def __init__(
        self,
        server: IndexServer,
        key: str,
        *,
        json_api: bool = True,
        simple_json: bool = True,
        stall_seconds: float = 5.0,
        core_metadata: str | None = None,
        metadata_hashed: bool = True,
        version_json: bool = False,
    ) -> None:
        if core_metadata is not None and core_metadata not in METADATA_KEYS:
            raise ValueError(f"core_metadata must be one of {sorted(METADATA_KEYS)} or None")
        self.server, self.key = server, key
        self.prefix = f"/{key}/"
        self.json_api, self.simple_json = json_api, simple_json
        self.core_metadata, self.metadata_hashed = core_metadata, metadata_hashed
        self.version_json = version_json
        self.stall_seconds = stall_seconds
        self.project_page_redirect = False  # simple/<name>/ -> 302 to a deeper path
        self.projects: dict[str, Project] = {}
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self._released = threading.Event()
        self._clock = itertools.count()
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"{self.server.base_url}{self.prefix}"

    @property
    def url(self) -> str:
        return f"{self.base_url}simple/"

    def file_url(self, filename: str) -> str:
        return f"{self.base_url}files/{quote(filename)}"

    # --- populating ---------------------------------------------------------------------
    def project(self, name: str) -> Project:
        return self.projects.setdefault(str(canonicalize_name(name)), Project(name))

    def add_raw_file(
        self,
        name: str,
        version: str,
        filename: str,
        data: bytes,
        *,
        upload_time: datetime | None = None,
        yanked: bool | str = False,
        requires_python: str | None = None,
        vulnerabilities: Iterable[Mapping[str, Any]] = (),
        info: Mapping[str, Any] | None = None,
        metadata: bytes | str | None = None,
    ) -> IndexFile:
        """Serve ``data`` as ``filename`` of ``name`` ``version`` (any bytes: hostile archives too).

        ``metadata`` is what ``<filename>.metadata`` serves (default: a wheel's METADATA).
        """
        if upload_time is None:  # later additions are newer, one hour apart
            upload_time = _EPOCH + timedelta(hours=next(self._clock))
        project = self.project(name)
        if isinstance(metadata, str):
            metadata = metadata.encode()
        if metadata is None and filename.endswith(".whl"):
            metadata = _wheel_metadata(data)
        entry = IndexFile(
            name, version, filename, data, upload_time, yanked, requires_python, metadata
        )
        project.files.append(entry)
        if vulnerabilities:
            project.vulnerabilities.setdefault(version, []).extend(
                vulnerability(v) for v in vulnerabilities
            )
        if info:
            project.info.update(info)
        return entry

    def add_sdist(
        self,
        source: Files | Path,
        name: str,
        version: str,
        *,
        summary: str = "",
        filename: str | None = None,
        **kw: Any,
    ) -> IndexFile:
        """Build a real sdist from a dict of files or a source dir and serve it."""
        fname, data = sdist_bytes(name, version, source, summary=summary, filename=filename)
        return self.add_raw_file(name, version, fname, data, **kw)

    def add_wheel(
        self,
        source: Files | Path,
        name: str,
        version: str,
        *,
        tag: str = "py3-none-any",
        requires: Sequence[str] = (),
        wheel_metadata: str | None = None,
        **kw: Any,
    ) -> IndexFile:
        """Build a real wheel from a dict of files or a source dir and serve it.

        ``requires`` become its Requires-Dist; ``wheel_metadata`` replaces its METADATA.
        """
        if requires and wheel_metadata is None:
            wheel_metadata = metadata_text(name, version, tuple(requires))
        if wheel_metadata is None:
            fname, data = wheel_bytes(name, version, source, tag=tag)
        else:
            fname, data = wheel_bytes_with_metadata(
                name, version, source, metadata=wheel_metadata, tag=tag
            )
        return self.add_raw_file(name, version, fname, data, **kw)

    def set_vulnerabilities(
        self, name: str, version: str, vulnerabilities: Iterable[Mapping[str, Any]]
    ) -> None:
        """Replace what the JSON APIs say are ``version``'s known vulnerabilities."""
        self.project(name).vulnerabilities[version] = [vulnerability(v) for v in vulnerabilities]

    def fault(self, pattern: str, kind: str, *, times: int | None = None) -> None:
        """Make requests whose path matches ``pattern`` fail with ``kind`` (``times`` times)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(FAULT_KINDS)}")
        self.faults.append(Fault(pattern, kind, times))

    def clear(self) -> None:
        """Forget faults and the request log."""
        self.faults.clear()
        self.requests.clear()

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def close(self) -> None:
        self._released.set()  # wake stalled handlers
        self.server.drop(self.key)

    # --- serving ------------------------------------------------------------------------
    def take_fault(self, path: str) -> str | None:
        with self._lock:
            for f in self.faults:
                if f.remaining != 0 and fnmatch.fnmatchcase(path, f.pattern):
                    if f.remaining is not None:
                        f.remaining -= 1
                    return f.kind
        return None

    def respond(self, path: str, accept: str) -> Response:
        if path == "simple/":
            names = sorted(p.name for p in self.projects.values())
            return Response(200, *root_page(names, self.simple_json and JSON_TYPE in accept))
        if m := re.fullmatch(r"simple/([^/]+)(/?)", path):
            name = str(canonicalize_name(m[1]))
            if name != m[1] or not m[2]:
                return Response(301, location=f"{self.prefix}simple/{name}/")
            if name not in self.projects:
                return Response(404, b"Not Found")
            if self.project_page_redirect:
                return Response(302, location=f"{self.prefix}moved/deeper/{name}/")
            return self._project_page(name, path, accept)
        if (m := re.fullmatch(r"moved/deeper/([^/]+)/", path)) and m[1] in self.projects:
            return self._project_page(m[1], path, accept)
        if (m := re.fullmatch(r"pypi/([^/]+)/([^/]+)/json/?", path)) and self.version_json:
            name = str(canonicalize_name(m[1]))
            project = self.projects.get(name)
            if project is not None and any(f.version == m[2] for f in project.files):
                return Response(200, json_version_api(project, m[2], path), "application/json")
            return Response(404, b"Not Found")
        if (m := re.fullmatch(r"pypi/([^/]+)/json/?", path)) and self.json_api:
            name = str(canonicalize_name(m[1]))
            if name != m[1]:
                return Response(301, location=f"{self.prefix}pypi/{name}/json")
            if name in self.projects:
                body = json_api(self.projects[name], path)
                return Response(200, body, "application/json")
        if m := re.fullmatch(r"files/([^/]+)", path):
            filename = unquote(m[1])
            for project in self.projects.values():
                for f in project.files:
                    if f.filename == filename:
                        return Response(200, f.data, "application/octet-stream")
                    if (
                        filename == f"{f.filename}.metadata"
                        and self.core_metadata
                        and f.metadata is not None
                    ):
                        return Response(200, f.metadata, "application/octet-stream")
        return Response(404, b"Not Found")

    def _project_page(self, name: str, path: str, accept: str) -> Response:
        as_json = self.simple_json and JSON_TYPE in accept
        body = project_page(
            name,
            self.projects[name].files,
            path,
            as_json,
            metadata_style=self.core_metadata,
            metadata_hashed=self.metadata_hashed,
        )
        return Response(200, *body)


def _wheel_metadata(data: bytes) -> bytes | None:
    """The dist-info METADATA of a wheel's bytes, or None when they are not a plain wheel."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [n for n in zf.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
            return zf.read(names[0]) if len(names) == 1 else None
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else headers+body as two writes cost 40 ms (delayed ACK)
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        key, _, rest = path.lstrip("/").partition("/")
        index = self.server.owner.indexes.get(key)
        if index is None:
            return self._send(Response(404, b"no such index"))
        index.requests.append(Request("GET", rest, self.headers.get("Accept", "")))
        kind = index.take_fault(rest)
        if kind == "stall":
            index._released.wait(index.stall_seconds)
            self.close_connection = True
            return None
        if kind in ("404", "500"):
            return self._send(Response(int(kind), f"fault {kind}".encode()))
        response = index.respond(rest, self.headers.get("Accept", ""))
        if response.status == 200 and kind == "garbage":
            response.body = GARBAGE
        elif response.status == 200 and kind == "wrong-sha256":
            response.body = response.body[:-1] + bytes([response.body[-1] ^ 0xFF])
        return self._send(response, truncate=response.status == 200 and kind == "truncated")

    def _send(self, response: Response, *, truncate: bool = False) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        if response.location:
            self.send_header("Location", response.location)
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(response.body[: len(response.body) // 2] if truncate else response.body)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: IndexServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up (timeouts, truncation tests) are expected here


class IndexServer:
    """The session's HTTP server; ``new_index()`` gives each test its own index."""

    def __init__(self) -> None:
        self.indexes: dict[str, LocalIndex] = {}
        self._keys = itertools.count()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def new_index(self, **kw: Any) -> LocalIndex:
        key = f"i{next(self._keys)}"
        self.indexes[key] = index = LocalIndex(self, key, **kw)
        return index

    def drop(self, key: str) -> None:
        self.indexes.pop(key, None)

    def start(self) -> IndexServer:
        self._thread.start()
        return self

    def close(self) -> None:
        for index in list(self.indexes.values()):
            index.close()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
