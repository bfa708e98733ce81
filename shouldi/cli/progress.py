"""Progress on stderr while packages are checked: the one progress display of every command.

On a terminal, a bar with counts and ETA (rich), cleared at the end. Otherwise (CI logs) one
line per package as it is answered, so a long cold run is never silent; ``--quiet`` silences
both. Reused answers count too, so the total is always reached.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from shouldi.api import Answer

__all__ = ["progress"]


@contextlib.contextmanager
def progress(total: int, verb: str = "checking", quiet: bool = False
             ) -> Iterator[Callable[[Answer], None]]:
    """A callback to call with each answer as it arrives."""
    if quiet or total == 0:
        yield lambda _answer: None
        return
    if not sys.stderr.isatty():
        start, done = time.monotonic(), [0]

        def line(a: Answer) -> None:
            done[0] += 1
            r = a.report
            what = f"{r.name} {r.version}" if r.version else a.spec
            state = "already recorded" if a.recorded else r.verdict.value
            reused = ", reused" if a.reused_from is not None else ""
            click.echo(f"[{done[0]}/{total}] {what}: {state}{reused} "
                       f"({time.monotonic() - start:.1f} s)", err=True)

        yield line
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn(verb), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.description}"))
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("", total=total)
        yield lambda a: bar.update(task, advance=1, description=a.spec)
