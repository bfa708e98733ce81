"""Jobs: a check that runs in the background, its state kept in the state file.

``POST /v1/jobs`` answers 202 at once with the job's id; the check runs in this process
(through the same :class:`~shouldi.service.checks.Checker`, so the same gate and the same
answers); ``GET /v1/jobs/{id}`` reads the state file, so any worker can answer it. A job
that raises a deliberate error (an unreachable index, a full queue) fails with that one
line and ``retryable`` set, unless the request itself cannot be answered (a dependency
tree that cannot be resolved: asking again gives the same); a bug fails with "internal error" (the traceback is logged on
the server). Jobs still running when the server shuts down fail as retryable; those lost
to a crash are marked so by :meth:`~shouldi.service.state.State.recover` on the next start.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable
from typing import Any

from shouldi.errors import ShouldiError
from shouldi.service.checks import Checker, CheckRun, Given
from shouldi.service.errors import BadRequest
from shouldi.service.state import Job, State

__all__ = ["Jobs"]

log = logging.getLogger("shouldi.service")


class Jobs:
    def __init__(self, checker: Checker, state: State) -> None:
        self.checker, self.state = checker, state
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def submit(self, run: CheckRun, request: dict[str, Any]) -> Job:
        """Start a job for ``run``; ``request`` is the body, kept with it."""
        return self.adopt(self.checker.answers(run), run, request)

    def adopt(self, work: Awaitable[list[Given]], run: CheckRun,
              request: dict[str, Any]) -> Job:
        """A job for work already started (a ``POST /v1/check`` that waited too long)."""
        job = self.state.new_job(secrets.token_urlsafe(12), request)
        self._tasks[job.id] = task = asyncio.ensure_future(self._run(job.id, work, run.trace))
        task.add_done_callback(lambda _: self._tasks.pop(job.id, None))
        return job

    async def _run(self, job_id: str, work: Awaitable[list[Given]], trace: bool) -> None:
        self.state.set_job(job_id, "running")
        try:
            answers = await work
        except asyncio.CancelledError:
            self.state.set_job(job_id, "failed", retryable=True,
                               error="the server shut down before this job finished; submit "
                                     "the same request again")
            raise
        except ShouldiError as e:
            self.state.set_job(job_id, "failed", error=str(e),
                               retryable=not isinstance(e, BadRequest))
            return
        except Exception:
            log.exception("job %s failed", job_id)
            self.state.set_job(job_id, "failed", error="internal error")
            return
        result = json.loads(Checker.render(answers, trace))
        result["exit_code"] = Checker.exit_code(answers)
        self.state.set_job(job_id, "done", result=result)

    async def close(self) -> None:
        """Cancel the jobs still running (each is marked failed and retryable)."""
        tasks = list(self._tasks.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
