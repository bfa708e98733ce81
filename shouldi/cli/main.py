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


class _Group(click.Group):
    """A group that turns shouldi's errors into one line and a deliberate exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ShouldiError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


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


@dataflow.command("export")
def dataflow_export() -> None:
    """Print the built-in flow as JSON (operations by import path, and their wiring)."""
    from shouldi.dataflow import flow_to_json
    from shouldi.flow import build_flow

    click.echo(flow_to_json(build_flow()))


def _register() -> None:
    from shouldi.cli.install import install

    cli.add_command(install)
    try:
        from shouldi.cli.db import db
    except ImportError:  # pragma: no cover - the db commands ship with shouldi
        return
    cli.add_command(db)


_register()


def main(argv: Sequence[str] | None = None) -> None:
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="shouldi")
    except ShouldiError as e:  # raised outside a command (e.g. while parsing)
        click.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except Exception as e:  # never a traceback for the user; say what broke
        click.echo(f"internal error: {type(e).__name__}: {e}", err=True)
        sys.exit(EXIT_ERROR)
