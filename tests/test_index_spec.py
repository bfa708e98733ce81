"""Requirement specs, names and the default index."""

from __future__ import annotations

import pytest

import shouldi.index
from shouldi.errors import EXIT_BAD_INPUT, UsageError
from shouldi.index import BadSpec, default_index_url, normalize_name, parse_spec
from shouldi.index.spec import PYPI_SIMPLE_URL, check_spec


@pytest.mark.parametrize(
    ("spec", "name", "specifier", "extras", "marker"),
    [
        ("requests", "requests", "", set(), None),
        ("requests==2.31.0", "requests", "==2.31.0", set(), None),
        ("Django>=4,<5", "Django", "<5,>=4", set(), None),
        ("requests[socks,security]~=2.0", "requests", "~=2.0", {"socks", "security"}, None),
        ('six ; python_version >= "3"', "six", "", set(), 'python_version >= "3"'),
        ("  zope.interface  ", "zope.interface", "", set(), None),
    ],
    ids=["bare", "pinned", "range", "extras", "marker", "whitespace"],
)
def test_good_specs(
    spec: str, name: str, specifier: str, extras: set[str], marker: str | None
) -> None:
    req = parse_spec(spec)
    assert req.name == name
    assert str(req.specifier) == specifier
    assert req.extras == extras
    assert (str(req.marker) if req.marker else None) == marker


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty requirement spec"),
        ("   ", "empty requirement spec"),
        ("==1.0", "Expected package name"),
        ("foo==", "invalid requirement spec 'foo=='"),
        ("foo bar", "invalid requirement spec 'foo bar'"),
        ("foo>=1,,<2", "invalid requirement spec"),
        ("foo @ https://evil.example/foo-1.0.tar.gz", "direct URL references are not supported"),
    ],
    ids=["empty", "blank", "no-name", "dangling-op", "two-words", "double-comma", "url"],
)
def test_bad_specs(spec: str, message: str) -> None:
    with pytest.raises(BadSpec) as info:
        parse_spec(spec)
    text = str(info.value)
    assert message in text
    assert "\n" not in text  # one line, fit for the CLI
    assert isinstance(info.value, UsageError)
    assert info.value.exit_code == EXIT_BAD_INPUT


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("Django", "django"), ("zope.interface", "zope-interface"), ("Foo__Bar--baz", "foo-bar-baz")],
)
def test_normalize_name(raw: str, normal: str) -> None:
    assert normalize_name(raw) == normal


def test_default_index_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    assert default_index_url() == PYPI_SIMPLE_URL
    monkeypatch.setenv("PIP_INDEX_URL", "https://mirror.example/root/simple/")
    assert default_index_url() == "https://mirror.example/root/simple/"


def test_public_names_match_all() -> None:
    public = {n for n in dir(shouldi.index) if not n.startswith("_")}
    modules = {
        "cache",
        "client",
        "downloader",
        "errors",
        "jsonapi",
        "resolver",
        "select",
        "simple",
        "spec",
        "target",
    }
    assert set(shouldi.index.__all__) == public - modules - {"annotations"}


@pytest.mark.parametrize("spec", [
    "django", "django==6.1.3", "a", "a-b.c_d==1.0rc1", " foo == 1.0 ", "foo==1.*", "foo>=1,<2",
    "foo[bar]==1", 'foo==1.0 ; python_version>"3"', "foo==", "==1.0", "foo==1..2", "-foo",
    "foo-==1", "foo @ https://example.invalid/x.tgz", "foo==1.0 extra", "", "   ", "foo==v1",
])
def test_check_spec_agrees_with_parse_spec(spec):
    """check_spec's fast path (name, name==version) accepts exactly what parse_spec accepts."""
    try:
        parse_spec(spec)
    except BadSpec:
        with pytest.raises(BadSpec):
            check_spec(spec)
    else:
        check_spec(spec)
