"""Decode one advisory file (JSON or YAML) as hostile input: bounded time, memory and depth.

- **YAML aliases are refused.** A 700-byte file of nested anchors and aliases ("billion
  laughs") loads into a small shared graph, but everything that walks it afterwards (parsing,
  ``json.dumps`` into the store) sees an exponential tree. OSV advisories never use aliases, so
  the event stream is read first with the YAML parser (libyaml when present: its parser is a
  state machine, not recursive) and the first ``AliasEvent`` stops the file; so does nesting
  deeper than :data:`MAX_DEPTH`, before anything is composed. An alias needs an anchor and an
  anchor needs a ``&``: the event pass runs only on files containing one (27 of the 1,459 in
  the PyPA database), so it costs nothing on real data. Without a ``&``, nesting is bounded by
  libyaml's own limit (1,000 levels, no recursion in SafeConstructor), a ``RecursionError``
  of the pure-Python parser is translated, and the depth check below runs on the result.
- **Scalars stay strings** (except null): ``fixed: 0.10`` is the version "0.10", not 0.1.
- **JSON** is decoded by :mod:`json` (its recursion guard raises ``RecursionError`` on a deep
  ``[[[[...``, translated here), and every decoded document is checked to nest at most
  :data:`MAX_DEPTH` levels (iteratively) before it is walked.
- The caller caps the file's size (:class:`shouldi.advisories.reader.Limits`).

Failures raise ``ValueError`` with a short reason; callers add where the data came from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

__all__ = ["MAX_DEPTH", "load_documents"]

#: Deepest nesting an advisory may have. Real OSV documents nest 6 levels
#: (affected / ranges / events / {...}); 32 leaves room for database_specific blobs.
MAX_DEPTH = 32

_Base: Any = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


class _StringLoader(_Base):  # type: ignore[misc]
    """Safe YAML where every scalar stays a string except null."""


_StringLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_documents(name: str, data: bytes) -> list[dict[str, Any]]:
    """Advisory documents in one file: a JSON object, a JSON list, ``{"vulns": [...]}``, or
    one YAML document (chosen by ``name``'s suffix)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 text ({e.reason} at byte {e.start})") from e
    loaded = _load_json(text) if name.lower().endswith(".json") else _load_yaml(text)
    _check_depth(loaded)
    if isinstance(loaded, Mapping) and isinstance(loaded.get("vulns"), list):
        loaded = loaded["vulns"]
    docs = loaded if isinstance(loaded, list) else [loaded]
    if not all(isinstance(doc, dict) for doc in docs):
        raise ValueError("not an OSV advisory (expected a mapping)")
    return docs


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError as e:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from e
    except ValueError as e:
        raise ValueError(f"not valid JSON ({_one_line(e)})") from e


def _load_yaml(text: str) -> Any:
    try:
        if "&" in text:  # only a file with an anchor can hold an alias
            _check_events(text)
        return yaml.load(text, Loader=_StringLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError as e:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from e
    except yaml.YAMLError as e:
        raise ValueError(f"not valid YAML ({_one_line(e)})") from e


def _check_events(text: str) -> None:
    """Refuse aliases and deep nesting from the event stream, before composing anything."""
    depth = 0
    for event in yaml.parse(text, Loader=_StringLoader):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise ValueError(f"uses YAML aliases{where}: refused, an alias can expand without bound")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_depth(value: object) -> None:
    """Iteratively: no container nests deeper than :data:`MAX_DEPTH`."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
        stack.extend((child, depth + 1) for child in children)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())[:200]
