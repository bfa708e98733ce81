"""read_pyproject on real pyproject.toml files: PEP 621 extras, PEP 735 groups, dynamic refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from shouldi.inputs import InputError, read_pyproject

PYPROJECT = """\
[build-system]
requires = ["setuptools"]

[project]
name = "My_Proj"
version = "1.0"
dependencies = [
    "requests>=2",
    'tomli; python_version < "3.0"',
]

[project.optional-dependencies]
Test = ["pytest==8.0.0", "requests>=2"]
all = ["my-proj[test]", "rich"]

[dependency-groups]
lint = ["ruff==0.4.0"]
dev = [{include-group = "lint"}, "my_proj[test]", "mypy"]
"""


@pytest.fixture
def pyproject(tmp_path) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT, encoding="utf-8")
    return path


def summary(deps):
    return [(d.name, d.group, d.origin_line) for d in deps]


def test_all_groups_by_default_with_lines_and_markers(pyproject):
    deps = read_pyproject(pyproject)
    assert summary(deps) == [
        ("requests", None, 8),
        ("tomli", None, 9),
        ("pytest", "test", 13),
        ("requests", "test", 13),  # second occurrence of the same string: its own line
        ("rich", "all", 14),
        ("ruff", "lint", 17),
        ("mypy", "dev", 18),
    ]
    assert deps[1].marker_excluded
    assert not deps[0].marker_excluded
    assert deps[2].pinned
    assert deps[2].origin_file == str(pyproject)


def test_selected_groups_follow_self_references_and_includes(pyproject):
    assert summary(read_pyproject(pyproject, groups=["ALL"])) == [
        ("requests", None, 8),
        ("tomli", None, 9),
        ("pytest", "test", 13),
        ("requests", "test", 13),
        ("rich", "all", 14),
    ]
    names = [d.name for d in read_pyproject(pyproject, groups=["dev"])]
    assert names == ["requests", "tomli", "pytest", "requests", "ruff", "mypy"]
    assert [d.name for d in read_pyproject(pyproject, groups=[])] == ["requests", "tomli"]


def test_unknown_group_lists_the_available_ones(pyproject):
    with pytest.raises(
        InputError, match=r"no extra or dependency group 'docs' \(available: test, all, lint, dev\)"
    ):
        read_pyproject(pyproject, groups=["docs"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[project]\nname = "x"\ndynamic = ["dependencies"]\n', "dependencies are dynamic"),
        ("[project\n", "invalid TOML"),
        ("[tool.poetry.dependencies]\nrequests = '*'\n", r"no \[project\] table"),
        ('[project]\nname = "x"\ndependencies = "requests"\n', "dependencies must be a list"),
        (
            '[project]\nname = "x"\ndependencies = ["ok", "bad=="]\n',
            r"pyproject.toml:3: invalid requirement 'bad=='",
        ),
        ('[dependency-groups]\na = [{include-group = "b"}]\n', "includes unknown group 'b'"),
        ("[dependency-groups]\na = [3]\n", "dependency group 'a': invalid entry 3"),
    ],
    ids=["dynamic", "toml", "poetry", "not-list", "bad-spec", "bad-include", "bad-entry"],
)
def test_bad_pyprojects_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        read_pyproject(path)
    assert "\n" not in str(info.value)


def test_dynamic_extras_only_matter_when_all_groups_are_wanted(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[project]\nname = "x"\ndependencies = ["six"]\ndynamic = ["optional-dependencies"]\n'
    )
    with pytest.raises(InputError, match="optional-dependencies are dynamic"):
        read_pyproject(path)
    assert [d.name for d in read_pyproject(path, groups=[])] == ["six"]


def test_group_cycles_terminate_and_direct_references_are_unsupported(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text(
        "[dependency-groups]\n"
        'a = [{include-group = "b"}, "pkg @ https://example.com/pkg.whl"]\n'
        'b = [{include-group = "a"}, "six"]\n'
    )
    deps = read_pyproject(path, groups=["a"])
    assert [(d.name, d.unsupported is not None) for d in deps] == [("pkg", True), ("six", False)]


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="^cannot read .*pyproject.toml: No such file"):
        read_pyproject(tmp_path / "pyproject.toml")
