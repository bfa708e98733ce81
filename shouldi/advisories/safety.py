"""The "safety" source: the ``safety`` CLI (3.x) when it can run, else safety-db's data.

``safety`` needs network access (every command first contacts platform.safetycli.com) and,
for current data, a login; offline, ``safety check`` spends ~10 s before it fails with a
traceback. Whether it can run is detected once per process, quickly: is the executable there,
is the platform host reachable (a TCP connect with a short timeout; the whole probe, name
resolution included, is cut off after :data:`PROBE_BUDGET` seconds, since a resolver can
hang far longer than a connect), does ``safety --version`` work. Then ``safety check -r <file> --output json`` runs with stdin
closed and a timeout; any failure is SKIPPED with the reason, never clean. Without an API
key safety reads its free database, which is refreshed monthly: its data is taken to be
:data:`FREE_DB_LAG` old.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from shouldi.advisories.interface import utcnow, vouch
from shouldi.advisories.process import (
    json_object,
    last_line,
    pinned_requirement,
    requirements_file,
    run_tool,
)
from shouldi.advisories.safety_db import SafetyDbSource, pyup_id
from shouldi.results import Advisory, AdvisoryAnswer, Status, VulnId

__all__ = [
    "FREE_DB_LAG",
    "PLATFORM_HOST",
    "PROBE_BUDGET",
    "SafetyCliSource",
    "SafetySource",
    "parse_report",
]

SOURCE = "safety"
PLATFORM_HOST = ("platform.safetycli.com", 443)
FREE_DB_LAG = timedelta(days=30)
#: Seconds the reachability probe may take in all (resolving the host name included).
PROBE_BUDGET = 4.0
_detections: dict[tuple[str | None, tuple[str, int] | None], str | None] = {}
_detect_lock = threading.Lock()


class SafetyCliSource:
    """Runs the ``safety`` CLI on one pinned requirement."""

    name = SOURCE

    def __init__(
        self,
        executable: str | None = None,
        *,
        probe: tuple[str, int] | None = PLATFORM_HOST,
        timeout: float = 120.0,
    ) -> None:
        self.executable = executable or _find_executable()
        self.probe, self.timeout = probe, timeout

    async def lookup(
        self, name: str, version: str, release_time: datetime | None
    ) -> AdvisoryAnswer:
        problem = await _detect_within(self.executable, self.probe)
        if problem is not None or self.executable is None:
            return _skip(problem or "safety CLI is not installed")
        try:
            requirement = pinned_requirement(name, version)
        except ValueError as e:
            return _skip(str(e))
        with requirements_file(requirement, "safety") as requirements:
            args = ["check", "-r", str(requirements), "--output", "json"]
            try:
                code, out, err = await run_tool([self.executable, *args], self.timeout)
            except asyncio.TimeoutError:
                return _skip(f"safety check timed out after {self.timeout:g}s")
            except OSError as e:
                return _skip(f"safety CLI does not run: {e}")
        report = json_object(out)
        if report is None:
            return _skip(f"safety check failed (exit {code}): {last_line(err)}")
        try:
            advisories, live = parse_report(report)
        except (KeyError, TypeError, ValueError) as e:
            return AdvisoryAnswer(SOURCE, Status.ERROR, reason=f"unexpected safety output ({e}): `--no-safety-cli` skips it")
        if not report.get("report_meta", {}).get("packages_found", 1):
            return _skip(f"safety did not check {name}=={version}")
        data_time = utcnow() if live else utcnow() - FREE_DB_LAG
        verdict = vouch("safety (free database)", data_time, release_time, live=live)
        return AdvisoryAnswer(SOURCE, verdict.status, advisories, verdict.reason, data_time)


class SafetySource:
    """The "safety" source: the CLI when it answers, else safety-db.

    The answer's ``source`` says which one answered ("safety" or "safety-db")."""

    name = SOURCE

    def __init__(
        self, cli: SafetyCliSource | None = None, db: SafetyDbSource | None = None
    ) -> None:
        self.cli, self.db = cli or SafetyCliSource(), db or SafetyDbSource()

    async def lookup(
        self, name: str, version: str, release_time: datetime | None
    ) -> AdvisoryAnswer:
        first = await self.cli.lookup(name, version, release_time)
        if first.status is Status.OK:
            return first
        second = await self.db.lookup(name, version, release_time)
        note = first.reason or "safety CLI did not answer"
        if second.status is Status.OK or second.advisories:
            # Why the CLI did not answer is detail (-v), not a warning on every package.
            why = f"{note}; safety-db: {second.reason}" if second.reason else f"{note}; safety-db answered"
            return dataclasses.replace(second, reason=why)
        return AdvisoryAnswer(SOURCE, Status.SKIPPED, reason=f"{note}; safety-db: {second.reason}")


def detect(executable: str | None, probe: tuple[str, int] | None) -> str | None:
    """Why the safety CLI cannot run here (``None``: it can). Cached for the process."""
    key = (executable, probe)
    with _detect_lock:
        if key not in _detections:
            _detections[key] = _detect(executable, probe)
        return _detections[key]


async def _detect_within(executable: str | None, probe: tuple[str, int] | None) -> str | None:
    """:func:`detect`, but the probe's reachability part never holds a lookup longer than
    :data:`PROBE_BUDGET` seconds (a hung resolver is remembered as unreachable). The probe
    runs in a daemon thread of its own, so neither the event loop's shutdown nor the
    process's exit waits for a resolver that never returns."""
    key = (executable, probe)
    if key in _detections:
        return _detections[key]
    if executable is not None and probe is not None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def work() -> None:
            with contextlib.suppress(OSError):  # detect() says why, below
                _reachable(probe)
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits
                loop.call_soon_threadsafe(_settle, done)

        threading.Thread(target=work, name="shouldi-safety-probe", daemon=True).start()
        try:
            await asyncio.wait_for(done, PROBE_BUDGET)
        except asyncio.TimeoutError:
            reason = (
                f"safety CLI needs network access to {probe[0]},"
                f" which did not answer in {PROBE_BUDGET:g}s"
            )
            with _detect_lock:
                _detections.setdefault(key, reason)
    return await asyncio.to_thread(detect, executable, probe)


def _settle(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


def _reachable(probe: tuple[str, int]) -> None:
    socket.create_connection(probe, timeout=3).close()


def parse_report(report: Mapping[str, Any]) -> tuple[tuple[Advisory, ...], bool]:
    """Advisories of a ``safety check --output json`` report, and whether it used an API key
    (current data) rather than the free monthly database."""
    found = []
    for vuln in report["vulnerabilities"]:
        cve = vuln.get("CVE")
        cve = cve.get("name") if isinstance(cve, Mapping) else cve
        ident = pyup_id(str(vuln["vulnerability_id"]))
        specs = vuln.get("all_vulnerable_specs") or [vuln.get("vulnerable_spec")]
        found.append(
            Advisory(
                id=VulnId(ident),
                aliases=frozenset({str(cve)} if cve else set()) - {ident},
                summary=(str(vuln.get("advisory") or "").strip().splitlines() or [""])[0][:240],
                affected_versions=tuple(str(s) for s in specs if s),
                fixed_versions=tuple(str(v) for v in vuln.get("fixed_versions") or ()),
                sources=frozenset({SOURCE}),
                url=vuln.get("more_info_url") or None,
            )
        )
    return tuple(found), bool(report.get("report_meta", {}).get("api_key"))


def _detect(executable: str | None, probe: tuple[str, int] | None) -> str | None:
    if executable is None:
        return "safety CLI is not installed"
    if probe is not None:
        try:
            _reachable(probe)
        except OSError as e:
            return f"safety CLI needs network access to {probe[0]}, which is unreachable ({e})"
    try:
        done = subprocess.run(
            [executable, "--version"], stdin=subprocess.DEVNULL, capture_output=True,
            timeout=30, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"safety CLI does not run: {e}"
    if done.returncode != 0:
        return f"safety --version failed with exit {done.returncode}"
    return None


def _find_executable() -> str | None:
    beside = Path(sys.executable).parent / "safety"
    return str(beside) if beside.is_file() else shutil.which("safety")


def _skip(reason: str) -> AdvisoryAnswer:
    return AdvisoryAnswer(SOURCE, Status.SKIPPED, reason=reason)
