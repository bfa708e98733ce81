"""The policy: thresholds that turn scanner results into a verdict.

Defaults are built in; a project overrides them in ``pyproject.toml`` under ``[tool.shouldi]`` or
in a ``shouldi.toml`` (top level), found in the current directory. Unknown keys are refused, so a
typo cannot silently weaken the gate.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shouldi.errors import UsageError
from shouldi.results import Severity

__all__ = ["Policy", "PolicyError", "load_policy", "policy_file"]

_MAX_POLICY = 1 << 20  # a policy (or pyproject.toml) larger than 1 MiB is not one


class PolicyError(UsageError):
    """A policy file that cannot be read or has unknown or invalid settings (exit 2)."""


@dataclass(frozen=True)
class Policy:
    """Thresholds. Severities are names: info, low, medium, high, critical."""

    # Our heuristics: a finding at or above ``heuristics_fail`` fails; at or above ``_warn`` warns.
    heuristics_fail: Severity = Severity.HIGH
    heuristics_warn: Severity = Severity.MEDIUM
    # bandit: a weighted count of high-severity findings (at least medium confidence) that
    # warns or fails. Unset (the default): bandit's findings are information only — a count
    # of risky-looking calls says little; our heuristics judge what really runs.
    bandit_warn_high: float | None = None
    bandit_fail_high: float | None = None
    # Known vulnerabilities affecting the release fail at or above this severity (unknown
    # severity counts as high: most advisories carry none in OSV's PyPI data).
    advisory_fail: Severity = Severity.LOW
    # Metadata signals and typosquatting warn; set these to fail instead.
    metadata_fail: bool = False
    typosquat_fail: bool = False
    # Advisory data older than this many days is said, once per run ("advisory data is N days
    # old"); it never makes a package warn: it is a fact about the run's sources.
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
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise PolicyError(f"policy {name} = {value!r}: expected a finite number, 0 or more")
    if name.replace("-", "_") == "max_risk_score" and value is not None and value > 100:
        raise PolicyError(f"policy {name} = {value!r}: a risk score is 0 to 100")
    if name.replace("-", "_") == "advisory_max_age_days" and value is not None:
        return int(value)
    return value


def policy_from_mapping(data: object, where: str) -> Policy:
    if not isinstance(data, dict):
        raise PolicyError(f"{where}: the policy must be a table of settings, not {type(data).__name__}")
    known = {f.name: f for f in dataclasses.fields(Policy)}
    base = Policy()
    changes: dict[str, Any] = {}
    for key, value in data.items():
        field_name = key.replace("-", "_")
        if field_name not in known:
            raise PolicyError(f"{where}: unknown policy setting {key!r}")
        changes[field_name] = _coerce(key, value, getattr(base, field_name))
    return dataclasses.replace(base, **changes)


def policy_file(directory: Path | None = None, path: Path | None = None) -> Path | None:
    """The file a run reads its policy from: ``path``, else ``shouldi.toml`` or
    ``pyproject.toml`` in ``directory`` (the current one), else None (the defaults). An input:
    no output of the run may replace it."""
    if path is not None:
        return path
    directory = directory or Path.cwd()
    candidates = [directory / "shouldi.toml", directory / "pyproject.toml"]
    return next((p for p in candidates if p.is_file()), None)


def load_policy(directory: Path | None = None, path: Path | None = None) -> Policy:
    """The policy from ``path``, else ``shouldi.toml`` or ``pyproject.toml`` in ``directory``."""
    path = policy_file(directory, path)
    if path is None:
        return Policy()
    from shouldi.inputs.errors import InputError
    from shouldi.inputs.pyproject import load_toml, tool_table

    try:
        _, data = load_toml(path, what="policy file", limit=_MAX_POLICY)
        if path.name == "pyproject.toml":
            return policy_from_mapping(tool_table(data, "shouldi", str(path)),
                                       f"{path}: [tool.shouldi]")
    except InputError as e:
        raise PolicyError(str(e)) from e
    return policy_from_mapping(data, str(path))
