"""Past one machine: shouldi's checks as tasks on Dask workers (the optional ``[dask]`` extra).

``shouldi scan ... --dask-scheduler tcp://HOST:8786`` (or ``local:N``) sends the packages to
an existing Dask cluster; each task runs the real flow on a worker and its answers stream
back to the client's sink as they complete. Identical answers to a local run: same flow,
same settings, answers returned in the answer cache's JSON form. Modules:

- ``address``: the option's value, checked without importing dask;
- ``option``: the click option (``dask_option``) for ``scan`` and ``dataset build``;
- ``session``: one connection (or LocalCluster) per command, the workers checked, run stats;
- ``run``: the client side (``answer_on_dask``, called by :func:`shouldi.api.answer`);
- ``tasks``: what runs on a worker (``run_batch``), the answers' wire form, "not checked";
- ``errors``: ``DistributedError`` (exit 3) and ``ClusterUnfitError`` (exit 2).

Workers need shouldi (the same version: checked), its scanners, and for identical answers
the same advisory data (``shouldi db import`` on each machine, or ``--advisory-db`` naming a
path every worker has). Their processes must not be daemonic (``distributed.worker.daemon``
False: ``local:N`` sets it; for ``dask worker`` set ``DASK_DISTRIBUTED__WORKER__DAEMON=False``).
A Dask scheduler runs whatever any client that reaches it sends: keep it on a trusted
network (or TLS with ``tls://``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shouldi.lazy import lazy_exports

if TYPE_CHECKING:
    from shouldi.distributed.address import check_scheduler
    from shouldi.distributed.errors import ClusterUnfitError, DistributedError
    from shouldi.distributed.option import dask_option
    from shouldi.distributed.run import answer_on_dask
    from shouldi.distributed.session import DaskSession, RunStats, dask_session

_LAZY = {
    "ClusterUnfitError": "shouldi.distributed.errors",
    "DaskSession": "shouldi.distributed.session",
    "DistributedError": "shouldi.distributed.errors",
    "RunStats": "shouldi.distributed.session",
    "answer_on_dask": "shouldi.distributed.run",
    "check_scheduler": "shouldi.distributed.address",
    "dask_option": "shouldi.distributed.option",
    "dask_session": "shouldi.distributed.session",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
del TYPE_CHECKING, lazy_exports

__all__ = ["ClusterUnfitError", "DaskSession", "DistributedError", "RunStats", "answer_on_dask",
           "check_scheduler", "dask_option", "dask_session"]
