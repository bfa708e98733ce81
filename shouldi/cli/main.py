"""shouldi: should I install this Python package? Static analysis, never running the package.

Exit codes (the same for every command that judges packages):

\b
  0  every package passes (or only warns)
  1  at least one package fails
  2  bad input: an unparseable spec or file, no such package or version, a bad option
  3  nothing failed, but at least one package could not be fully checked (a scanner crashed or
     timed out, no advisory source could vouch for the release), or an internal error
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from shouldi import __version__
from shouldi.errors import EXIT_ERROR, ShouldiError

__all__ = ["cli", "main"]


#: Subcommands, imported only when used so that start-up stays fast.
LAZY_COMMANDS = {
    "install": "shouldi.cli.install:install",
    "lock": "shouldi.cli.lock:lock",
    "db": "shouldi.cli.db:db",
    "scan": "shouldi.cli.scan:scan",
    "ci": "shouldi.cli.ci:ci",
    "dataset": "shouldi.cli.dataset:dataset",
    "model": "shouldi.cli.model:model",
    "report": "shouldi.cli.report:report",
    "serve": "shouldi.cli.serve:serve",
}


class _Group(click.Group):
    """Lazily loaded subcommands; shouldi's errors become one line and a deliberate exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            import importlib

            module, _, attr = LAZY_COMMANDS[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ShouldiError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(e.exit_code)
        except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (shouldi.dataflow.pool.Interrupted)
            signum = int(getattr(e, "signum", 2))
            click.echo("interrupted" if signum == 2 else f"stopped by signal {signum}", err=True)
            ctx.exit(128 + signum)


@click.group(cls=_Group, help=__doc__, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shouldi")
def cli() -> None:
    pass


@cli.group()
def dataflow() -> None:
    """Inspect shouldi's own dataflow."""


@dataflow.command("diagram")
def dataflow_diagram() -> None:
    """Print the built-in flow as a Mermaid diagram."""
    from shouldi.dataflow import flow_to_mermaid
    from shouldi.flow import build_flow

    click.echo(flow_to_mermaid(build_flow()), nl=False)


@dataflow.command("plugins")
def dataflow_plugins() -> None:
    """List the plugin operations that joined the flow, and those left out (and why)."""
    from shouldi.flow import plugin_operations, plugin_problems

    problems = plugin_problems()
    joined = [o for o in plugin_operations() if o.name not in problems]
    for o in joined:
        click.echo(f"{o.name}  ({o.import_path})")
    for name, why in problems.items():
        click.echo(f"left out: {name}: {why}", err=True)
    if not joined and not problems:
        click.echo("no plugins installed (entry-point group shouldi.operations)")


@dataflow.command("export")
def dataflow_export() -> None:
    """Print the built-in flow as JSON (operations by import path, and their wiring)."""
    from shouldi.dataflow import flow_to_json
    from shouldi.flow import build_flow

    click.echo(flow_to_json(build_flow()))


def main(argv: Sequence[str] | None = None) -> None:
    """The ``shouldi`` command. Made for a process of its own: its last step freezes the
    garbage collector (:func:`_before_exit`)."""
    _without_httpx_cli()
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="shouldi")
    except ShouldiError as e:  # raised outside a command (e.g. while parsing)
        click.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except Exception as e:  # never a traceback for the user; say what broke
        click.echo(f"internal error: {type(e).__name__}: {e}", err=True)
        sys.exit(EXIT_ERROR)
    finally:
        _before_exit()


def _without_httpx_cli() -> None:
    """Keep ``import httpx`` from importing httpx's own command-line client.

    httpx's ``__init__`` imports ``httpx._main`` (its CLI: click, rich and pygments) whenever
    those are installed, as they are here; that doubled the import of httpx, ~0.1 s of every
    cold check (encode/httpx#3547, open). A ``None`` in :data:`sys.modules` makes that import
    raise ``ImportError``, which httpx handles by defining a stub ``httpx.main``. This process
    is shouldi's command and never runs httpx's; nothing else of httpx changes. When httpx is
    already imported, nothing is done.
    """
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def _before_exit() -> None:
    """Freeze the garbage collector's objects (:func:`gc.freeze`) as the process ends.

    Interpreter shutdown tears every module down and runs the cycle collector over what is
    left; after a cold check (~650 modules) that took ~0.2 s, a tenth of the whole check.
    Frozen objects are still freed by reference counting as modules go; only cycles are left
    for the OS to reclaim with the process. Nothing depends on their finalizers: exit handlers
    (:mod:`atexit`: scratch directories, spares) run before this matters, files and
    databases are closed by the code that opened them, and output is flushed by the
    interpreter as usual.
    """
    import gc

    gc.freeze()
