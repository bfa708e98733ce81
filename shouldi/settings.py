"""One settings object for a run: what the CLI's options, the Python API and the HTTP service
all pass to :func:`shouldi.check`.

Validated once, here: numbers are finite and in range (``nan`` and ``inf`` are refused, they
compare false with every bound), the index is an http(s) URL with a host. A bad value raises
:class:`SettingsError`, a usage error (exit 2) with a one-line message.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from shouldi.errors import UsageError
from shouldi.policy import Policy

if TYPE_CHECKING:
    from shouldi.index.target import TargetEnvironment

__all__ = ["OSV_API_URL", "PYPI_SIMPLE_URL", "Settings", "SettingsError", "advisory_store_state",
           "check_index_url", "check_risk_gate"]

#: The CLI keeps its own copy so that ``--help`` does not import the index layer; a test ties
#: them together.
PYPI_SIMPLE_URL = "https://pypi.org/simple/"
#: OSV's API (``shouldi.advisories.osv_api.OSV_API_URL``; a test ties them together).
OSV_API_URL = "https://api.osv.dev"
_MAX_URL = 2048


class SettingsError(UsageError):
    """A setting out of range or of the wrong form (exit 2)."""


def check_index_url(url: str, what: str = "--index-url") -> str:
    """``url`` as an index root (one trailing slash), or :class:`SettingsError`."""
    text = url.strip()
    if not text or len(text) > _MAX_URL or any(c.isspace() or ord(c) < 32 for c in text):
        raise SettingsError(f"{what} {url[:80]!r}: not a URL")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{what} {url[:80]!r}: expected an http(s) URL such as {PYPI_SIMPLE_URL}")
    return text.rstrip("/") + "/"


@dataclass(frozen=True)
class Settings:
    """Everything besides the specs that a check takes.

    ``max_age``: seconds a whole answer may be reused from the answer cache (0: never).
    ``jobs``: packages checked at once. ``dask_scheduler``: run the checks as tasks on this
    Dask cluster (``tcp://HOST:PORT`` or ``local:N``; :mod:`shouldi.distributed`); it does not
    change an answer, so it is not in :meth:`answer_key`. ``risk``: score with the risk model. ``now``: the time
    age signals are measured from (tests pin it; None: the clock). ``target``: the environment
    the file is picked for (None: the running interpreter). ``all_files``: judge every file of
    each release, not only the one pip would install. ``osv``/``osv_url``: ask the OSV API.
    """

    index_url: str = PYPI_SIMPLE_URL
    policy: Policy = field(default_factory=Policy)
    timeout: float = 30.0
    scan_timeout: float = 900.0
    cache_dir: Path | None = None
    no_cache: bool = False
    max_age: float = 0.0
    advisory_db: Path | None = None
    pip_audit_osv_url: str | None = None
    pip_audit: bool = True
    safety_cli: bool = True
    jobs: int = 4
    risk: bool = True
    max_download: int = 256 << 20
    now: datetime | None = None
    target: TargetEnvironment | None = None
    all_files: bool = False
    osv: bool = True
    osv_url: str = OSV_API_URL
    dask_scheduler: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "index_url", check_index_url(self.index_url))
        if self.dask_scheduler is not None:
            from shouldi.distributed.address import check_scheduler
            from shouldi.distributed.errors import ClusterUnfitError

            try:
                object.__setattr__(self, "dask_scheduler", check_scheduler(self.dask_scheduler))
            except ClusterUnfitError as e:
                raise SettingsError(str(e)) from e
        if self.pip_audit_osv_url is not None:
            check_index_url(self.pip_audit_osv_url, "--pip-audit-osv-url")
        object.__setattr__(self, "osv_url", check_index_url(self.osv_url, "--osv-url").rstrip("/"))
        if self.policy.max_risk_score is not None and self.risk:
            check_risk_gate(self.policy.max_risk_score)
        _number("timeout", self.timeout, 0.1, 3600.0)
        _number("scan_timeout", self.scan_timeout, 0.01, 86400.0)
        _number("max_age", self.max_age, 0.0, 10 * 365 * 86400.0)
        _number("jobs", self.jobs, 1, 256)
        _number("max_download", self.max_download, 1, 1 << 40)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def answer_key(self) -> dict[str, Any]:
        """Everything here that decides an answer (the answer cache's key, with the spec)."""
        return {**self.settled_answer_key(),
                "advisory_store": advisory_store_state(self.advisory_store())}

    def settled_answer_key(self) -> dict[str, Any]:
        """:meth:`answer_key` less the local advisory store's state, the one part that
        changes while these settings stand (a ``db import``): a server that answers many
        requests with one ``Settings`` computes this once and stats the store per request."""
        return {
            "index_url": self.index_url,
            "policy": self.policy.to_dict(),
            "pip_audit": [self.pip_audit, self.pip_audit_osv_url],
            "osv": [self.osv, self.osv_url],
            "safety_cli": self.safety_cli,
            "risk": self.risk,
            "target": _target_key(self.target),
            "all_files": self.all_files,
        }

    def advisory_store(self) -> Path:
        """The local advisory store these settings read (``advisory_db``, else the default)."""
        from shouldi.cache.paths import default_store_path

        return self.advisory_db or default_store_path()


def advisory_store_state(store: Path) -> list[object]:
    """The store's path, size and mtime (``[path, None]`` when absent), in the answer key:
    importing advisories changes it, and answers given before are not reused."""
    try:
        st = store.stat()
    except OSError:
        return [str(store), None]
    return [str(store), st.st_size, st.st_mtime_ns]


def _target_key(target: TargetEnvironment | None) -> object:
    if target is None:
        return None
    import hashlib

    tags = hashlib.sha256("\n".join(map(str, target.tags)).encode()).hexdigest()[:16]
    return [target.origin, target.python_version, target.markers, tags]


def check_risk_gate(limit: float) -> None:
    """A risk-score gate needs a shipped model with measured skill (a number without skill
    would fail or pass packages at random): else :class:`SettingsError`."""
    from shouldi.risk_model.skill import shipped_skill

    judged = shipped_skill()
    if judged is None:
        raise SettingsError(f"max_risk_score = {limit:g}: no risk model is shipped")
    if not judged.skilled:
        raise SettingsError(f"max_risk_score needs a risk model with measured skill; {judged.reason}")


def _number(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(f"{name} = {value!r}: expected a number")
    if not math.isfinite(value) or not low <= value <= high:
        raise SettingsError(f"{name} = {value!r}: expected a finite number from {low:g} to {high:g}")
