"""``shouldi install``: should I install this? An answer per package, with its evidence."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from shouldi.cli.options import RequirementSpecType, scan_options, trace_option
from shouldi.errors import EXIT_ERROR

if TYPE_CHECKING:
    from shouldi.settings import Settings

__all__ = ["install"]


def _pip_install(name: str, version: str, sha256: str, index_url: str) -> int:
    """Install exactly the scanned artifact: pinned by its sha256, dependencies not pulled in."""
    with tempfile.TemporaryDirectory(prefix="shouldi-install-") as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text(f"{name}=={version} --hash=sha256:{sha256}\n", encoding="utf-8")
        argv = [sys.executable, "-m", "pip", "install", "--no-deps", "--require-hashes",
                "--index-url", index_url, "-r", str(req)]
        return subprocess.call(argv)


@click.command()
@click.argument("specs", nargs=-1, required=True, type=RequirementSpecType())
@scan_options
@trace_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--verbose", "-v", is_flag=True, help="Show every reason and every check's status.")
@click.option("--then-install", is_flag=True,
              help="After a pass or warn, pip-install exactly the artifact that was scanned "
                   "(pinned by sha256, --no-deps: dependencies are not scanned by this command).")
def install(specs: tuple[str, ...], fmt: str, verbose: bool, then_install: bool,
            settings: Settings, quiet: bool, trace_file: Path | None) -> None:
    """Should I install SPEC? Scan each package without running it, and answer with evidence.

    \b
    Exit codes: 0 pass or warn; 1 at least one fail; 2 bad input (a bad spec, no such
    package or version); 3 nothing failed but something could not be fully checked.
    """
    from shouldi.api import answer
    from shouldi.cli.output import check_output, write_trace
    from shouldi.cli.progress import progress
    from shouldi.cli.render import render_json, render_text
    from shouldi.verdict import Verdict, exit_code_for

    if trace_file is not None:
        check_output(trace_file, ())
    with progress(len(set(specs)), "checking", quiet) as tick:
        answers = answer(list(specs), settings, trace=trace_file is not None, on_answer=tick)
    if trace_file is not None:
        write_trace(trace_file, answers)
    if fmt == "json":
        click.echo(render_json(answers))
    else:
        click.echo(render_text(answers, color=None if sys.stdout.isatty() else False, verbose=verbose))
    bad = [a for a in answers if a.bad_input]
    for a in bad:
        click.echo(f"error: {a.report.input_error}", err=True)
    code = exit_code_for([a.report.verdict for a in answers], bad_input=bool(bad))
    if then_install and code == 0:
        for a in answers:
            r = a.report
            if r.artifact is None or not r.artifact.sha256 or r.version is None:
                click.echo(f"error: {r.name}: no verified sha256 to pin; not installing", err=True)
                sys.exit(EXIT_ERROR)
            if r.verdict in (Verdict.PASS, Verdict.WARN):
                rc = _pip_install(r.name, r.version, r.artifact.sha256, settings.index_url)
                if rc != 0:
                    click.echo(f"error: pip install of {r.name}=={r.version} failed (exit {rc})", err=True)
                    sys.exit(EXIT_ERROR)
    sys.exit(code)
