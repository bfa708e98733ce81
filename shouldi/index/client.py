"""The HTTP client shared by a run, and the one helper every index request goes through.

Retries live in a transport wrapper so every request made with the client (pages, JSON API,
downloads) gets the same policy: retry connection trouble, timeouts and 5xx/429 with
exponential backoff, then give up with the last error. Tests wrap any transport the same way.
A host name the resolver says does not exist is not retried: another try gets the same answer
(an advisory service unreachable from a sandbox cost each run 3.5 s of backoff).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from dataclasses import dataclass

import httpx

from shouldi import __version__
from shouldi.index.errors import PackageIndexError

__all__ = ["PAGE_LIMIT", "Page", "RetryTransport", "describe_http_error", "get_page", "make_client"]

#: Largest index page or JSON document we read (PyPI's biggest project pages are a few MiB).
PAGE_LIMIT = 64 << 20

_RETRY_EXCEPTIONS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
#: Resolver answers that are final: "no such name", "no address for it". A temporary failure
#: (``EAI_AGAIN``) is retried like any other connection trouble.
_NO_SUCH_HOST = frozenset(
    code for code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)) if code is not None)


def _no_such_host(exc: BaseException) -> bool:
    """Whether ``exc`` (an httpx error) comes from a resolver that said the host does not exist."""
    seen: BaseException | None = exc
    for _ in range(8):  # httpx -> httpcore -> socket.gaierror
        if seen is None:
            return False
        if isinstance(seen, socket.gaierror):
            return seen.errno in _NO_SUCH_HOST
        seen = seen.__cause__ or seen.__context__
    return False


class RetryTransport(httpx.AsyncBaseTransport):
    """Retry an inner transport on connection errors, timeouts, 5xx and 429 (not on a host
    name that does not resolve).

    ``retries`` counts extra attempts: ``retries=3`` means up to four requests. Waits are
    ``backoff * 2**attempt`` seconds, capped at ``max_backoff``.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
    ) -> None:
        self._inner = inner
        self._retries = max(0, retries)
        self._backoff = max(0.0, backoff)
        self._max_backoff = max_backoff

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await self._inner.handle_async_request(request)
            except _RETRY_EXCEPTIONS as exc:
                if attempt >= self._retries or _no_such_host(exc):
                    raise
            else:
                if not _retryable_status(response.status_code) or attempt >= self._retries:
                    return response
                await response.aclose()
            await asyncio.sleep(min(self._max_backoff, self._backoff * 2**attempt))
            attempt += 1

    async def aclose(self) -> None:
        await self._inner.aclose()


def _retryable_status(status: int) -> bool:
    return status >= 500 or status == 429


def make_client(
    timeout: float = 30.0, retries: int = 3, *, backoff: float = 0.5
) -> httpx.AsyncClient:
    """The client to share across a run: HTTP/1.1, redirects followed, retrying transport.

    ``timeout`` applies to each connect, read, write and pool wait (httpx semantics), so a
    stalled server fails after ``timeout`` seconds per attempt while big downloads that keep
    flowing are not cut off.
    """
    inner = httpx.AsyncHTTPTransport(verify=_ssl_context(), http2=False, retries=0)
    transport = RetryTransport(inner, retries=retries, backoff=backoff)
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(timeout),
        follow_redirects=True,
        headers={"User-Agent": f"shouldi/{__version__}"},
    )


_SSL: list[ssl.SSLContext] = []
_SSL_LOCK = threading.Lock()


def _ssl_context() -> ssl.SSLContext:
    """Loading the CA bundle costs ~50 ms; one context serves every client of the process."""
    with _SSL_LOCK:
        if not _SSL:
            _SSL.append(httpx.create_ssl_context())
        return _SSL[0]


def prepare_ssl_context() -> None:
    """Build the shared TLS context in a thread now, while the caller goes on importing: OpenSSL
    reads the CA bundle without holding the GIL (~40 ms less on a cold run's critical path).
    ``ssl`` and ``certifi`` are imported here first, so the thread imports nothing."""
    import certifi  # noqa: F401 - what httpx.create_ssl_context imports

    threading.Thread(target=_ssl_context, name="shouldi-tls-context", daemon=True).start()


@dataclass(frozen=True)
class Page:
    """A fully read response: final URL (after redirects), status, media type and body."""

    url: str
    status: int
    content_type: str
    body: bytes


def describe_http_error(url: str, exc: httpx.HTTPError) -> str:
    """One line saying what went wrong talking to ``url``."""
    if isinstance(exc, httpx.TimeoutException):
        what = "timed out"
    elif isinstance(exc, httpx.ConnectError):
        what = f"could not connect ({exc})" if str(exc) else "could not connect"
    elif isinstance(exc, httpx.RemoteProtocolError):
        what = f"the server broke off the response ({exc})"
    else:
        what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return f"{url}: {what}"


class PageTooLarge(PackageIndexError):
    """A page exceeded the byte limit given to :func:`get_page`."""


async def get_page(
    client: httpx.AsyncClient, url: str, *, accept: str | None = None, limit: int = PAGE_LIMIT
) -> Page:
    """GET ``url`` and read at most ``limit`` bytes of body, whatever the status.

    Raises :class:`PackageIndexError` on network failure (after the client's retries) and
    :class:`PageTooLarge` when the body exceeds ``limit``. Status handling is the caller's.
    """
    headers = {"Accept": accept} if accept else {}
    try:
        async with client.stream("GET", url, headers=headers, follow_redirects=True) as resp:
            declared = resp.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise PageTooLarge(f"{url}: response larger than {limit} bytes")
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise PageTooLarge(f"{url}: response larger than {limit} bytes")
                chunks.append(chunk)
            content_type = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
            return Page(str(resp.url), resp.status_code, content_type, b"".join(chunks))
    except httpx.HTTPError as e:
        raise PackageIndexError(describe_http_error(url, e)) from e
    except httpx.InvalidURL as e:
        raise PackageIndexError(f"{url}: invalid URL ({e})") from e
