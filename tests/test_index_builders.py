"""The test builders make real, reproducible archives, and never run package code."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from builders import make_sdist, make_wheel, sdist_bytes, wheel_bytes

PACKAGES = Path(__file__).parent / "packages"


def test_sdist_layout(built_packages: Any) -> None:
    sdist = built_packages["cleanpkg"].sdist
    assert sdist.name == "cleanpkg-1.0.0.tar.gz"
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        pkg_info = tar.extractfile("cleanpkg-1.0.0/PKG-INFO").read().decode()  # type: ignore[union-attr]
    assert all(n == "cleanpkg-1.0.0" or n.startswith("cleanpkg-1.0.0/") for n in names)
    assert {"cleanpkg-1.0.0/pyproject.toml", "cleanpkg-1.0.0/cleanpkg/maths.py"} <= set(names)
    assert "Name: cleanpkg\nVersion: 1.0.0\n" in pkg_info


def test_sdist_is_reproducible_and_gets_a_pyproject_only_when_needed() -> None:
    one = sdist_bytes("My-Pkg", "2.0", {"my_pkg/__init__.py": "x = 1\n"})
    assert one == sdist_bytes("My-Pkg", "2.0", {"my_pkg/__init__.py": "x = 1\n"})
    assert one[0] == "my_pkg-2.0.tar.gz"
    with tarfile.open(fileobj=io.BytesIO(one[1])) as tar:
        assert "my_pkg-2.0/pyproject.toml" in tar.getnames()
    _, legacy = sdist_bytes(
        "old", "1.0", {"setup.py": "raise SystemExit\n"}, filename="Old-1.0.tar.gz"
    )
    with tarfile.open(fileobj=io.BytesIO(legacy)) as tar:
        assert "old-1.0/pyproject.toml" not in tar.getnames()


def test_wheel_record_matches_contents(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path, "cleanpkg", "1.0.0", {"cleanpkg/__init__.py": "A = 1\n"}, tag="py2.py3-none-any"
    )
    assert path.name == "cleanpkg-1.0.0-py2.py3-none-any.whl"
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert names[0] == "cleanpkg/__init__.py"  # dist-info last
        wheel_meta = zf.read("cleanpkg-1.0.0.dist-info/WHEEL").decode()
        for line in zf.read("cleanpkg-1.0.0.dist-info/RECORD").decode().splitlines():
            member, digest, size = line.split(",")
            if member.endswith("RECORD"):
                continue
            data = zf.read(member)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert (digest, int(size)) == (f"sha256={expected}", len(data))
    assert "Tag: py2-none-any\nTag: py3-none-any\n" in wheel_meta
    assert "Root-Is-Purelib: true" in wheel_meta
    _, binary = wheel_bytes("b", "1", {}, tag="cp311-cp311-manylinux_2_17_x86_64")
    with zipfile.ZipFile(io.BytesIO(binary)) as zf:
        assert "Root-Is-Purelib: false" in zf.read("b-1.dist-info/WHEEL").decode()


def test_building_sentinelpkg_runs_none_of_its_code(tmp_path: Path, sentinel_dir: Path) -> None:
    sdist = make_sdist(tmp_path, "sentinelpkg", "0.1.0", PACKAGES / "sentinelpkg")
    with tarfile.open(sdist) as tar:
        assert {"sentinelpkg-0.1.0/setup.py", "sentinelpkg-0.1.0/backend.py"} <= set(tar.getnames())
        pyproject = tar.extractfile("sentinelpkg-0.1.0/pyproject.toml").read().decode()  # type: ignore[union-attr]
    assert 'build-backend = "backend"' in pyproject
    assert list(sentinel_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "sentinel"),
    [
        (["setup.py", "--name"], "sentinelpkg.setup.py.ran"),
        (["-c", "import backend"], "sentinelpkg.backend.ran"),
        (["-c", "import sentinelpkg"], "sentinelpkg.import.ran"),
    ],
    ids=["setup.py", "build-backend", "import"],
)
def test_the_sentinels_do_fire_when_the_code_runs(
    tmp_path: Path, argv: list[str], sentinel: str
) -> None:
    # proves the guard in conftest is not vacuous: running any entry point leaves a file
    src = shutil.copytree(PACKAGES / "sentinelpkg", tmp_path / "src")
    fired = tmp_path / "fired"
    fired.mkdir()
    env = {**os.environ, "SHOULDI_SENTINEL_DIR": str(fired)}
    subprocess.run(
        [sys.executable, *argv], cwd=src, env=env, check=True, capture_output=True, timeout=60
    )
    assert [p.name for p in fired.iterdir()] == [sentinel]


def test_evilpkg_looks_evil_but_its_payload_is_pass(built_packages: Any) -> None:
    with tarfile.open(built_packages["evilpkg"].sdist) as tar:
        setup_py = tar.extractfile("evilpkg-0.1.0/setup.py").read().decode()  # type: ignore[union-attr]
    for needle in (
        "exec(base64.b64decode(PAYLOAD))",
        "subprocess.check_output",
        "urllib.request.urlopen",
        'cmdclass={"install": PostInstall}',
    ):
        assert needle in setup_py
    payload = re.search(r'PAYLOAD = "([^"]+)"', setup_py)
    assert payload is not None
    assert base64.b64decode(payload[1]) == b"pass"
