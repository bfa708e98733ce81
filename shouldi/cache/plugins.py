"""The installed plugins, part of every answer's key, read from package metadata only when the
installation changed.

Reading every distribution's entry points with :mod:`importlib.metadata` (~25 ms, plus ~60 ms
to import it) was a quarter of a reused answer's time. So the list is kept in
``plugins.json`` under the cache root beside a fingerprint of the installation, and read from
the metadata again whenever the fingerprint differs:

* each entry of :data:`sys.path`, and the ``*.dist-info`` / ``*.egg-info`` directories in
  it that have an ``entry_points.txt`` (only those can hold a plugin): installing, removing
  or upgrading a distribution adds or removes one (the version is in its name);
* the mtime and size of each such ``entry_points.txt``: a file rewritten in place (an
  editable plugin reinstalled at the same version) changes them.

Not the directories' own mtimes: ``python -m shouldi`` puts the working directory on
``sys.path``, and every file written there would have made the memo stale.

Taking the fingerprint costs a directory listing per ``sys.path`` entry and a ``stat`` per
distribution (~2 ms for ~300). A missing, unreadable or mismatched memo is read from the
metadata again; a memo that cannot be written is skipped: speed, never the answer.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from shouldi.cache.files import read_json, store_json

__all__ = ["fingerprint", "installed_plugins", "read_installed_plugins"]

_META_SUFFIXES = (".dist-info", ".egg-info")


def fingerprint(path: list[str] | None = None) -> list[list[object]]:
    """What the installation looks like on ``path`` (default :data:`sys.path`), as JSON data."""
    found: list[list[object]] = []
    for entry in sys.path if path is None else path:
        where = Path(entry) if entry else Path.cwd()
        found.append([str(where)])
        if not where.is_dir():
            continue
        try:
            with os.scandir(where) as it:
                names = sorted(e.name for e in it if e.name.endswith(_META_SUFFIXES))
        except OSError:
            continue
        for name in names:
            try:
                ep = (where / name / "entry_points.txt").stat()
            except OSError:
                continue  # no entry points: it cannot be a plugin
            found.append([name, ep.st_mtime_ns, ep.st_size])
    return found


def read_installed_plugins(group: str) -> list[str]:
    """``name=value@dist-version`` of every entry point in ``group``, from the metadata."""
    from importlib.metadata import entry_points

    found = []
    for ep in entry_points(group=group):
        dist = ep.dist
        found.append(f"{ep.name}={ep.value}@{dist.name if dist else '?'}-{dist.version if dist else '?'}")
    return sorted(found)


def installed_plugins(group: str, root: Path | None) -> list[str]:
    """:func:`read_installed_plugins`, memoised under ``root`` (None: no memo)."""
    if root is None:
        return read_installed_plugins(group)
    memo = root / f"plugins-{hashlib.sha256(os.fsencode(sys.prefix)).hexdigest()[:16]}.json"
    now = fingerprint()
    try:
        kept = read_json(memo)
    except (OSError, ValueError):
        kept = None
    if (isinstance(kept, dict) and kept.get("group") == group and kept.get("fingerprint") == now
            and isinstance(kept.get("plugins"), list)
            and all(isinstance(p, str) for p in kept["plugins"])):
        return list(kept["plugins"])
    plugins = read_installed_plugins(group)
    store_json(memo, {"group": group, "fingerprint": now, "plugins": plugins}, shard=False)
    return plugins
