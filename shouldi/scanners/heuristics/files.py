"""What a file is by its first bytes, and which files the build or ``site`` runs.

* In-tree PEP 517 build backends (``backend-path`` in ``pyproject.toml``) are imported by
  the build: :func:`backend_modules`.
* ``.pth`` lines starting with ``import`` are executed by ``site`` at every interpreter
  start: :func:`pth_import_lines`.
* A tree with a ``*.dist-info/WHEEL`` came from a wheel: :func:`is_wheel`.
* Native binaries are recognised by magic bytes (ELF, PE, Mach-O), else by suffix.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["backend_modules", "binary_kind", "is_wheel", "pth_import_lines"]

BINARY_SUFFIXES = frozenset({".so", ".pyd", ".dll", ".exe", ".dylib", ".bin", ".o", ".a"})
_MACHO = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",
          b"\xca\xfe\xba\xbe")


def top_files(tree: Path, filename: str) -> Iterator[Path]:
    """``filename`` at the root of ``tree`` and one directory down (an sdist's top dir)."""
    candidates = [tree / filename]
    candidates += [d / filename for d in sorted(tree.iterdir()) if d.is_dir() and not d.is_symlink()]
    return (c for c in candidates if c.is_file() and not c.is_symlink())


def backend_modules(tree: Path) -> tuple[frozenset[str], list[str]]:
    """Relative names of in-tree build-backend modules, and warnings about pyproject files.

    Only a backend listed with ``backend-path`` is imported from the tree (PEP 517); a path
    that leaves the tree is ignored (it cannot point into the scanned package anyway).
    """
    found: set[str] = set()
    warnings: list[str] = []
    root = tree.resolve()
    for pyproject in top_files(tree, "pyproject.toml"):
        try:
            data = tomllib.loads(pyproject.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            warnings.append(f"cannot read {pyproject.relative_to(tree).as_posix()}: {e}")
            continue
        system = data.get("build-system", {})
        backend, paths = system.get("build-backend"), system.get("backend-path", [])
        if not isinstance(backend, str) or not isinstance(paths, list):
            continue
        parts = backend.split(":")[0].strip().split(".")
        for entry in (p for p in paths if isinstance(p, str)):
            base = (pyproject.parent / entry).resolve()
            if base != root and root not in base.parents:
                continue
            for candidate in (base.joinpath(*parts).with_suffix(".py"),
                              base.joinpath(*parts, "__init__.py")):
                if candidate.is_file():
                    found.add(candidate.relative_to(root).as_posix())
    return frozenset(found), warnings


def is_wheel(tree: Path) -> bool:
    """A tree with a ``*.dist-info/WHEEL`` near the top came from a wheel, not an sdist."""
    return any(
        d.name.endswith(".dist-info") and (d / "WHEEL").is_file()
        for top in (tree, *(p for p in tree.iterdir() if p.is_dir()))
        for d in top.iterdir() if d.is_dir()
    )


def binary_kind(path: Path) -> str | None:
    """``"ELF"``, ``"PE"``, ``"Mach-O"`` from magic bytes, or the binary suffix, else None."""
    try:
        with path.open("rb") as f:
            head = f.read(64)
            if head.startswith(b"\x7fELF"):
                return "ELF"
            if head.startswith(_MACHO):
                return "Mach-O"
            if head.startswith(b"MZ") and len(head) == 64:
                f.seek(int.from_bytes(head[60:64], "little"))
                if f.read(4) == b"PE\0\0":
                    return "PE"
    except OSError:
        return None
    suffix = path.suffix.lower()
    return suffix if suffix in BINARY_SUFFIXES else None


def pth_import_lines(text: str) -> list[tuple[int, str]]:
    """``(line number, line)`` of the lines ``site.addpackage`` would ``exec``."""
    return [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.startswith(("import ", "import\t"))
    ]
