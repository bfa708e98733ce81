"""The list of popular PyPI project names that typosquats imitate.

Shipped as ``shouldi/data/popular_packages.txt``: ``#`` header lines say where the ranking
came from (``# source:``) and when (``# as-of:``), then one PEP 503 name per line, most
downloaded first. :func:`refresh_popular` rebuilds it from the public monthly ranking.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import httpx
from packaging.utils import canonicalize_name

from shouldi.scanners.errors import PopularListError

__all__ = ["DEFAULT_LIMIT", "TOP_PYPI_URL", "PopularNames", "refresh_popular"]

TOP_PYPI_URL = "https://hugovk.github.io/top-pypi-packages/top-pypi-packages.min.json"
DEFAULT_LIMIT = 5000


@dataclass(frozen=True)
class PopularNames:
    """Popular names, most popular first, and where the ranking came from."""

    names: tuple[str, ...]
    source: str
    as_of: str | None = None

    @cached_property
    def _ranks(self) -> dict[str, int]:
        ranks: dict[str, int] = {}
        for position, name in enumerate(self.names):
            ranks.setdefault(name, position)
        return ranks

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and canonicalize_name(name) in self._ranks

    def rank(self, name: str) -> int | None:
        """0 for the most downloaded name; ``None`` when not in the list."""
        return self._ranks.get(canonicalize_name(name))

    @classmethod
    def parse(cls, text: str, origin: str) -> PopularNames:
        source, as_of, names = origin, None, []
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("#"):
                key, _, value = line.lstrip("# ").partition(":")
                if key.strip() == "source" and value.strip():
                    source = value.strip()
                elif key.strip() == "as-of" and value.strip():
                    as_of = value.strip()
            elif line:
                names.append(canonicalize_name(line))
        if not names:
            raise PopularListError(f"{origin} lists no package names")
        return cls(tuple(names), source, as_of)

    @classmethod
    def load(cls, path: Path | None = None) -> PopularNames:
        """Read ``path``, or the list shipped with shouldi when ``path`` is None."""
        try:
            if path is None:
                resource = resources.files("shouldi") / "data" / "popular_packages.txt"
                return cls.parse(resource.read_text("utf-8"), "shouldi/data/popular_packages.txt")
            return cls.parse(path.read_text("utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as e:
            raise PopularListError(f"cannot read the popular-package list: {e}") from e


def _download(client: httpx.Client, url: str) -> tuple[list[str], str | None]:
    try:
        response = client.get(url, timeout=30.0)
        response.raise_for_status()
        data = response.json()
    except httpx.HTTPError as e:
        raise PopularListError(f"cannot download the popular-package list from {url}: {e}") from e
    except ValueError as e:
        raise PopularListError(f"{url} did not return JSON: {e}") from e
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise PopularListError(f"{url} returned JSON without a 'rows' list")
    names = [row["project"] for row in rows
             if isinstance(row, dict) and isinstance(row.get("project"), str)]
    updated = data.get("last_update")
    return names, updated if isinstance(updated, str) else None


def refresh_popular(
    client: httpx.Client, dest: Path, limit: int = DEFAULT_LIMIT, url: str = TOP_PYPI_URL
) -> PopularNames:
    """Download the ranking, keep the ``limit`` most downloaded names, write ``dest``
    atomically (temp file + ``os.replace``). Raises :class:`PopularListError`."""
    raw, updated = _download(client, url)
    names = list(dict.fromkeys(canonicalize_name(n) for n in raw))[:limit]
    if not names:
        raise PopularListError(f"{url} lists no package names")
    popular = PopularNames(tuple(names), f"{url} (PyPI download ranking, 30-day)", updated)
    header = [
        f"# shouldi popular package names: the {len(names)} most downloaded PyPI projects, "
        "most downloaded first.",
        f"# source: {popular.source}",
        f"# as-of: {updated or 'unknown'}",
    ]
    _write_atomic(dest, "\n".join([*header, *names]) + "\n")
    return popular


def _write_atomic(dest: Path, text: str) -> None:
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
        tmp = Path(name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            tmp.replace(dest)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
    except OSError as e:
        raise PopularListError(f"cannot write {dest}: {e}") from e
