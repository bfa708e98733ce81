"""Whole trees from metadata only, on the local index: markers, extras, cycles, conflicts,
sdists with static and dynamic metadata, .metadata files served or not, caches, faults."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from builders import metadata_text
from index_server import LocalIndex

from shouldi.errors import EXIT_BAD_INPUT
from shouldi.index import ArtifactCache, IntegrityError, PackageIndexError, TargetEnvironment
from shouldi.resolve import UNKNOWN, ResolveCache, Tree, Unresolvable, resolve_tree

LINUX = TargetEnvironment.from_options(python_version="3.11", platforms=["manylinux_2_17_x86_64"])
WINDOWS = TargetEnvironment.from_options(python_version="3.11", platforms=["win_amd64"])

#: setup.py that leaves a sentinel if anything ever runs it
SENTINEL_SETUP = (
    "import os, pathlib\n"
    "d = os.environ.get('SHOULDI_SENTINEL_DIR')\n"
    "if d: pathlib.Path(d, '{name}.setup.py.ran').write_text('ran')\n"
    "from setuptools import setup\nsetup(name='{name}')\n"
)


def wheel(index: LocalIndex, name: str, version: str, *requires: str, **kw: Any) -> Any:
    module = name.replace("-", "_")
    return index.add_wheel({f"{module}/__init__.py": f"# {name} {version}\n"}, name, version,
                           requires=list(requires), wheel_metadata=kw.pop("metadata", None)
                           or (metadata_text(name, version, requires) if requires else None), **kw)


def tree_of(with_client: Any, index: LocalIndex, *roots: str, target: TargetEnvironment = LINUX,
            **kw: Any) -> Tree:
    return with_client(lambda c: resolve_tree(c, index.url, list(roots), target, **kw))  # type: ignore[no-any-return]


def names(tree: Tree) -> list[str]:
    return [f"{n.name}=={n.version}" for n in tree.nodes]


@pytest.fixture
def index(local_index_factory: Any) -> LocalIndex:
    return local_index_factory(preload=False, core_metadata="pep714")  # type: ignore[no-any-return]


def test_markers_and_extras_for_the_target(index: LocalIndex, with_client: Any) -> None:
    wheel(index, "app", "1.0", "lib>=1", 'winonly; sys_platform == "win32"',
          'ancient; python_version < "3"', 'speedup[c]>=2; extra == "fast"',
          metadata=metadata_text("app", "1.0", ("lib>=1", 'winonly; sys_platform == "win32"',
                                                'ancient; python_version < "3"',
                                                'speedup[c]>=2; extra == "fast"'), extras=("fast",)))
    wheel(index, "lib", "1.0")
    wheel(index, "lib", "0.5")
    wheel(index, "winonly", "1.0")
    wheel(index, "ancient", "1.0")
    wheel(index, "speedup", "2.0", 'cext; extra == "c"',
          metadata=metadata_text("speedup", "2.0", ('cext; extra == "c"',), extras=("c",)))
    wheel(index, "cext", "1.0")
    plain = tree_of(with_client, index, "app")
    assert names(plain) == ["app==1.0", "lib==1.0"]
    fast = tree_of(with_client, index, "app[fast]")
    assert names(fast) == ["app==1.0", "lib==1.0", "speedup==2.0", "cext==1.0"]
    app, speedup = fast.node("app"), fast.node("speedup")
    assert app.extras == ("fast",) and speedup.extras == ("c",)
    assert [str(r) for r in speedup.required_by] == [
        "app 1.0 needs 'speedup[c]>=2; extra == \"fast\"'"
    ]
    assert [str(r) for r in app.required_by] == ["you asked for 'app[fast]'"]
    assert app.depends_on == ("lib", "speedup")
    assert app.dependencies.source == "core-metadata"
    assert app.artifact.filename == "app-1.0-py3-none-any.whl"
    assert app.release.target == "CPython 3.11 on linux x86_64"
    windows = tree_of(with_client, index, "app", target=WINDOWS)
    assert names(windows) == ["app==1.0", "lib==1.0", "winonly==1.0"]
    assert fast.complete and fast.unknown == ()


def test_a_cycle_resolves(index: LocalIndex, with_client: Any) -> None:
    wheel(index, "chicken", "1.0", "egg>=1")
    wheel(index, "egg", "1.0", "chicken")
    tree = tree_of(with_client, index, "chicken")
    assert names(tree) == ["chicken==1.0", "egg==1.0"]
    assert [str(r) for r in tree.node("chicken").required_by] == [
        "you asked for 'chicken'", "egg 1.0 needs 'chicken'"
    ]
    assert tree.node("egg").depends_on == ("chicken",)


def test_backtracks_to_an_older_release(index: LocalIndex, with_client: Any) -> None:
    wheel(index, "app", "1.0", "framework", "lib<2")
    wheel(index, "framework", "2.0", "lib>=2")
    wheel(index, "framework", "1.0", "lib>=1")
    wheel(index, "lib", "2.1")
    wheel(index, "lib", "1.5")
    tree = tree_of(with_client, index, "app")
    assert names(tree) == ["app==1.0", "framework==1.0", "lib==1.5"]


def test_a_conflict_names_the_chain(index: LocalIndex, with_client: Any) -> None:
    wheel(index, "app", "1.0", "flask>=3")
    wheel(index, "flask", "3.0.0", "werkzeug>=3.0.0")
    wheel(index, "werkzeug", "3.0.1")
    wheel(index, "werkzeug", "2.3.0")
    with pytest.raises(Unresolvable) as info:
        tree_of(with_client, index, "app", "werkzeug<3")
    assert info.value.exit_code == EXIT_BAD_INPUT
    assert str(info.value) == (
        "cannot resolve the dependency tree: you asked for 'werkzeug<3' and app 1.0 -> "
        "flask 3.0.0 needs 'werkzeug>=3.0.0', but no release of 'werkzeug' meets them all "
        "(newest on the index: 2.3.0, 3.0.1)"
    )


def test_unmet_requirements_say_what_is_there(index: LocalIndex, with_client: Any) -> None:
    wheel(index, "app", "1.0", "ghost>=1", "lib>=9")
    wheel(index, "lib", "1.0")
    with pytest.raises(Unresolvable) as info:
        tree_of(with_client, index, "app")
    assert str(info.value) == (
        "cannot resolve the dependency tree: app 1.0 needs 'ghost>=1', but no project named "
        f"'ghost' on {index.url}"
    )
    index.add_wheel({"g/__init__.py": ""}, "ghost", "1.0")
    with pytest.raises(Unresolvable) as info:
        tree_of(with_client, index, "app")
    assert str(info.value) == (
        "cannot resolve the dependency tree: app 1.0 needs 'lib>=9', but no release of 'lib' "
        "matches '>=9' (newest on the index: 1.0; yanked files count only when pinned with ==)"
    )
    wheel(index, "winlib", "1.0", tag="cp311-cp311-win_amd64")
    wheel(index, "needswin", "1.0", "winlib")
    with pytest.raises(Unresolvable, match=(
        r"needswin 1\.0 needs 'winlib', but no release of 'winlib' matching 'any version' has a "
        r"file for CPython 3\.11 on linux x86_64: 1\.0 has only wheels for cp311 on win_amd64"
    )):
        tree_of(with_client, index, "needswin")


def test_requires_python_in_metadata_backtracks(index: LocalIndex, with_client: Any) -> None:
    wheel(index, "app", "1.0", "lib")
    wheel(index, "lib", "2.0", metadata=metadata_text("lib", "2.0", requires_python=">=3.99"))
    wheel(index, "lib", "1.0", metadata=metadata_text("lib", "1.0", requires_python=">=3.8"))
    assert names(tree_of(with_client, index, "app")) == ["app==1.0", "lib==1.0"]
    with pytest.raises(Unresolvable) as info:
        tree_of(with_client, index, "lib==2.0")
    assert str(info.value) == (
        "cannot resolve the dependency tree: lib 2.0 needs 'Python >=3.99', "
        "but the target is Python 3.11.0"
    )


def test_yanked_hash_pinned_and_ignored_roots(index: LocalIndex, with_client: Any) -> None:
    wheel(index, "lib", "1.0")
    two = wheel(index, "lib", "2.0", yanked="broken")
    wheel(index, "lib", "3.0", requires_python=">=3.99")
    assert names(tree_of(with_client, index, "lib")) == ["lib==1.0"]
    pinned = tree_of(with_client, index, "lib==2.0")
    assert names(pinned) == ["lib==2.0"]
    assert pinned.node("lib").release.artifact_reason.endswith("yanked release, pinned by ==")
    hashed = tree_of(with_client, index, "lib", hashes={"LIB": [two.sha256]})
    assert names(hashed) == ["lib==2.0"]
    assert hashed.node("lib").release.artifact_reason.endswith("yanked release, pinned by --hash")
    tree = tree_of(with_client, index, "lib", 'other; sys_platform == "win32"')
    assert tree.ignored == ('other; sys_platform == "win32"',)
    assert tree.roots == ("lib",)


def sdist(index: LocalIndex, name: str, version: str, files: dict[str, str]) -> Any:
    module = name.replace("-", "_")
    return index.add_sdist({f"{module}/__init__.py": "", **files}, name, version)


def test_sdists_static_and_dynamic(index: LocalIndex, with_client: Any) -> None:
    sdist(index, "static22", "1.0", {
        "PKG-INFO": metadata_text("static22", "1.0", ("lib",), metadata_version="2.2",
                                  dynamic=("Description",)),
        "setup.py": SENTINEL_SETUP.format(name="static22"),
    })
    sdist(index, "pep621", "1.0", {
        "PKG-INFO": metadata_text("pep621", "1.0"),  # 2.1: not to be trusted on its own
        "pyproject.toml": (
            '[project]\nname = "pep621"\nversion = "1.0"\ndependencies = ["lib>=1"]\n'
            '[project.optional-dependencies]\nextra = ["static22; python_version >= \'3\'"]\n'
        ),
    })
    sdist(index, "dynamic", "1.0", {
        "PKG-INFO": metadata_text("dynamic", "1.0", ("lib",), metadata_version="2.2",
                                  dynamic=("Requires-Dist",)),
        "setup.py": SENTINEL_SETUP.format(name="dynamic"),
    })
    sdist(index, "legacy", "1.0", {"setup.py": SENTINEL_SETUP.format(name="legacy")})
    sdist(index, "dynproj", "1.0", {
        "pyproject.toml": '[project]\nname = "dynproj"\ndynamic = ["version", "dependencies"]\n',
    })
    wheel(index, "lib", "1.0")
    tree = tree_of(with_client, index, "static22", "pep621[extra]", "dynamic", "legacy", "dynproj")
    assert names(tree) == ["static22==1.0", "pep621==1.0", "dynamic==1.0", "legacy==1.0",
                           "dynproj==1.0", "lib==1.0"]
    assert tree.node("static22").dependencies.source == "pkg-info"
    assert tree.node("static22").depends_on == ("lib",)
    pep621 = tree.node("pep621")
    assert pep621.dependencies.source == "pyproject"
    assert pep621.depends_on == ("lib", "static22")
    for name, why in [
        ("dynamic", "its PKG-INFO (Metadata-Version 2.2) marks Requires-Dist dynamic"),
        ("legacy", "its PKG-INFO is Metadata-Version 2.1, before 2.2; it has no pyproject.toml"),
        ("dynproj", "its PKG-INFO is Metadata-Version 2.1, before 2.2; "
                    "its pyproject.toml lists dependencies as dynamic"),
    ]:
        deps = tree.node(name).dependencies
        assert (deps.known, deps.source) == (False, "unknown")
        assert deps.detail == f"{UNKNOWN} ({why})"
        assert tree.node(name).artifact.kind == "sdist"
    assert [n.name for n in tree.unknown] == ["dynamic", "legacy", "dynproj"]
    assert not tree.complete


@pytest.mark.parametrize(
    ("simple_json", "style"),
    [(True, "pep714"), (False, "pep714"), (True, "pep658"), (False, "pep658"),
     (True, None), (False, None)],
    ids=["json-714", "html-714", "json-658", "html-658", "json-none", "html-none"],
)
def test_wheels_with_and_without_metadata_files(
    local_index_factory: Any, with_client: Any, simple_json: bool, style: str | None
) -> None:
    index = local_index_factory(preload=False, simple_json=simple_json, core_metadata=style)
    wheel(index, "top", "1.0", "mid>=1")
    wheel(index, "mid", "1.0", "leaf")
    wheel(index, "leaf", "1.0")
    tree = tree_of(with_client, index, "top")
    assert names(tree) == ["top==1.0", "mid==1.0", "leaf==1.0"]
    sources = {n.dependencies.source for n in tree.nodes}
    downloads = sorted(p for p in index.paths() if p.endswith(".whl"))
    if style is None:
        assert sources == {"wheel"}
        assert downloads == ["files/leaf-1.0-py3-none-any.whl", "files/mid-1.0-py3-none-any.whl",
                             "files/top-1.0-py3-none-any.whl"]
    else:
        assert sources == {"core-metadata"}
        assert downloads == []  # only the small .metadata files
        assert tree.node("top").dependencies.detail == "the index's .metadata file (PEP 658, sha256 checked)"


def test_a_metadata_file_that_does_not_match_its_hash(index: LocalIndex, with_client: Any) -> None:
    wheel(index, "top", "1.0", "leaf")
    index.fault("files/*.metadata", "wrong-sha256")
    with pytest.raises(IntegrityError, match=r"top-1\.0-py3-none-any\.whl\.metadata: sha256 mismatch"):
        tree_of(with_client, index, "top")


def test_an_announced_metadata_file_that_is_missing(index: LocalIndex, with_client: Any) -> None:
    wheel(index, "top", "1.0", "leaf")
    wheel(index, "leaf", "1.0")
    index.fault("files/top-*.metadata", "404")
    tree = tree_of(with_client, index, "top")
    assert names(tree) == ["top==1.0", "leaf==1.0"]
    assert tree.node("top").dependencies.source == "wheel"
    assert tree.node("top").dependencies.detail == (
        "the wheel's METADATA (the announced .metadata file answered HTTP 404)"
    )


def test_metadata_that_lies_about_the_release_is_not_trusted(
    local_index_factory: Any, with_client: Any
) -> None:
    index = local_index_factory(preload=False)  # no .metadata files: the wheel's own is read
    wheel(index, "liar", "1.0", metadata=metadata_text("liar", "9.9", ("evil",)))
    deps = tree_of(with_client, index, "liar").node("liar").dependencies
    assert not deps.known
    assert deps.detail == f"{UNKNOWN} (the wheel's METADATA says version '9.9', not 1.0)"


def test_unparseable_and_direct_url_requirements_are_warnings(index: LocalIndex, with_client: Any) -> None:
    wheel(index, "odd", "1.0", metadata=metadata_text("odd", "1.0", (
        "lib", "not a requirement !!", "pkg @ https://example.invalid/pkg.tar.gz")))
    wheel(index, "lib", "1.0")
    node = tree_of(with_client, index, "odd").node("odd")
    assert node.depends_on == ("lib",)
    assert node.warnings == (
        "Requires-Dist 'not a requirement !!' does not parse: not followed",
        "Requires-Dist 'pkg @ https://example.invalid/pkg.tar.gz' is a direct URL: not followed",
    )


def test_a_deep_chain_with_a_malicious_leaf(index: LocalIndex, with_client: Any) -> None:
    depth = 12
    for i in range(depth):
        wheel(index, f"step{i}", "1.0", f"step{i + 1}")
    wheel(index, f"step{depth}", "1.0", "evilpkg")
    index.add_sdist({"setup.py": SENTINEL_SETUP.format(name="evilpkg")}, "evilpkg", "0.1.0")
    tree = tree_of(with_client, index, "step0")
    assert names(tree) == [f"step{i}==1.0" for i in range(depth + 1)] + ["evilpkg==0.1.0"]
    evil = tree.node("evilpkg")
    assert [str(r) for r in evil.required_by] == [f"step{depth} 1.0 needs 'evilpkg'"]
    assert evil.artifact.kind == "sdist" and not evil.dependencies.known


def test_a_warm_cache_makes_no_request(index: LocalIndex, with_client: Any, tmp_path: Path) -> None:
    wheel(index, "top", "1.0", "leaf")
    wheel(index, "leaf", "1.0")
    sdist(index, "src", "1.0", {"PKG-INFO": metadata_text("src", "1.0", ("leaf",), metadata_version="2.4")})
    cache, artifacts = ResolveCache(tmp_path / "resolve"), ArtifactCache(tmp_path / "artifacts")
    cold = tree_of(with_client, index, "top", "src", cache=cache, artifacts=artifacts)
    assert cold.requests > 0
    assert artifacts.get(cold.node("src").artifact.sha256 or "") is not None  # kept for the scan
    index.clear()
    warm = tree_of(with_client, index, "top", "src", cache=cache, artifacts=artifacts)
    assert index.paths() == [] and warm.requests == 0
    assert warm == cold.__class__(**{**cold.__dict__, "requests": 0})
    stale = ResolveCache(tmp_path / "resolve", max_age=0)
    tree_of(with_client, index, "top", "src", cache=stale)
    assert sorted(index.paths()) == ["simple/leaf/", "simple/src/", "simple/top/"]  # pages only


def test_network_trouble_is_an_index_error(index: LocalIndex, with_client: Any) -> None:
    wheel(index, "top", "1.0", "leaf")
    wheel(index, "leaf", "1.0")
    index.fault("simple/leaf/", "500")
    with pytest.raises(PackageIndexError, match="HTTP 500"):
        tree_of(with_client, index, "top")


def test_cancelling_stops_promptly_and_cleans_up(local_index_factory: Any, with_client: Any) -> None:
    index = local_index_factory(preload=False, stall_seconds=10.0)
    wheel(index, "top", "1.0", "leaf")
    wheel(index, "leaf", "1.0")
    index.fault("simple/leaf/", "stall")

    before = set(Path(tempfile.gettempdir()).glob("shouldi-*-resolve-*"))

    async def go(client: Any) -> float:
        task = asyncio.ensure_future(resolve_tree(client, index.url, ["top"], LINUX))
        while "simple/leaf/" not in index.paths():  # the resolver is now waiting on a stall
            await asyncio.sleep(0.02)
        start = time.perf_counter()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.perf_counter() - start

    assert with_client(go, timeout=20.0) < 2.0
    assert set(Path(tempfile.gettempdir()).glob("shouldi-*-resolve-*")) <= before  # scratch removed
