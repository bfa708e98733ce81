"""Read the dependencies a ``pyproject.toml`` declares statically.

Sources: ``[project] dependencies`` (PEP 621, always read), ``[project.optional-dependencies]``
extras and ``[dependency-groups]`` (PEP 735). Dynamic dependencies are computed by a build
backend, which shouldi never runs, so they are an error rather than an empty (clean-looking)
list. A self-reference in an extra (``myproj[test]``) and ``{include-group = ...}`` pull the
referenced groups in. tomllib gives no positions, so line numbers come from searching the
text for each quoted string, in document order: best effort, ``None`` when not found.

The file is read as hostile input (:func:`~shouldi.inputs.files.read_text_input`: regular,
at most :data:`MAX_PYPROJECT_BYTES`, UTF-8) and every table is checked to be one before it
is used, so ``project = "x"`` or ``tool = 5`` is a one-line :class:`InputError`, never an
``AttributeError``. :func:`load_toml` and :func:`tool_table` give other layers (the policy
in ``[tool.shouldi]``) the same reading; they import neither packaging nor the dependency
type, so reading a policy costs what reading TOML costs (every ``shouldi install`` run in a
project directory reads one).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shouldi.inputs.errors import InputError
from shouldi.inputs.files import MiB, read_text_input

if TYPE_CHECKING:
    from shouldi.inputs.dependency import Dependency

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["MAX_PYPROJECT_BYTES", "load_toml", "read_pyproject", "tool_table"]

MAX_PYPROJECT_BYTES = 4 * MiB


def load_toml(
    path: Path, *, what: str = "TOML file", limit: int = MAX_PYPROJECT_BYTES
) -> tuple[str, dict[str, Any]]:
    """``(text, data)`` of the TOML file ``path``, read as hostile input; :class:`InputError` else."""
    shown = str(path)
    text = read_text_input(path, limit=limit, what=what, shown=shown)
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{shown}: invalid TOML: {e}") from e
    except RecursionError as e:  # tomllib recurses into nested arrays and inline tables
        raise InputError(f"{shown}: invalid TOML: arrays or tables nested too deeply") from e


def tool_table(data: dict[str, Any], tool: str, shown: str) -> dict[str, Any]:
    """``[tool.<tool>]`` of parsed pyproject ``data`` (``{}`` when absent).

    Raises :class:`InputError` when ``tool`` or ``tool.<tool>`` is there but not a table.
    """
    return _table(_table(data, "tool", shown), tool, shown, f"tool.{tool}")


def read_pyproject(path: Path, groups: Sequence[str] | None = None) -> list[Dependency]:
    """Main dependencies plus the named extras/dependency groups (``None``: all of them).

    Group names are matched after PEP 503 normalisation; an unknown name is an error that
    lists the available ones.
    """
    from shouldi.inputs.dependency import make_dependency

    shown = str(path)
    text, data = load_toml(path, what="pyproject.toml")
    project = _table(data, "project", shown)
    dep_groups = _table(data, "dependency-groups", shown)
    if not project and not dep_groups:
        raise InputError(
            f"{shown}: no [project] table or [dependency-groups] "
            "(tool-specific tables such as [tool.poetry] are not read)"
        )
    _refuse_dynamic(project, groups, shown)
    lines = _LineFinder(text)
    own = _norm(str(project["name"])) if "name" in project else None
    main = [
        make_dependency(s, shown, lines.find(s)) for s in _strings(project, "dependencies", shown)
    ]
    ordered: dict[str, list[Dependency]] = {}
    includes: dict[str, set[str]] = {}
    for raw, specs in _string_lists(project, "optional-dependencies", shown).items():
        name = _norm(raw)
        ordered[name] = [make_dependency(s, shown, lines.find(s), group=name) for s in specs]
    for raw, entries in dep_groups.items():
        name = _norm(raw)
        deps, included = _group_entries(name, entries, shown, lines)
        ordered[name] = ordered.get(name, []) + deps
        includes[name] = included
    missing = sorted(i for inc in includes.values() for i in inc if i not in includes)
    if missing:
        raise InputError(f"{shown}: [dependency-groups] includes unknown group {missing[0]!r}")

    wanted = set(ordered) if groups is None else {_norm(g) for g in groups}
    unknown = sorted(wanted - set(ordered))
    if unknown:
        listed = ", ".join(ordered) or "none"
        raise InputError(
            f"{shown}: no extra or dependency group {unknown[0]!r} (available: {listed})"
        )
    for name, deps in ordered.items():
        includes[name] = includes.get(name, set()) | _self_extras(deps, own)
    selected = _closure(wanted, includes)
    out = main + [d for name, deps in ordered.items() if name in selected for d in deps]
    return [d for d in out if own is None or d.name != own]


def _norm(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def _table(data: dict[str, Any], key: str, shown: str, label: str | None = None) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InputError(f"{shown}: [{label or key}] must be a table, not {_kind(value)}")
    return value


def _kind(value: object) -> str:
    names = {str: "a string", int: "a number", float: "a number", bool: "a boolean",
             list: "an array"}
    return names.get(type(value), f"a {type(value).__name__}")


def _strings(table: dict[str, Any], key: str, shown: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{shown}: {key} must be a list of strings")
    return value


def _string_lists(table: dict[str, Any], key: str, shown: str) -> dict[str, list[str]]:
    value = _table(table, key, shown, f"project.{key}")
    return {k: _strings(value, k, shown) for k in value}


def _refuse_dynamic(project: dict[str, Any], groups: Sequence[str] | None, shown: str) -> None:
    """Dynamic lists would need the build backend: refuse instead of reporting nothing."""
    dynamic = project.get("dynamic", [])
    if not isinstance(dynamic, list) or not all(isinstance(d, str) for d in dynamic):
        raise InputError(f"{shown}: [project] dynamic must be a list of strings")
    wanted = ["dependencies"] + (["optional-dependencies"] if groups is None else [])
    names = [d for d in wanted if d in dynamic]
    if names:
        raise InputError(
            f"{shown}: [project] {names[0]} are dynamic (computed by the build backend, which "
            "shouldi never runs); list them statically or pass a requirements file"
        )


def _group_entries(
    name: str, entries: object, shown: str, lines: _LineFinder
) -> tuple[list[Dependency], set[str]]:
    """A PEP 735 group's own requirements, and the groups it includes."""
    from shouldi.inputs.dependency import make_dependency

    if not isinstance(entries, list):
        raise InputError(f"{shown}: dependency group {name!r} must be a list")
    deps: list[Dependency] = []
    included: set[str] = set()
    for entry in entries:
        if isinstance(entry, str):
            deps.append(make_dependency(entry, shown, lines.find(entry), group=name))
        elif isinstance(entry, dict) and set(entry) == {"include-group"}:
            included.add(_norm(str(entry["include-group"])))
        else:
            raise InputError(f"{shown}: dependency group {name!r}: invalid entry {entry!r}")
    return deps, included


def _self_extras(deps: list[Dependency], own: str | None) -> set[str]:
    """Extras pulled in by ``own[extra]`` self-references."""
    refs = (d.requirement for d in deps if own is not None and d.name == own)
    return {_norm(e) for r in refs if r is not None for e in r.extras}


def _closure(start: set[str], edges: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(edges.get(name, ()))
    return seen


class _LineFinder:
    """Line of each quoted string; repeated strings map to successive occurrences."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._cursor: dict[str, int] = {}

    def find(self, value: str) -> int | None:
        start = self._cursor.get(value, 0)
        hits = [
            i
            for needle in (json.dumps(value, ensure_ascii=False), f"'{value}'")
            if (i := self._text.find(needle, start)) >= 0
        ]
        if not hits:
            return None
        pos = min(hits)
        self._cursor[value] = pos + 1
        return self._text.count("\n", 0, pos) + 1
