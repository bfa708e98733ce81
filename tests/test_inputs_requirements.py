"""read_requirements on real files written to a tmp dir, pip syntax case by case."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import shouldi.inputs as inputs
from shouldi.errors import EXIT_BAD_INPUT
from shouldi.inputs import InputError, read_requirements
from shouldi.inputs.requirements import EDITABLE, URL_OR_PATH

SHA = "sha256:" + "ab" * 32


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_all_names_the_public_api():
    public = {n for n in dir(inputs) if not n.startswith("_")}  # names load on first use
    modules = {"dependency", "errors", "files", "installed", "pyproject", "requirements",
               "annotations", "TYPE_CHECKING", "lazy_exports"}
    assert set(inputs.__all__) == public - modules


def test_comments_blanks_continuations_and_line_numbers(tmp_path):
    req = write(
        tmp_path / "requirements.txt",
        "# a comment\n"
        "\n"
        "requests==2.31.0  # trailing comment\n"
        "Flask>=2.0,\\\n"
        "   <3.0\n"
        "url#fragment-is-not-a-comment==1.0\n"
        "numpy \\\n"
        "  # comment ends a continuation\n"
        "attrs===23.1.0\n",
    )
    with pytest.raises(InputError, match=r"requirements.txt:6: invalid requirement"):
        read_requirements(req)
    write(req, req.read_text().replace("url#fragment-is-not-a-comment==1.0\n", ""))
    deps = read_requirements(req).dependencies
    assert [(d.name, d.origin_line, d.pinned) for d in deps] == [
        ("requests", 3, True),
        ("flask", 4, False),
        ("numpy", 6, False),
        ("attrs", 8, True),
    ]
    assert str(deps[1].requirement.specifier) == "<3.0,>=2.0"
    assert deps[0].version == "2.31.0"
    assert deps[1].version is None
    assert deps[0].origin == f"{req}:3"


def test_pinned_means_exactly_one_version(tmp_path):
    req = write(tmp_path / "r.txt", "a==1.0\nb==1.*\nc>=1,<=1\nd===weird\ne==1.0,!=2\n")
    assert [d.pinned for d in read_requirements(req).dependencies] == [
        True, False, False, True, False,
    ]  # fmt: skip


def test_hashes_index_options_and_trusted_host(tmp_path):
    req = write(
        tmp_path / "r.txt",
        f"--index-url https://mirror.example/simple\n"
        f"--extra-index-url=https://extra.example/simple\n"
        f"--trusted-host extra.example\n"
        f"--require-hashes\n"
        f"--pre\n"
        f"six==1.16.0 --hash={SHA} \\\n"
        f"    --hash sha256:{'CD' * 32}\n",
    )
    result = read_requirements(req)
    (six,) = result.dependencies
    assert six.hashes == (SHA, "sha256:" + "cd" * 32)
    assert six.index_url == result.index_url == "https://mirror.example/simple"
    assert six.extra_index_urls == ("https://extra.example/simple",)
    assert result.require_hashes
    assert result.warnings == (f"{req}:3: --trusted-host extra.example disables TLS checks for it",)


def test_last_index_url_wins_across_included_files(tmp_path):
    write(tmp_path / "sub" / "more.txt", "-i https://second.example/simple\nidna\n")
    req = write(tmp_path / "r.txt", "-ihttps://first.example/simple\n-r sub/more.txt\nsix\n")
    result = read_requirements(req)
    assert {d.index_url for d in result.dependencies} == {"https://second.example/simple"}


def test_includes_are_relative_to_the_including_file_and_constraints_only_constrain(tmp_path):
    write(tmp_path / "base" / "common.txt", "idna==3.4\n-c ../pins/constraints.txt\n")
    write(tmp_path / "pins" / "constraints.txt", "urllib3<2\n-r nested.txt\n")
    write(tmp_path / "pins" / "nested.txt", "certifi==2023.7.22\n")
    req = write(tmp_path / "r.txt", "--requirement base/common.txt\nurllib3\n")
    result = read_requirements(req)
    assert [d.name for d in result.dependencies] == ["idna", "urllib3"]
    assert result.dependencies[0].origin_file == str(tmp_path / "base" / "common.txt")
    assert [c.name for c in result.constraints] == ["urllib3", "certifi"]  # nested: constraints too
    (pin,) = result.constraints_for(result.dependencies[1])
    assert str(pin.requirement.specifier) == "<2"
    assert len(result.files) == 4


def test_include_cycle_is_refused_with_the_chain(tmp_path):
    write(tmp_path / "b.txt", "six\n-r a.txt\n")
    req = write(tmp_path / "a.txt", "-r b.txt\n")
    with pytest.raises(InputError) as info:
        read_requirements(req)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    assert str(info.value) == f"{b}:2: include cycle: {a} -> {b} -> {a}"
    assert info.value.exit_code == EXIT_BAD_INPUT


def test_a_file_included_twice_is_read_once(tmp_path):
    write(tmp_path / "common.txt", "six\n")
    write(tmp_path / "x.txt", "-r common.txt\n")
    req = write(tmp_path / "r.txt", "-r common.txt\n-r x.txt\n")
    assert [d.name for d in read_requirements(req).dependencies] == ["six"]


def test_markers_are_evaluated_and_kept(tmp_path):
    req = write(
        tmp_path / "r.txt",
        'tomli>=2; python_version < "3.0"\n'
        f'colorama; sys_platform == "{sys.platform}"\n'
        "requests[socks,security]==2.31.0\n",
    )
    tomli, colorama, requests = read_requirements(req).dependencies
    assert tomli.marker_excluded
    assert not colorama.marker_excluded
    assert requests.requirement.extras == {"socks", "security"}
    assert requests.pinned


def test_unsupported_lines_are_values_not_crashes(tmp_path):
    req = write(
        tmp_path / "r.txt",
        "-e git+https://github.com/pallets/click.git#egg=click\n"
        "--editable ./local[dev]\n"
        "pkg @ https://example.com/pkg-1.0.tar.gz\n"
        "https://example.com/wheels/Some_Pkg-2.0-py3-none-any.whl\n"
        f"./vendor/thing.tar.gz --hash={SHA}\n",
    )
    deps = read_requirements(req).dependencies
    assert [(d.name, d.unsupported is not None) for d in deps] == [
        ("click", True), (None, True), ("pkg", True), ("some-pkg", True), (None, True),
    ]  # fmt: skip
    assert deps[0].unsupported == EDITABLE
    assert deps[3].unsupported == URL_OR_PATH
    assert deps[2].requirement.url == "https://example.com/pkg-1.0.tar.gz"
    assert not deps[2].pinned
    assert deps[4].hashes == (SHA,)


def test_env_vars_are_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOULDI_TEST_INDEX", "https://private.example/simple")
    req = write(tmp_path / "r.txt", "-i ${SHOULDI_TEST_INDEX}\nsix\n")
    assert read_requirements(req).index_url == "https://private.example/simple"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("six\nfoo==\n", "r.txt:2: invalid requirement 'foo==': Expected"),
        ("--frobnicate\n", "r.txt:1: unknown option '--frobnicate'"),
        ("six --hash=md5:abc\n", "r.txt:1: invalid --hash 'md5:abc'"),
        ("-r\n", "r.txt:1: option -r needs a value"),
        ("-r https://example.com/r.txt\n", "r.txt:1: cannot include remote file"),
        ("-r missing.txt\n", "cannot read .*missing.txt: No such file or directory"),
        ("-c c.txt\n", "c.txt:1: editable requirements are not allowed as constraints"),
        ("six --hash='unterminated\n", "r.txt:1: cannot parse options"),
        ('bad; python_version > "3" and\n', "r.txt:1: invalid requirement"),
    ],
    ids=["bad-spec", "unknown-option", "bad-hash", "no-value", "remote", "missing", "editable-c",
         "quote", "bad-marker"],
)  # fmt: skip
def test_errors_are_one_line_and_name_file_and_line(tmp_path, text, message):
    write(tmp_path / "c.txt", "-e ./x\n")
    req = write(tmp_path / "r.txt", text)
    with pytest.raises(InputError, match=message) as info:
        read_requirements(req)
    assert "\n" not in str(info.value)


def test_missing_and_undecodable_files(tmp_path):
    with pytest.raises(InputError, match=r"^cannot read .*nope.txt: No such file or directory$"):
        read_requirements(tmp_path / "nope.txt")
    (tmp_path / "latin.txt").write_bytes(b"caf\xe9\n")
    with pytest.raises(InputError, match="not UTF-8 text"):
        read_requirements(tmp_path / "latin.txt")
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbfsix==1.16.0\r\n")
    assert read_requirements(tmp_path / "bom.txt").dependencies[0].version == "1.16.0"
