"""What runs on a Dask worker, and how its answers travel back.

A task is :func:`run_batch`: a few requests, the run's :class:`~shouldi.settings.Settings`
and the client's shouldi version. It runs the real flow, :func:`shouldi.api.answer_async`
(``asyncio.run`` in the worker's task thread), with the same settings minus the scheduler,
so the worker's own caches (its ``cache_dir``, its user cache dir by default) and its own
local advisory store are used, and never a package's code (the same flow as a local run).

Answers go back as JSON (:func:`encode`): the report in the answer cache's codec form
(:mod:`shouldi.cache.codec`, strict dacite on the way back), so what the client rebuilds is
the frozen dataclass a local run produces, and a worker with other classes cannot smuggle
in other types. A worker refuses to run when it cannot answer as the client would
(:func:`check_worker`): another shouldi version, or a daemonic worker process (Dask's
default), which may not start the scanner processes the flow needs.

**Advisory data.** Each worker reads its own local advisory store, so two workers with other
data would give one run two answers for the same release. :func:`advisory_fact` says what a
worker's store holds (:meth:`~shouldi.advisories.store.AdvisoryStore.fingerprint`: content,
not path), the client checks that every worker holds the same data as the others and as
the client, when it has any (:func:`check_advisories`), and every task checks it again
before it runs (a worker that joined later, or a ``db import`` during the run): a worker
that differs answers nothing, and its requests are "not checked" (``error``).
"""

from __future__ import annotations

import multiprocessing
import os
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shouldi import __version__
from shouldi.api import Answer, Request
from shouldi.cache.codec import from_json, to_json
from shouldi.distributed.errors import ClusterUnfitError
from shouldi.errors import UsageError
from shouldi.results import Release, Severity
from shouldi.settings import Settings
from shouldi.verdict.report import PackageReport, Reason, Verdict

__all__ = ["DAEMON_FIX", "NO_ADVISORY_DATA", "advisory_fact", "check_advisories", "check_worker",
           "decode", "encode", "not_run", "run_batch", "worker_facts"]

NO_ADVISORY_DATA = "no advisory data"
_UNUSABLE = "an unusable advisory store"
DB_FIX = ("import the same advisory data on every worker and here (shouldi db import FILE, "
          "or the same --advisory-db file)")
DAEMON_FIX = ("start workers with DASK_DISTRIBUTED__WORKER__DAEMON=False (or `dask worker "
              "--no-nanny`): a daemonic worker process may not start shouldi's scanner processes")


def worker_facts() -> dict[str, Any]:
    """What the client checks of every worker before sending it work."""
    return {"shouldi": __version__, "daemon": multiprocessing.current_process().daemon,
            "python": platform.python_version(), "pid": os.getpid()}


def check_worker(facts: Mapping[str, Any], where: str, client_version: str) -> None:
    """:class:`ClusterUnfitError` when a worker would not answer as this client would."""
    if facts.get("shouldi") != client_version:
        raise ClusterUnfitError(f"Dask worker {where} runs shouldi {facts.get('shouldi')}, this "
                                f"client {client_version}: install the same shouldi on every worker")
    if facts.get("daemon"):
        raise ClusterUnfitError(f"Dask worker {where} is a daemonic process: {DAEMON_FIX}")


def advisory_fact(advisory_db: Path | None) -> str:
    """What the local advisory store that ``advisory_db`` names holds here (the default store
    when ``None``): its fingerprint, :data:`NO_ADVISORY_DATA`, or "an unusable advisory store"
    (every worker's flow would then say so in its answers)."""
    from shouldi.advisories.errors import StoreError
    from shouldi.advisories.store import AdvisoryStore

    try:
        return AdvisoryStore(advisory_db).fingerprint() or NO_ADVISORY_DATA
    except StoreError:
        return _UNUSABLE


def check_advisories(facts: Mapping[str, str], own: str) -> str:
    """The advisory data every worker holds (``facts``: worker -> :func:`advisory_fact`);
    :class:`ClusterUnfitError` when two workers differ, or when the workers' data is not the
    client's (``own``) while the client has some."""
    found = sorted(set(facts.values()))
    if not found:
        return own
    if len(found) > 1:
        seen = "; ".join(f"{w}: {f}" for w, f in sorted(facts.items())[:3])
        raise ClusterUnfitError(f"Dask workers hold different advisory data ({seen}): {DB_FIX}")
    (cluster,) = found
    if own not in (NO_ADVISORY_DATA, _UNUSABLE) and cluster != own:
        raise ClusterUnfitError(f"the Dask workers hold other advisory data ({cluster}) than this "
                                f"client ({own}): {DB_FIX}")
    return cluster


def run_batch(requests: Sequence[Request], settings: Settings,
              recorded: frozenset[tuple[str, str, str]], client_version: str,
              advisories: str | None = None) -> list[dict[str, Any]]:
    """The Dask task: answer ``requests`` here, with the flow; JSON answers (:func:`encode`).
    ``advisories``: the data the run's workers were found to hold (:func:`check_advisories`);
    this worker refuses the task when its own is other."""
    import asyncio

    from shouldi.api import answer_async

    check_worker(worker_facts(), "running this task", client_version)
    if advisories is not None and (here_data := advisory_fact(settings.advisory_db)) != advisories:
        raise ClusterUnfitError(f"Dask worker {os.getpid()} holds other advisory data ({here_data}) "
                                f"than the run's other workers ({advisories}): {DB_FIX}")
    here = settings.replace(dask_scheduler=None)
    answers = asyncio.run(answer_async(list(requests), here, recorded=recorded))
    return [encode(a) for a in answers]


def encode(answer: Answer) -> dict[str, Any]:
    r = answer.request
    request = {"spec": r.spec, "hashes": sorted(r.hashes), "index_url": r.index_url,
               "planned": to_json(r.planned) if r.planned is not None else None}
    return {"request": request, "report": to_json(answer.report),
            "reused_from": answer.reused_from, "recorded": answer.recorded}


def decode(data: Mapping[str, Any]) -> Answer:
    """An :class:`Answer` from :func:`encode`'s output; ``ValueError`` when it does not fit."""
    try:
        r = data["request"]
        planned = from_json(Release, r["planned"]) if r["planned"] is not None else None
        request = Request(str(r["spec"]), frozenset(str(h) for h in r["hashes"]),
                          None if r["index_url"] is None else str(r["index_url"]), planned)
        reused = data["reused_from"]
        return Answer(request, from_json(PackageReport, data["report"]),
                      None if reused is None else float(reused), None, bool(data["recorded"]))
    except (KeyError, TypeError) as e:
        raise ValueError(f"not an encoded answer: {e}") from e


def _name(spec: str) -> str:
    from shouldi.index import parse_spec

    try:
        return str(parse_spec(spec).name)
    except UsageError:
        return spec.strip()


def not_run(request: Request, why: str) -> Answer:
    """The answer of a request no worker could answer: "could not check" (``error``, never
    allowable), never a gap."""
    reason = Reason("dask", Severity.HIGH, f"not checked: {why}", None, Verdict.ERROR,
                    allowable=False)
    name = request.planned.name if request.planned else _name(request.spec)
    # No version: no record is written for it, so a resumed scan checks it again.
    return Answer(request, PackageReport(name, None, Verdict.ERROR, (reason,), {}, request.spec))
