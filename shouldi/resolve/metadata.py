"""A release's dependencies, read from files only: nothing is built, nothing is run.

Where they come from, in the order :mod:`shouldi.resolve.fetch` tries them:

1. ``core-metadata``: the index's ``<file>.metadata`` (PEP 658/714), sha256-checked when the
   index gave a digest;
2. ``wheel``: the wheel's own ``*.dist-info/METADATA``, read as the only member taken out
   of the zip (see :func:`wheel_metadata`);
3. ``pkg-info``: an sdist's ``PKG-INFO`` when its Metadata-Version is 2.2 or later and it
   does not list ``Requires-Dist`` as ``Dynamic`` (PEP 643: then the build cannot change
   them); when it does, the backend has said the build decides, and nothing else is asked;
4. ``pyproject``: for an older PKG-INFO (or none), the sdist's static ``[project]
   dependencies`` (PEP 621), when ``dependencies`` is not in ``[project] dynamic``;

else the dependencies are unknown: a :class:`Dependencies` with ``known=False`` and a reason
that says only running the build would tell. Metadata naming another project or version
than the file is not trusted either (pip calls it inconsistent and refuses the file).

Parsing uses ``packaging.metadata.parse_email`` (lenient: core metadata in the wild is
messy) and ``tomllib``. Sdists are extracted with :func:`shouldi.archive.extract_archive`
(every hostile-archive rule applies); wheels are zips whose directory lists every member,
so only METADATA is read, after the checks the archive layer makes of a zip: the member
count the end record declares, encryption, the member's type and its size, both declared
and while reading.
"""

from __future__ import annotations

import stat
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from shouldi.archive import ArchiveRefused, ExtractLimits, extract_archive

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "METADATA_LIMIT",
    "UNKNOWN",
    "Dependencies",
    "MetadataProblem",
    "from_core_metadata",
    "sdist_dependencies",
    "wheel_metadata",
]

#: The largest METADATA / PKG-INFO / pyproject.toml we read (long descriptions included).
METADATA_LIMIT = 16 << 20
#: The words every "unknown" reason starts with.
UNKNOWN = "dependencies unknown: only running the build would tell"

_EOCD = b"PK\x05\x06"
_EOCD_SEARCH = 22 + 0xFFFF


class MetadataProblem(Exception):
    """Metadata that cannot be read or trusted; the message is one line."""


@dataclass(frozen=True)
class Dependencies:
    """What one file says its dependencies are, and where that came from.

    ``source`` is ``core-metadata``, ``wheel``, ``pkg-info``, ``pyproject`` or ``unknown``;
    ``detail`` says it in words. ``requires`` are the ``Requires-Dist`` entries as written
    (markers not yet evaluated). ``extras_known`` is False when the base dependencies are
    static but the optional ones are not (pyproject ``optional-dependencies`` dynamic).
    """

    known: bool
    source: str
    detail: str
    requires: tuple[str, ...] = ()
    requires_python: str | None = None
    provides_extra: tuple[str, ...] = ()
    extras_known: bool = True

    @classmethod
    def unknown(cls, why: str) -> Dependencies:
        return cls(False, "unknown", f"{UNKNOWN} ({why})")


def _check_identity(name: object, version: object, project: str, expected: str, where: str) -> None:
    if not isinstance(name, str) or canonicalize_name(name) != canonicalize_name(project):
        raise MetadataProblem(f"{where} names project {name!r}, not {project!r}")
    try:
        same = isinstance(version, str) and Version(version) == Version(expected)
    except InvalidVersion:
        same = False
    if not same:
        raise MetadataProblem(f"{where} says version {version!r}, not {expected}")


def from_core_metadata(
    data: bytes, project: str, version: str, *, source: str, detail: str
) -> Dependencies:
    """Dependencies from a METADATA / PKG-INFO document (raises :class:`MetadataProblem`)."""
    if len(data) > METADATA_LIMIT:
        raise MetadataProblem(f"{detail} is larger than {METADATA_LIMIT} bytes")
    raw, _ = parse_email(data)
    _check_identity(raw.get("name"), raw.get("version"), project, version, detail)
    return Dependencies(
        known=True,
        source=source,
        detail=detail,
        requires=tuple(raw.get("requires_dist", ())),
        requires_python=raw.get("requires_python"),
        provides_extra=tuple(raw.get("provides_extra", ())),
    )


# --- wheels ------------------------------------------------------------------------------
def _declared_members(path: Path) -> int | None:
    """The member count the zip's end record declares (None: zip64 or no clean record)."""
    with path.open("rb") as raw:
        size = raw.seek(0, 2)
        raw.seek(max(0, size - _EOCD_SEARCH))
        tail = raw.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        return None
    (count,) = struct.unpack_from("<H", tail, at + 10)
    return None if count == 0xFFFF else int(count)


def wheel_metadata(path: Path, project: str, limits: ExtractLimits | None = None) -> bytes:
    """The ``METADATA`` of the one ``.dist-info`` directory of the wheel at ``path``.

    Raises :class:`MetadataProblem` for a zip that is corrupt, has too many members, no or
    several ``.dist-info`` directories (pip refuses those too), one for another project, a
    METADATA that is duplicated, encrypted, not a regular file, or too large.
    """
    limits = limits or ExtractLimits()
    declared = _declared_members(path)
    if declared is not None and declared > limits.max_members:
        raise MetadataProblem(f"the wheel declares {declared} members, over {limits.max_members}")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_members:
                raise MetadataProblem(f"the wheel has {len(infos)} members")
            tops = {i.filename.split("/", 1)[0] for i in infos}
            dist_infos = sorted(t for t in tops if t.endswith(".dist-info"))
            if len(dist_infos) != 1:
                raise MetadataProblem(
                    f"the wheel has {len(dist_infos)} .dist-info directories, not one"
                )
            stem = dist_infos[0][: -len(".dist-info")].split("-")[0]
            if canonicalize_name(stem) != canonicalize_name(project):
                raise MetadataProblem(f"the wheel's {dist_infos[0]} is not {project!r}'s")
            wanted = f"{dist_infos[0]}/METADATA"
            found = [i for i in infos if i.filename == wanted]
            if len(found) != 1:
                raise MetadataProblem(f"the wheel has {len(found)} {wanted} members")
            return _read_member(zf, found[0])
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as e:
        raise MetadataProblem(f"unreadable wheel ({e})") from e


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    kind = stat.S_IFMT(info.external_attr >> 16)
    if info.flag_bits & 0x1:
        raise MetadataProblem(f"{info.filename} is encrypted")
    if kind not in (0, stat.S_IFREG) or info.is_dir():
        raise MetadataProblem(f"{info.filename} is not a regular file")
    if info.file_size > METADATA_LIMIT:
        raise MetadataProblem(f"{info.filename} declares {info.file_size} bytes")
    with zf.open(info) as member:
        data = member.read(METADATA_LIMIT + 1)
    if len(data) > METADATA_LIMIT:
        raise MetadataProblem(f"{info.filename} is larger than {METADATA_LIMIT} bytes")
    return data


# --- sdists ------------------------------------------------------------------------------
def sdist_dependencies(path: Path, project: str, version: str, scratch: Path) -> Dependencies:
    """Dependencies of the sdist at ``path``, extracted into the empty dir ``scratch``."""
    try:
        extract_archive(path, scratch)
    except ArchiveRefused as e:  # the file's fault; other ArchiveErrors (disk) propagate
        return Dependencies.unknown(f"the sdist is refused as an archive: {e}")
    tops = list(scratch.iterdir())
    if len(tops) != 1 or not tops[0].is_dir():
        return Dependencies.unknown("the sdist has no single top-level directory")
    top = tops[0]
    pkg_info = _small_file(top / "PKG-INFO")
    reasons = []
    if pkg_info is None:
        reasons.append("it has no PKG-INFO")
    else:
        try:
            raw, _ = parse_email(pkg_info)
            _check_identity(raw.get("name"), raw.get("version"), project, version, "its PKG-INFO")
        except MetadataProblem as e:
            return Dependencies.unknown(str(e))
        meta_version = raw.get("metadata_version", "")
        dynamic = {d.lower() for d in raw.get("dynamic", ())}
        if _at_least(meta_version, "2.2"):
            if "requires-dist" in dynamic:  # the backend says the build decides: believe it
                return Dependencies.unknown(
                    f"its PKG-INFO (Metadata-Version {meta_version}) marks Requires-Dist dynamic"
                )
            return from_core_metadata(
                pkg_info, project, version, source="pkg-info",
                detail=f"the sdist's PKG-INFO (Metadata-Version {meta_version}: static)",
            )
        reasons.append(f"its PKG-INFO is Metadata-Version {meta_version or '?'}, before 2.2")
    found = _pyproject_dependencies(top / "pyproject.toml", project)
    if isinstance(found, Dependencies):
        return found
    reasons.append(found)
    return Dependencies.unknown("; ".join(reasons))


def _at_least(text: str, floor: str) -> bool:
    try:
        return Version(text) >= Version(floor)
    except InvalidVersion:
        return False


def _small_file(path: Path) -> bytes | None:
    if not path.is_file() or path.is_symlink() or path.stat().st_size > METADATA_LIMIT:
        return None
    return path.read_bytes()


def _pyproject_dependencies(path: Path, project: str) -> Dependencies | str:
    """PEP 621 static dependencies, or why there are none to trust."""
    data = _small_file(path)
    if data is None:
        return "it has no pyproject.toml"
    try:
        table = tomllib.loads(data.decode("utf-8")).get("project")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        return f"its pyproject.toml does not parse ({str(e).splitlines()[0]})"
    if not isinstance(table, dict):
        return "its pyproject.toml has no [project] table"
    name = table.get("name")
    if not isinstance(name, str) or canonicalize_name(name) != canonicalize_name(project):
        return f"its pyproject.toml names project {name!r}"
    dynamic = table.get("dynamic", [])
    dynamic = {d.lower() for d in dynamic if isinstance(d, str)} if isinstance(dynamic, list) else set()
    if "dependencies" in dynamic:
        return "its pyproject.toml lists dependencies as dynamic"
    deps = table.get("dependencies", [])
    optional = table.get("optional-dependencies", {})
    if not _strings(deps) or not isinstance(optional, dict):
        return "its pyproject.toml [project] dependencies are not a list of strings"
    requires = list(deps)
    for extra, reqs in optional.items():
        if not _strings(reqs):
            return f"its pyproject.toml optional-dependencies.{extra} is not a list of strings"
        requires += [_with_extra(r, extra) for r in reqs]
    python = table.get("requires-python")
    return Dependencies(
        known=True,
        source="pyproject",
        detail="the sdist's pyproject.toml [project] dependencies (static)",
        requires=tuple(requires),
        requires_python=python if isinstance(python, str) else None,
        provides_extra=tuple(str(e) for e in optional),
        extras_known="optional-dependencies" not in dynamic,
    )


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _with_extra(text: str, extra: str) -> str:
    """``req`` of extra ``extra`` as a Requires-Dist line (the marker joined as backends do)."""
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return text  # reported as unparseable when the resolver reads it
    marker = f'extra == "{extra}"'
    if req.marker is not None:
        marker = f"({req.marker}) and {marker}"
    req.marker = None
    return f"{req}; {marker}"

