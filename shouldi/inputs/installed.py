"""The distributions installed in an environment, like ``pip freeze``, read from metadata only.

Nothing is imported from the distributions: :mod:`importlib.metadata` reads their
``.dist-info`` files. A distribution installed from a URL or a local checkout (PEP 610
``direct_url.json``) is not on an index, so it is kept with an ``unsupported`` reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from shouldi.inputs.dependency import Dependency

__all__ = ["installed_distributions"]

EDITABLE_INSTALL = "editable install of a local checkout: not resolvable on a package index"
DIRECT_INSTALL = "installed from a URL or local path, not from a package index"
BAD_VERSION = "installed version is not a valid PEP 440 version"


def installed_distributions(paths: Sequence[str] | None = None) -> list[Dependency]:
    """Every distribution on ``paths`` (default: this interpreter's ``sys.path``), pinned.

    The first distribution of a name on the path wins, as for imports; the result is sorted
    by normalised name. Distributions without a name (broken metadata) are left out.
    """
    found = metadata.distributions() if paths is None else metadata.distributions(path=list(paths))
    seen: dict[str, Dependency] = {}
    for dist in found:
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
