"""Build REAL sdists and wheels for tests, without running any build backend.

Archives are assembled file by file with tarfile/zipfile, deterministically (fixed times,
sorted members), so the same inputs give the same bytes and sha256. Nothing in the source
tree is imported or executed: tests/packages/sentinelpkg proves it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import tarfile
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from packaging.tags import parse_tag
from packaging.utils import canonicalize_name

Files = Mapping[str, "str | bytes"]
FIXED_MTIME = 1_600_000_000  # 2020-09-13, any fixed time keeps archives reproducible
_ZIP_TIME = (2020, 9, 13, 12, 0, 0)
_SKIP = {"__pycache__", ".pytest_cache", ".mypy_cache"}


def read_tree(src: Path) -> dict[str, bytes]:
    """Every file under ``src`` as {relative posix path: bytes} (caches and .pyc skipped)."""
    out: dict[str, bytes] = {}
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_file() and not _SKIP & set(rel.parts) and path.suffix != ".pyc":
            out[rel.as_posix()] = path.read_bytes()
    return out


def _as_bytes(files: Files | Path) -> dict[str, bytes]:
    if isinstance(files, Path):
        return read_tree(files)
    return {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}


def dist_stem(name: str, version: str) -> str:
    """``<name>-<version>`` as in modern sdist/wheel file names (PEP 625, wheel spec)."""
    return f"{canonicalize_name(name).replace('-', '_')}-{version}"


def core_metadata(
    name: str, version: str, summary: str = "", requires: tuple[str, ...] = ()
) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if summary:
        lines.append(f"Summary: {summary}")
    lines += [f"Requires-Dist: {r}" for r in requires]
    return "\n".join(lines) + "\n"


def _default_pyproject(name: str, version: str) -> str:
    return (
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\n'
    )


def sdist_bytes(
    name: str, version: str, files: Files | Path, *, summary: str = "", filename: str | None = None
) -> tuple[str, bytes]:
    """(filename, tar.gz bytes) of an sdist: ``<stem>/`` prefix, PKG-INFO, pyproject/setup.py."""
    content = _as_bytes(files)
    content.setdefault("PKG-INFO", core_metadata(name, version, summary).encode())
    if "pyproject.toml" not in content and "setup.py" not in content:
        content["pyproject.toml"] = _default_pyproject(name, version).encode()
    stem = dist_stem(name, version)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = {
            str(parent)
            for rel in content
            for parent in PurePosixPath(stem, rel).parents
            if str(parent) != "."
        }
        for d in sorted(dirs):
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, FIXED_MTIME
            tar.addfile(info)
        for rel, data in sorted(content.items()):
            info = tarfile.TarInfo(f"{stem}/{rel}")
            info.size, info.mode, info.mtime = len(data), 0o644, FIXED_MTIME
            tar.addfile(info, io.BytesIO(data))
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as out:
        out.write(raw.getvalue())
    return filename or f"{stem}.tar.gz", gz.getvalue()


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def wheel_bytes(
    name: str, version: str, files: Files | Path, *, tag: str = "py3-none-any", summary: str = ""
) -> tuple[str, bytes]:
    """(filename, zip bytes) of a wheel with dist-info METADATA, WHEEL and RECORD."""
    content = _as_bytes(files)
    stem = dist_stem(name, version)
    dist_info = f"{stem}.dist-info"
    tags = sorted(str(t) for t in parse_tag(tag))
    pure = all(t.endswith("-none-any") for t in tags)
    wheel_meta = "Wheel-Version: 1.0\nGenerator: shouldi-tests\n"
    wheel_meta += f"Root-Is-Purelib: {'true' if pure else 'false'}\n"
    wheel_meta += "".join(f"Tag: {t}\n" for t in tags)
    content[f"{dist_info}/METADATA"] = core_metadata(name, version, summary).encode()
    content[f"{dist_info}/WHEEL"] = wheel_meta.encode()
    record = [_record_line(p, d) for p, d in sorted(content.items())]
    record.append(f"{dist_info}/RECORD,,")
    content[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        # dist-info last, as the wheel spec recommends
        for rel, data in sorted(
            content.items(), key=lambda kv: (kv[0].startswith(dist_info), kv[0])
        ):
            info = zipfile.ZipInfo(rel, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return f"{stem}-{tag}.whl", buf.getvalue()


def make_sdist(out_dir: Path, name: str, version: str, files: Files | Path, **kw: str) -> Path:
    """Write an sdist of ``files`` (dict or source dir) into ``out_dir``; return its path."""
    filename, data = sdist_bytes(name, version, files, **kw)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / filename).write_bytes(data)
    return out_dir / filename


def make_wheel(
    out_dir: Path, name: str, version: str, files: Files | Path, tag: str = "py3-none-any"
) -> Path:
    """Write a wheel of ``files`` (dict or source dir) into ``out_dir``; return its path."""
    filename, data = wheel_bytes(name, version, files, tag=tag)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / filename).write_bytes(data)
    return out_dir / filename


# --- core metadata with dependencies (added for the resolver tests) -------------------------
def metadata_text(
    name: str,
    version: str,
    requires: tuple[str, ...] | list[str] = (),
    *,
    metadata_version: str = "2.1",
    extras: tuple[str, ...] | list[str] = (),
    requires_python: str | None = None,
    dynamic: tuple[str, ...] | list[str] = (),
) -> str:
    """Core metadata (METADATA / PKG-INFO / a PEP 658 file) with Requires-Dist and friends."""
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}"]
    lines += [f"Dynamic: {d}" for d in dynamic]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Provides-Extra: {e}" for e in extras]
    lines += [f"Requires-Dist: {r}" for r in requires]
    return "\n".join(lines) + "\n"


def wheel_bytes_with_metadata(
    name: str, version: str, files: Files | Path, *, metadata: str, tag: str = "py3-none-any"
) -> tuple[str, bytes]:
    """:func:`wheel_bytes` with ``metadata`` as its dist-info METADATA (RECORD updated)."""
    filename, data = wheel_bytes(name, version, files, tag=tag)
    dist_info = f"{dist_stem(name, version)}.dist-info"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        content = {i.filename: zf.read(i) for i in zf.infolist()}
    content[f"{dist_info}/METADATA"] = metadata.encode()
    record = [_record_line(p, d) for p, d in sorted(content.items()) if p != f"{dist_info}/RECORD"]
    record.append(f"{dist_info}/RECORD,,")
    content[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for rel, body in sorted(content.items(), key=lambda kv: (kv[0].startswith(dist_info), kv[0])):
            info = zipfile.ZipInfo(rel, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, body)
    return filename, buf.getvalue()
