"""``--dask-scheduler``: the option ``scan`` and ``dataset build`` take to run on Dask.

Applied below :func:`shouldi.cli.options.scan_options` (it needs the ``settings`` that
decorator builds)::

    @scan_options
    @dask_option
    def scan(..., settings: Settings, ...): ...

With a value, the command runs inside :func:`~shouldi.distributed.session.dask_session` with
``settings.dask_scheduler`` set, so every :func:`shouldi.api.answer` call in it goes to the
cluster's workers over one connection (a ``local:N`` cluster is started on first use and
closed when the command ends), and the run's :meth:`RunStats.summary` is printed on stderr at
the end. A bad address is refused by ``Settings`` (exit 2, one line); ``--trace`` is refused
with it before anything runs (a trace holds the live values of a worker's run).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from shouldi.distributed.errors import ClusterUnfitError

__all__ = ["DASK_SCHEDULER_ENV", "dask_option"]

F = TypeVar("F", bound=Callable[..., Any])
DASK_SCHEDULER_ENV = "SHOULDI_DASK_SCHEDULER"


def dask_option(func: F) -> F:
    """Add ``--dask-scheduler ADDRESS`` to a command that takes ``settings``."""

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        address = kwargs.pop("dask_scheduler")
        if address is None:
            return func(*args, **kwargs)
        settings = kwargs.pop("settings").replace(dask_scheduler=address)  # validated there
        if kwargs.get("trace_file") is not None:
            raise ClusterUnfitError("--trace is not available with --dask-scheduler (a trace "
                                    "holds the live values of a worker's run): drop one of the two")
        from shouldi.distributed.session import dask_session

        assert settings.dask_scheduler is not None
        with dask_session(settings.dask_scheduler, settings.timeout) as session:
            try:
                return func(*args, settings=settings, **kwargs)
            finally:
                if session.stats.tasks:
                    click.echo(session.stats.summary(), err=True)

    option = click.option(
        "--dask-scheduler", envvar=DASK_SCHEDULER_ENV, metavar="ADDRESS",
        help="Run the packages as tasks on the Dask workers of this scheduler (tcp://HOST:PORT; "
             "local:N starts N worker processes here; also $SHOULDI_DASK_SCHEDULER). Needs the "
             "[dask] extra.")
    return option(command)  # type: ignore[return-value]
