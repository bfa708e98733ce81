from __future__ import annotations

import json
import time

import httpx
import pytest

from shouldi.results import Severity, Status
from shouldi.scanners import PopularListError
from shouldi.scanners.typosquat import (
    PopularNames,
    find_typosquats,
    refresh_popular,
    skeleton,
    squash,
    typosquat_check,
)

TOP_URL = "https://hugovk.github.io/top-pypi-packages/top-pypi-packages.min.json"


@pytest.fixture(scope="module")
def popular():
    return PopularNames.load()


def targets(name, popular):
    return [(f.rule, f.severity, f.message.split("'")[3]) for f in find_typosquats(name, popular)]


def test_shipped_list_and_its_provenance(popular):
    assert len(popular.names) == 5000
    assert popular.names[:3] == ("boto3", "packaging", "urllib3")
    assert popular.source.startswith("PyPI download ranking, 30-day, the 15,000 most downloaded")
    assert popular.as_of == "2026-11"
    assert popular.rank("Requests") == 5
    assert popular.rank("not-a-popular-name-xyz") is None
    assert "Typing_Extensions" in popular


@pytest.mark.parametrize("name", ["requests", "Requests", "python_dateutil", "Django", "six",
                                  "PyYAML", "zope.interface"])
def test_popular_names_themselves_are_never_findings(popular, name):
    assert find_typosquats(name, popular) == ()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("reqeusts", ("typosquat-distance", Severity.MEDIUM, "requests")),  # transposition
        ("djnago", ("typosquat-distance", Severity.MEDIUM, "django")),
        ("setuptool", ("typosquat-distance", Severity.MEDIUM, "setuptools")),
        ("pythondateutil", ("typosquat-separator", Severity.HIGH, "python-dateutil")),
        ("scikitlearn", ("typosquat-separator", Severity.HIGH, "scikit-learn")),
        ("crypt0graphy", ("typosquat-lookalike", Severity.HIGH, "cryptography")),
        ("co1orama", ("typosquat-lookalike", Severity.HIGH, "colorama")),
        ("urlIib3", ("typosquat-lookalike", Severity.HIGH, "urllib3")),  # capital i
        ("numpy2", ("typosquat-affix", Severity.MEDIUM, "numpy")),
        ("python-requests", ("typosquat-affix", Severity.MEDIUM, "requests")),
        ("dateutil", ("typosquat-affix", Severity.MEDIUM, "python-dateutil")),
    ],
)
def test_lookalikes(popular, name, expected):
    assert targets(name, popular)[0] == expected


def test_two_edits_only_for_longer_names(popular):
    assert ("typosquat-distance", Severity.LOW, "cryptography") in targets("crytpogrphy", popular)
    # "sixxx" is 2 edits from "six": too many honest short names are that close
    assert all(t[2] != "six" for t in targets("sixxx", popular))
    assert targets("sixx", popular)[0] == ("typosquat-distance", Severity.MEDIUM, "six")


def test_unrelated_name_is_clean(popular):
    assert find_typosquats("my-very-own-unique-helper", popular) == ()


def test_findings_are_capped_and_ordered(popular):
    findings = find_typosquats("pipp", popular)
    assert 1 <= len(findings) <= 5
    ranks = [f.severity.rank for f in findings]
    assert ranks == sorted(ranks, reverse=True)
    assert all(f.check == "typosquat" and f.file is None for f in findings)


def test_fast_enough(popular):
    find_typosquats("warmup", popular)
    start = time.perf_counter()
    for name in ("reqeusts", "tensorfow", "my-own-package", "djangorestframwork", "boto4") * 4:
        find_typosquats(name, popular)
    assert (time.perf_counter() - start) / 20 < 0.05


def test_check_result(popular):
    result = typosquat_check("reqeusts", popular)
    assert result.status is Status.OK
    assert result.check == "typosquat"
    assert result.counts == {"popular_names": 5000, "lookalikes": 1, "is_popular": 0}
    assert "5000 names" in result.reason


def test_squash_and_skeleton():
    assert squash("Python_Date.util") == "pythondateutil"
    assert skeleton("rnatp1otlib") == skeleton("matplotlib")


def test_load_a_custom_list(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("# source: my mirror\n# as-of: 2025-01\nFoo_Bar\n\nbaz\n")
    names = PopularNames.load(path)
    assert names.names == ("foo-bar", "baz")
    assert (names.source, names.as_of) == ("my mirror", "2025-01")


@pytest.mark.parametrize("content", [None, "# only a header\n", b"\xff\xfe\x00bad"])
def test_unreadable_lists_are_clean_errors(tmp_path, content):
    path = tmp_path / "names.txt"
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(PopularListError):
        PopularNames.load(path)


def mock_client(handler):
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_refresh_writes_the_list_atomically(tmp_path):
    payload = {"last_update": "2026-11-01 07:00:00", "rows": [
        {"project": "boto3", "download_count": 100}, {"project": "Typing_Extensions"},
        {"project": "boto3"}, {"download_count": 5}, {"project": "requests"}]}
    seen = []

    def handler(request):
        seen.append(str(request.url))
        return httpx.Response(200, json=payload)

    dest = tmp_path / "data" / "popular.txt"
    with mock_client(handler) as client:
        result = refresh_popular(client, dest, limit=2)
    assert seen == [TOP_URL]
    assert result.names == ("boto3", "typing-extensions")
    loaded = PopularNames.load(dest)
    assert loaded == result
    assert loaded.as_of == "2026-11-01 07:00:00"
    assert loaded.source.startswith(TOP_URL)
    assert [p.name for p in dest.parent.iterdir()] == ["popular.txt"]  # no temp file left
    assert find_typosquats("bot03", loaded)[0].message.startswith("'bot03' resembles popular")


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(503, text="down"), "cannot download the popular-package list"),
        (httpx.Response(200, text="<html>"), "did not return JSON"),
        (httpx.Response(200, json={"nope": []}), "without a 'rows' list"),
        (httpx.Response(200, json={"rows": []}), "lists no package names"),
    ],
    ids=["http-error", "not-json", "wrong-shape", "empty"],
)
def test_refresh_failures_keep_the_old_file(tmp_path, response, message):
    dest = tmp_path / "popular.txt"
    dest.write_text("# source: old\nrequests\n")
    with mock_client(lambda request: response) as client, \
            pytest.raises(PopularListError, match=message):
        refresh_popular(client, dest)
    assert dest.read_text() == "# source: old\nrequests\n"


def test_refresh_network_error_is_clean(tmp_path):
    def handler(request):
        raise httpx.ConnectError("unreachable", request=request)

    with mock_client(handler) as client, pytest.raises(PopularListError, match="unreachable"):
        refresh_popular(client, tmp_path / "popular.txt")
    assert not (tmp_path / "popular.txt").exists()


def test_refresh_unwritable_destination(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    payload = json.dumps({"rows": [{"project": "boto3"}]})
    with mock_client(lambda r: httpx.Response(200, text=payload)) as client, \
            pytest.raises(PopularListError, match="cannot write"):
        refresh_popular(client, blocker / "popular.txt")


@pytest.mark.online
def test_refresh_from_the_real_url(tmp_path):
    """The ranking lives outside PyPI: where it is unreachable this must fail cleanly."""
    with httpx.Client() as client:
        try:
            result = refresh_popular(client, tmp_path / "popular.txt")
        except PopularListError as e:
            message = str(e)
        else:
            assert len(result.names) > 1000
            return
    assert message.startswith(f"cannot download the popular-package list from {TOP_URL}")
