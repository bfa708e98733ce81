"""Talking to PyPI-compatible indexes: resolve a spec, read metadata, download artifacts.

:func:`resolve` picks the file pip would install for a :class:`TargetEnvironment` (the
running interpreter by default; pip-like options or another interpreter otherwise).

Every network function is async and takes an injected :class:`httpx.AsyncClient` (build one
per run with :func:`make_client`; tests pass any transport). Errors are in
:mod:`shouldi.index.errors`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shouldi.lazy import lazy_exports

if TYPE_CHECKING:
    from shouldi.cache.artifacts import ArtifactCache
    from shouldi.index.client import RetryTransport, make_client
    from shouldi.index.downloader import DEFAULT_MAX_SIZE, download
    from shouldi.index.errors import (
        BadSpec,
        BadTarget,
        IntegrityError,
        NotFound,
        PackageIndexError,
    )
    from shouldi.index.jsonapi import fetch_metadata, json_api_url
    from shouldi.index.resolver import project_files, resolve
    from shouldi.index.spec import default_index_url, normalize_name, parse_spec
    from shouldi.index.target import TargetEnvironment

# Names load on first use: `shouldi.index.spec` alone does not import httpx.
_LAZY = {
    "ArtifactCache": "shouldi.cache.artifacts",
    "BadSpec": "shouldi.index.errors",
    "BadTarget": "shouldi.index.errors",
    "DEFAULT_MAX_SIZE": "shouldi.index.downloader",
    "IntegrityError": "shouldi.index.errors",
    "NotFound": "shouldi.index.errors",
    "PackageIndexError": "shouldi.index.errors",
    "RetryTransport": "shouldi.index.client",
    "default_index_url": "shouldi.index.spec",
    "download": "shouldi.index.downloader",
    "fetch_metadata": "shouldi.index.jsonapi",
    "json_api_url": "shouldi.index.jsonapi",
    "make_client": "shouldi.index.client",
    "normalize_name": "shouldi.index.spec",
    "parse_spec": "shouldi.index.spec",
    "project_files": "shouldi.index.resolver",
    "resolve": "shouldi.index.resolver",
    "TargetEnvironment": "shouldi.index.target",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
del TYPE_CHECKING, lazy_exports

__all__ = [
    "DEFAULT_MAX_SIZE",
    "ArtifactCache",
    "BadSpec",
    "BadTarget",
    "IntegrityError",
    "NotFound",
    "PackageIndexError",
    "RetryTransport",
    "TargetEnvironment",
    "default_index_url",
    "download",
    "fetch_metadata",
    "json_api_url",
    "make_client",
    "normalize_name",
    "parse_spec",
    "project_files",
    "resolve",
]
