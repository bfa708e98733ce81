"""Checks for the HTTP API: a request body in, ``shouldi.api.answer_async``'s answers out.

Every answer comes from :func:`shouldi.api.answer_async`, the function ``shouldi install``
calls, and is rendered in the CLI's JSON form: ``{"packages": [report_to_dict(report) +
reused_from + required_by], "notes": run_notes(...)}`` (:mod:`shouldi.cli.render`), the same document
``install --format json`` prints, only without its indentation (``json`` encodes indented
output in Python, ~30 times slower than compact output in C: 3 ms a request).

- **Bounded work.** Flow runs go through a :class:`Gate`: ``max_checks`` at once, at most
  ``max_waiting`` queued; beyond that a 503 with ``Retry-After`` rather than an unbounded
  queue.
- **Answers already given** are kept in memory for the answer cache's own window
  (``max_age``) and by the same rule (:func:`shouldi.cache.answers.cacheable`: never an
  ``error``, never a check that could not run), keyed by the spec and
  ``Settings.answer_key()`` (which also holds the local advisory store's state: a ``db
  import`` is seen at once). The answer cache on disk would give the same answer, only
  after reading and decoding a file (~2 ms); a repeated request then costs no flow run,
  never waits behind a cold scan in the gate, and reuses the package's rendered form.
- **Recorded.** Every answer is kept in the state file (:mod:`shouldi.service.state`), for
  ``GET /v1/packages/{name}/{version}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from shouldi.api import Answer, Request, answer_async, trace_to_dict
from shouldi.cache.answers import cacheable
from shouldi.cli.render import package_dict
from shouldi.errors import ShouldiError
from shouldi.service.config import ServiceConfig
from shouldi.service.errors import BadRequest, Unavailable
from shouldi.service.models import CheckBody
from shouldi.service.state import State, StateUnavailable
from shouldi.settings import Settings
from shouldi.verdict import exit_code_for, report_to_dict

__all__ = ["CheckRun", "Checker", "Gate", "Given", "iso_time"]

_MEMO_SIZE = 4096
log = logging.getLogger("shouldi.service")


def iso_time(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, timezone.utc).isoformat()


@dataclass(frozen=True)
class Given:
    """An answer and its ``packages`` item (rendered once)."""

    answer: Answer
    package: dict[str, Any]

    @classmethod
    def of(cls, a: Answer) -> Given:
        return cls(a, package_dict(a))


class Gate:
    """A semaphore with a bound on how many may wait for it."""

    def __init__(self, size: int, max_waiting: int) -> None:
        self._sem = asyncio.Semaphore(size)
        self.max_waiting, self.waiting = max_waiting, 0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.waiting >= self.max_waiting:
            raise Unavailable(f"{self.waiting} checks are waiting already; ask again later",
                              retry_after=30)
        self.waiting += 1
        try:
            await self._sem.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._sem.release()


@dataclass(frozen=True)
class CheckRun:
    """A validated check request."""

    requests: tuple[Request, ...]
    settings: Settings
    trace: bool = False


class Checker:
    """Runs checks for the app and the jobs; one per worker process."""

    def __init__(self, config: ServiceConfig, state: State) -> None:
        self.config, self.state = config, state
        self.gate = Gate(config.max_checks, config.max_waiting)
        self._memo: OrderedDict[tuple[str, str], tuple[float, tuple[Given, ...]]] = OrderedDict()

    # --- requests -----------------------------------------------------------------------
    def parse(self, body: CheckBody) -> CheckRun:
        """The run a body asks for, or :class:`BadRequest` saying what is wrong."""
        from shouldi.index.spec import check_spec

        specs = []
        for spec in body.specs:  # lengths are checked by the model (MAX_SPEC_LENGTH)
            try:
                check_spec(spec)
            except ShouldiError as e:
                raise BadRequest(str(e)) from e
            specs.append(spec.strip())
        if len(specs) > self.config.max_specs:
            raise BadRequest(f"{len(specs)} specs: at most {self.config.max_specs} per request")
        changes: dict[str, Any] = {"all_files": body.all_files}
        if body.max_age is not None:
            changes["max_age"] = body.max_age
        if body.python_version or body.platforms or body.implementation or body.abis:
            from shouldi.index.target import TargetEnvironment

            try:
                changes["target"] = TargetEnvironment.from_options(
                    python_version=body.python_version, platforms=body.platforms,
                    implementation=body.implementation, abis=body.abis)
            except ShouldiError as e:
                raise BadRequest(str(e)) from e
        try:
            settings = self.config.settings.replace(**changes)
        except ShouldiError as e:
            raise BadRequest(str(e)) from e
        return CheckRun(tuple(Request(s) for s in specs), settings, body.trace)

    # --- answers ------------------------------------------------------------------------
    def remembered(self, run: CheckRun) -> list[Given] | None:
        """The answers when every spec's is still in memory (no task, no flow run)."""
        if run.trace:
            return None
        key = _settings_key(run.settings)
        out: list[Given] = []
        for r in run.requests:
            hit = self._remembered(r.spec, key, run.settings.max_age)
            if hit is None:
                return None
            out += hit
        return out

    async def answers(self, run: CheckRun) -> list[Given]:
        """The answers, in the order of the specs."""
        key = "" if run.trace else _settings_key(run.settings)
        known = {r.spec: self._remembered(r.spec, key, run.settings.max_age)
                 for r in run.requests} if key else {}
        todo = [r for r in run.requests if known.get(r.spec) is None]
        fresh: dict[str, list[Given]] = {}
        if todo:
            async with self.gate.slot():
                got = await answer_async(todo, run.settings, trace=run.trace)
            for g in self.record(got, key):
                fresh.setdefault(g.answer.spec, []).append(g)
        out: list[Given] = []
        for r in run.requests:
            out += known.get(r.spec) or fresh.get(r.spec, [])
        return out

    def _remembered(self, spec: str, key: str, max_age: float) -> tuple[Given, ...] | None:
        hit = self._memo.get((spec, key))
        if hit is None:
            return None
        answered_at, given = hit
        if not 0 <= time.time() - answered_at < max_age:
            return None
        return given

    def record(self, answers: Sequence[Answer], key: str) -> list[Given]:
        """Keep fresh answers in the state file (and, with a settings ``key``, in memory)."""
        from shouldi.cli.render import run_notes

        now = time.time()
        by_spec: dict[str, list[Answer]] = {}
        for a in answers:
            if a.report.version is not None:
                try:
                    self.state.put_answer(report_to_dict(a.report), a.spec,
                                          a.reused_from or now, run_notes([a]))
                except StateUnavailable as e:  # the answer is still given
                    log.warning("not recorded: %s: %s", a.spec, e)
            by_spec.setdefault(a.spec, []).append(a)
        given = [Given.of(a) for a in answers]
        if not key:
            return given
        for spec, group in by_spec.items():
            if all(cacheable(a.report) for a in group):
                at = min((a.reused_from or now) for a in group)
                later = tuple(Given.of(replace(a, reused_from=a.reused_from or now)) for a in group)
                self._memo[(spec, key)] = (at, later)
                self._memo.move_to_end((spec, key))
        while len(self._memo) > _MEMO_SIZE:
            self._memo.popitem(last=False)
        return given

    # --- rendering ----------------------------------------------------------------------
    @staticmethod
    def render(given: Sequence[Given], trace: bool = False) -> str:
        """The install JSON (plus ``traces`` when asked for), compact."""
        from shouldi.cli.render import run_notes

        answers = [g.answer for g in given]
        body: dict[str, Any] = {"packages": [g.package for g in given], "notes": run_notes(answers)}
        if trace:
            body["traces"] = [trace_to_dict(a) for a in answers]
        return json.dumps(body, separators=(",", ":"))

    @staticmethod
    def exit_code(given: Sequence[Given]) -> int:
        return exit_code_for([g.answer.report.verdict for g in given],
                             bad_input=any(g.answer.bad_input for g in given))


def _settings_key(settings: Settings) -> str:
    return json.dumps(settings.answer_key(), sort_keys=True, default=str)

