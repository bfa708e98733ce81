"""Resolving a requirement against a simple index: which release, and which file of it.

:func:`project_files` reads one project page (PEP 691 JSON or PEP 503 HTML) into artifacts;
:func:`resolve` picks the version and the file pip would install for a target environment
(:mod:`shouldi.index.select` says how). With ``all_files=True`` it returns one
:class:`Release` per file of that version, the file pip would pick first: an attack may sit
in one wheel only, or only in the sdist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Literal, overload
from urllib.parse import urljoin, urlsplit

import httpx
from packaging.requirements import Requirement
from rapidfuzz import fuzz, process

from shouldi.index.client import PageTooLarge, get_page
from shouldi.index.errors import NotFound, PackageIndexError
from shouldi.index.select import (
    by_version,
    choose_file,
    choose_version,
    explain_no_match,
    wheel_tags,
)
from shouldi.index.simple import ACCEPT, parse_project_names, parse_simple_page
from shouldi.index.spec import normalize_name
from shouldi.index.target import TargetEnvironment
from shouldi.results import Artifact, Release

__all__ = ["index_root", "project_files", "resolve", "suggest_names"]

#: Hosts whose root listing is far too big to fetch for a "did you mean" hint.
_HUGE_INDEXES = frozenset({"pypi.org", "test.pypi.org", "pypi.python.org"})
#: The most of an index root we read to suggest names.
_ROOT_LIMIT = 2 << 20


def index_root(index_url: str) -> str:
    """The index URL with exactly one trailing slash, so relative joins stay under it."""
    return index_url.rstrip("/") + "/"


async def project_files(
    client: httpx.AsyncClient, index_url: str, name: str, *, display: str | None = None
) -> tuple[Artifact, ...]:
    """Every file the index lists for ``name``.

    Raises :class:`NotFound` when the project is absent (with close names when the index
    lists them cheaply; ``display`` is the name as the user wrote it), and
    :class:`PackageIndexError` on other trouble.
    """
    root = index_root(index_url)
    name = normalize_name(name)
    url = urljoin(root, f"{name}/")
    page = await get_page(client, url, accept=ACCEPT)
    if page.status in (404, 410):
        hint = await suggest_names(client, root, name)
        raise NotFound(f"no project named {display or name!r} on {root}{hint}")
    if page.status != 200:
        raise PackageIndexError(f"{url}: HTTP {page.status}")
    return parse_simple_page(page.content_type, page.body, page.url)


@overload
async def resolve(
    client: httpx.AsyncClient,
    index_url: str,
    req: Requirement,
    *,
    target: TargetEnvironment | None = ...,
    hashes: Iterable[str] | None = ...,
    all_files: Literal[False] = ...,
) -> Release: ...


@overload
async def resolve(
    client: httpx.AsyncClient,
    index_url: str,
    req: Requirement,
    *,
    target: TargetEnvironment | None = ...,
    hashes: Iterable[str] | None = ...,
    all_files: Literal[True],
) -> tuple[Release, ...]: ...


async def resolve(
    client: httpx.AsyncClient,
    index_url: str,
    req: Requirement,
    *,
    target: TargetEnvironment | None = None,
    hashes: Iterable[str] | None = None,
    all_files: bool = False,
) -> Release | tuple[Release, ...]:
    """Pick the newest release matching ``req`` and the file pip would install on ``target``.

    ``target`` defaults to the running interpreter. ``hashes`` (sha256 hex digests) are the
    only files allowed, as pip's ``--hash``. ``all_files=True`` returns every file of the
    chosen version as its own :class:`Release` (the one pip would pick first).

    Raises :class:`NotFound` when the project, a matching version, a file for the target
    or a file with a pinned hash is absent; :class:`PackageIndexError` on other trouble.
    """
    target = target or TargetEnvironment.current()
    name = normalize_name(req.name)
    files = await project_files(client, index_url, name, display=req.name)
    allowed = None if hashes is None else frozenset(h.lower() for h in hashes)
    grouped = by_version(files, name)
    choice = choose_version(grouped, name, req.specifier, target, hashes=allowed)
    if choice is None:
        raise NotFound(explain_no_match(files, name, req.specifier, target, hashes=allowed))
    artifact, reason = choose_file(choice, target)
    release = Release(
        name=name,
        version=str(choice.version),
        index_url=index_root(index_url),
        artifact=artifact,
        artifact_reason=reason,
        all_versions=tuple(str(v) for v in choice.all_versions),
        requested=str(req),
        files=choice.files,
        target=target.description,
    )
    if not all_files:
        return release
    others = [a for a in choice.files if a != artifact
              and (allowed is None or (a.sha256 or "").lower() in allowed)]
    return (release, *(
        replace(release, artifact=a, artifact_reason=_other_reason(a, artifact, target))
        for a in others
    ))


def _other_reason(artifact: Artifact, picked: Artifact, target: TargetEnvironment) -> str:
    tags = sorted(str(t) for t in wheel_tags(artifact))
    what = f"wheel {tags[0]}{' (and more tags)' if len(tags) > 1 else ''}" if tags else "sdist"
    return (
        f"{what}: judged as one of all the files of the release "
        f"(pip would install {picked.filename} on {target.description})"
    )


async def suggest_names(client: httpx.AsyncClient, root: str, name: str) -> str:
    """``; did you mean "x"?`` built from the index root, or "" when that is not cheap.

    PyPI's root lists every project (tens of MiB), so known huge indexes are skipped and
    others are read only up to a small limit. Any failure here just means no hint.
    """
    if urlsplit(root).hostname in _HUGE_INDEXES:
        return ""
    try:
        page = await get_page(client, root, accept=ACCEPT, limit=_ROOT_LIMIT)
    except (PageTooLarge, PackageIndexError):
        return ""
    if page.status != 200:
        return ""
    names = {
        normalize_name(n): n for n in parse_project_names(page.content_type, page.body, page.url)
    }
    matches = process.extract(name, list(names), scorer=fuzz.ratio, limit=3, score_cutoff=70)
    if not matches:
        return ""
    return "; did you mean " + " or ".join(f'"{names[m[0]]}"' for m in matches) + "?"
