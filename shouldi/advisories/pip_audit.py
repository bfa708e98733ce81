"""The "pip-audit" source: ``pip-audit`` run on one pinned requirement, never resolving.

The command is ``python -m pip_audit --no-deps --disable-pip --strict -f json -r <file>``
(pip-audit 2.x accepts these together: ``--disable-pip`` needs ``--no-deps`` or hashes, and
with both nothing is resolved, downloaded or built), plus ``-s osv --osv-url URL`` when an
OSV-compatible service is configured; pip-audit's default service is PyPI's JSON API.

pip-audit says "No known vulnerabilities found" and exits 0 even when it skipped a
dependency; here a dependency with ``skip_reason``, a missing dependency, a crash or a
timeout is SKIPPED (no answer), never clean.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from shouldi.advisories.interface import utcnow, vouch
from shouldi.advisories.process import (
    json_object,
    last_line,
    pinned_requirement,
    requirements_file,
    run_tool,
)
from shouldi.results import Advisory, AdvisoryAnswer, Status, VulnId

__all__ = ["PipAuditSource", "pip_audit_argv"]

SOURCE = "pip-audit"


def pip_audit_argv(
    python: str,
    requirements: Path,
    *,
    osv_url: str | None = None,
    cache_dir: Path | None = None,
    request_timeout: int = 15,
) -> list[str]:
    """The pip-audit command line for one requirements file (see the module docstring)."""
    argv = [python, "-m", "pip_audit", "--no-deps", "--disable-pip", "--strict"]
    argv += ["-f", "json", "--desc", "on", "--aliases", "on", "--progress-spinner", "off"]
    argv += ["--timeout", str(request_timeout), "-r", str(requirements)]
    if osv_url:
        argv += ["-s", "osv", "--osv-url", osv_url]
    if cache_dir is not None:
        argv += ["--cache-dir", str(cache_dir)]
    return argv


class PipAuditSource:
    """Asks pip-audit about ``name==version``.

    ``data_time`` is the date of the service's data; ``None`` means a live service (PyPI,
    api.osv.dev) that is current by nature. Give it for a static OSV mirror.
    """

    name = SOURCE

    def __init__(
        self,
        *,
        osv_url: str | None = None,
        data_time: datetime | None = None,
        timeout: float = 120.0,
        request_timeout: int = 15,
        cache_dir: Path | None = None,
        python: str = sys.executable,
    ) -> None:
        self.osv_url, self.data_time = osv_url, data_time
        self.timeout, self.request_timeout = timeout, request_timeout
        self.cache_dir, self.python = cache_dir, python

    async def lookup(
        self, name: str, version: str, release_time: datetime | None
    ) -> AdvisoryAnswer:
        if self.python == sys.executable and importlib.util.find_spec("pip_audit") is None:
            return _skip("pip-audit is not installed")
        try:
            requirement = pinned_requirement(name, version)
        except ValueError as e:
            return _skip(str(e))
        with requirements_file(requirement, "pip-audit") as requirements:
            argv = pip_audit_argv(
                self.python,
                requirements,
                osv_url=self.osv_url,
                cache_dir=self.cache_dir,
                request_timeout=self.request_timeout,
            )
            try:
                code, out, err = await run_tool(argv, self.timeout)
            except asyncio.TimeoutError:
                return _skip(f"pip-audit timed out after {self.timeout:g}s")
            except OSError as e:
                return _skip(f"pip-audit does not run: {e}")
        report = json_object(out)
        if report is None or not isinstance(report.get("dependencies"), list):
            return _skip(f"pip-audit failed (exit {code}): {last_line(err)}")
        dep = _dependency(report["dependencies"], name)
        if dep is None:
            return _skip(f"pip-audit did not report on {name}=={version}")
        if dep.get("skip_reason"):
            return _skip(f"pip-audit skipped {name}=={version}: {dep['skip_reason']}")
        try:
            advisories = tuple(_advisory(v) for v in dep.get("vulns") or ())
        except (KeyError, TypeError) as e:
            return AdvisoryAnswer(SOURCE, Status.ERROR, reason=f"unexpected pip-audit output ({e}): `--no-pip-audit` skips it")
        live = self.data_time is None
        data_time = utcnow() if live else self.data_time
        verdict = vouch("pip-audit's service", data_time, release_time, live=live)
        return AdvisoryAnswer(
            SOURCE, verdict.status, advisories, verdict.reason, data_time
        )


def _dependency(deps: list[Any], name: str) -> Mapping[str, Any] | None:
    wanted = canonicalize_name(name)
    for dep in deps:
        if isinstance(dep, Mapping) and canonicalize_name(str(dep.get("name", ""))) == wanted:
            return dep
    return None


def _advisory(vuln: Mapping[str, Any]) -> Advisory:
    ident = str(vuln["id"])
    text = str(vuln.get("description") or "").strip()
    return Advisory(
        id=VulnId(ident),
        aliases=frozenset(str(a) for a in vuln.get("aliases") or ()) - {ident},
        summary=text.splitlines()[0][:240] if text else "",
        fixed_versions=tuple(str(v) for v in vuln.get("fix_versions") or ()),
        sources=frozenset({SOURCE}),
    )


def _skip(reason: str) -> AdvisoryAnswer:
    return AdvisoryAnswer(SOURCE, Status.SKIPPED, reason=reason)
