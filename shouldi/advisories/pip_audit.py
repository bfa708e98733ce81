"""The "pip-audit" source: ``pip-audit`` run on pinned requirements, never resolving.

The command is ``python -m pip_audit --no-deps --disable-pip -f json -r <file>`` (pip-audit
2.x accepts these together: ``--disable-pip`` needs ``--no-deps`` or hashes, and with both
nothing is resolved, downloaded or built), plus ``-s osv --osv-url URL`` when an
OSV-compatible service is configured; pip-audit's default service is PyPI's JSON API.

pip-audit says "No known vulnerabilities found" and exits 0 even when it skipped a
dependency; here a dependency with ``skip_reason``, a missing dependency, a crash or a
timeout is SKIPPED (no answer), never clean. No ``--strict``: it would end the whole process
at the first skipped dependency, and one process answers for many.

**One process for many releases** (:class:`PipAuditBatcher`, one per run). Each pip-audit
process spends ~1-2 s of CPU starting (it imports pip's vendored libraries); one per package
made pip-audit the largest cost of checking a tree (five processes for ``requests``, 58 for a
Django application). The batcher is told the releases a run has planned (the nodes of a
dependency tree): the first lookup starts one process for all of them, and every later lookup
awaits its part of that answer. Releases not planned ahead are collected for
``delay`` seconds and asked together. A process holds at most ``max_batch`` requirements and
never two versions of one name (its report names a skipped dependency by name only); when it
fails, each of its releases gets that reason, never a clean answer.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from shouldi.advisories.interface import utcnow, vouch
from shouldi.advisories.process import (
    json_object,
    last_line,
    pinned_requirement,
    requirements_file,
    run_tool,
)
from shouldi.results import Advisory, AdvisoryAnswer, Status, VulnId

__all__ = ["PipAuditBatcher", "PipAuditSource", "pip_audit_argv"]

SOURCE = "pip-audit"
#: A pinned release: (canonical name, normalised version), as written in the requirements file.
Pin = tuple[str, str]
#: What pip-audit said of one pin: its dependency entry, or why there is none.
Outcome = Mapping[str, Any] | str


def pip_audit_argv(
    python: str,
    requirements: Path,
    *,
    osv_url: str | None = None,
    cache_dir: Path | None = None,
    request_timeout: int = 15,
) -> list[str]:
    """The pip-audit command line for one requirements file (see the module docstring)."""
    argv = [python, "-m", "pip_audit", "--no-deps", "--disable-pip"]
    argv += ["-f", "json", "--desc", "on", "--aliases", "on", "--progress-spinner", "off"]
    argv += ["--timeout", str(request_timeout), "-r", str(requirements)]
    if osv_url:
        argv += ["-s", "osv", "--osv-url", osv_url]
    if cache_dir is not None:
        argv += ["--cache-dir", str(cache_dir)]
    return argv


def pin_of(name: str, version: str) -> Pin:
    """``(name, version)`` checked and normalised; ``ValueError`` for anything that could
    smuggle an option into a requirements file (see :func:`pinned_requirement`)."""
    name_, version_ = pinned_requirement(name, version).split("==", 1)
    return name_, version_


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
        self.processes = 0  # pip-audit processes started, for tests and benchmarks

    async def lookup(
        self, name: str, version: str, release_time: datetime | None
    ) -> AdvisoryAnswer:
        try:
            pin = pin_of(name, version)
        except ValueError as e:
            return _skip(str(e))
        outcome = (await self.audit([pin]))[pin]
        return self.answer(pin, outcome, release_time)

    async def audit(self, pins: Sequence[Pin]) -> dict[Pin, Outcome]:
        """One pip-audit process for ``pins`` (checked by :func:`pin_of`; one version per name)."""
        if self.python == sys.executable and importlib.util.find_spec("pip_audit") is None:
            return dict.fromkeys(pins, "pip-audit is not installed")
        with requirements_file("\n".join(f"{n}=={v}" for n, v in pins), "pip-audit") as requirements:
            argv = pip_audit_argv(
                self.python,
                requirements,
                osv_url=self.osv_url,
                cache_dir=self.cache_dir,
                request_timeout=self.request_timeout,
            )
            self.processes += 1
            try:
                code, out, err = await run_tool(argv, self.timeout)
            except asyncio.TimeoutError:
                return dict.fromkeys(pins, f"pip-audit timed out after {self.timeout:g}s")
            except OSError as e:
                return dict.fromkeys(pins, f"pip-audit does not run: {e}")
        report = json_object(out)
        if report is None or not isinstance(report.get("dependencies"), list):
            return dict.fromkeys(pins, f"pip-audit failed (exit {code}): {last_line(err)}")
        deps = report["dependencies"]
        return {pin: _dependency(deps, *pin) or f"pip-audit did not report on {pin[0]}=={pin[1]}"
                for pin in pins}

    def answer(self, pin: Pin, outcome: Outcome, release_time: datetime | None) -> AdvisoryAnswer:
        """The answer for one release from what pip-audit said of it."""
        name, version = pin
        if isinstance(outcome, str):
            return _skip(outcome)
        if outcome.get("skip_reason"):
            return _skip(f"pip-audit skipped {name}=={version}: {outcome['skip_reason']}")
        try:
            advisories = tuple(_advisory(v) for v in outcome.get("vulns") or ())
        except (KeyError, TypeError) as e:
            return AdvisoryAnswer(SOURCE, Status.ERROR, reason=f"unexpected pip-audit output ({e}): `--no-pip-audit` skips it")
        live = self.data_time is None
        data_time = utcnow() if live else self.data_time
        verdict = vouch("pip-audit's service", data_time, release_time, live=live)
        return AdvisoryAnswer(
            SOURCE, verdict.status, advisories, verdict.reason, data_time
        )


class PipAuditBatcher:
    """One pip-audit process for many releases of a run (see the module docstring).

    Create it where the run's event loop runs; share it between every package of the run.
    """

    def __init__(self, source: PipAuditSource, expected: Iterable[tuple[str, str]] = (), *,
                 delay: float = 0.1, max_batch: int = 50) -> None:
        self.source, self.delay, self.max_batch = source, max(0.0, delay), max(1, max_batch)
        self._expected: dict[Pin, None] = {}
        for name, version in expected:
            try:
                self._expected[pin_of(name, version)] = None
            except ValueError:
                continue  # asked for, it is refused by lookup like any other
        self._outcomes: dict[Pin, asyncio.Future[Outcome]] = {}
        self._pending: list[Pin] = []
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def lookup(self, name: str, version: str, release_time: datetime | None) -> AdvisoryAnswer:
        try:
            pin = pin_of(name, version)
        except ValueError as e:
            return _skip(str(e))
        future = self._outcomes.get(pin)
        if future is None:
            if pin in self._expected:
                self._start([p for p in self._expected if p not in self._outcomes])
            else:
                self._futures([pin])
                self._pending.append(pin)
                if len(self._pending) >= self.max_batch:
                    self._flush()
                elif self._timer is None:
                    self._timer = asyncio.get_running_loop().call_later(self.delay, self._flush)
            future = self._outcomes[pin]
        return self.source.answer(pin, await asyncio.shield(future), release_time)

    def _futures(self, pins: Iterable[Pin]) -> None:
        loop = asyncio.get_running_loop()
        for pin in pins:
            if pin not in self._outcomes:
                future: asyncio.Future[Outcome] = loop.create_future()
                future.add_done_callback(_retrieve)
                self._outcomes[pin] = future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, []
        self._start(pending)

    def _start(self, pins: Sequence[Pin]) -> None:
        self._futures(pins)
        for batch in batches(pins, self.max_batch):
            task = asyncio.ensure_future(self._audit(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _audit(self, batch: list[Pin]) -> None:
        outcomes: Mapping[Pin, Outcome] = {}
        try:
            outcomes = await self.source.audit(batch)
        except Exception as e:  # a bug here must not leave other packages waiting
            outcomes = dict.fromkeys(batch, f"pip-audit failed: {type(e).__name__}: {e}")
        finally:  # cancelled too: every waiter gets an answer, never a hang
            for pin in batch:
                future = self._outcomes[pin]
                if not future.done():
                    future.set_result(outcomes.get(pin, "pip-audit was stopped before it answered"))


def batches(pins: Sequence[Pin], max_batch: int) -> list[list[Pin]]:
    """``pins`` in order, cut into lists of at most ``max_batch`` with one version per name."""
    out: list[list[Pin]] = []
    for pin in pins:
        home = next((b for b in out if len(b) < max_batch and all(n != pin[0] for n, _ in b)), None)
        if home is None:
            out.append([pin])
        else:
            home.append(pin)
    return out


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _dependency(deps: list[Any], name: str, version: str) -> Mapping[str, Any] | None:
    """The entry for ``name`` (one per name in a process); one of another version is not it."""
    wanted = canonicalize_name(name)
    for dep in deps:
        if isinstance(dep, Mapping) and canonicalize_name(str(dep.get("name", ""))) == wanted:
            if "version" in dep and not _same_version(str(dep["version"]), version):
                continue
            return dep
    return None


def _same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


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
