"""Resolving a requirement against a simple index: which release, and which file of it."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import httpx
from packaging.requirements import Requirement
from rapidfuzz import fuzz, process

from shouldi.index.client import PageTooLarge, get_page
from shouldi.index.errors import NotFound, PackageIndexError
from shouldi.index.select import choose_artifact, choose_version, file_version
from shouldi.index.simple import ACCEPT, parse_project_names, parse_simple_page
from shouldi.index.spec import normalize_name
from shouldi.results import Artifact, Release

__all__ = ["index_root", "resolve", "suggest_names"]

#: Hosts whose root listing is far too big to fetch for a "did you mean" hint.
_HUGE_INDEXES = frozenset({"pypi.org", "test.pypi.org", "pypi.python.org"})
#: The most of an index root we read to suggest names.
_ROOT_LIMIT = 2 << 20


def index_root(index_url: str) -> str:
    """The index URL with exactly one trailing slash, so relative joins stay under it."""
    return index_url.rstrip("/") + "/"


async def resolve(client: httpx.AsyncClient, index_url: str, req: Requirement) -> Release:
    """Pick the newest release matching ``req`` and the artifact to scan.

    Raises :class:`NotFound` when the project or a matching version is absent (with close
    names when the index lists them cheaply), :class:`PackageIndexError` on other trouble.
    """
    root = index_root(index_url)
    name = normalize_name(req.name)
    url = urljoin(root, f"{name}/")
    page = await get_page(client, url, accept=ACCEPT)
    if page.status in (404, 410):
        hint = await suggest_names(client, root, name)
        raise NotFound(f"no project named {req.name!r} on {root}{hint}")
    if page.status != 200:
        raise PackageIndexError(f"{url}: HTTP {page.status}")
    files = parse_simple_page(page.content_type, page.body, page.url)
    choice = choose_version(files, name, req.specifier)
    if choice is None:
        raise NotFound(_no_match_message(req, name, files))
    artifact, reason = choose_artifact(choice.files)
    if choice.note:
        reason = f"{reason}; {choice.note}"
    return Release(
        name=name,
        version=str(choice.version),
        index_url=root,
        artifact=artifact,
        artifact_reason=reason,
        all_versions=tuple(str(v) for v in choice.all_versions),
        requested=str(req),
    )


def _no_match_message(req: Requirement, name: str, files: tuple[Artifact, ...]) -> str:
    versions = sorted({v for a in files if (v := file_version(a.filename, name)) is not None})
    if not versions:
        return f"project {name!r} has no sdist or wheel on the index"
    spec = str(req.specifier) or "any version"
    newest = ", ".join(str(v) for v in versions[-5:])
    return (
        f"no release of {name!r} matches {spec!r} (newest on the index: {newest}; "
        "yanked files count only when pinned with ==)"
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
