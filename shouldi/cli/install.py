"""``shouldi install``: should I install this? An answer per package, with its evidence."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from shouldi.cli.options import RequirementSpecType, scan_options
from shouldi.errors import EXIT_BAD_INPUT, EXIT_ERROR

__all__ = ["install"]


@contextmanager
def _progress(total: int) -> Iterator[Callable[[str], None]]:
    """A progress display on stderr when it is a terminal; silent otherwise."""
    if not sys.stderr.isatty():
        yield lambda _spec: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("scanning"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), console=console, transient=True) as bar:
        task = bar.add_task("", total=total)
        yield lambda spec: bar.update(task, advance=1, description=spec)


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
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--verbose", "-v", is_flag=True, help="Show every reason and every check's status.")
@click.option("--then-install", is_flag=True,
              help="After a pass or warn, pip-install exactly the artifact that was scanned "
                   "(pinned by sha256, --no-deps: dependencies are not scanned by this command).")
def install(specs: tuple[str, ...], fmt: str, verbose: bool, then_install: bool, index_url: str,
            timeout: float, scan_timeout: float, cache_dir: Path | None, no_cache: bool, max_age: float,
            advisory_db: Path | None, pip_audit_osv_url: str | None, no_pip_audit: bool,
            no_safety_cli: bool, jobs: int,
            policy_file: Path | None) -> None:
    """Should I install SPEC? Scan each package without running it, and answer with evidence.

    \b
    Exit codes: 0 pass or warn; 1 at least one fail; 2 bad input (a bad spec, no such
    package or version); 3 nothing failed but something could not be fully checked.
    """
    from shouldi.cli.runner import ScanSettings, scan_specs
    from shouldi.policy import load_policy
    from shouldi.verdict import Verdict, exit_code_for

    settings = ScanSettings(
        index_url=index_url, policy=load_policy(path=policy_file), timeout=timeout,
        scan_timeout=scan_timeout, cache_dir=cache_dir, no_cache=no_cache, max_age=max_age, advisory_db=advisory_db,
        pip_audit_osv_url=pip_audit_osv_url, pip_audit=not no_pip_audit,
        safety_cli=not no_safety_cli, jobs=jobs,
    )
    outcomes = scan_specs(specs, settings, lambda: _progress(len(set(specs))))
    if fmt == "json":
        from shouldi.cli.render import render_json

        click.echo(render_json(outcomes))
    else:
        from shouldi.cli.render import render_text

        click.echo(render_text(outcomes, color=None if sys.stdout.isatty() else False, verbose=verbose))
    for o in outcomes:
        if o.bad_input:
            click.echo(f"error: {o.report.reasons[0].message}", err=True)
    if any(o.bad_input for o in outcomes):
        sys.exit(EXIT_BAD_INPUT)
    code = exit_code_for([o.report.verdict for o in outcomes])
    if then_install and code == 0:
        for o in outcomes:
            r = o.report
            if r.artifact is None or not r.artifact.sha256 or r.version is None:
                click.echo(f"error: {r.name}: no verified sha256 to pin; not installing", err=True)
                sys.exit(EXIT_ERROR)
            if r.verdict in (Verdict.PASS, Verdict.WARN):
                rc = _pip_install(r.name, r.version, r.artifact.sha256, index_url)
                if rc != 0:
                    click.echo(f"error: pip install of {r.name}=={r.version} failed (exit {rc})", err=True)
                    sys.exit(EXIT_ERROR)
    sys.exit(code)
