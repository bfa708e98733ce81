"""Checks for the HTTP API: a request body in, the answers ``shouldi install`` gives out.

A body is judged as ``shouldi install`` judges its specs: by default the specs and the whole
tree they would install (:func:`shouldi.plan.answer_tree_async`: each package says who
required it, a failing dependency fails what pulls it in), with ``"no_deps": true`` each spec
alone (:func:`shouldi.api.answer_async`), as ``install --no-deps`` does. The answers are
rendered in the CLI's JSON form: ``{"packages": [report_to_dict(report) + reused_from +
required_by], "notes": run_notes(...)}`` (:mod:`shouldi.cli.render`), the same document
``install --format json`` prints, only without its indentation (``json`` encodes indented
output in Python, ~30 times slower than compact output in C).

- **Bounded work.** Flow runs (and tree resolutions) go through a :class:`Gate`:
  ``max_checks`` at once, at most ``max_waiting`` queued; beyond that a 503 with
  ``Retry-After`` rather than an unbounded queue.
- **Answers already given** are kept in memory (:mod:`shouldi.service.memo`) for the answer
  cache's own window (``max_age``) and by the same rule (:func:`shouldi.cache.answers.cacheable`),
  keyed by the specs, whether the tree was asked for, and the settings' answer key (which
  holds the local advisory store's state: a ``db import`` is seen at once). A repeated
  request then costs no flow run, never waits behind a cold scan in the gate, and is one
  string join of the packages' JSON, rendered once.
- **Parsed once.** A body already parsed is not parsed again: :meth:`Checker.parse` keeps
  the run (its ``Settings``, its requests, the settled part of its answer key) of the last
  bodies seen; building and validating a ``Settings`` and its key cost more than the rest of
  a cached answer.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shouldi.api import Answer, Request, answer_async, trace_to_dict
from shouldi.errors import ShouldiError
from shouldi.service.config import ServiceConfig
from shouldi.service.errors import BadRequest, BadRequirements, Unavailable
from shouldi.service.memo import Given, Memo
from shouldi.service.models import CheckBody
from shouldi.service.state import State, StateUnavailable
from shouldi.settings import Settings, advisory_store_state
from shouldi.verdict import exit_code_for, report_to_dict

__all__ = ["CheckRun", "Checker", "Gate", "Given", "iso_time"]

_PARSED = 1024  # bodies whose run is kept (a body is at most max_body bytes: only short ones)
_PARSED_BODY = 4096
log = logging.getLogger("shouldi.service")


def iso_time(t: float | None) -> str | None:
    from datetime import datetime, timezone

    return None if t is None else datetime.fromtimestamp(t, timezone.utc).isoformat()


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
    """A validated check request. ``tree``: judge what the specs would install, not the
    specs alone. Made once per body (:meth:`Checker.parse`), it computes once what does not
    change while its settings stand: ``settled``, their answer key less the advisory store's
    state (:meth:`Settings.settled_answer_key`, as JSON), and ``store``, the store whose
    state completes it (:meth:`key`)."""

    requests: tuple[Request, ...]
    settings: Settings
    trace: bool = False
    tree: bool = True
    settled: str = field(init=False, repr=False)
    store: Path = field(init=False, repr=False)

    def __post_init__(self) -> None:
        settled = json.dumps(self.settings.settled_answer_key(), sort_keys=True, default=str)
        object.__setattr__(self, "settled", settled)
        object.__setattr__(self, "store", self.settings.advisory_store())

    def key(self) -> str:
        """The settings' whole answer key, now (one ``stat`` of the advisory store)."""
        return f"{self.settled}\0{advisory_store_state(self.store)}"


class Checker:
    """Runs checks for the app and the jobs; one per worker process."""

    def __init__(self, config: ServiceConfig, state: State) -> None:
        self.config, self.state = config, state
        self.gate = Gate(config.max_checks, config.max_waiting)
        self.memo = Memo()
        self._parsed: OrderedDict[str, CheckRun] = OrderedDict()

    # --- requests -----------------------------------------------------------------------
    def parse(self, body: CheckBody) -> CheckRun:
        """The run a body asks for, or :class:`BadRequest` saying what is wrong."""
        text = body.model_dump_json()
        run = self._parsed.get(text)
        if run is None:
            run = self._parse(body)
            if len(text) <= _PARSED_BODY:
                self._parsed[text] = run
                while len(self._parsed) > _PARSED:
                    self._parsed.popitem(last=False)
        return run

    def _parse(self, body: CheckBody) -> CheckRun:
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
        return CheckRun(tuple(Request(s) for s in specs), settings, body.trace, not body.no_deps)

    # --- answers ------------------------------------------------------------------------
    def remembered(self, run: CheckRun) -> list[Given] | None:
        """The answers when every one is still in memory (no task, no flow run)."""
        if run.trace:
            return None
        key, max_age = run.key(), run.settings.max_age
        if run.tree:
            hit = self.memo.get(_tree_key(run), key, max_age)
            return list(hit) if hit is not None else None
        out: list[Given] = []
        for r in run.requests:
            hit = self.memo.get(r.spec, key, max_age)
            if hit is None:
                return None
            out += hit
        return out

    async def answers(self, run: CheckRun) -> list[Given]:
        """The answers, in the order of the specs (a tree's roots first)."""
        if run.tree:
            return await self._tree(run)
        key = "" if run.trace else run.key()
        known = {r.spec: self.memo.get(r.spec, key, run.settings.max_age)
                 for r in run.requests} if key else {}
        todo = [r for r in run.requests if known.get(r.spec) is None]
        fresh: dict[str, list[Given]] = {}
        if todo:
            async with self.gate.slot():
                got = await answer_async(todo, run.settings, trace=run.trace)
            by_spec: dict[str, list[Answer]] = {}
            for a in got:
                by_spec.setdefault(a.spec, []).append(a)
            for spec, group in by_spec.items():
                fresh[spec] = self.record(group, spec, key)
        out: list[Given] = []
        for r in run.requests:
            out += known.get(r.spec) or fresh.get(r.spec, [])
        return out

    async def _tree(self, run: CheckRun) -> list[Given]:
        from shouldi.index import BadSpec
        from shouldi.plan import answer_tree_async
        from shouldi.resolve import Unresolvable

        key = "" if run.trace else run.key()
        if key:
            hit = self.memo.get(_tree_key(run), key, run.settings.max_age)
            if hit is not None:
                return list(hit)
        try:
            async with self.gate.slot():
                result = await answer_tree_async(run.requests, run.settings, trace=run.trace)
        except (Unresolvable, BadSpec) as e:  # what `install` exits 2 for, said in one line
            raise BadRequirements(str(e)) from e
        return self.record(result.answers, _tree_key(run), key)

    def record(self, answers: Sequence[Answer], about: str = "", key: str = "") -> list[Given]:
        """Keep fresh answers in the state file and, with a settings ``key``, in memory under
        ``about`` (a spec, or a tree's roots) for later requests."""
        from shouldi.cli.render import run_notes

        now = time.time()
        for a in answers:
            if a.report.version is not None:
                try:
                    self.state.put_answer(report_to_dict(a.report), a.spec,
                                          a.reused_from or now, run_notes([a]))
                except StateUnavailable as e:  # the answer is still given
                    log.warning("not recorded: %s: %s", a.spec, e)
        given = [Given.of(a) for a in answers]
        if key:
            self.memo.put(about, key, answers, now)
        return given

    # --- rendering ----------------------------------------------------------------------
    @staticmethod
    def render(given: Sequence[Given], trace: bool = False) -> str:
        """The install JSON (plus ``traces`` when asked for), compact: each package's JSON
        was rendered once (:class:`Given`), and a JSON list is its items joined by commas."""
        from shouldi.cli.render import run_notes

        answers = [g.answer for g in given]
        notes = json.dumps(run_notes(answers), separators=(",", ":"))
        body = f'{{"packages":[{",".join(g.text for g in given)}],"notes":{notes}'
        if trace:
            traces = json.dumps([trace_to_dict(a) for a in answers], separators=(",", ":"))
            body += f',"traces":{traces}'
        return body + "}"

    @staticmethod
    def exit_code(given: Sequence[Given]) -> int:
        return exit_code_for([g.answer.report.verdict for g in given],
                             bad_input=any(g.answer.bad_input for g in given))


def _tree_key(run: CheckRun) -> str:
    """What a tree's answer is filed under: its roots, in order (they are resolved together,
    and the first is answered first)."""
    return "\0".join(("tree", *(r.spec for r in run.requests)))
