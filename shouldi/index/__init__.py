"""Talking to PyPI-compatible indexes: resolve a spec, read metadata, download artifacts.

Every network function is async and takes an injected :class:`httpx.AsyncClient` (build one
per run with :func:`make_client`; tests pass any transport). Errors are in
:mod:`shouldi.index.errors`.
"""

from __future__ import annotations

from shouldi.index.cache import ArtifactCache
from shouldi.index.client import RetryTransport, make_client
from shouldi.index.downloader import DEFAULT_MAX_SIZE, download
from shouldi.index.errors import BadSpec, IntegrityError, NotFound, PackageIndexError
from shouldi.index.jsonapi import fetch_metadata, json_api_url
from shouldi.index.resolver import resolve
from shouldi.index.spec import default_index_url, normalize_name, parse_spec

__all__ = [
    "DEFAULT_MAX_SIZE",
    "ArtifactCache",
    "BadSpec",
    "IntegrityError",
    "NotFound",
    "PackageIndexError",
    "RetryTransport",
    "default_index_url",
    "download",
    "fetch_metadata",
    "json_api_url",
    "make_client",
    "normalize_name",
    "parse_spec",
    "resolve",
]
