"""Errors of the distributed layer: the Dask cluster a run was sent to, not the packages.

A package that could not be checked on a worker is never an exception: it is a report with
an ``error`` verdict (:func:`shouldi.distributed.tasks.not_run`). These are about the run as a
whole, raised before or instead of any answer::

    ShouldiError                       (shouldi.errors)
    └── DistributedError               exit 3: the scheduler cannot be reached, no worker joined
        └── ClusterUnfitError          exit 2: the cluster or option cannot do the job as given:
                                       a malformed address, no [dask] extra, a worker with
                                       another shouldi or one that cannot start processes
"""

from __future__ import annotations

from shouldi.errors import EXIT_BAD_INPUT, ShouldiError

__all__ = ["ClusterUnfitError", "DistributedError"]


class DistributedError(ShouldiError):
    """The run could not be sent to Dask workers (one line; exit 3)."""


class ClusterUnfitError(DistributedError):
    """What the user named cannot run shouldi's checks as it is (exit 2): fix it and rerun."""

    exit_code = EXIT_BAD_INPUT
