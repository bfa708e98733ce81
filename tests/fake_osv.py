"""Fake online advisory services on 127.0.0.1 (pytest-httpserver, threaded): OSV's query API
and PyPI's per-version JSON. They stand in for api.osv.dev and pypi.org, which the tests never
reach.

``FakeOsv`` serves ``POST /v1/querybatch`` and ``GET /v1/vulns/<id>`` from OSV documents given
to :meth:`FakeOsv.add`. It matches a query on the package name (PEP 503) and the document's
explicit ``affected[].versions`` list ONLY (never ranges): the matching is deliberately not the
code under test, so a test comparing the OSV source with the local store compares two
independent implementations. ``page_size`` paginates each query's results (``next_page_token``
is the offset). ``fault(endpoint, kind, times=None)`` breaks "batch" or "vuln" requests:
``"500"``, ``"503"``, ``"429"``, ``"404"``, ``"garbage"`` (not JSON), ``"wrong-count"`` (one result
too few), ``"stall"`` (sleeps ``stall_seconds`` before answering). ``batches`` records the
queries of every batch request, ``vuln_requests`` every id asked for.

``FakePypiJson`` serves ``/pypi/<name>/<version>/json`` for releases given to
:meth:`FakePypiJson.add` (any other is 404, as a mirror without the endpoint answers), with the
same ``fault(kind)`` kinds plus ``"no-list"`` (no ``vulnerabilities`` key), ``"wrong-version"``
(``info.version`` of another release) and ``"html"`` (a captive portal's page).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

FAULTS = frozenset(
    {"500", "503", "429", "404", "garbage", "wrong-count", "stall", "no-list", "wrong-version", "html"}
)


@dataclass
class _Fault:
    endpoint: str
    kind: str
    remaining: int | None


class _Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []

    def add(self, endpoint: str, kind: str, times: int | None) -> None:
        assert kind in FAULTS, kind
        with self._lock:
            self._faults.append(_Fault(endpoint, kind, times))

    def take(self, endpoint: str) -> str | None:
        with self._lock:
            for fault in self._faults:
                if fault.endpoint == endpoint and fault.remaining != 0:
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault.kind
        return None


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _broken(kind: str, stall_seconds: float) -> Response | None:
    if kind == "stall":
        time.sleep(stall_seconds)
        return None
    if kind in ("500", "503", "429", "404"):
        return Response("fault", status=int(kind))
    if kind == "garbage":
        return Response(b"\x89\x00{not json<<\xff", status=200, content_type="application/json")
    if kind == "html":
        return Response("<html>Please log in to the hotel Wi-Fi</html>", content_type="text/html")
    return None


class FakeOsv:
    """See the module docstring."""

    def __init__(self, server: HTTPServer, *, stall_seconds: float = 2.0) -> None:
        self.server, self.stall_seconds = server, stall_seconds
        self.vulns: dict[str, dict[str, Any]] = {}
        self.page_size: int | None = None
        self.batches: list[list[dict[str, Any]]] = []
        self.vuln_requests: list[str] = []
        self._faults = _Faults()
        self._lock = threading.Lock()
        server.expect_request("/v1/querybatch", method="POST").respond_with_handler(self._batch)
        server.expect_request(re.compile(r"^/v1/vulns/.+$"), method="GET").respond_with_handler(
            self._vuln
        )

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def add(self, *docs: Mapping[str, Any]) -> None:
        for doc in docs:
            self.vulns[str(doc["id"])] = dict(doc)

    def fault(self, endpoint: str, kind: str, *, times: int | None = None) -> None:
        self._faults.add(endpoint, kind, times)

    def matching(self, name: str, version: str) -> list[str]:
        wanted = canonicalize_name(name)
        return sorted(
            ident
            for ident, doc in self.vulns.items()
            if any(
                isinstance(a, Mapping)
                and a.get("package", {}).get("ecosystem") == "PyPI"
                and canonicalize_name(str(a["package"].get("name", ""))) == wanted
                and version in (a.get("versions") or [])
                for a in doc.get("affected") or []
            )
        )

    def _batch(self, request: Request) -> Response:
        queries = json.loads(request.get_data())["queries"]
        with self._lock:
            self.batches.append(queries)
        kind = self._faults.take("batch")
        broken = _broken(kind, self.stall_seconds) if kind else None
        if broken is not None:
            return broken
        results = []
        for query in queries:
            ids = self.matching(query["package"]["name"], query["version"])
            start = int(query.get("page_token") or 0)
            end = len(ids) if self.page_size is None else start + self.page_size
            result: dict[str, Any] = {}
            if ids[start:end]:
                result["vulns"] = [
                    {"id": i, "modified": self.vulns[i]["modified"]} for i in ids[start:end]
                ]
            if end < len(ids):
                result["next_page_token"] = str(end)
            results.append(result)
        if kind == "wrong-count":
            results = results[:-1]
        return _json({"results": results})

    def _vuln(self, request: Request) -> Response:
        ident = request.path.removeprefix("/v1/vulns/")
        with self._lock:
            self.vuln_requests.append(ident)
        kind = self._faults.take("vuln")
        broken = _broken(kind, self.stall_seconds) if kind else None
        if broken is not None:
            return broken
        if ident not in self.vulns:
            return _json({"code": 5, "message": "Bug not found."}, status=404)
        return _json(self.vulns[ident])


class FakePypiJson:
    """See the module docstring."""

    def __init__(self, server: HTTPServer, *, stall_seconds: float = 2.0) -> None:
        self.server, self.stall_seconds = server, stall_seconds
        self.releases: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.requests: list[str] = []
        self._faults = _Faults()
        server.expect_request(re.compile(r"^/pypi/[^/]+/[^/]+/json$")).respond_with_handler(
            self._release
        )

    @property
    def root(self) -> str:
        """The JSON root (what ``json_root_for`` derives from ``{root}/simple/``)."""
        return self.server.url_for("/").rstrip("/")

    def add(self, name: str, version: str, vulnerabilities: list[dict[str, Any]]) -> None:
        self.releases[(canonicalize_name(name), version)] = vulnerabilities

    def fault(self, kind: str, *, times: int | None = None) -> None:
        self._faults.add("release", kind, times)

    def _release(self, request: Request) -> Response:
        _, _, name, version, _ = request.path.split("/")
        self.requests.append(request.path)
        kind = self._faults.take("release")
        broken = _broken(kind, self.stall_seconds) if kind else None
        if broken is not None:
            return broken
        vulns = self.releases.get((name, version))
        if vulns is None:
            return Response("Not Found", status=404)
        body: dict[str, Any] = {
            "info": {"name": name, "version": "0.0.0" if kind == "wrong-version" else version},
            "urls": [],
            "last_serial": 1,
        }
        if kind != "no-list":
            body["vulnerabilities"] = vulns
        return _json(body)


@contextmanager
def running_server() -> Iterator[HTTPServer]:
    """A threaded pytest-httpserver on 127.0.0.1 (stalled handlers do not block others)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()
