"""Build real source trees, sdists and wheels in tmp dirs for the scanner tests.

An sdist is a real ``name-version.tar.gz`` with ``PKG-INFO``; it is extracted the way the
archive layer does it (``tarfile`` with ``filter="data"``), so scanners see what they would
see in production: ``<root>/<name>-<version>/...``.
"""

from __future__ import annotations

import io
import tarfile
import textwrap
import time
import zipfile
from pathlib import Path

Files = dict[str, "str | bytes"]


def write_tree(root: Path, files: Files) -> Path:
    """Write ``files`` (relative name -> text, dedented, or bytes) under ``root``."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
    return root


def make_sdist(out_dir: Path, name: str, version: str, files: Files) -> Path:
    """A real sdist ``name-version.tar.gz`` holding ``files`` and a PKG-INFO."""
    top = f"{name}-{version}"
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / f"{top}.tar.gz"
    members: Files = {"PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"}
    members.update(files)
    with tarfile.open(archive, "w:gz") as tar:
        for member, content in members.items():
            data = content if isinstance(content, bytes) else textwrap.dedent(content).encode()
            info = tarfile.TarInfo(f"{top}/{member}")
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(data))
    return archive


def make_wheel(out_dir: Path, name: str, version: str, files: Files) -> Path:
    """A real (unsigned, RECORD-less) wheel zip holding ``files`` and a dist-info."""
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        zf.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
        for member, content in files.items():
            zf.writestr(member, content if isinstance(content, bytes) else textwrap.dedent(content))
    return archive


def extract(archive: Path, dest: Path) -> Path:
    """Extract ``archive`` safely into ``dest`` (created); return ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    if archive.name.endswith(".whl"):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
    else:
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")
    return dest


def sdist_tree(tmp_path: Path, files: Files, name: str = "demo", version: str = "1.0") -> Path:
    """Build an sdist of ``files`` and return the extracted tree root."""
    archive = make_sdist(tmp_path / "dist", name, version, files)
    return extract(archive, tmp_path / "tree")


def wheel_tree(tmp_path: Path, files: Files, name: str = "demo", version: str = "1.0") -> Path:
    archive = make_wheel(tmp_path / "dist", name, version, files)
    return extract(archive, tmp_path / "tree")
