"""Every fault kind of the local index ends in the right error, quickly."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from index_server import LocalIndex

from shouldi.errors import EXIT_BAD_INPUT, EXIT_ERROR
from shouldi.index import (
    IntegrityError,
    NotFound,
    PackageIndexError,
    download,
    fetch_metadata,
    parse_spec,
    resolve,
)
from shouldi.index.client import RetryTransport


def resolve_clean(with_client: Any, index: LocalIndex, **kw: Any) -> Any:
    return with_client(lambda c: resolve(c, index.url, parse_spec("cleanpkg")), **kw)


@pytest.mark.parametrize(
    ("kind", "error", "message", "attempts"),
    [
        ("404", NotFound, "no project named 'cleanpkg'", 1),
        ("500", PackageIndexError, "HTTP 500", 3),
        ("garbage", PackageIndexError, "garbage instead of a simple index page", 1),
        ("truncated", PackageIndexError, "broke off the response", 1),
        ("stall", PackageIndexError, "timed out", 3),
    ],
    ids=["404", "500", "garbage", "truncated", "stall"],
)
def test_project_page_faults(
    local_index_factory: Any,
    with_client: Any,
    kind: str,
    error: type[Exception],
    message: str,
    attempts: int,
) -> None:
    index = local_index_factory()
    index.fault("simple/cleanpkg/", kind)
    started = time.perf_counter()
    with pytest.raises(error, match=message) as info:
        resolve_clean(with_client, index, timeout=0.2, retries=2)
    assert "\n" not in str(info.value)
    assert [r.path for r in index.requests].count("simple/cleanpkg/") == attempts
    assert time.perf_counter() - started < 3
    assert info.value.exit_code == (EXIT_BAD_INPUT if kind == "404" else EXIT_ERROR)  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["500", "stall"])
def test_transient_faults_are_retried(local_index: LocalIndex, with_client: Any, kind: str) -> None:
    local_index.fault("simple/*", kind, times=1)
    release = resolve_clean(with_client, local_index, timeout=0.3, retries=1)
    assert release.version == "1.0.0"
    assert local_index.paths() == ["simple/cleanpkg/", "simple/cleanpkg/"]


def test_backoff_grows_between_retries(local_index: LocalIndex, with_client: Any) -> None:
    local_index.fault("simple/*", "500", times=2)
    started = time.perf_counter()
    resolve_clean(with_client, local_index, retries=2, backoff=0.1)  # waits 0.1 then 0.2
    assert 0.3 <= time.perf_counter() - started < 2


@pytest.mark.parametrize(
    ("kind", "error", "message"),
    [
        ("wrong-sha256", IntegrityError, "sha256 mismatch"),
        ("truncated", IntegrityError, "truncated"),
        ("garbage", IntegrityError, "sha256 mismatch"),
        ("500", PackageIndexError, "HTTP 500"),
        ("stall", PackageIndexError, "timed out"),
    ],
)
def test_download_faults(
    local_index: LocalIndex,
    with_client: Any,
    tmp_path: Path,
    kind: str,
    error: type[Exception],
    message: str,
) -> None:
    release = resolve_clean(with_client, local_index)
    local_index.fault("files/*", kind)
    with pytest.raises(error, match=message):
        with_client(lambda c: download(c, release.artifact, tmp_path), timeout=0.2, retries=1)
    assert list(tmp_path.iterdir()) == []


def test_metadata_stall_times_out(local_index: LocalIndex, with_client: Any) -> None:
    local_index.fault("pypi/*", "stall")
    with pytest.raises(PackageIndexError, match="timed out"):
        with_client(
            lambda c: fetch_metadata(c, local_index.url, "cleanpkg", "1.0.0"),
            timeout=0.2,
            retries=0,
        )


def test_unreachable_index(with_client: Any) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(PackageIndexError, match="could not connect"):
        with_client(
            lambda c: resolve(c, f"http://127.0.0.1:{port}/simple/", parse_spec("x")), retries=1
        )


def test_unknown_fault_kind_is_refused(local_index: LocalIndex) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        local_index.fault("*", "explode")


def test_one_tls_context_serves_every_client_even_when_built_in_a_thread(monkeypatch):
    import threading

    import shouldi.index.client as client_module

    made: list[object] = []
    real = client_module.httpx.create_ssl_context
    monkeypatch.setattr(client_module, "_SSL", [])
    monkeypatch.setattr(client_module.httpx, "create_ssl_context",
                        lambda: made.append(1) or real())
    client_module.prepare_ssl_context()
    contexts: list[object] = []
    threads = [threading.Thread(target=lambda: contexts.append(client_module._ssl_context()))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1  # built once, by whichever thread came first
    assert all(c is contexts[0] for c in contexts)
    assert client_module._ssl_context().verify_mode.name == "CERT_REQUIRED"


class _Unresolvable(httpx.AsyncBaseTransport):
    """An inner transport whose every request fails as the resolver's ``code`` would."""

    def __init__(self, code: int) -> None:
        self.code, self.calls = code, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        try:
            try:
                raise socket.gaierror(self.code, "resolver says no")
            except socket.gaierror as exc:
                raise httpcore.ConnectError(str(exc)) from exc
        except httpcore.ConnectError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc


@pytest.mark.parametrize(("code", "calls"), [(socket.EAI_NONAME, 1), (socket.EAI_AGAIN, 3)],
                         ids=["no-such-host", "temporary-failure"])
def test_a_host_that_does_not_exist_is_not_retried(code: int, calls: int) -> None:
    inner = _Unresolvable(code)

    async def get() -> None:
        transport = RetryTransport(inner, retries=2, backoff=0.01)
        async with httpx.AsyncClient(transport=transport) as client:
            await client.get("https://advisories.example/v1/query")

    with pytest.raises(httpx.ConnectError, match="resolver says no"):
        asyncio.run(get())
    assert inner.calls == calls
