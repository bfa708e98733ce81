"""The distributions installed in an environment, like ``pip freeze``, read from metadata only.

Nothing is imported from the distributions: :mod:`importlib.metadata` reads their
``.dist-info`` files. A distribution installed from a URL or a local checkout (PEP 610
``direct_url.json``) is not on an index, so it is kept with an ``unsupported`` reason.

Metadata files are hostile input like any other: each one importlib reads goes through
:func:`~shouldi.inputs.files.read_text_input` (a regular file, at most
:data:`MAX_METADATA_BYTES`), so a FIFO or ``/dev/zero`` in place of a ``METADATA`` file is a
one-line :class:`~shouldi.inputs.errors.InputError` naming it, not a hang.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from shouldi.inputs.dependency import Dependency
from shouldi.inputs.errors import InputError
from shouldi.inputs.files import MiB, read_text_input

__all__ = ["MAX_METADATA_BYTES", "installed_distributions"]

MAX_METADATA_BYTES = 16 * MiB  # METADATA embeds the long description: some are over 1 MiB

EDITABLE_INSTALL = "editable install of a local checkout: not resolvable on a package index"
DIRECT_INSTALL = "installed from a URL or local path, not from a package index"
BAD_VERSION = "installed version is not a valid PEP 440 version"


def installed_distributions(paths: Sequence[str] | None = None) -> list[Dependency]:
    """Every distribution on ``paths`` (default: this interpreter's ``sys.path``), pinned.

    The first distribution of a name on the path wins, as for imports; the result is sorted
    by normalised name. Distributions without a name (broken metadata) are left out. A path
    that is not an existing directory is an :class:`InputError`: a mistyped site-packages
    directory holds no distributions, and "no dependencies" would read as a pass.
    """
    for path in paths or ():
        if not path:
            raise InputError("--path '': give a site-packages directory")
        if not Path(path).is_dir():
            problem = "not a directory" if os.path.lexists(path) else "no such directory"
            raise InputError(f"--path {path}: {problem}")
    found = metadata.distributions() if paths is None else metadata.distributions(path=list(paths))
    seen: dict[str, Dependency] = {}
    for dist in _bounded(found):
        names = dist.metadata.get_all("Name") or []  # get_all: no warning when absent
        raw_name = names[0] if names else None
        if not raw_name:
            continue
        name = str(canonicalize_name(raw_name))
        if name not in seen:
            seen[name] = _dependency(dist, name, str(raw_name))
    return [seen[n] for n in sorted(seen)]


def _dependency(dist: metadata.Distribution, name: str, raw_name: str) -> Dependency:
    version = dist.version
    spec = f"{raw_name}=={version}"
    unsupported = _direct_url_reason(dist)
    try:
        req: Requirement | None = Requirement(spec)
    except InvalidRequirement:
        req, unsupported = None, unsupported or BAD_VERSION
    return Dependency(
        spec=spec,
        requirement=req,
        name=name,
        origin_file=str(dist.locate_file("")),
        pinned=req is not None,
        unsupported=unsupported,
    )


def _direct_url_reason(dist: metadata.Distribution) -> str | None:
    """Why a PEP 610 direct install cannot be looked up on an index, or ``None``."""
    text = dist.read_text("direct_url.json")
    if text is None:
        return None
    try:
        info = json.loads(text)
    except ValueError:
        return DIRECT_INSTALL
    dir_info = info.get("dir_info") if isinstance(info, dict) else None
    editable = isinstance(dir_info, dict) and dir_info.get("editable") is True
    return EDITABLE_INSTALL if editable else DIRECT_INSTALL


class _BoundedDistribution(metadata.PathDistribution):
    """A ``.dist-info``/``.egg-info`` directory whose files are read as hostile input."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._dir = path

    def read_text(self, filename: str | os.PathLike[str]) -> str | None:
        path = self._dir / filename
        if not os.path.lexists(path):
            return None  # what importlib answers for a file that is not there
        return read_text_input(path, limit=MAX_METADATA_BYTES, what="metadata file")


def _bounded(found: Iterable[metadata.Distribution]) -> Iterable[metadata.Distribution]:
    """Each distribution on a real directory, re-made to read its files within limits.

    Distributions elsewhere (inside a zip on ``sys.path``, or from a custom finder) keep
    their own reader: their bytes come from an archive member, not a file that can be a FIFO.
    """
    for dist in found:
        where = getattr(dist, "_path", None)  # PathDistribution keeps its directory here
        yield _BoundedDistribution(where) if isinstance(where, Path) else dist
