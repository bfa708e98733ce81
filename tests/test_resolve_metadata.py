"""Reading dependencies from files: wheels (one member only, hostile zips refused) and sdists
(static PKG-INFO 2.2+, static pyproject, else unknown). Nothing is built or run."""

from __future__ import annotations

import io
import stat
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest
from builders import metadata_text, sdist_bytes, wheel_bytes_with_metadata

from shouldi.cache.resolve import ResolveCache
from shouldi.resolve.metadata import (
    METADATA_LIMIT,
    UNKNOWN,
    Dependencies,
    MetadataProblem,
    from_core_metadata,
    sdist_dependencies,
    wheel_metadata,
)
from shouldi.results import Artifact


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def zip_of(members: dict[str, bytes], *, mode: int = 0o644, encrypt: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((stat.S_IFLNK | 0o777) if name == encrypt else (stat.S_IFREG | mode)) << 16
            zf.writestr(info, data)
    return buf.getvalue()


def test_wheel_metadata_reads_the_one_dist_info(tmp_path: Path) -> None:
    meta = metadata_text("Pkg.Name", "1.0", ("dep>=1", 'other; extra == "x"'), extras=("x",),
                         requires_python=">=3.8")
    _, data = wheel_bytes_with_metadata("Pkg.Name", "1.0", {"pkg/__init__.py": ""}, metadata=meta)
    path = write(tmp_path, "w.whl", data)
    raw = wheel_metadata(path, "pkg-name")
    assert raw == meta.encode()
    deps = from_core_metadata(raw, "pkg-name", "1.0", source="wheel", detail="the wheel's METADATA")
    assert deps == Dependencies(True, "wheel", "the wheel's METADATA", ("dep>=1", 'other; extra == "x"'),
                                ">=3.8", ("x",))


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"a-1.0.dist-info/METADATA": b"x", "b-1.0.dist-info/METADATA": b"y"}, "the wheel has 2 .dist-info directories, not one"),
        ({"pkg/__init__.py": b""}, "the wheel has 0 .dist-info directories, not one"),
        ({"other-1.0.dist-info/METADATA": b"x"}, "the wheel's other-1.0.dist-info is not 'pkg''s"),
        ({"pkg-1.0.dist-info/RECORD": b""}, "the wheel has 0 pkg-1.0.dist-info/METADATA members"),
    ],
    ids=["two-dist-infos", "no-dist-info", "other-project", "no-metadata"],
)
def test_ambiguous_wheels_are_refused(tmp_path: Path, members: dict[str, bytes], message: str) -> None:
    with pytest.raises(MetadataProblem) as info:
        wheel_metadata(write(tmp_path, "w.whl", zip_of(members)), "pkg")
    assert str(info.value) == message


def test_hostile_wheels_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MetadataProblem, match="is not a regular file"):
        wheel_metadata(write(tmp_path, "l.whl", zip_of(
            {"pkg-1.0.dist-info/METADATA": b"/etc/passwd"}, encrypt="pkg-1.0.dist-info/METADATA"
        )), "pkg")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("pkg-1.0.dist-info/METADATA", b"\0" * (METADATA_LIMIT + 1))
    with pytest.raises(MetadataProblem, match="declares 16777217 bytes"):
        wheel_metadata(write(tmp_path, "b.whl", bomb.getvalue()), "pkg")
    with pytest.raises(MetadataProblem, match="unreadable wheel"):
        wheel_metadata(write(tmp_path, "g.whl", b"PK\x03\x04 not really a zip"), "pkg")
    duplicate = zip_of({"pkg-1.0.dist-info/METADATA": b"a"})
    with zipfile.ZipFile(io.BytesIO(duplicate)) as zf:
        assert zf.namelist() == ["pkg-1.0.dist-info/METADATA"]
    buf = io.BytesIO(duplicate)
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(buf, "a") as zf:
        zf.writestr("pkg-1.0.dist-info/METADATA", b"b")
    with pytest.raises(MetadataProblem, match="has 2 pkg-1.0.dist-info/METADATA members"):
        wheel_metadata(write(tmp_path, "d.whl", buf.getvalue()), "pkg")


def test_metadata_must_name_the_release(tmp_path: Path) -> None:
    with pytest.raises(MetadataProblem, match="names project 'other', not 'pkg'"):
        from_core_metadata(metadata_text("other", "1.0").encode(), "pkg", "1.0", source="wheel", detail="it")
    with pytest.raises(MetadataProblem, match="says version '1.0.1', not 1.0"):
        from_core_metadata(metadata_text("pkg", "1.0.1").encode(), "pkg", "1.0", source="wheel", detail="it")
    same = from_core_metadata(metadata_text("PKG", "1.0.0").encode(), "pkg", "1.0", source="wheel", detail="it")
    assert same.known  # 1.0.0 == 1.0, names compare normalised


def sdist_deps(tmp_path: Path, files: dict[str, str], name: str = "pkg") -> Dependencies:
    _, data = sdist_bytes(name, "1.0", {"pkg/__init__.py": "", **files})
    work = Path(tempfile.mkdtemp(dir=tmp_path))
    (work / "tree").mkdir()
    return sdist_dependencies(write(work, "s.tar.gz", data), name, "1.0", work / "tree")


def test_sdist_pkg_info_22_is_trusted_unless_dynamic(tmp_path: Path) -> None:
    deps = sdist_deps(tmp_path, {"PKG-INFO": metadata_text("pkg", "1.0", ("a",), metadata_version="2.2")})
    assert (deps.known, deps.source, deps.requires) == (True, "pkg-info", ("a",))
    assert deps.detail == "the sdist's PKG-INFO (Metadata-Version 2.2: static)"


@pytest.mark.parametrize(
    ("files", "why"),
    [
        ({"PKG-INFO": metadata_text("pkg", "1.0", metadata_version="2.3", dynamic=("requires-dist",))},
         "its PKG-INFO (Metadata-Version 2.3) marks Requires-Dist dynamic"),
        ({"setup.py": "raise SystemExit('never run')\n"},
         "its PKG-INFO is Metadata-Version 2.1, before 2.2; it has no pyproject.toml"),
        ({"pyproject.toml": "[build-system]\nrequires = []\n"},
         "its PKG-INFO is Metadata-Version 2.1, before 2.2; its pyproject.toml has no [project] table"),
        ({"pyproject.toml": "[project\nname="},
         "its PKG-INFO is Metadata-Version 2.1, before 2.2; its pyproject.toml does not parse"),
        ({"pyproject.toml": '[project]\nname = "other"\n'},
         "its PKG-INFO is Metadata-Version 2.1, before 2.2; its pyproject.toml names project 'other'"),
        ({"pyproject.toml": '[project]\nname = "pkg"\ndependencies = "a"\n'},
         "its PKG-INFO is Metadata-Version 2.1, before 2.2; its pyproject.toml [project] "
         "dependencies are not a list of strings"),
        ({"PKG-INFO": metadata_text("pkg", "2.0")}, "its PKG-INFO says version '2.0', not 1.0"),
    ],
    ids=["dynamic", "setup-py", "no-project", "bad-toml", "other-name", "bad-deps", "lying"],
)
def test_sdist_dependencies_unknown(tmp_path: Path, files: dict[str, str], why: str) -> None:
    deps = sdist_deps(tmp_path, files)
    assert (deps.known, deps.source) == (False, "unknown")
    assert deps.detail.startswith(f"{UNKNOWN} ({why}")


def test_sdist_static_pyproject(tmp_path: Path) -> None:
    deps = sdist_deps(tmp_path, {"pyproject.toml": (
        '[project]\nname = "Pkg"\nversion = "1.0"\nrequires-python = ">=3.9"\n'
        'dependencies = ["a>=1", "b; os_name == \'nt\'"]\n'
        '[project.optional-dependencies]\nfast = ["c", "d; python_version < \'3.12\'"]\n'
    )})
    assert (deps.known, deps.source, deps.requires_python) == (True, "pyproject", ">=3.9")
    assert deps.requires == (
        "a>=1", "b; os_name == 'nt'", 'c; extra == "fast"',
        'd; (python_version < "3.12") and extra == "fast"',
    )
    assert deps.provides_extra == ("fast",) and deps.extras_known
    dyn = sdist_deps(tmp_path, {"pyproject.toml": (
        '[project]\nname = "pkg"\ndependencies = []\ndynamic = ["optional-dependencies"]\n'
    )})
    assert dyn.known and not dyn.extras_known


def test_a_hostile_sdist_is_refused_not_extracted_outside(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("../../escape.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    tree = tmp_path / "tree"
    tree.mkdir()
    deps = sdist_dependencies(write(tmp_path, "evil.tar.gz", buf.getvalue()), "evil", "1.0", tree)
    assert not deps.known
    assert deps.detail.startswith(f"{UNKNOWN} (the sdist is refused as an archive: ")
    assert not (tmp_path.parent / "escape.txt").exists() and list(tree.iterdir()) == []


def test_the_cache_keeps_pages_for_a_while_and_dependencies_for_good(tmp_path: Path) -> None:
    cache = ResolveCache(tmp_path, max_age=60)
    files = (Artifact("p-1.0.tar.gz", "https://x/p-1.0.tar.gz", "ab" * 32, "sdist",
                      core_metadata=True, core_metadata_sha256="cd" * 32),)
    assert cache.files("https://idx/simple/", "p") is None
    cache.store_files("https://idx/simple/", "p", files)
    assert cache.files("https://idx/simple/", "p") == files
    assert cache.files("https://other/simple/", "p") is None
    assert ResolveCache(tmp_path, max_age=-1).files("https://idx/simple/", "p") is None
    deps = Dependencies(True, "wheel", "the wheel's METADATA", ("a",), ">=3", ("x",))
    cache.store_dependencies("AB" * 32, deps)
    assert ResolveCache(tmp_path, max_age=0).dependencies("ab" * 32) == deps
    assert cache.dependencies(None) is None and cache.dependencies("not-a-digest") is None
    for path in tmp_path.rglob("*.json"):
        path.write_text("{garbage")
    assert cache.files("https://idx/simple/", "p") is None and cache.dependencies("ab" * 32) is None
