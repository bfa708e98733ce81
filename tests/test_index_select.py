"""Version and artifact selection (pure functions, no network)."""

from __future__ import annotations

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from shouldi.index.select import choose_artifact, choose_version, file_version
from shouldi.results import Artifact


def art(filename: str, *, yanked: bool = False) -> Artifact:
    kind = "wheel" if filename.endswith(".whl") else "sdist"
    return Artifact(filename, f"https://files.example/{filename}", None, kind, yanked=yanked)


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
    choice = choose_version(FILES, "pkg", SpecifierSet(spec))
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
    assert [a.filename for a in choice.files] == ["pkg-1.0-py3-none-any.whl"]


@pytest.mark.parametrize(
    ("names", "chosen", "reason_start"),
    [
        (["p-1.0-py3-none-any.whl", "p-1.0.zip", "p-1.0.tar.gz"], "p-1.0.tar.gz", "sdist"),
        (["p-1.0-cp311-cp311-win_amd64.whl", "p-1.0.zip"], "p-1.0.zip", "sdist"),
        (
            ["p-1.0-cp311-cp311-win_amd64.whl", "p-1.0-py2.py3-none-any.whl"],
            "p-1.0-py2.py3-none-any.whl",
            "no sdist; pure-Python wheel",
        ),
        (
            ["p-1.0-py2-none-any.whl", "p-1.0-py3-none-any.whl"],
            "p-1.0-py3-none-any.whl",
            "no sdist; pure-Python wheel",
        ),
        (
            ["p-1.0-cp27-cp27m-win32.whl", "p-1.0-cp26-cp26m-win32.whl"],
            "p-1.0-cp26-cp26m-win32.whl",
            "no sdist or pure-Python wheel; no wheel matches this interpreter",
        ),
    ],
    ids=["sdist-tar-over-zip", "sdist-over-binary", "pure-over-binary", "py3-over-py2", "foreign"],
)
def test_choose_artifact(names: list[str], chosen: str, reason_start: str) -> None:
    artifact, reason = choose_artifact([art(n) for n in names])
    assert artifact.filename == chosen
    assert reason.startswith(reason_start)


def test_choose_artifact_prefers_the_wheel_this_interpreter_would_install() -> None:
    from packaging.tags import sys_tags

    mine = next(iter(sys_tags()))
    native = f"p-1.0-{mine}.whl"
    artifact, reason = choose_artifact([art("p-1.0-cp26-cp26m-win32.whl"), art(native)])
    assert artifact.filename == native
    assert "this interpreter would install" in reason
    assert str(mine) in reason
