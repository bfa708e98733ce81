"""``shouldi db``: manage the local OSV advisory store (import, update, status).

The store is ``--store FILE``, else ``$SHOULDI_ADVISORY_DB`` (the variable ``--advisory-db``
reads too, so both commands agree on the file), else ``advisories.sqlite`` in
``$SHOULDI_DATA_DIR`` or the user data dir. Every write is one transaction: a failed import or
download leaves the previous data as it was, and a killed one is rolled back the next time the
store is opened. ``import --replace`` also rebuilds a store that is unusable (corrupt, not a
database, another format), moving the old file aside. Errors are one line on stderr and the
exit code the error carries: 2 for bad input (an archive that is corrupt, truncated, too
large, too deep, uses YAML aliases or holds no OSV advisory; a bad URL), 3 for the rest (a
broken store, a failed download).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from shouldi.errors import ShouldiError

if TYPE_CHECKING:
    from shouldi.advisories.store import AdvisoryStore, ImportStats

__all__ = ["db"]

_F = TypeVar("_F", bound=Callable[..., Any])
_STORE_KEY = "shouldi.db.store"


def _one_line_errors(command: _F) -> _F:
    """Turn shouldi errors into ``error: ...`` and their exit code, as the main CLI does."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ShouldiError as e:
            click.echo(f"error: {e}", err=True)
            raise SystemExit(e.exit_code) from None

    return wrapper  # type: ignore[return-value]


def _service_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from shouldi.advisories.osv_api import check_service_url

    try:
        return check_service_url(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


def _seconds(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not math.isfinite(value) or not 0.1 <= value <= 3600:
        raise click.BadParameter(f"{value} is not a number of seconds from 0.1 to 3600")
    return value


@click.group()
@click.option(
    "--store",
    "--advisory-db",  # the name the commands that judge use for the same file
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="SHOULDI_ADVISORY_DB",
    help="The advisory database file (default: $SHOULDI_ADVISORY_DB, else "
    "$SHOULDI_DATA_DIR/advisories.sqlite, else in the user data directory).",
)
@click.pass_context
def db(ctx: click.Context, store_path: Path | None) -> None:
    """Manage the local OSV advisory store used by the "known vulnerabilities" check."""
    from shouldi.advisories.store import AdvisoryStore

    ctx.meta[_STORE_KEY] = AdvisoryStore(store_path)


@db.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--replace",
    is_flag=True,
    help="Drop the stored advisories first; rebuild a store that is unusable.",
)
@click.pass_context
@_one_line_errors
def import_(ctx: click.Context, path: Path, replace: bool) -> None:
    """Import OSV advisories from PATH: a .json/.yaml file, a directory, a .zip or a .tar.gz."""
    store = _store(ctx)
    stats = store.import_path(path, replace=replace)
    _moved(stats)
    click.echo(_imported(stats, store.path))


@db.command("update")
@click.option(
    "--url",
    default=None,
    callback=_service_url,
    help="Where to download the OSV PyPI export (a zip).",
)
@click.option(
    "--timeout",
    type=float,
    callback=_seconds,
    default=30.0,
    show_default=True,
    help="Seconds per connect/read.",
)
@click.pass_context
@_one_line_errors
def update(ctx: click.Context, url: str | None, timeout: float) -> None:
    """Download OSV's PyPI advisories and replace the store's content with them."""
    from shouldi.advisories.download import OSV_PYPI_URL, update_store

    store = _store(ctx)
    click.echo(f"downloading {url or OSV_PYPI_URL}", err=True)
    stats = update_store(store, url=url or OSV_PYPI_URL, timeout=timeout)
    _moved(stats)
    click.echo(_imported(stats, store.path))


@db.command("status")
@click.pass_context
@_one_line_errors
def status(ctx: click.Context) -> None:
    """Show what the store holds, how old its data is, and where it came from."""
    store = _store(ctx)
    info = store.status()
    click.echo(f"store:       {store.path}")
    if info is None:
        click.echo("advisories:  none (run `shouldi db update`, or `shouldi db import FILE` offline)")
        return
    click.echo(
        f"advisories:  {info.advisories} ({info.withdrawn} withdrawn) for {info.packages} packages"
    )
    click.echo(f"data time:   {_when(info.data_time)}")
    if info.last_source is not None:
        click.echo(f"last import: {info.last_source} at {_stamp(info.last_import_time)}")


def _store(ctx: click.Context) -> AdvisoryStore:
    store: AdvisoryStore = ctx.meta[_STORE_KEY]
    return store


def _moved(stats: ImportStats) -> None:
    if stats.moved_aside is not None:
        click.echo(f"moved the unusable store aside to {stats.moved_aside}", err=True)


def _imported(stats: ImportStats, store: Path) -> str:
    return (
        f"imported {stats.advisories} advisories for {stats.packages} packages"
        f" ({stats.updated} new or changed, {stats.withdrawn} withdrawn) into {store};"
        f" data time {_when(stats.data_time)}"
    )


def _when(when: datetime | None) -> str:
    if when is None:
        return "unknown"
    from shouldi.advisories.interface import utcnow

    return f"{_stamp(when)} ({(utcnow() - when).days} days old)"


def _stamp(when: datetime | None) -> str:
    return "unknown" if when is None else when.strftime("%Y-%m-%d %H:%M UTC")
