"""The installed-plugins memo (shouldi.cache.plugins): right after any change to what is
installed, and read from the metadata only then."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from shouldi.cache import plugins

GROUP = "shouldi.operations"


def _install(site: Path, name: str, version: str, value: str) -> Path:
    """A distribution's metadata as pip leaves it: NAME-VERSION.dist-info with entry points."""
    meta = site / f"{name}-{version}.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (meta / "entry_points.txt").write_text(f"[{GROUP}]\n{name} = {value}\n")
    return meta


@pytest.fixture
def site(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    return site


@pytest.fixture
def reads(monkeypatch):
    calls: list[str] = []
    real = plugins.read_installed_plugins
    monkeypatch.setattr(plugins, "read_installed_plugins", lambda g: calls.append(g) or real(g))
    return calls


def _ours(found: list[str]) -> list[str]:
    return [p for p in found if p.startswith(("plugone", "plugtwo"))]


def test_the_memo_is_read_while_nothing_changed(site, reads, tmp_path):
    _install(site, "plugone", "1.0", "plugone:op")
    first = plugins.installed_plugins(GROUP, tmp_path / "cache")
    again = plugins.installed_plugins(GROUP, tmp_path / "cache")
    assert _ours(first) == ["plugone=plugone:op@plugone-1.0"]
    assert reads == [GROUP]  # the second call used the memo
    assert again == first == plugins.read_installed_plugins(GROUP)


def test_installing_upgrading_or_removing_a_plugin_is_seen_at_once(site, reads, tmp_path):
    cache = tmp_path / "cache"
    one = _install(site, "plugone", "1.0", "plugone:op")
    assert _ours(plugins.installed_plugins(GROUP, cache)) == ["plugone=plugone:op@plugone-1.0"]
    _install(site, "plugtwo", "2.0", "plugtwo:op")
    assert _ours(plugins.installed_plugins(GROUP, cache)) == [
        "plugone=plugone:op@plugone-1.0", "plugtwo=plugtwo:op@plugtwo-2.0"]
    (one / "entry_points.txt").unlink()
    (one / "METADATA").unlink()
    one.rmdir()
    _install(site, "plugone", "1.1", "plugone:op")  # an upgrade: a new metadata directory
    assert _ours(plugins.installed_plugins(GROUP, cache)) == [
        "plugone=plugone:op@plugone-1.1", "plugtwo=plugtwo:op@plugtwo-2.0"]
    assert len(reads) == 3


def test_entry_points_rewritten_in_place_are_seen(site, tmp_path):
    cache = tmp_path / "cache"
    meta = _install(site, "plugone", "1.0", "plugone:op")
    plugins.installed_plugins(GROUP, cache)
    (meta / "entry_points.txt").write_text(f"[{GROUP}]\nplugone = plugone:other_op\n")
    assert _ours(plugins.installed_plugins(GROUP, cache)) == ["plugone=plugone:other_op@plugone-1.0"]


@pytest.mark.parametrize("memo", [b"not json", b'{"group": "shouldi.operations"}', b"[1, 2]",
                                  b'{"group": "shouldi.operations", "fingerprint": [], "plugins": [1]}'])
def test_a_broken_memo_is_read_again_and_rewritten(site, reads, tmp_path, memo):
    cache = tmp_path / "cache"
    _install(site, "plugone", "1.0", "plugone:op")
    plugins.installed_plugins(GROUP, cache)
    (path,) = cache.glob("plugins-*.json")
    path.write_bytes(memo)
    assert _ours(plugins.installed_plugins(GROUP, cache)) == ["plugone=plugone:op@plugone-1.0"]
    assert len(reads) == 2
    assert path.read_bytes() != memo


def test_a_cache_that_cannot_be_written_still_answers(site, tmp_path):
    _install(site, "plugone", "1.0", "plugone:op")
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache dir would be")
    assert _ours(plugins.installed_plugins(GROUP, blocked / "cache")) == ["plugone=plugone:op@plugone-1.0"]


def test_the_fingerprint_names_the_path_and_its_plugin_metadata(site):
    _install(site, "plugone", "1.0", "plugone:op")
    (site / "other-1.0.dist-info").mkdir()  # no entry points: cannot be a plugin
    found = plugins.fingerprint([str(site), str(site / "missing")])
    assert [row[0] for row in found] == [str(site), "plugone-1.0.dist-info", str(site / "missing")]


def test_other_files_on_the_path_leave_the_memo_valid(site, reads, tmp_path):
    """``python -m`` puts the working directory on sys.path: files written there change nothing."""
    plugins.installed_plugins(GROUP, tmp_path / "cache")
    (site / "report.sarif").write_text("{}")
    (site / "somemodule.py").write_text("X = 1\n")
    plugins.installed_plugins(GROUP, tmp_path / "cache")
    assert reads == [GROUP]


def test_each_environment_has_its_own_memo(site, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    plugins.installed_plugins(GROUP, cache)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "another-venv"))
    plugins.installed_plugins(GROUP, cache)
    assert len(list(cache.glob("plugins-*.json"))) == 2
