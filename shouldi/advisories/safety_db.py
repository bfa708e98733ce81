"""The "safety-db" source: PyUp's frozen ``safety-db`` package, read as data.

``safety-db`` is an optional extra (CC BY-NC-SA licence). Its database is a JSON file inside
the package; it is located with :func:`importlib.util.find_spec` (which does not import the
package: its ``__init__`` opens files relative to the working directory and fails anyway)
and read directly. Its last release is from 2021, so by the key rule it vouches only for
releases older than its data; its matches are reported for any release.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.metadata
import importlib.util
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from shouldi.advisories.interface import vouch
from shouldi.results import Advisory, AdvisoryAnswer, Status, VulnId

__all__ = ["SafetyDb", "SafetyDbSource", "locate_safety_db", "pyup_id"]

SOURCE = "safety-db"
# Not the extra by its PyPI name: "shouldi" on PyPI is another project.
_NOT_INSTALLED = "safety-db is not installed (optional, CC BY-NC-SA: `pip install safety-db`)"


def locate_safety_db() -> Path | None:
    """``insecure_full.json`` of the installed ``safety-db``, without importing it."""
    spec = importlib.util.find_spec("safety_db")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "insecure_full.json"
        if candidate.is_file():
            return candidate
    return None


def pyup_id(raw: str) -> str:
    """``pyup.io-25853`` and ``25853`` -> ``PYUP-25853`` (safety and safety-db agree on it)."""
    number = raw.removeprefix("pyup.io-")
    return f"PYUP-{number}" if number.isdigit() else raw


@dataclass(frozen=True)
class SafetyDb:
    """The loaded database: entries per canonical package name, and its date."""

    path: Path
    entries: dict[str, list[dict[str, Any]]]
    data_time: datetime | None

    @classmethod
    def load(cls, path: Path, package_version: str | None = None) -> SafetyDb:
        """Read ``insecure_full.json``; raises ``OSError``/``ValueError`` when unusable.

        ``package_version`` is the installed safety-db's version (a date, "2021.7.17")."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError(f"{path} is not a safety-db database")
        entries: dict[str, list[dict[str, Any]]] = {}
        for name, items in raw.items():
            if name != "$meta" and isinstance(items, list):
                entries.setdefault(canonicalize_name(name), []).extend(
                    i for i in items if isinstance(i, dict)
                )
        return cls(path, entries, _data_time(raw.get("$meta"), package_version))

    def matches(self, name: str, version: str) -> tuple[tuple[Advisory, ...], tuple[str, ...]]:
        """Entries whose specs contain ``version``, and notes on specs that do not parse."""
        found: list[Advisory] = []
        notes: list[str] = []
        try:
            wanted: Version | None = Version(version)
        except InvalidVersion:
            wanted = None
        for entry in self.entries.get(canonicalize_name(name), []):
            specs = [str(s) for s in entry.get("specs") or [entry.get("v", "")] if s]
            hit = False
            for spec in specs:
                try:
                    hit = hit or (wanted is not None and _contains(SpecifierSet(spec), wanted))
                except InvalidSpecifier:
                    notes.append(f"safety-db spec {spec!r} for {name} does not parse")
            if hit:
                found.append(_advisory(entry, specs))
        if wanted is None and self.entries.get(canonicalize_name(name)):
            notes.append(f"version {version!r} is not PEP 440: safety-db specs not evaluated")
        return tuple(found), tuple(notes)


class SafetyDbSource:
    """Answers from safety-db's JSON; SKIPPED when it is not installed."""

    name = SOURCE

    def __init__(self, path: Path | None = None) -> None:
        self.path = path

    async def lookup(
        self, name: str, version: str, release_time: datetime | None
    ) -> AdvisoryAnswer:
        return await asyncio.to_thread(self.lookup_sync, name, version, release_time)

    def lookup_sync(self, name: str, version: str, release_time: datetime | None) -> AdvisoryAnswer:
        path = self.path or locate_safety_db()
        if path is None:
            return AdvisoryAnswer(SOURCE, Status.SKIPPED, reason=_NOT_INSTALLED)
        try:
            dated = None if self.path else importlib.metadata.version("safety-db")
            db = _load_cached(path, path.stat().st_mtime_ns, dated)
            found, notes = db.matches(name, version)
        except (OSError, ValueError, importlib.metadata.PackageNotFoundError) as e:
            return AdvisoryAnswer(SOURCE, Status.ERROR, reason=f"cannot read {path} ({e}): reinstall safety-db")
        verdict = vouch(SOURCE, db.data_time, release_time)
        return AdvisoryAnswer(
            SOURCE,
            verdict.status,
            advisories=found,
            reason=verdict.reason,
            data_time=db.data_time,
            warnings=notes,
        )


def _contains(specs: SpecifierSet, version: Version) -> bool:
    """Like ``SpecifierSet.contains`` with pre-releases, except that ``<X`` is plain version
    order: PEP 440 says ``1.0rc1`` is not ``<1.0``, but a release candidate of the fixed
    version is before the fix and is treated as affected."""
    return all(
        version < Version(spec.version)
        if spec.operator == "<"
        else spec.contains(version, prereleases=True)
        for spec in specs
    )


@functools.lru_cache(maxsize=4)
def _load_cached(path: Path, mtime_ns: int, package_version: str | None) -> SafetyDb:
    return SafetyDb.load(path, package_version)


def _data_time(meta: object, package_version: str | None) -> datetime | None:
    """The earlier of the package version's date (2021.7.17) and ``$meta.timestamp``: the
    data cannot know more than its oldest claim says."""
    times: list[datetime] = []
    if isinstance(meta, dict) and isinstance(meta.get("timestamp"), (int, float)):
        times.append(datetime.fromtimestamp(meta["timestamp"], timezone.utc))
    try:
        year, month, day = (int(p) for p in (package_version or "").split(".")[:3])
        times.append(datetime(year, month, day, tzinfo=timezone.utc))
    except ValueError:
        pass  # no version, or not a date
    return min(times, default=None)


def _advisory(entry: dict[str, Any], specs: list[str]) -> Advisory:
    cves = {c.strip() for c in str(entry.get("cve") or "").replace(",", " ").split() if c.strip()}
    ident = pyup_id(str(entry.get("id") or "")) or min(cves, default="PYUP-unknown")
    text = str(entry.get("advisory") or "").strip()
    return Advisory(
        id=VulnId(ident),
        aliases=frozenset(cves - {ident}),
        summary=text.splitlines()[0][:240] if text else "",
        affected_versions=tuple(specs),
        sources=frozenset({SOURCE}),
    )
