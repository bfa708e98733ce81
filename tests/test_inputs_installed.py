"""installed_distributions on real .dist-info directories in tmp site dirs (and on this venv)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from shouldi.inputs import installed_distributions
from shouldi.inputs.errors import InputError
from shouldi.inputs.installed import BAD_VERSION, DIRECT_INSTALL, EDITABLE_INSTALL


def dist_info(site: Path, name: str, version: str, direct_url: dict | None = None) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))


def test_reads_metadata_first_on_path_wins_and_flags_direct_installs(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    dist_info(first, "Zope.Interface", "6.0")
    dist_info(
        first, "local-tool", "0.1", {"url": "file:///src/tool", "dir_info": {"editable": True}}
    )
    dist_info(first, "from-git", "1.0", {"url": "https://x/y.git", "vcs_info": {"vcs": "git"}})
    dist_info(second, "zope-interface", "5.0")  # shadowed by the first path
    dist_info(second, "legacy", "not a version!")
    broken = second / "broken-1.0.dist-info"
    broken.mkdir()
    (broken / "METADATA").write_text("Metadata-Version: 2.1\nVersion: 1.0\n")  # no Name

    deps = installed_distributions([str(first), str(second)])
    assert [(d.name, d.spec, d.pinned, d.unsupported) for d in deps] == [
        ("from-git", "from-git==1.0", True, DIRECT_INSTALL),
        ("legacy", "legacy==not a version!", False, BAD_VERSION),
        ("local-tool", "local-tool==0.1", True, EDITABLE_INSTALL),
        ("zope-interface", "Zope.Interface==6.0", True, None),
    ]
    assert deps[3].version == "6.0"
    assert deps[3].origin_file == str(first)
    (tmp_path / "empty").mkdir()
    assert installed_distributions([str(tmp_path / "empty")]) == []
    with pytest.raises(InputError, match="no such directory"):  # a typo is not "no dependencies"
        installed_distributions([str(tmp_path / "missing")])


def test_this_environment_includes_its_own_dependencies():
    names = {d.name for d in installed_distributions()}
    assert {"packaging", "pytest", "httpx"} <= names
    assert all(d.name == canonicalize_name(d.name) for d in installed_distributions())
