"""The policy: thresholds that turn scanner results into a verdict.

Defaults are built in; a project overrides them in ``pyproject.toml`` under ``[tool.shouldi]`` or
in a ``shouldi.toml`` (top level), found in the current directory. Unknown keys are refused, so a
typo cannot silently weaken the gate.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shouldi.errors import UsageError
from shouldi.results import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Policy", "PolicyError", "load_policy"]


class PolicyError(UsageError):
    """A policy file that cannot be read or has unknown or invalid settings (exit 2)."""


@dataclass(frozen=True)
class Policy:
    """Thresholds. Severities are names: info, low, medium, high, critical."""

    # Our heuristics: a finding at or above ``heuristics_fail`` fails; at or above ``_warn`` warns.
    heuristics_fail: Severity = Severity.HIGH
    heuristics_warn: Severity = Severity.MEDIUM
    # bandit: weighted count of high-severity findings with at least medium confidence.
    bandit_warn_high: float = 1.0
    bandit_fail_high: float | None = None
    # Known vulnerabilities affecting the release fail at or above this severity (unknown
    # severity counts as high: most advisories carry none in OSV's PyPI data).
    advisory_fail: Severity = Severity.LOW
    # Metadata signals and typosquatting warn; set these to fail instead.
    metadata_fail: bool = False
    typosquat_fail: bool = False
    # Advisory data older than this many days is a warning.
    advisory_max_age_days: int = 30
    # Model risk score (0-100) at or above which the verdict fails (None: the score only informs).
    max_risk_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            f.name: (v.value if isinstance(v := getattr(self, f.name), Severity) else v)
            for f in dataclasses.fields(self)
        }


def _coerce(name: str, value: Any, default: Any) -> Any:
    if isinstance(default, Severity):
        try:
            return Severity(str(value).lower())
        except ValueError:
            names = ", ".join(s.value for s in Severity)
            raise PolicyError(f"policy {name} = {value!r}: expected one of {names}") from None
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise PolicyError(f"policy {name} = {value!r}: expected true or false")
        return value
    if (value is not None and not isinstance(value, (int, float))) or isinstance(value, bool):
        raise PolicyError(f"policy {name} = {value!r}: expected a number")
    return value


def policy_from_mapping(data: dict[str, Any], where: str) -> Policy:
    known = {f.name: f for f in dataclasses.fields(Policy)}
    base = Policy()
    changes: dict[str, Any] = {}
    for key, value in data.items():
        field_name = key.replace("-", "_")
        if field_name not in known:
            raise PolicyError(f"{where}: unknown policy setting {key!r}")
        changes[field_name] = _coerce(key, value, getattr(base, field_name))
    return dataclasses.replace(base, **changes)


def load_policy(directory: Path | None = None, path: Path | None = None) -> Policy:
    """The policy from ``path``, else ``shouldi.toml`` or ``pyproject.toml`` in ``directory``."""
    if path is None:
        directory = directory or Path.cwd()
        candidates = [directory / "shouldi.toml", directory / "pyproject.toml"]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            return Policy()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise PolicyError(f"cannot read policy file {path}: {e.strerror or e}") from e
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(f"{path}: invalid TOML: {e}") from e
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("shouldi", {})
    return policy_from_mapping(data, str(path))
