"""One connection to a Dask cluster for a whole command, and what happened on it.

:func:`dask_session` opens nothing by itself: the first :meth:`DaskSession.client` call
connects (or, for ``local:N``, starts the :class:`distributed.LocalCluster`), checks every
worker (:func:`shouldi.distributed.tasks.check_worker`) and keeps the client for every later
call of the command (``dataset build`` asks once per batch). :meth:`DaskSession.advisory_data`
checks, once per advisory store a command names, that every worker holds the same advisory
data (and the client's, when it has some). A command that fails on its
input before any package is checked has started no cluster.

``local:N`` is N worker processes with one thread each, listening on 127.0.0.1 only (a
Dask scheduler runs whatever a client that reaches it sends: it must never face a network
from here), no dashboard, and ``distributed.worker.daemon`` off (see ``DAEMON_FIX``). Its
workers die with this process: Dask's nanny processes exit when their parent's pipe closes,
and the flow's own children watch their parent (:mod:`shouldi.dataflow.pool`).

:class:`RunStats` counts what the user must be told (the CLI prints :meth:`RunStats.summary`
on stderr): tasks run, workers that died while they were running shouldi's tasks, tasks that
Dask then ran again elsewhere, and requests that became "could not check".
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shouldi import __version__
from shouldi.distributed.address import check_scheduler, local_workers
from shouldi.distributed.errors import ClusterUnfitError, DistributedError

__all__ = ["DaskSession", "RunStats", "active_session", "dask_session"]

_ACTIVE: ContextVar[DaskSession | None] = ContextVar("shouldi_dask_session", default=None)


@dataclass
class RunStats:
    """What the runs of one session did (mutable: counted as results arrive)."""

    workers: int = 0
    threads: int = 0
    tasks: int = 0
    packages: int = 0
    workers_lost: set[str] = field(default_factory=set)
    rerun: set[str] = field(default_factory=set)  # task keys Dask ran again after a death
    not_checked: int = 0

    def summary(self) -> str:
        line = (f"dask: {self.packages} package(s) in {self.tasks} task(s) on {self.workers} "
                f"worker(s), {self.threads} thread(s)")
        if self.workers_lost:
            line += (f"; {len(self.workers_lost)} worker(s) died during the run, "
                     f"{len(self.rerun)} task(s) were run again on another worker")
        if self.not_checked:
            line += f"; {self.not_checked} could not be checked on the cluster (error, see above)"
        return line


@dataclass
class DaskSession:
    """A cluster address and, once used, its client (and the LocalCluster of ``local:N``)."""

    address: str
    timeout: float = 30.0
    stats: RunStats = field(default_factory=RunStats)
    _cluster: Any = None
    _client: Any = None
    _config: Any = None  # the dask.config.set of local:N, undone on close
    _advisories: dict[str, str] = field(default_factory=dict)  # advisory_db -> checked data

    def advisory_data(self, advisory_db: Path | None) -> str:
        """The advisory data every worker holds for ``advisory_db`` (checked once per store
        and session: :func:`shouldi.distributed.tasks.check_advisories`)."""
        from shouldi.distributed.tasks import advisory_fact, check_advisories

        key = str(advisory_db)
        if key not in self._advisories:
            client = self.client()
            try:
                facts = client.run(advisory_fact, advisory_db)
            except (OSError, TimeoutError) as e:
                raise DistributedError(f"the Dask workers at {self.address} could not be asked "
                                       f"for their advisory data: {' '.join(str(e).split())[:160]}") from e
            self._advisories[key] = check_advisories(facts, advisory_fact(advisory_db))
        return self._advisories[key]

    def client(self) -> Any:
        """The connected, checked :class:`distributed.Client` (made on first use)."""
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> Any:
        try:  # as modules of type Any: dask's own annotations are partial
            dask = importlib.import_module("dask")
            distributed = importlib.import_module("distributed")
        except ImportError as e:
            raise ClusterUnfitError("--dask-scheduler needs the dask extra: pip install "
                                    "'dask[distributed]', or from shouldi's source: pip "
                                    "install '.[dask]'") from e
        workers = local_workers(self.address)
        try:
            if workers is not None:
                # For the session's whole life: a nanny reads it again when it restarts a
                # worker that died (in this process), and a daemonic worker cannot scan.
                self._config = dask.config.set({"distributed.worker.daemon": False})
                self._cluster = distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True,
                    host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR)
                client = distributed.Client(self._cluster, set_as_default=False)
            else:
                client = distributed.Client(self.address, timeout=self.timeout, set_as_default=False)
        except (OSError, TimeoutError) as e:
            self.close()
            raise DistributedError(f"cannot reach the Dask scheduler at {self.address}: "
                                   f"{' '.join(str(e).split())[:200]}") from e
        try:
            client.wait_for_workers(1, timeout=self.timeout)
            facts = client.run(_facts)
        except (OSError, TimeoutError) as e:
            client.close()
            self.close()
            raise DistributedError(f"no Dask worker joined {self.address} within "
                                   f"{self.timeout:g} s") from e
        from shouldi.distributed.tasks import check_worker

        try:
            for where, fact in sorted(facts.items()):
                check_worker(fact, where, __version__)
        except ClusterUnfitError:
            client.close()
            self.close()
            raise
        threads = client.nthreads()
        self.stats.workers = max(self.stats.workers, len(threads))
        self.stats.threads = max(self.stats.threads, sum(threads.values()))
        return client

    def close(self) -> None:
        for thing in (self._client, self._cluster):
            if thing is not None:
                with contextlib.suppress(Exception):  # closing must not hide the run's outcome
                    thing.close()
        self._client = self._cluster = None
        if self._config is not None:
            self._config.__exit__(None, None, None)
            self._config = None


def _facts() -> dict[str, Any]:
    from shouldi.distributed.tasks import worker_facts

    return worker_facts()


def active_session(address: str) -> DaskSession | None:
    """The session opened by :func:`dask_session` for ``address`` in this context, if any."""
    session = _ACTIVE.get()
    return session if session is not None and session.address == address else None


@contextlib.contextmanager
def dask_session(address: str, timeout: float = 30.0) -> Iterator[DaskSession]:
    """A session for ``address`` (checked) that :func:`shouldi.api.answer` calls inside use;
    closed (with its LocalCluster) on the way out."""
    session = DaskSession(check_scheduler(address), timeout)
    token = _ACTIVE.set(session)
    try:
        yield session
    finally:
        _ACTIVE.reset(token)
        session.close()
