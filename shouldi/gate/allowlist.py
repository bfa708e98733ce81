"""The allowlist: reviewed exceptions to the gate, each with a reason and an expiry date.

A TOML file with one ``[[allow]]`` table per entry::

    [[allow]]
    package = "requests"            # required (any spelling: names are PEP 503 normalised)
    versions = "<2.32"              # optional PEP 440 specifier: which releases
    advisory = "GHSA-9wx4-h78v-vm56"  # optional: one advisory, by id or alias
    check = "bandit"                # optional: every reason of one check
    reason = "not reachable: we never pass user input to Session.verify"  # required
    expires = 2025-06-30            # required TOML date: the last day the entry allows

An entry with neither ``advisory`` nor ``check`` allows every reason of the package. From the
day after ``expires`` the entry allows nothing and the gate says so, by entry number: an
exception nobody re-reviews must not silently become permanent. Unknown keys are refused, so
a typo cannot widen (or narrow) what an entry allows.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from shouldi.gate.errors import AllowlistError
from shouldi.verdict import Reason

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["AllowEntry", "Allowlist", "load_allowlist"]

_KEYS = {"package", "versions", "advisory", "check", "reason", "expires"}


@dataclass(frozen=True)
class AllowEntry:
    """One reviewed exception; ``number`` is its 1-based position in the file."""

    number: int
    package: str
    reason: str
    expires: date
    versions: SpecifierSet | None = None
    advisory: str | None = None
    check: str | None = None

    def expired(self, today: date) -> bool:
        return today > self.expires

    def describe(self) -> str:
        what = self.package + (str(self.versions) if self.versions else "")
        if self.advisory:
            what += f" advisory {self.advisory}"
        elif self.check:
            what += f" check {self.check}"
        return f"entry {self.number} ({what}, expires {self.expires.isoformat()})"

    def matches(self, name: str, version: str | None, reason: Reason,
                advisory_ids: frozenset[str]) -> bool:
        """Does this entry cover ``reason`` of ``name`` ``version``?

        ``advisory_ids`` are the id and aliases of the advisory the reason reports (empty
        when it reports none).
        """
        if canonicalize_name(name) != self.package:
            return False
        if self.versions is not None and (
            version is None or not self.versions.contains(version, prereleases=True)
        ):
            return False
        if self.advisory is not None:
            return self.advisory.upper() in {i.upper() for i in advisory_ids}
        return self.check is None or self.check == reason.check


@dataclass(frozen=True)
class Allowlist:
    path: str
    entries: tuple[AllowEntry, ...] = ()


def _entry(number: int, raw: object, where: str) -> AllowEntry:
    if not isinstance(raw, dict):
        raise AllowlistError(f"{where}: entry {number} must be a table ([[allow]])")
    data: dict[str, Any] = raw
    label = f"{where}: entry {number}" + (f" ({data['package']})" if "package" in data else "")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise AllowlistError(f"{label}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
    for key in ("package", "reason", "expires"):
        if key not in data:
            raise AllowlistError(f"{label}: {key!r} is required")
    for key in ("package", "reason", "versions", "advisory", "check"):
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            raise AllowlistError(f"{label}: {key!r} must be a non-empty string")
    expires = data["expires"]
    if not isinstance(expires, date):
        raise AllowlistError(f"{label}: 'expires' must be a TOML date such as 2025-06-30, "
                             f"not {expires!r}")
    if "advisory" in data and data.get("check", "advisories") != "advisories":
        raise AllowlistError(f"{label}: an advisory entry can only have check = \"advisories\"")
    versions = None
    if "versions" in data:
        try:
            versions = SpecifierSet(data["versions"])
        except InvalidSpecifier as e:
            raise AllowlistError(f"{label}: invalid versions {data['versions']!r}: {e}") from e
    return AllowEntry(number, str(canonicalize_name(data["package"])), data["reason"].strip(),
                      expires.date() if isinstance(expires, datetime) else expires,
                      versions, data.get("advisory"), data.get("check"))


def load_allowlist(path: Path) -> Allowlist:
    """Read and validate ``path``. Raises :class:`AllowlistError` naming file and entry."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise AllowlistError(f"cannot read allowlist {path}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise AllowlistError(f"cannot read allowlist {path}: not UTF-8 text") from e
    except tomllib.TOMLDecodeError as e:
        raise AllowlistError(f"{path}: invalid TOML: {e}") from e
    extra = sorted(set(data) - {"allow"})
    if extra:
        raise AllowlistError(f"{path}: unknown table or key {extra[0]!r}: entries go in [[allow]]")
    entries = data.get("allow", [])
    if not isinstance(entries, list):
        raise AllowlistError(f"{path}: 'allow' must be an array of tables ([[allow]])")
    return Allowlist(str(path), tuple(_entry(i, e, str(path)) for i, e in enumerate(entries, 1)))
