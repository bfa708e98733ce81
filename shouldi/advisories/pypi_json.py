"""The "pypi-json" source: the ``vulnerabilities`` PyPI lists for one exact release.

``GET {json_root}/pypi/<name>/<version>/json`` (the root is the index URL without its final
``simple/``: ``https://pypi.org``) describes exactly that version, and PyPI fills its
``vulnerabilities`` from OSV when it serves it: a live source that vouches for any release.
The project JSON (``/pypi/<name>/json``) is folded in rather than kept as a second source:
its list describes the *latest* release only, so it is used only when the per-version
endpoint is not served (404) and the index layer's :class:`PackageMetadata` has a list for
this exact release. One source per index, never two answers that could disagree.

What each reply means (never OK unless the list for this release was read):

- 200 with a ``vulnerabilities`` list, ``info.version`` being this release: OK;
- 404/410 (mirrors without the endpoint; this environment's PyPI proxy): SKIPPED, "not served
  by this index", unless the project JSON answers for this release;
- 200 without a ``vulnerabilities`` key (mirrors that copy the JSON but not the list): SKIPPED;
- 5xx/429 after the client's retries, timeouts, unreachable, other statuses: SKIPPED with
  the reason (the service could not be asked; it is not broken);
- a 200 that is not JSON, not an object, answers for another version, or whose list is not a
  list: ERROR (something answers in PyPI's place, e.g. a captive portal).

Relative URLs in the answer (an advisory's ``link``) are resolved against the response URL
(after redirects).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import httpx
from packaging.utils import canonicalize_name, canonicalize_version

from shouldi.advisories.errors import ServiceError, ServiceUnavailable
from shouldi.advisories.interface import utcnow
from shouldi.results import Advisory, AdvisoryAnswer, PackageMetadata, Status, VulnId

__all__ = ["PypiJsonSource", "json_root_for", "parse_pypi_vulnerabilities", "release_json_url"]

SOURCE = "pypi-json"
#: Largest per-version JSON read (PyPI's are a few kB; a release with thousands of files
#: stays well under this).
JSON_LIMIT = 8 << 20


def json_root_for(index_url: str) -> str | None:
    """``https://pypi.org/simple/`` -> ``https://pypi.org``; ``None`` when the index URL does
    not end in ``simple/`` (no JSON API can be derived from it)."""
    parts = urlsplit(index_url)
    path = parts.path.rstrip("/")
    if path.rsplit("/", 1)[-1] != "simple":
        return None
    return urlunsplit((parts.scheme, parts.netloc, path[: -len("simple")].rstrip("/"), "", ""))


def release_json_url(json_root: str, name: str, version: str) -> str:
    """``{json_root}/pypi/<normalised name>/<version>/json``."""
    return (
        f"{json_root.rstrip('/')}/pypi/{quote(canonicalize_name(name), safe='')}"
        f"/{quote(version, safe='')}/json"
    )


def parse_pypi_vulnerabilities(
    entries: Iterable[Mapping[str, Any]], base_url: str | None = None
) -> tuple[Advisory, ...]:
    """:class:`Advisory` values from a PyPI JSON ``vulnerabilities`` list, withdrawn ones and
    entries without an id dropped; relative links resolved against ``base_url``."""
    found = []
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            continue
        if not entry["id"] or entry.get("withdrawn"):
            continue
        text = str(entry.get("summary") or entry.get("details") or "").strip()
        link = entry.get("link")
        found.append(
            Advisory(
                id=VulnId(entry["id"]),
                aliases=frozenset(str(a) for a in _list(entry.get("aliases"))) - {entry["id"]},
                summary=text.splitlines()[0][:240] if text else "",
                fixed_versions=tuple(str(v) for v in _list(entry.get("fixed_in"))),
                sources=frozenset({SOURCE}),
                url=urljoin(base_url or "", link) if isinstance(link, str) and link else None,
            )
        )
    return tuple(found)


class PypiJsonSource:
    """Asks the index's JSON API for one release's vulnerabilities.

    ``json_root`` is :func:`json_root_for` of the index URL (``None``: the index has no JSON
    API). ``metadata`` is what the index layer read from the project JSON, if anything: used
    when the per-version endpoint is not served (see the module docstring).
    """

    name = SOURCE

    def __init__(
        self,
        client: httpx.AsyncClient | None,
        json_root: str | None,
        *,
        metadata: PackageMetadata | None = None,
        limit: int = JSON_LIMIT,
    ) -> None:
        self.client, self.json_root, self.metadata, self.limit = client, json_root, metadata, limit

    @classmethod
    def from_metadata(cls, metadata: PackageMetadata) -> PypiJsonSource:
        """The project JSON's list only (no request): it vouches for the latest release only.
        The flow's old operation; prefer a client and :func:`json_root_for`."""
        return cls(None, None, metadata=metadata)

    async def lookup(
        self, name: str, version: str, release_time: datetime | None
    ) -> AdvisoryAnswer:
        if self.client is None or self.json_root is None:
            answer = self._from_metadata(name, version)
            return answer if answer is not None else _skip(self._why_not_metadata(name, version))
        url = release_json_url(self.json_root, name, version)
        try:
            advisories = await self._fetch(self.client, url, version)
        except ServiceUnavailable as e:
            fallback = self._from_metadata(name, version)
            return fallback if fallback is not None else _skip(str(e))
        except ServiceError as e:
            return AdvisoryAnswer(SOURCE, Status.ERROR, reason=str(e))
        except Exception as e:  # a source never raises: a crash is an ERROR answer
            return AdvisoryAnswer(SOURCE, Status.ERROR, reason=f"{url}: lookup failed: {e!r}")
        return AdvisoryAnswer(SOURCE, Status.OK, advisories=advisories, data_time=utcnow())

    async def _fetch(
        self, client: httpx.AsyncClient, url: str, version: str
    ) -> tuple[Advisory, ...]:
        from shouldi.index.client import PageTooLarge, get_page
        from shouldi.index.errors import PackageIndexError

        try:
            page = await get_page(client, url, accept="application/json", limit=self.limit)
        except PageTooLarge as e:
            raise ServiceError(str(e)) from e
        except PackageIndexError as e:
            raise ServiceUnavailable(f"PyPI JSON API unreachable: {e}") from e
        if page.status in (404, 410):
            raise ServiceUnavailable(f"per-version JSON not served by this index ({url})")
        if page.status != 200:
            raise ServiceUnavailable(f"{url}: HTTP {page.status}")
        try:
            data = json.loads(page.body)
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            raise ServiceError(f"{url} answered garbage, not JSON") from e
        info = data.get("info") if isinstance(data, dict) else None
        if not isinstance(info, dict) or not isinstance(info.get("version"), str):
            raise ServiceError(f"{url} answered JSON without info.version")
        if canonicalize_version(info["version"]) != canonicalize_version(version):
            raise ServiceError(f"{url} answered for version {info['version'][:40]}, not {version}")
        if "vulnerabilities" not in data:
            raise ServiceUnavailable(f"{url} lists no vulnerabilities (a mirror's JSON?)")
        if not isinstance(data["vulnerabilities"], list):
            raise ServiceError(f"{url}: 'vulnerabilities' is not a list")
        return parse_pypi_vulnerabilities(data["vulnerabilities"], page.url)

    def _why_not_metadata(self, name: str, version: str) -> str:
        meta = self.metadata
        if meta is None or not meta.available:
            return "this index has no PyPI JSON API"
        if meta.latest_version and canonicalize_version(meta.latest_version) != canonicalize_version(
            version
        ):
            return f"PyPI's project JSON lists vulnerabilities of {meta.latest_version} only, not {version}"
        return "PyPI's project JSON gave no vulnerability list for this release"

    def _from_metadata(self, name: str, version: str) -> AdvisoryAnswer | None:
        """The project JSON's list, when it describes exactly this release."""
        meta = self.metadata
        if meta is None or not meta.available or meta.vulnerabilities is None:
            return None
        if canonicalize_name(meta.name) != canonicalize_name(name):
            return None
        if canonicalize_version(meta.version) != canonicalize_version(version):
            return None
        advisories = tuple(
            dataclasses.replace(a, sources=a.sources | {SOURCE}) for a in meta.vulnerabilities
        )
        return AdvisoryAnswer(SOURCE, Status.OK, advisories=advisories, data_time=utcnow())


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _skip(reason: str) -> AdvisoryAnswer:
    return AdvisoryAnswer(SOURCE, Status.SKIPPED, reason=reason)
