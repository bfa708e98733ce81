"""Version and artifact selection (pure functions, no network)."""

from __future__ import annotations

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from shouldi.index import TargetEnvironment
from shouldi.index.select import choose_file, choose_version, explain_no_match, file_version
from shouldi.results import Artifact

LINUX_311 = TargetEnvironment.from_options(python_version="3.11", platforms=["manylinux_2_17_x86_64"])
WIN_312 = TargetEnvironment.from_options(python_version="3.12", platforms=["win_amd64"])


def art(
    filename: str, *, yanked: bool = False, sha256: str | None = None, rp: str | None = None
) -> Artifact:
    kind = "wheel" if filename.endswith(".whl") else "sdist"
    return Artifact(
        filename, f"https://files.example/{filename}", sha256, kind, yanked=yanked, requires_python=rp
    )


@pytest.mark.parametrize(
    ("filename", "project", "expected"),
    [
        ("requests-2.31.0.tar.gz", "requests", "2.31.0"),
        ("python-dateutil-2.8.2.tar.gz", "python-dateutil", "2.8.2"),
        ("Django-1.0.tar.gz", "django", "1.0"),
        ("zope.interface-6.0.zip", "zope-interface", "6.0"),
        ("foo_bar-1.0rc1.tar.gz", "foo-bar", "1.0rc1"),
        ("six-1.16.0-py2.py3-none-any.whl", "six", "1.16.0"),
        ("numpy-1.26.0-cp311-cp311-manylinux_2_17_x86_64.whl", "numpy", "1.26.0"),
        ("requests-2.31.0.tar.gz", "request", None),  # another project's file
        ("foo-1.0.egg", "foo", None),
        ("foo-1.0.win32.exe", "foo", None),
        ("foo-notaversion.tar.gz", "foo", None),
        ("foo-1.0-bad.whl", "foo", None),
    ],
    ids=[
        "plain",
        "dash-in-name",
        "legacy-caps",
        "dots-zip",
        "underscore-pre",
        "wheel-multi",
        "wheel-binary",
        "other-project",
        "egg",
        "exe",
        "bad-version",
        "bad-wheel",
    ],
)
def test_file_version(filename: str, project: str, expected: str | None) -> None:
    got = file_version(filename, project)
    assert (str(got) if got else None) == expected


FILES = [
    art("pkg-1.0.tar.gz"),
    art("pkg-1.1.tar.gz"),
    art("pkg-1.2.tar.gz", yanked=True),
    art("pkg-2.0b1.tar.gz"),
    art("pkg-0.9.egg"),
]


@pytest.mark.parametrize(
    ("spec", "expected", "note"),
    [
        ("", "1.1", ""),  # newest final; yanked 1.2 and pre-release 2.0b1 skipped
        (">=1.0,<1.1", "1.0", ""),
        ("==1.2", "1.2", "yanked release, pinned by =="),  # PEP 592: pinned yanked is allowed
        (">=2.0b1", "2.0b1", ""),  # the spec names a pre-release
        (">1.5", "2.0b1", ""),  # only a pre-release matches: SpecifierSet.filter accepts it
        ("==1.*", "1.1", ""),
        ("==3.0", None, ""),
        (">1.1,<2.0", None, ""),  # only the yanked 1.2 matches, and it is not pinned
    ],
    ids=[
        "newest-final",
        "range",
        "pinned-yanked",
        "named-pre",
        "only-pre",
        "wildcard",
        "no-match",
        "unpinned-yanked",
    ],
)
def test_choose_version(spec: str, expected: str | None, note: str) -> None:
    choice = choose_version(FILES, "pkg", SpecifierSet(spec), LINUX_311)
    if expected is None:
        assert choice is None
        return
    assert choice is not None
    assert choice.version == Version(expected)
    assert choice.note == note
    assert choice.all_versions == tuple(map(Version, ["1.0", "1.1", "1.2", "2.0b1"]))


def test_version_with_some_yanked_files_uses_the_live_ones() -> None:
    files = [art("pkg-1.0.tar.gz", yanked=True), art("pkg-1.0-py3-none-any.whl")]
    choice = choose_version(files, "pkg", SpecifierSet())
    assert choice is not None
    assert [a.filename for a in choice.candidates] == ["pkg-1.0-py3-none-any.whl"]
    assert len(choice.files) == 2  # the release still has both


def pick(names: list[str], target: TargetEnvironment = LINUX_311) -> tuple[str, str]:
    choice = choose_version([art(n) for n in names], "p", SpecifierSet(), target)
    assert choice is not None
    artifact, reason = choose_file(choice, target)
    return artifact.filename, reason


@pytest.mark.parametrize(
    ("names", "chosen", "reason"),
    [
        (["p-1.0.tar.gz", "p-1.0-py3-none-any.whl"], "p-1.0-py3-none-any.whl",
         "wheel py3-none-any: the best match for CPython 3.11 on linux x86_64"),
        (["p-1.0-py3-none-any.whl", "p-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"],
         "p-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
         "wheel cp311-cp311-manylinux_2_17_x86_64: the best match for CPython 3.11 on linux x86_64 (of 2 wheels that fit)"),
        (["p-1.0-cp38-abi3-manylinux2014_x86_64.whl", "p-1.0-py2.py3-none-any.whl"],
         "p-1.0-cp38-abi3-manylinux2014_x86_64.whl", "wheel cp38-abi3-manylinux2014_x86_64: "),
        (["p-1.0-cp311-cp311-manylinux_2_28_x86_64.whl", "p-1.0-cp311-cp311-manylinux_2_5_x86_64.whl"],
         "p-1.0-cp311-cp311-manylinux_2_5_x86_64.whl", "wheel cp311-cp311-manylinux_2_5_x86_64: "),
        (["p-1.0-cp311-cp311-win_amd64.whl", "p-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", "p-1.0.tar.gz"],
         "p-1.0.tar.gz", "sdist: no wheel fits CPython 3.11 on linux x86_64"),
        (["p-1.0.zip", "p-1.0.tar.gz"], "p-1.0.zip", "sdist: the release has no wheel"),
        (["p-1.0-1-py3-none-any.whl", "p-1.0-3-py3-none-any.whl", "p-1.0-2-py3-none-any.whl"],
         "p-1.0-3-py3-none-any.whl", "wheel py3-none-any: "),
        (["p-1.0-py3-none-any.whl", "p-1.0-py2.py3-none-any.whl"], "p-1.0-py3-none-any.whl",
         "wheel py3-none-any: "),  # equal rank: the first listed, as pip's max keeps it
        (["p-1.0-py2-none-any.whl", "p-1.0.tar.gz"], "p-1.0.tar.gz", "sdist: no wheel fits"),
    ],
    ids=["pure-over-sdist", "binary-over-pure", "abi3", "older-glibc", "foreign-wheels",
         "sdist-first-listed", "build-tag", "first-of-equals", "py2-only"],
)
def test_choose_file_like_pip(names: list[str], chosen: str, reason: str) -> None:
    filename, why = pick(names)
    assert filename == chosen
    assert why.startswith(reason)


def test_the_target_decides_the_wheel() -> None:
    names = ["p-1.0-cp312-cp312-win_amd64.whl", "p-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
             "p-1.0.tar.gz"]
    assert pick(names, WIN_312) == (
        "p-1.0-cp312-cp312-win_amd64.whl",
        "wheel cp312-cp312-win_amd64: the best match for CPython 3.12 on windows AMD64",
    )
    assert pick(names)[0] == "p-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"


def test_versions_without_a_file_for_the_target_are_skipped() -> None:
    files = [
        art("p-1.0.tar.gz"),
        art("p-2.0-cp312-cp312-win_amd64.whl"),  # nothing for linux
        art("p-3.0-py3-none-any.whl", rp=">=3.12"),  # nothing for 3.11
        art("p-3.0.tar.gz", rp=">=3.12"),
    ]
    choice = choose_version(files, "p", SpecifierSet(), LINUX_311)
    assert choice is not None and str(choice.version) == "1.0"
    assert str(choose_version(files, "p", SpecifierSet(), WIN_312).version) == "3.0"  # type: ignore[union-attr]
    assert choose_version(files, "p", SpecifierSet(">=2"), LINUX_311) is None
    assert explain_no_match(files, "p", SpecifierSet(">=2"), LINUX_311) == (
        "no release of 'p' matching '>=2' has a file for CPython 3.11 on linux x86_64: "
        "3.0 has requires-python >=3.12 (the target is Python 3.11.0)"
    )
    assert explain_no_match(files, "p", SpecifierSet("==2.0"), LINUX_311) == (
        "no release of 'p' matching '==2.0' has a file for CPython 3.11 on linux x86_64: "
        "2.0 has only wheels for cp312 on win_amd64 and no sdist"
    )


def test_a_hash_pin_decides_the_file() -> None:
    files = [
        art("six-1.16.0.tar.gz", sha256="aa" * 32),
        art("six-1.16.0-py2.py3-none-any.whl", sha256="bb" * 32),
        art("six-1.17.0-py2.py3-none-any.whl", sha256="cc" * 32),
    ]
    choice = choose_version(files, "six", SpecifierSet("==1.16.0"), LINUX_311, hashes=["AA" * 32])
    assert choice is not None
    artifact, reason = choose_file(choice, LINUX_311)
    assert artifact.filename == "six-1.16.0.tar.gz"  # the pin, though a wheel fits
    assert reason == "sdist: the --hash pin allows no wheel"
    both = choose_version(files, "six", SpecifierSet(), LINUX_311, hashes=["aa" * 32, "bb" * 32])
    assert both is not None
    assert choose_file(both, LINUX_311) == (files[1], (
        "wheel py3-none-any: the best match for CPython 3.11 on linux x86_64 "
        "among the files the --hash pin allows"
    ))
    assert str(both.version) == "1.16.0"  # 1.17.0 is newer but not pinned
    assert choose_version(files, "six", SpecifierSet(), LINUX_311, hashes=["dd" * 32]) is None
    assert explain_no_match(files, "six", SpecifierSet(), LINUX_311, hashes=["dd" * 32]) == (
        "no file of 'six' on the index has a pinned sha256 (dddddddddddd...)"
    )


def test_a_hash_pin_takes_a_yanked_file() -> None:
    files = [art("p-1.0.tar.gz", yanked=True, sha256="ab" * 32), art("p-0.9.tar.gz", sha256="cd" * 32)]
    choice = choose_version(files, "p", SpecifierSet(), LINUX_311, hashes=["ab" * 32])
    assert choice is not None
    assert choose_file(choice, LINUX_311) == (files[0], "sdist: the release has no wheel; yanked release, pinned by --hash")
    unpinned = choose_version(files, "p", SpecifierSet(), LINUX_311)
    assert unpinned is not None and str(unpinned.version) == "0.9"


def test_pinned_yanked_release_prefers_its_live_file() -> None:
    files = [art("p-1.0-py3-none-any.whl", yanked=True), art("p-1.0.tar.gz", yanked=True)]
    choice = choose_version(files, "p", SpecifierSet("==1.0"), LINUX_311)
    assert choice is not None and choice.note == "yanked release, pinned by =="
    artifact, reason = choose_file(choice, LINUX_311)
    assert artifact.filename == "p-1.0-py3-none-any.whl"
    assert reason.endswith("; yanked release, pinned by ==")
