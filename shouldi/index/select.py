"""Choosing a release for a spec, and the file of it pip would install. Pure functions.

Versions come from filenames (wheel names per the wheel spec; sdist names as pip reads
them: the project's name, a dash, the version). Eggs, installers and unparseable names are
ignored. Selection follows pip (``pip._internal.index.package_finder``) for a
:class:`~shouldi.index.target.TargetEnvironment`:

- a file is a candidate when the target can install it: a wheel with a tag the target
  supports, or an sdist; and its ``requires-python`` admits the target's Python;
- the version is the newest matching the specifier among versions with a candidate
  (pre-releases only as ``SpecifierSet.filter`` allows); yanked files are ignored unless
  the spec pins exactly that version with ``==``/``===``, or a ``--hash`` names the file
  (PEP 592);
- of that version's candidates, the wheel whose best tag ranks highest for the target wins
  (ties: the higher build tag, then the first listed: pip's ``max`` over its sort key); the
  sdist only when no wheel fits;
- a ``--hash`` pin (a set of allowed sha256 digests) keeps only the files it names.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    BuildTag,
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from shouldi.index.target import TargetEnvironment
from shouldi.results import Artifact

__all__ = [
    "SDIST_SUFFIXES",
    "Choice",
    "by_version",
    "candidates",
    "choose_file",
    "choose_version",
    "explain_no_match",
    "file_version",
    "fits",
    "matching_versions",
    "wheel_tags",
]

#: Source archive suffixes we can scan, most preferred first.
SDIST_SUFFIXES = (".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz")


def file_version(filename: str, project: str) -> Version | None:
    """The version a file of ``project`` carries, or None if it is not a usable sdist/wheel."""
    if filename.endswith(".whl"):  # name-version(-build)?-py-abi-plat.whl; tags parsed on use
        parts = filename[: -len(".whl")].split("-")
        if len(parts) not in (5, 6) or canonicalize_name(parts[0]) != canonicalize_name(project):
            return None
        try:
            return Version(parts[1])
        except InvalidVersion:
            return None
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


@functools.lru_cache(maxsize=1 << 16)
def _parsed_wheel(filename: str) -> tuple[BuildTag, frozenset[Tag]]:
    """A wheel name's build tag and tags, parsed once per process (big pages repeat them)."""
    if not filename.endswith(".whl"):
        return (), frozenset()
    try:
        _, _, build, tags = parse_wheel_filename(filename)
    except (InvalidWheelFilename, InvalidVersion):
        return (), frozenset()
    return build, tags


def wheel_tags(artifact: Artifact) -> frozenset[Tag]:
    """The tags in a wheel's file name; empty for an sdist or an unparseable name."""
    return _parsed_wheel(artifact.filename)[1]


def _build_tag(artifact: Artifact) -> BuildTag:
    return _parsed_wheel(artifact.filename)[0]


def _best_rank(artifact: Artifact, target: TargetEnvironment) -> int | None:
    ranks = [r for t in wheel_tags(artifact) if (r := target.priority.get(t)) is not None]
    return min(ranks) if ranks else None


def fits(artifact: Artifact, target: TargetEnvironment) -> bool:
    """Whether ``target`` could install ``artifact`` (tags and requires-python)."""
    if not target.allows_python(artifact.requires_python):
        return False
    if artifact.filename.endswith(".whl"):
        return _best_rank(artifact, target) is not None
    return True


def by_version(files: Iterable[Artifact], project: str) -> dict[Version, tuple[Artifact, ...]]:
    """The usable files of ``project`` by version, in the order the index listed them."""
    out: dict[Version, list[Artifact]] = {}
    project = canonicalize_name(project)
    for artifact in files:
        version = file_version(artifact.filename, project)
        if version is not None:
            out.setdefault(version, []).append(artifact)
    return {v: tuple(fs) for v, fs in out.items()}


def candidates(
    files: Iterable[Artifact],
    target: TargetEnvironment,
    *,
    yanked: bool = False,
    hashes: Collection[str] | None = None,
) -> tuple[Artifact, ...]:
    """The files of one version the target may install (yanked ones only if ``yanked``)."""
    return tuple(
        a
        for a in files
        if (yanked or not a.yanked)
        and (hashes is None or (a.sha256 or "").lower() in hashes)
        and fits(a, target)
    )


@dataclass(frozen=True)
class Choice:
    """The chosen version: every file of it, the ones the target may install, a note."""

    version: Version
    files: tuple[Artifact, ...]  # every file of the release
    candidates: tuple[Artifact, ...]  # never empty
    all_versions: tuple[Version, ...]
    note: str = ""
    hash_pinned: bool = False  # candidates were limited to the files a --hash pin names


def _pinned(specifier: SpecifierSet) -> bool:
    specs = list(specifier)
    return len(specs) == 1 and (
        specs[0].operator == "===" or (specs[0].operator == "==" and "*" not in specs[0].version)
    )


def _allowed(hashes: Iterable[str] | None) -> frozenset[str] | None:
    return None if hashes is None else frozenset(h.lower() for h in hashes)


def choose_version(
    files: Iterable[Artifact] | Mapping[Version, tuple[Artifact, ...]],
    project: str,
    specifier: SpecifierSet,
    target: TargetEnvironment | None = None,
    *,
    hashes: Iterable[str] | None = None,
) -> Choice | None:
    """The newest version matching ``specifier`` with a file ``target`` may install.

    None when there is none (:func:`explain_no_match` says why). ``hashes``, when given,
    are the only sha256 digests allowed.
    """
    target = target or TargetEnvironment.current()
    grouped = files if isinstance(files, Mapping) else by_version(files, project)
    allowed = _allowed(hashes)
    all_versions = tuple(sorted(grouped))
    pinned_by_hash = allowed is not None
    for best in matching_versions(grouped, specifier, target, hashes=allowed):
        found = candidates(grouped[best], target, hashes=allowed)
        return Choice(best, grouped[best], found, all_versions, hash_pinned=pinned_by_hash)
    if _pinned(specifier) or allowed is not None:
        for best in reversed(all_versions):
            if not specifier.contains(best, prereleases=True):
                continue
            found = candidates(grouped[best], target, yanked=True, hashes=allowed)
            if found:
                how = "==" if _pinned(specifier) else "--hash"
                note = f"yanked release, pinned by {how}"
                return Choice(best, grouped[best], found, all_versions, note, pinned_by_hash)
    return None


def matching_versions(
    grouped: Mapping[Version, Sequence[Artifact]],
    specifier: SpecifierSet,
    target: TargetEnvironment,
    *,
    hashes: Collection[str] | None = None,
    exclude: Collection[Version] = (),
) -> Iterator[Version]:
    """Versions matching ``specifier`` with a live file for ``target``, newest first, lazily.

    The same set ``specifier.filter`` gives over the versions with a candidate (less
    ``exclude``): pre-releases when the specifier names one, or when no final qualifies.
    """
    newest_first = [v for v in sorted(grouped, reverse=True) if v not in exclude]
    explicit = specifier.prereleases
    found_final = False
    for version in newest_first:
        if (explicit or not version.is_prerelease) and specifier.contains(
            version, prereleases=bool(explicit)
        ) and candidates(grouped[version], target, hashes=hashes):
            found_final = found_final or not version.is_prerelease
            yield version
    if explicit is None and not found_final:
        for version in newest_first:
            if version.is_prerelease and specifier.contains(version, prereleases=True) and (
                candidates(grouped[version], target, hashes=hashes)
            ):
                yield version


def choose_file(
    choice: Choice, target: TargetEnvironment | None = None
) -> tuple[Artifact, str]:
    """The file of ``choice`` pip would install on ``target``, and why, in plain words."""
    target = target or TargetEnvironment.current()
    wheels = [
        (i, a, rank)
        for i, a in enumerate(choice.candidates)
        if a.filename.endswith(".whl") and (rank := _best_rank(a, target)) is not None
    ]
    if wheels:
        # pip: max over (not yanked, -tag rank, build tag); max keeps the first of equals
        _, best, rank = min(wheels, key=lambda w: (w[1].yanked, w[2], _neg(_build_tag(w[1])), w[0]))
        of = f" (of {len(wheels)} wheels that fit)" if len(wheels) > 1 else ""
        if choice.hash_pinned:
            of += " among the files the --hash pin allows"
        reason = f"wheel {target.tags[rank]}: the best match for {target.description}{of}"
    else:
        sdists = [a for a in choice.candidates if not a.filename.endswith(".whl")]
        best = min(sdists, key=lambda a: a.yanked)
        has_wheels = any(a.filename.endswith(".whl") for a in choice.files)
        if has_wheels and any(fits(a, target) for a in choice.files if a.filename.endswith(".whl")):
            why = "the --hash pin allows no wheel" if choice.hash_pinned else "no live wheel fits"
        elif has_wheels:
            why = f"no wheel fits {target.description}"
        else:
            why = "the release has no wheel"
        reason = f"sdist: {why}"
    return best, f"{reason}; {choice.note}" if choice.note else reason


def _neg(build: BuildTag) -> tuple[int, tuple[int, str]]:
    """Sorts a higher build tag first under ``min`` (no build tag is lowest, as in pip)."""
    if not build:
        return (1, (0, ""))
    number, text = build
    return (0, (-number, text))


def explain_no_match(
    files: Iterable[Artifact],
    project: str,
    specifier: SpecifierSet,
    target: TargetEnvironment | None = None,
    *,
    hashes: Iterable[str] | None = None,
) -> str:
    """Why :func:`choose_version` found nothing, as one line naming what exists."""
    target = target or TargetEnvironment.current()
    grouped = by_version(files, project)
    if not grouped:
        return f"project {project!r} has no sdist or wheel on the index"
    allowed = _allowed(hashes)
    if allowed is not None:
        named = {v: fs for v, fs in grouped.items()
                 if any((a.sha256 or "").lower() in allowed for a in fs)}
        if not named:
            pins = ", ".join(sorted(h[:12] + "..." for h in allowed))
            return f"no file of {project!r} on the index has a pinned sha256 ({pins})"
        grouped = named
    spec = str(specifier) or "any version"
    matching = list(specifier.filter(sorted(grouped), prereleases=True))
    if not matching:
        newest = ", ".join(str(v) for v in sorted(grouped)[-5:])
        return (
            f"no release of {project!r} matches {spec!r} (newest on the index: {newest}; "
            "yanked files count only when pinned with ==)"
        )
    newest_match = max(matching)
    return (
        f"no release of {project!r} matching {spec!r} has a file for {target.description}: "
        f"{newest_match} has {_what_is_there(grouped[newest_match], target)}"
    )


def _what_is_there(files: Sequence[Artifact], target: TargetEnvironment) -> str:
    if all(a.yanked for a in files):
        return "only yanked files (pin it with == to take one)"
    excluded = sorted({a.requires_python for a in files
                       if a.requires_python and not target.allows_python(a.requires_python)})
    if excluded:
        return f"requires-python {' / '.join(excluded)} (the target is Python {target.python_version})"
    plats = sorted({t.platform for a in files for t in wheel_tags(a)})
    interps = sorted({t.interpreter for a in files for t in wheel_tags(a)})
    what = f"only wheels for {', '.join(interps[:4])} on {', '.join(plats[:4])}"
    return what + (" and more" if len(plats) > 4 else "") + " and no sdist"
