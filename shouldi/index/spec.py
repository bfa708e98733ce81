"""Requirement specs and index names: the user's input, validated once.

A spec is a PEP 508 requirement without a URL (``name``, ``name==1.2``, ``name[extra]>=1,<2;
python_version>"3.8"``). Names compare in their PEP 503 normal form.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from shouldi.index.errors import BadSpec

if TYPE_CHECKING:
    from packaging.requirements import Requirement

__all__ = ["PYPI_SIMPLE_URL", "check_spec", "default_index_url", "normalize_name", "parse_spec"]

PYPI_SIMPLE_URL = "https://pypi.org/simple/"
#: ``name`` or ``name==version``: PEP 508's name rule (the version is checked by ``packaging``).
_SIMPLE_SPEC = re.compile(r"\s*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])\s*(?:==\s*(\S+)\s*)?")


def normalize_name(name: str) -> str:
    """PEP 503 normal form: lower case, runs of ``-_.`` become one ``-``."""
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def check_spec(spec: str) -> None:
    """Raise :class:`BadSpec` unless ``spec`` parses (see :func:`parse_spec`).

    The common forms, ``name`` and ``name==version``, are checked without loading
    ``packaging.requirements`` (a third of a warm run's start-up); others are fully parsed.
    """
    simple = _SIMPLE_SPEC.fullmatch(spec)
    if simple is not None:
        from packaging.version import InvalidVersion, Version

        try:
            if simple.group(2) is not None:
                Version(simple.group(2))
            return
        except InvalidVersion:
            pass  # parse_spec gives the error message
    parse_spec(spec)


def default_index_url() -> str:
    """The index pip would use: ``$PIP_INDEX_URL`` when set, else PyPI's simple root."""
    return os.environ.get("PIP_INDEX_URL", "").strip() or PYPI_SIMPLE_URL


def parse_spec(spec: str) -> Requirement:
    """Parse a requirement spec, or raise :class:`BadSpec` with a one-line reason.

    Direct references (``name @ https://...``) are refused: shouldi scans what an index
    serves, and an arbitrary URL has no index metadata or published hash to check against.
    """
    from packaging.requirements import InvalidRequirement, Requirement

    text = spec.strip()
    if not text:
        raise BadSpec("empty requirement spec: expected a project name such as 'requests==2.31.0'")
    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        reason = str(e).splitlines()[0] if str(e) else "unparseable"
        raise BadSpec(f"invalid requirement spec {spec!r}: {reason}") from e
    if req.url:
        raise BadSpec(
            f"invalid requirement spec {spec!r}: direct URL references are not supported; "
            "give a name and version specifier"
        )
    return req
