"""The value every input reader produces: one declared dependency and where it came from.

A dependency shouldi cannot look up on an index (an editable checkout, a direct URL) is kept
as a value with an ``unsupported`` reason, so the caller reports it as skipped instead of
silently dropping it: a skipped dependency must never read as a clean one.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from shouldi.inputs.errors import InputError

__all__ = ["Dependency", "make_dependency"]

DIRECT_REFERENCE = "direct reference to a URL or path: not resolvable on a package index"


@dataclass(frozen=True)
class Dependency:
    """One dependency as declared, with its origin and what the declaration pins down.

    ``requirement`` is ``None`` only for lines packaging cannot parse as PEP 508 (editable and
    bare URL/path lines); those always carry an ``unsupported`` reason.
    """

    spec: str  # as written, without per-line options
    requirement: Requirement | None
    name: str | None  # PEP 503 normalised; None when not even a name could be found
    origin_file: str | None = None
    origin_line: int | None = None  # first physical line of a continued line
    pinned: bool = False  # exactly one version: "==1.2" (no wildcard) or "===1.2"
    hashes: tuple[str, ...] = ()  # "sha256:<hex>", from --hash options
    index_url: str | None = None  # the input's --index-url; None means the caller's default
    extra_index_urls: tuple[str, ...] = ()
    marker_excluded: bool = False  # environment markers are false for this interpreter
    unsupported: str | None = None  # why this cannot be resolved on an index
    group: str | None = None  # pyproject extra / dependency group; None for main deps

    @property
    def version(self) -> str | None:
        """The pinned version, or ``None`` when the spec allows more than one."""
        if not self.pinned or self.requirement is None:
            return None
        return next(iter(self.requirement.specifier)).version

    @property
    def origin(self) -> str:
        """``file:line`` (or just ``file``) for messages."""
        where = self.origin_file or "<unknown>"
        return f"{where}:{self.origin_line}" if self.origin_line is not None else where


def _is_pinned(req: Requirement) -> bool:
    specs = list(req.specifier)
    if req.url or len(specs) != 1:
        return False
    spec = specs[0]
    return spec.operator == "===" or (spec.operator == "==" and not spec.version.endswith(".*"))


def make_dependency(
    spec: str,
    origin_file: str | None,
    origin_line: int | None,
    *,
    hashes: tuple[str, ...] = (),
    group: str | None = None,
) -> Dependency:
    """Parse a PEP 508 ``spec`` into a :class:`Dependency` (markers evaluated here).

    Raises :class:`InputError` naming ``origin_file:origin_line`` when the spec is invalid.
    """
    where = f"{origin_file}:{origin_line}" if origin_line is not None else str(origin_file)
    try:
        req = Requirement(spec)
    except InvalidRequirement as e:
        reason = str(e).splitlines()[0]
        raise InputError(f"{where}: invalid requirement {spec!r}: {reason}") from e
    try:
        excluded = req.marker is not None and not req.marker.evaluate()
    except Exception as e:  # packaging raises several types for markers it cannot evaluate
        raise InputError(f"{where}: cannot evaluate marker of {spec!r}: {e}") from e
    return Dependency(
        spec=spec,
        requirement=req,
        name=canonicalize_name(req.name),
        origin_file=origin_file,
        origin_line=origin_line,
        pinned=_is_pinned(req),
        marker_excluded=excluded,
        unsupported=DIRECT_REFERENCE if req.url else None,
        hashes=hashes,
        group=group,
    )
