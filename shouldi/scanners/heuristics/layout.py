"""What each file of an extracted sdist or wheel is: run by the build, at start-up, on
import, by the user, or not at all; and the module name ``import`` knows it by.

**Wheel** (a ``*.dist-info/WHEEL`` near the top): everything outside ``*.dist-info`` is
installed. Modules are named from the wheel root, or from ``<name>.data/purelib``/``platlib``;
``<name>.data/scripts`` are scripts; ``.pth`` files and ``sitecustomize.py``/
``usercustomize.py`` at the root run at every interpreter start.

**Sdist**: ``setup.py`` (at the top or one directory down) and in-tree PEP 517 backends are
run by the build. What the wheel would contain is guessed without running anything: the
packages (directories with an ``__init__.py``) at the top of the project or under
``src/``/``lib/``/``python/`` (there namespace packages too), and the top-level modules the
project names in ``py_modules``/``py-modules`` or that carry the project's own name. The rest
(tests, docs, tool scripts, ``conftest.py``, ``noxfile.py``...) is not installed: it matters
only if the build runs it, which the call graph finds out.

Anywhere, ``tests``/``docs``/``examples``/``benchmarks`` directories and ``test_*.py``
files are *aside* (:func:`shouldi.scanners.interface.path_role`), and ``__main__.py`` runs
only when the user runs ``python -m``.
"""

from __future__ import annotations

import configparser
import enum
import re
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from shouldi.scanners.interface import PathRole, path_role

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["Layout", "Placement", "Role"]

_SOURCE_DIRS = ("src", "lib", "python")
_NOT_PACKAGES = frozenset({"build", "dist", "scripts", "tools", "ci", "bin", "util", "utils",
                           "contrib", "misc", "extras", "devtools", "tasks", "requirements"})
_NOT_MODULES = frozenset({"setup", "conftest", "noxfile", "fabfile", "tasks", "dodo", "manage",
                          "ez_setup", "distribute_setup", "versioneer", "bootstrap", "runtests"})
_STARTUP = frozenset({"sitecustomize.py", "usercustomize.py"})
_NAMES = re.compile(r"""["']([A-Za-z_][A-Za-z0-9_]*)["']""")


class Role(str, enum.Enum):
    BUILD = "build"  # setup.py, in-tree build backends
    STARTUP = "startup"  # .pth files, sitecustomize/usercustomize
    MODULE = "module"  # an installed module
    SCRIPT = "script"  # runs when the user runs it: __main__.py, wheel scripts
    ASIDE = "aside"  # tests, docs, examples, benchmarks
    EXTRA = "extra"  # in the sdist, not in what it installs


@dataclass(frozen=True)
class Placement:
    role: Role
    module: str = ""  # dotted name ("" when it has none)
    package: str = ""  # what relative imports resolve against
    installed: bool = False  # on disk after the install, or run by the build


def _dotted(parts: tuple[str, ...]) -> tuple[str, str]:
    """``(module, package)`` for the path parts of a ``.py`` file below an import root."""
    stem = parts[-1].rsplit(".", 1)[0]
    if stem == "__init__":
        module = ".".join(parts[:-1])
        return module, module
    package = ".".join(parts[:-1])
    return (f"{package}.{stem}" if package else stem), package


class Layout:
    """Placements of the files of one extracted tree."""

    def __init__(self, tree: Path, backends: frozenset[str], wheel: bool) -> None:
        self.tree, self.backends, self.wheel = tree, backends, wheel
        self.entry_points: dict[str, str] = {}  # "module:function" -> script name
        if wheel:
            self._wheel_roots()
        else:
            self._sdist_roots()

    # -- wheels -------------------------------------------------------------------------------
    def _wheel_roots(self) -> None:
        top = self.tree
        for candidate in (self.tree, *sorted(p for p in self.tree.iterdir() if p.is_dir())):
            if any(d.name.endswith(".dist-info") for d in candidate.iterdir() if d.is_dir()):
                top = candidate
                break
        self.top = top
        self.roots = [top]
        for data in sorted(top.glob("*.data")):
            self.roots += [data / "purelib", data / "platlib"]
        for info in sorted(top.glob("*.dist-info")):
            self._entry_points_txt(info / "entry_points.txt")

    def _entry_points_txt(self, path: Path) -> None:
        parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
        try:
            parser.read_string(path.read_text("utf-8", "replace"))
        except (OSError, configparser.Error):
            return
        for section in ("console_scripts", "gui_scripts"):
            if parser.has_section(section):
                for script, target in parser.items(section):
                    self.entry_points[target.split("[")[0].strip()] = script

    # -- sdists -------------------------------------------------------------------------------
    def _sdist_roots(self) -> None:
        markers = ("setup.py", "pyproject.toml", "PKG-INFO", "setup.cfg")
        top = self.tree
        if not any((self.tree / m).is_file() for m in markers):
            subdirs = [p for p in sorted(self.tree.iterdir()) if p.is_dir() and not p.is_symlink()]
            top = next((d for d in subdirs if any((d / m).is_file() for m in markers)),
                       subdirs[0] if len(subdirs) == 1 else self.tree)
        self.top = top
        self.roots = [top / d for d in _SOURCE_DIRS if (top / d).is_dir()] + [top]
        project, declared = self._declared_modules()
        self.py_modules = declared | ({project} if project else set())
        self.packages: set[Path] = set()
        for root in self.roots:
            for child in sorted(root.iterdir()) if root.is_dir() else ():
                if not child.is_dir() or child.is_symlink() or child.name.startswith("."):
                    continue
                if root == top and child.name in _SOURCE_DIRS:
                    continue
                if path_role(child.name + "/x.py") is not PathRole.CODE or (
                        child.name in _NOT_PACKAGES):
                    continue
                if (child / "__init__.py").is_file() or (
                        root != top and any(child.rglob("*.py"))):
                    self.packages.add(child)
        self._pyproject_scripts()

    def _declared_modules(self) -> tuple[str, set[str]]:
        """The project's import name (from PKG-INFO) and the names in ``py_modules``."""
        project = ""
        info = self.top / "PKG-INFO"
        try:
            for line in info.read_text("utf-8", "replace").splitlines()[:50]:
                if line.lower().startswith("name:"):
                    project = line.split(":", 1)[1].strip().lower().replace("-", "_")
                    break
        except OSError:
            pass
        declared: set[str] = set()
        for name in ("setup.py", "setup.cfg", "pyproject.toml"):
            try:
                text = (self.top / name).read_text("utf-8", "replace")
            except OSError:
                continue
            for match in re.finditer(r"py[_-]modules\s*[=:]\s*(\[[^\]]*\]|[^\n]*(\n[ \t]+[^\n]*)*)",
                                     text):
                declared |= set(_NAMES.findall(match.group(1)))
                if name == "setup.cfg":
                    declared |= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", match.group(1)))
        return project, declared

    def _pyproject_scripts(self) -> None:
        try:
            data = tomllib.loads((self.top / "pyproject.toml").read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return
        project = data.get("project", {})
        for key in ("scripts", "gui-scripts"):
            table = project.get(key, {}) if isinstance(project, dict) else {}
            if isinstance(table, dict):
                for script, target in table.items():
                    if isinstance(target, str):
                        self.entry_points[target.split("[")[0].strip()] = script

    # -- placement ----------------------------------------------------------------------------
    def place(self, path: Path) -> Placement:
        """Where the file at ``path`` (inside the tree) belongs."""
        return self._wheel_place(path) if self.wheel else self._sdist_place(path)

    def _wheel_place(self, path: Path) -> Placement:
        try:
            rel = path.relative_to(self.top)
        except ValueError:
            return Placement(Role.EXTRA)
        parts = rel.parts
        if parts and parts[0].endswith(".dist-info"):
            return Placement(Role.EXTRA)
        if parts and parts[0].endswith(".data"):
            if len(parts) > 2 and parts[1] in ("purelib", "platlib"):
                return self._module(parts[2:], installed=True)
            role = Role.SCRIPT if len(parts) > 1 and parts[1] == "scripts" else Role.ASIDE
            return Placement(role, installed=True)
        return self._module(parts, installed=True)

    def _module(self, parts: tuple[str, ...], installed: bool) -> Placement:
        name = parts[-1]
        if name.endswith(".pth"):
            return Placement(Role.STARTUP if len(parts) == 1 else Role.ASIDE, installed=installed)
        module, package = _dotted(parts)
        if len(parts) == 1 and name in _STARTUP:
            return Placement(Role.STARTUP, module, package, installed)
        if path_role(PurePosixPath(*parts).as_posix()) is not PathRole.CODE:
            return Placement(Role.ASIDE, module, package, installed)
        if name == "__main__.py":
            return Placement(Role.SCRIPT, module, package, installed)
        return Placement(Role.MODULE, module, package, installed)

    def _sdist_place(self, path: Path) -> Placement:
        relname = path.relative_to(self.tree).as_posix()
        if relname in self.backends:
            module, package = _dotted(path.relative_to(self.top).parts)
            return Placement(Role.BUILD, module, package, installed=True)
        try:
            rel = path.relative_to(self.top)
        except ValueError:
            return Placement(Role.EXTRA)
        if rel.as_posix() == "setup.py" or (path.name == "setup.py" and len(
                path.relative_to(self.tree).parts) <= 2):
            return Placement(Role.BUILD, "setup", "", installed=True)
        for root in self.roots:
            try:
                below = path.relative_to(root)
            except ValueError:
                continue
            if below.parts and root / below.parts[0] in self.packages and len(below.parts) > 1:
                return self._module(below.parts, installed=True)
            if len(below.parts) == 1:
                stem = below.parts[0].rsplit(".", 1)[0]
                if below.parts[0].endswith(".pth") or below.parts[0] in _STARTUP:
                    return self._module(below.parts, installed=True)
                if below.parts[0].endswith((".py", ".pyw")) and stem in self.py_modules and (
                        stem not in _NOT_MODULES):
                    return self._module(below.parts, installed=True)
        module, package = _dotted(rel.parts) if rel.parts else ("", "")
        role = Role.ASIDE if path_role(rel.as_posix()) is not PathRole.CODE else Role.EXTRA
        return Placement(role, module, package, installed=False)
