"""Resolving specs against the local index: PEP 691 and PEP 503, selection, URLs, errors."""

from __future__ import annotations

from typing import Any

import pytest
from index_server import JSON_TYPE, LocalIndex

from shouldi.errors import EXIT_BAD_INPUT
from shouldi.index import NotFound, PackageIndexError, TargetEnvironment, parse_spec, resolve

WIN_312 = TargetEnvironment.from_options(python_version="3.12", platforms=["win_amd64"])
LINUX_311 = TargetEnvironment.from_options(python_version="3.11", platforms=["manylinux_2_17_x86_64"])


def do_resolve(with_client: Any, index: LocalIndex, spec: str, **kw: Any) -> Any:
    return with_client(lambda c: resolve(c, index.url, parse_spec(spec), **kw))


def test_resolves_preloaded_wheel_with_pep691(local_index: LocalIndex, with_client: Any) -> None:
    release = do_resolve(with_client, local_index, "cleanpkg")
    assert (release.name, release.version) == ("cleanpkg", "1.0.0")
    assert release.artifact.filename == "cleanpkg-1.0.0-py3-none-any.whl"  # what pip installs
    assert release.artifact.kind == "wheel"
    here = TargetEnvironment.current()
    assert release.artifact_reason == f"wheel py3-none-any: the best match for {here.description}"
    assert release.target == here.description
    assert [a.filename for a in release.files] == [
        "cleanpkg-1.0.0.tar.gz", "cleanpkg-1.0.0-py3-none-any.whl"
    ]
    file = next(f for f in local_index.projects["cleanpkg"].files if f.filename.endswith(".whl"))
    assert release.artifact.sha256 == file.sha256
    assert release.artifact.size == len(file.data)
    assert not release.artifact.core_metadata  # this index serves no .metadata files
    assert release.artifact.url == local_index.file_url(file.filename)  # ../../ resolved
    assert release.index_url == local_index.url
    assert release.requested == "cleanpkg"
    assert JSON_TYPE in local_index.requests[0].accept
    assert local_index.paths() == ["simple/cleanpkg/"]


@pytest.mark.parametrize("simple_json", [True, False], ids=["pep691-json", "pep503-html"])
def test_selection_is_the_same_over_json_and_html(
    local_index_factory: Any, with_client: Any, simple_json: bool
) -> None:
    index = local_index_factory(simple_json=simple_json, preload=False)
    index.add_sdist({"m.py": "x = 1\n"}, "Multi.Ver", "1.0")
    index.add_sdist({"m.py": "x = 2\n"}, "Multi.Ver", "1.5", requires_python=">=3.8")
    index.add_sdist({"m.py": "x = 3\n"}, "Multi.Ver", "1.6", yanked="broken build")
    index.add_sdist({"m.py": "x = 4\n"}, "Multi.Ver", "2.0rc1")
    release = do_resolve(with_client, index, "multi-ver")
    assert release.version == "1.5"
    assert release.artifact.requires_python == ">=3.8"
    assert release.all_versions == ("1.0", "1.5", "1.6", "2.0rc1")
    assert release.artifact.sha256 == index.projects["multi-ver"].files[1].sha256  # both formats
    assert do_resolve(with_client, index, "multi-ver<1.5").version == "1.0"
    assert do_resolve(with_client, index, "multi-ver>=2.0rc1").version == "2.0rc1"
    pinned = do_resolve(with_client, index, "multi-ver==1.6")
    assert pinned.artifact.yanked
    assert "yanked" in pinned.artifact_reason
    served_html = not simple_json
    assert all(("text/html" in r.accept) for r in index.requests)  # we always accept HTML too
    assert served_html == (
        index.respond("simple/multi-ver/", JSON_TYPE).content_type == "text/html"
    )


def test_the_target_picks_the_wheel(local_index: LocalIndex, with_client: Any) -> None:
    local_index.add_wheel({"w/__init__.py": ""}, "wheely", "3.0", tag="cp312-cp312-win_amd64")
    local_index.add_wheel({"w/__init__.py": ""}, "wheely", "3.0", tag="py3-none-any")
    local_index.add_sdist({"w/__init__.py": ""}, "wheely", "3.0")
    release = do_resolve(with_client, local_index, "wheely", target=LINUX_311)
    assert release.artifact.filename == "wheely-3.0-py3-none-any.whl"
    assert release.artifact_reason == "wheel py3-none-any: the best match for CPython 3.11 on linux x86_64"
    win = do_resolve(with_client, local_index, "wheely", target=WIN_312)
    assert win.artifact.filename == "wheely-3.0-cp312-cp312-win_amd64.whl"
    assert win.artifact_reason == (
        "wheel cp312-cp312-win_amd64: the best match for CPython 3.12 on windows AMD64 "
        "(of 2 wheels that fit)"
    )
    assert win.target == "CPython 3.12 on windows AMD64"


def test_sdist_only_when_no_wheel_fits(local_index: LocalIndex, with_client: Any) -> None:
    local_index.add_wheel({"b/__init__.py": ""}, "binonly", "1.0", tag="cp312-cp312-win_amd64")
    local_index.add_sdist({"b/__init__.py": ""}, "binonly", "1.0")
    release = do_resolve(with_client, local_index, "binonly", target=LINUX_311)
    assert release.artifact.filename == "binonly-1.0.tar.gz"
    assert release.artifact_reason == "sdist: no wheel fits CPython 3.11 on linux x86_64"
    local_index.add_wheel({"b/__init__.py": ""}, "winonly", "2.0", tag="cp312-cp312-win_amd64")
    with pytest.raises(NotFound) as info:
        do_resolve(with_client, local_index, "winonly", target=LINUX_311)
    assert str(info.value) == (
        "no release of 'winonly' matching 'any version' has a file for CPython 3.11 on linux "
        "x86_64: 2.0 has only wheels for cp312 on win_amd64 and no sdist"
    )
    assert info.value.exit_code == EXIT_BAD_INPUT


def test_a_hash_pin_decides_the_file(local_index: LocalIndex, with_client: Any) -> None:
    files = local_index.projects["cleanpkg"].files
    sdist = next(f for f in files if f.filename.endswith(".tar.gz"))
    release = do_resolve(with_client, local_index, "cleanpkg==1.0.0", hashes=[sdist.sha256.upper()])
    assert release.artifact.filename == sdist.filename
    assert release.artifact_reason == "sdist: the --hash pin allows no wheel"
    with pytest.raises(NotFound, match=r"no file of 'cleanpkg' on the index has a pinned sha256 \(000000000000\.\.\.\)"):
        do_resolve(with_client, local_index, "cleanpkg", hashes=["0" * 64])


def test_all_files_gives_every_file_of_the_release(local_index: LocalIndex, with_client: Any) -> None:
    local_index.add_wheel({"a/__init__.py": ""}, "allf", "1.0", tag="cp312-cp312-win_amd64")
    local_index.add_wheel({"a/__init__.py": ""}, "allf", "1.0", tag="py3-none-any")
    local_index.add_sdist({"a/__init__.py": ""}, "allf", "1.0")
    local_index.add_sdist({"a/__init__.py": ""}, "allf", "0.9")
    releases = do_resolve(with_client, local_index, "allf", target=LINUX_311, all_files=True)
    assert [r.artifact.filename for r in releases] == [
        "allf-1.0-py3-none-any.whl", "allf-1.0-cp312-cp312-win_amd64.whl", "allf-1.0.tar.gz"
    ]
    assert releases[0].artifact_reason.startswith("wheel py3-none-any: the best match")
    assert releases[1].artifact_reason == (
        "wheel cp312-cp312-win_amd64: judged as one of all the files of the release "
        "(pip would install allf-1.0-py3-none-any.whl on CPython 3.11 on linux x86_64)"
    )
    assert releases[2].artifact_reason.startswith("sdist: judged as one of all the files")
    assert {r.version for r in releases} == {"1.0"}


@pytest.mark.parametrize(
    ("simple_json", "style", "hashed"),
    [(True, "pep714", True), (True, "pep658", True), (False, "pep714", True),
     (False, "pep658", False), (True, None, True), (False, None, True)],
    ids=["json-714", "json-658", "html-714", "html-658-unhashed", "json-none", "html-none"],
)
def test_core_metadata_files_are_announced(
    local_index_factory: Any, with_client: Any, simple_json: bool, style: str | None, hashed: bool
) -> None:
    index = local_index_factory(
        simple_json=simple_json, core_metadata=style, metadata_hashed=hashed, preload=False
    )
    entry = index.add_wheel({"m/__init__.py": ""}, "meta", "1.0", requires=["dep>=1"])
    release = do_resolve(with_client, index, "meta")
    assert release.artifact.core_metadata is (style is not None)
    expected = entry.metadata_sha256 if style is not None and hashed else None
    assert release.artifact.core_metadata_sha256 == expected
    assert b"Requires-Dist: dep>=1" in (entry.metadata or b"")


def test_non_normalised_name_and_relative_urls_after_redirect(
    local_index: LocalIndex, with_client: Any
) -> None:
    local_index.project_page_redirect = True  # simple/<name>/ -> 302 moved/deeper/<name>/
    release = do_resolve(with_client, local_index, "CleanPkg")
    # ../../../files/x is only right relative to the FINAL url, not the requested one
    assert release.artifact.url == local_index.file_url("cleanpkg-1.0.0-py3-none-any.whl")
    assert local_index.paths() == ["simple/cleanpkg/", "moved/deeper/cleanpkg/"]


def test_html_base_href_is_honoured() -> None:
    from shouldi.index.simple import parse_html_page

    html = (
        '<html><head><base href="/mirror/pkgs/"></head><body>'
        '<a href="p-1.0.tar.gz#sha256=AB12" data-requires-python="&gt;=3.9">p-1.0.tar.gz</a>'
        '<a href="ftp://elsewhere/p-0.9.tar.gz">p-0.9.tar.gz</a>'
        '<a href="https://cdn.example/p-0.8.tar.gz" data-yanked>p-0.8.tar.gz</a></body></html>'
    )
    files = parse_html_page(html, "https://idx.example/simple/p/")
    assert [(f.url, f.sha256, f.requires_python, f.yanked) for f in files] == [
        ("https://idx.example/mirror/pkgs/p-1.0.tar.gz", "ab12", ">=3.9", False),
        ("https://cdn.example/p-0.8.tar.gz", None, None, True),  # ftp link dropped
    ]


@pytest.mark.parametrize("simple_json", [True, False], ids=["json-root", "html-root"])
def test_unknown_project_suggests_close_names(
    local_index_factory: Any, with_client: Any, simple_json: bool
) -> None:
    index = local_index_factory(simple_json=simple_json)
    index.add_sdist({"x.py": ""}, "Clean_Pkg2", "1.0")
    with pytest.raises(NotFound) as info:
        do_resolve(with_client, index, "cleanpkj")
    assert str(info.value) == (
        f"no project named 'cleanpkj' on {index.url}; "
        'did you mean "cleanpkg" or "Clean_Pkg2"?'
    )
    assert info.value.exit_code == EXIT_BAD_INPUT
    assert index.paths() == ["simple/cleanpkj/", "simple/"]


def test_unknown_project_without_close_names(local_index: LocalIndex, with_client: Any) -> None:
    with pytest.raises(NotFound, match=r"no project named 'zzzzzzzz' on http\S+/simple/$"):
        do_resolve(with_client, local_index, "zzzzzzzz")


def test_no_matching_version_lists_what_exists(local_index: LocalIndex, with_client: Any) -> None:
    with pytest.raises(
        NotFound, match=r"no release of 'cleanpkg' matches '>=2'.*newest on the index: 1\.0\.0"
    ):
        do_resolve(with_client, local_index, "cleanpkg>=2")


def test_project_with_only_unusable_files(local_index: LocalIndex, with_client: Any) -> None:
    local_index.add_raw_file("eggy", "1.0", "eggy-1.0-py2.7.egg", b"not scanned")
    with pytest.raises(NotFound, match="has no sdist or wheel"):
        do_resolve(with_client, local_index, "eggy")


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"{not json", JSON_TYPE, "garbage instead of a simple index page"),
        (
            b'{"meta": {"api-version": "2.0"}, "files": []}',
            JSON_TYPE,
            "unsupported simple API version",
        ),
        (b'{"meta": {"api-version": "1.0"}}', JSON_TYPE, "has no file list"),
        (b"%PDF-1.4", "application/pdf", "unexpected content type 'application/pdf'"),
    ],
    ids=["bad-json", "api-v2", "no-files", "pdf"],
)
def test_garbage_pages_are_index_errors(body: bytes, content_type: str, message: str) -> None:
    from shouldi.index.simple import parse_simple_page

    with pytest.raises(PackageIndexError, match=message):
        parse_simple_page(content_type, body, "https://idx.example/simple/p/")
