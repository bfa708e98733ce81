"""``shouldi install``: should I install this? An answer per package it would install.

SPEC and its whole dependency tree are judged (:func:`shouldi.plan.answer_tree`): the tree
is resolved from metadata for the target, every node is scanned, each package in the report
says who required it, and a failing dependency fails what pulls it in. ``--no-deps`` judges
SPEC alone. ``--then-install`` installs exactly the judged files (see :mod:`shouldi.cli.lock`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from shouldi.cli.options import (
    RequirementSpecType,
    check_allow_build,
    scan_options,
    trace_option,
)

if TYPE_CHECKING:
    from shouldi.settings import Settings

__all__ = ["install"]


@click.command()
@click.argument("specs", nargs=-1, required=True, type=RequirementSpecType())
@scan_options
@trace_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--verbose", "-v", is_flag=True, help="Show every reason and every check's status.")
@click.option("--no-deps", is_flag=True, help="Judge SPEC alone, not the packages it would pull in.")
@click.option("--then-install", is_flag=True,
              help="After a pass or warn, pip-install exactly the judged files (hash-pinned, "
                   "--no-deps) into the environment of --python PATH, else the active virtualenv.")
@click.option("--allow-build", is_flag=True,
              help="With --then-install: let pip build a judged sdist (that runs its code).")
@click.pass_context
def install(ctx: click.Context, specs: tuple[str, ...], fmt: str, verbose: bool, no_deps: bool,
            then_install: bool, allow_build: bool, settings: Settings, quiet: bool,
            trace_file: Path | None) -> None:
    """Should I install SPEC? Scan it and every package it pulls in, without running any, and
    answer with evidence.

    \b
    Exit codes: 0 pass or warn; 1 at least one fail; 2 bad input (a bad spec, no such
    package or version, requirements that conflict); 3 nothing failed but something could
    not be fully checked.
    """
    from shouldi.api import Request, answer
    from shouldi.cli.output import check_output, write_trace
    from shouldi.cli.progress import progress
    from shouldi.cli.render import render_json, render_text
    from shouldi.verdict import exit_code_for

    if trace_file is not None:
        check_output(trace_file, (), "--trace")
    check_allow_build(allow_build, then_install)
    python = None
    if then_install:
        from shouldi.cli.lock import install_environment

        python, settings = install_environment(ctx, settings)
    trace = trace_file is not None
    target = ""
    ignored: tuple[str, ...] = ()
    if no_deps:
        with progress(len(set(specs)), "checking", quiet) as tick:
            answers = answer(list(specs), settings, trace=trace, on_answer=tick)
    else:
        from shouldi.plan import answer_tree

        def resolving() -> None:
            if not quiet:
                click.echo(f"resolving the dependency tree of {', '.join(specs)}", err=True)

        result = answer_tree([Request(s) for s in specs], settings, trace=trace,
                             progress=lambda n: progress(n, "checking", quiet), on_resolve=resolving)
        answers, target, ignored = list(result.answers), result.target, result.ignored
    if trace_file is not None:
        write_trace(trace_file, answers)
    if fmt == "json":
        click.echo(render_json(answers))
    else:
        click.echo(render_text(answers, color=None if sys.stdout.isatty() else False, verbose=verbose))
        if target and len(answers) > len(specs):
            click.echo(f"judged {len({a.report.name for a in answers})} packages: what "
                       f"{', '.join(specs)} would install on {target}")
    for spec in ignored:
        click.echo(f"note: {spec!r}: its markers exclude {target}: not judged", err=True)
    bad = [a for a in answers if a.bad_input]
    for a in bad:
        click.echo(f"error: {a.report.input_error}", err=True)
    code = exit_code_for([a.report.verdict for a in answers], bad_input=bool(bad))
    if python is not None and code != 0:
        click.echo(f"not installing: the answer is not a pass or warn (exit {code})", err=True)
    if python is not None and code == 0:
        from shouldi.cli.lock import install_judged

        install_judged(answers, python, settings, allow_build=allow_build, target=target)
    sys.exit(code)
