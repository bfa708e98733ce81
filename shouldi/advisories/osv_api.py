"""The "osv-api" source: OSV's query API (api.osv.dev by default), the standard online source.

Two requests per run, not per package (pip-audit's OSV service asks ``/v1/query`` once per
package; here many packages share requests):

1. ``POST {url}/v1/querybatch`` with ``{"queries": [{"package": {"ecosystem": "PyPI",
   "name": <PEP 503 name>}, "version": <version>}, ...]}``; the answer lists, per query and in
   order, the ids (and ``modified``) of the vulnerabilities affecting that version. A result
   with a ``next_page_token`` is asked again with ``page_token`` in a later batch until it has
   none (at most :data:`MAX_PAGES` pages).
2. ``GET {url}/v1/vulns/{id}`` for the details of each id found (aliases, summary, affected
   ranges, fixed versions, severity, published/modified), once per id per run, parsed like
   the local store's records (:mod:`shouldi.advisories.osv`).

**The batcher.** :class:`OsvBatcher` is the object a run shares: each lookup queues its query
and waits; the queue is sent when ``max_batch`` queries are waiting or ``delay`` seconds after
the first one queued (a few ms: every package of a run that gets this far in the same moment
rides in one request). A lookup without a shared batcher (``OsvApiSource(client=...)``) gets
a private one and so asks one package at a time. At most ``concurrency`` requests are in
flight per batcher. Identical queries and ids are asked once.

**Failures.** Retries with exponential backoff on connection errors, timeouts, 5xx and 429 are
the client's (:class:`shouldi.index.client.RetryTransport`, which :func:`make_client` installs;
the run's shared client has it). What is left after them is:

- unreachable, timed out, 5xx/429, any other HTTP status: :class:`ServiceUnavailable`, the
  answer is SKIPPED with a one-line reason. The first such failure is remembered by the batcher
  and every later lookup of the run says the same at once, so an offline run waits for one
  request's retries, not one per package;
- a 200 that is not the documented JSON (garbage, wrong number of results, a vulnerability
  whose details do not parse): :class:`ServiceError`, the answer is ERROR.

A live service vouches for any release: ``data_time`` is the time of the query.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from packaging.utils import canonicalize_name

from shouldi.advisories.errors import ServiceError, ServiceUnavailable
from shouldi.advisories.interface import utcnow
from shouldi.advisories.osv import OsvRecord, match_version, parse_record, to_advisory
from shouldi.results import Advisory, AdvisoryAnswer, Status, VulnId

__all__ = ["MAX_PAGES", "OSV_API_URL", "OsvApiSource", "OsvBatcher", "check_service_url"]

SOURCE = "osv-api"
OSV_API_URL = "https://api.osv.dev"
#: Pages of one query's results followed before giving up (OSV pages at 1,000 results).
MAX_PAGES = 20
_RESPONSE_LIMIT = 32 << 20  # bytes of one answer (a querybatch of 1,000 queries is ~1 MB)

_Query = tuple[str, str]  # (PEP 503 name, version)


def check_service_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host; raises ``ValueError`` (bad input)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url[:100]!r}")
    return url.strip()


class _Pending:
    """One query waiting for its (possibly paginated) ids."""

    def __init__(self, query: _Query, future: asyncio.Future[tuple[str, ...]]) -> None:
        self.query, self.future = query, future
        self.ids: list[str] = []
        self.page_token: str | None = None
        self.pages = 0

    def body(self) -> dict[str, object]:
        name, version = self.query
        body: dict[str, object] = {"package": {"ecosystem": "PyPI", "name": name}, "version": version}
        if self.page_token is not None:
            body["page_token"] = self.page_token
        return body


class OsvBatcher:
    """Batches the OSV queries of a run and caches vulnerability details (module docstring).

    Create it where the run's event loop runs; share it between every package of the run.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        url: str = OSV_API_URL,
        *,
        max_batch: int = 200,
        delay: float = 0.005,
        concurrency: int = 4,
    ) -> None:
        self.client, self.url = client, url.rstrip("/")
        self.max_batch, self.delay = max(1, min(max_batch, 1000)), max(0.0, delay)
        self._gate = asyncio.Semaphore(max(1, concurrency))
        self._pending: list[_Pending] = []
        self._timer: asyncio.TimerHandle | None = None
        self._queries: dict[_Query, asyncio.Future[tuple[str, ...]]] = {}
        self._vulns: dict[str, asyncio.Task[OsvRecord]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._down: ServiceUnavailable | None = None
        self.requests = 0  # HTTP requests sent (batches and details), for tests and benchmarks

    async def query(self, name: str, version: str) -> tuple[str, ...]:
        """Ids of the vulnerabilities OSV lists for ``name==version`` (raises ServiceError)."""
        if self._down is not None:
            raise self._down
        key = (canonicalize_name(name), version)
        future = self._queries.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            future.add_done_callback(_retrieve)
            self._queries[key] = future
            self._enqueue(_Pending(key, future))
        return await asyncio.shield(future)

    async def details(self, ident: str) -> OsvRecord:
        """The parsed record of one vulnerability id (fetched once per batcher)."""
        if self._down is not None:
            raise self._down
        task = self._vulns.get(ident)
        if task is None:
            task = asyncio.ensure_future(self._fetch_details(ident))
            task.add_done_callback(_retrieve)
            self._vulns[ident] = task
        return await asyncio.shield(task)

    # --- batching --------------------------------------------------------------------------

    def _enqueue(self, item: _Pending) -> None:
        self._pending.append(item)
        if len(self._pending) >= self.max_batch:
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.delay, self._flush)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            task = asyncio.ensure_future(self._send(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[_Pending]) -> None:
        try:
            results = await self._post_batch([item.body() for item in batch])
        except ServiceError as e:
            for item in batch:
                _fail(item.future, e)
            return
        except BaseException as e:  # cancelled with the run: nobody is left to answer
            for item in batch:
                _fail(item.future, ServiceError(f"OSV API query did not finish ({e!r})"))
            raise
        for item, result in zip(batch, results, strict=True):
            try:
                ids, token = _parse_result(result, self.url)
            except ServiceError as e:
                _fail(item.future, e)
                continue
            item.ids.extend(ids)
            item.pages += 1
            if token is None:
                if not item.future.done():
                    item.future.set_result(tuple(dict.fromkeys(item.ids)))
            elif item.pages >= MAX_PAGES:
                _fail(item.future, ServiceError(f"{self.url}: more than {MAX_PAGES} pages for {item.query[0]}"))
            else:
                item.page_token = token
                self._enqueue(item)

    async def _post_batch(self, queries: list[dict[str, object]]) -> list[Any]:
        endpoint = f"{self.url}/v1/querybatch"
        data = await self._request("POST", endpoint, {"queries": queries})
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list) or len(results) != len(queries):
            raise ServiceError(f"{endpoint} answered JSON that is not a batch result")
        return results

    async def _fetch_details(self, ident: str) -> OsvRecord:
        endpoint = f"{self.url}/v1/vulns/{quote(ident, safe='')}"
        doc = await self._request("GET", endpoint, None)
        try:
            if not isinstance(doc, dict):
                raise ValueError("not an object")
            record = parse_record(doc)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise ServiceError(f"{endpoint}: not an OSV record ({e})") from e
        if record.id != ident:
            raise ServiceError(f"{endpoint} answered for {record.id[:60]}")
        return record

    async def _request(self, method: str, endpoint: str, body: object) -> Any:
        """One request under the concurrency gate; the decoded JSON of a 200."""
        async with self._gate:
            if self._down is not None:
                raise self._down
            self.requests += 1
            try:
                status, content = await self._read(method, endpoint, body)
            except httpx.HTTPError as e:
                raise self._unavailable(f"OSV API at {self.url} is unreachable ({_describe(e)})") from e
        if status >= 500 or status == 429 or (status == 404 and body is not None):
            # overloaded, or no OSV API at this URL (a batch is never "not found")
            raise self._unavailable(f"{endpoint}: HTTP {status}")
        if status != 200:
            raise ServiceError(f"{endpoint}: HTTP {status}")
        try:
            return json.loads(content)
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            raise ServiceError(f"{endpoint} answered garbage, not JSON") from e

    async def _read(self, method: str, endpoint: str, body: object) -> tuple[int, bytes]:
        headers = {"Accept": "application/json"}
        async with self.client.stream(method, endpoint, json=body, headers=headers) as response:
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > _RESPONSE_LIMIT:
                    raise ServiceError(f"{endpoint}: answer larger than {_RESPONSE_LIMIT} bytes")
                chunks.append(chunk)
            return response.status_code, b"".join(chunks)

    def _unavailable(self, reason: str) -> ServiceUnavailable:
        error = ServiceUnavailable(reason)
        if self._down is None:
            self._down = error
        return error


class OsvApiSource:
    """Asks the OSV API about one release, through a batcher shared by the run (or its own)."""

    name = SOURCE

    def __init__(
        self,
        batcher: OsvBatcher | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        url: str = OSV_API_URL,
    ) -> None:
        if batcher is None and client is None:
            raise TypeError("OsvApiSource needs a batcher or a client")
        self._batcher, self._client, self._url = batcher, client, url

    async def lookup(
        self, name: str, version: str, release_time: datetime | None
    ) -> AdvisoryAnswer:
        batcher = self._batcher
        if batcher is None:
            assert self._client is not None  # checked in __init__
            batcher = self._batcher = OsvBatcher(self._client, self._url)
        package = canonicalize_name(name)
        try:
            ids = await batcher.query(package, version)
            records = await asyncio.gather(*(batcher.details(i) for i in ids))
        except ServiceUnavailable as e:
            return AdvisoryAnswer(SOURCE, Status.SKIPPED, reason=str(e))
        except ServiceError as e:
            return AdvisoryAnswer(SOURCE, Status.ERROR, reason=str(e))
        except Exception as e:  # a source never raises: a crash is an ERROR answer
            return AdvisoryAnswer(SOURCE, Status.ERROR, reason=f"OSV API lookup failed: {e!r}")
        advisories = tuple(
            _advisory(r, package, version) for r in records if not r.withdrawn
        )
        return AdvisoryAnswer(SOURCE, Status.OK, advisories=advisories, data_time=utcnow())


def _advisory(record: OsvRecord, package: str, version: str) -> Advisory:
    """The record as it affects this package: the affected entry that matches the version
    (OSV said one does), else the first one naming the package."""
    mine = [a for a in record.affected if a.package == package]
    chosen = next((a for a in mine if match_version(a, version)[0]), mine[0] if mine else None)
    if chosen is None:  # OSV matched it under another name (an alias of the package)
        return Advisory(
            id=VulnId(record.id), aliases=record.aliases, summary=record.summary,
            sources=frozenset({SOURCE}), url=record.url, severity=record.severity,
            published=record.published, modified=record.modified,
        )  # fmt: skip
    return to_advisory(record, chosen, SOURCE)


def _parse_result(result: object, url: str) -> tuple[list[str], str | None]:
    if not isinstance(result, Mapping):
        raise ServiceError(f"{url}: a batch result is not an object")
    vulns = result.get("vulns", [])
    if not isinstance(vulns, list) or not all(
        isinstance(v, Mapping) and isinstance(v.get("id"), str) and v["id"] for v in vulns
    ):
        raise ServiceError(f"{url}: a batch result has malformed 'vulns'")
    token = result.get("next_page_token")
    return [str(v["id"]) for v in vulns], token if isinstance(token, str) and token else None


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a failure as seen: a lookup cancelled meanwhile must not leave a loop warning."""
    if not future.cancelled():
        future.exception()


def _fail(future: asyncio.Future[tuple[str, ...]], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _describe(error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    text = " ".join(str(error).split())[:100]
    return text or type(error).__name__
