"""Choosing a release for a spec, and the artifact of that release to scan. Pure functions.

Versions come from filenames (wheel names per the wheel spec; sdist names as pip reads
them: the project's name, a dash, the version). Eggs, installers and unparseable names are
ignored. Selection follows pip: the newest version matching the specifier, pre-releases
only as ``SpecifierSet.filter`` allows, yanked files ignored unless the spec pins exactly
that version (PEP 592).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, sys_tags
from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from shouldi.results import Artifact

__all__ = ["SDIST_SUFFIXES", "Choice", "choose_artifact", "choose_version", "file_version"]

#: Source archive suffixes we can scan, most preferred first.
SDIST_SUFFIXES = (".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz")


def file_version(filename: str, project: str) -> Version | None:
    """The version a file of ``project`` carries, or None if it is not a usable sdist/wheel."""
    if filename.endswith(".whl"):
        try:
            name, version, _, _ = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion):
            return None
        return version if name == canonicalize_name(project) else None
    suffix = next((s for s in SDIST_SUFFIXES if filename.lower().endswith(s)), None)
    if suffix is None:
        return None
    stem = filename[: -len(suffix)]
    for i, char in enumerate(stem):
        if char == "-" and canonicalize_name(stem[:i]) == canonicalize_name(project):
            try:
                return Version(stem[i + 1 :])
            except InvalidVersion:
                return None
    return None


@dataclass(frozen=True)
class Choice:
    """The chosen version, its candidate files, every version seen, and a note on yanking."""

    version: Version
    files: tuple[Artifact, ...]
    all_versions: tuple[Version, ...]
    note: str = ""


def _pinned(specifier: SpecifierSet) -> bool:
    specs = list(specifier)
    return len(specs) == 1 and (
        specs[0].operator == "===" or (specs[0].operator == "==" and "*" not in specs[0].version)
    )


def choose_version(
    files: Iterable[Artifact], project: str, specifier: SpecifierSet
) -> Choice | None:
    """The newest version matching ``specifier`` with a usable file; None when there is none."""
    by_version: dict[Version, list[Artifact]] = {}
    for artifact in files:
        version = file_version(artifact.filename, project)
        if version is not None:
            by_version.setdefault(version, []).append(artifact)
    all_versions = tuple(sorted(by_version))
    live = [v for v in all_versions if any(not a.yanked for a in by_version[v])]
    matching = list(specifier.filter(live))
    if matching:
        best = max(matching)
        usable = tuple(a for a in by_version[best] if not a.yanked)
        return Choice(best, usable, all_versions)
    if _pinned(specifier):
        pinned = list(specifier.filter(all_versions, prereleases=True))
        if pinned:
            best = max(pinned)
            return Choice(
                best, tuple(by_version[best]), all_versions, "yanked release, pinned by =="
            )
    return None


def _sdist_rank(artifact: Artifact) -> int:
    name = artifact.filename.lower()
    return next(i for i, s in enumerate(SDIST_SUFFIXES) if name.endswith(s))


def _tags(artifact: Artifact) -> frozenset[Tag]:
    return parse_wheel_filename(artifact.filename)[3]


def _pure(tags: frozenset[Tag]) -> bool:
    return all(t.abi == "none" and t.platform == "any" for t in tags)


def choose_artifact(files: Sequence[Artifact]) -> tuple[Artifact, str]:
    """Pick the file to scan: sdist, else pure-Python wheel, else the best other wheel.

    The sdist is what the author wrote (setup.py included), so it shows the most; a pure
    wheel has the same Python code; a binary wheel is a last resort. Returns the artifact
    and a sentence saying why it was chosen. ``files`` must not be empty.
    """
    if not files:
        raise ValueError("no files to choose from")
    sdists = sorted(
        (a for a in files if a.kind == "sdist"), key=lambda a: (_sdist_rank(a), a.filename)
    )
    if sdists:
        return sdists[0], "sdist: the source as published, build scripts included"
    wheels = sorted(files, key=lambda a: a.filename)
    pure = [w for w in wheels if _pure(_tags(w))]
    py3 = [w for w in pure if any(t.interpreter.startswith("py3") for t in _tags(w))]
    if py3 or pure:
        chosen = (py3 or pure)[0]
        return chosen, "no sdist; pure-Python wheel (same Python code as the source)"
    priority = {tag: i for i, tag in enumerate(sys_tags())}
    ranked = sorted(wheels, key=lambda w: min(priority.get(t, len(priority)) for t in _tags(w)))
    best = ranked[0]
    tag_text = "-".join(best.filename[: -len(".whl")].split("-")[-3:])
    if any(t in priority for t in _tags(best)):
        why = "the wheel this interpreter would install"
    else:
        why = "no wheel matches this interpreter, took the first by name"
    return best, f"no sdist or pure-Python wheel; {why} ({tag_text})"
