"""``shouldi ci``: the gate for CI — scan the dependencies, apply the allowlist, exit 0/1/2/3.

The report goes to stdout in ``--format``, or to ``--output FILE`` (written atomically) with
the text report on stdout for the log; ``--summary FILE`` appends the Markdown summary (for
``$GITHUB_STEP_SUMMARY``), so one run gives SARIF for code scanning and a readable summary.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

import click

from shouldi.cli.inputs import check_targets, gather_inputs, input_options
from shouldi.cli.options import RequirementSpecType, scan_options
from shouldi.cli.scan import progress_bar
from shouldi.errors import EXIT_BAD_INPUT, UsageError
from shouldi.results import Severity

__all__ = ["ci", "write_atomically"]


def write_atomically(path: Path, text: str, append: bool = False) -> None:
    """Replace (or extend) ``path`` through a temp file and ``os.replace``: never half written."""
    try:
        old = path.read_text(encoding="utf-8") if append and path.exists() else ""
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from e
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(old + text)
            out.flush()
            os.fsync(out.fileno())
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from e


@click.command()
@click.argument("specs", nargs=-1, type=RequirementSpecType())
@input_options
@scan_options
@click.option("--allowlist", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML file of reviewed exceptions, each with a reason and an expiry date.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "markdown"]),
              default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report here (atomically); the text report still goes to stdout.")
@click.option("--summary", type=click.Path(dir_okay=False, path_type=Path),
              help="Append the Markdown summary here (e.g. \"$GITHUB_STEP_SUMMARY\").")
@click.option("--fail-on-warn", is_flag=True, help="A warning fails the gate too.")
@click.option("--max-risk-score", type=click.FloatRange(0, 100),
              help="Fail a package whose risk score (0-100) reaches this.")
@click.option("--severity-floor", type=click.Choice([s.value for s in Severity]),
              help="Ignore known vulnerabilities below this severity.")
@click.pass_context
def ci(ctx: click.Context, specs: tuple[str, ...], requirements: tuple[Path, ...],
       pyproject: Path | None, groups: tuple[str, ...], all_groups: bool, installed: bool,
       paths: tuple[str, ...], allowlist: Path | None, fmt: str, output: Path | None,
       summary: Path | None, fail_on_warn: bool, max_risk_score: float | None,
       severity_floor: str | None, index_url: str, timeout: float, scan_timeout: float,
       cache_dir: Path | None, no_cache: bool, max_age: float, advisory_db: Path | None,
       pip_audit_osv_url: str | None, no_pip_audit: bool, no_safety_cli: bool, jobs: int,
       policy_file: Path | None) -> None:
    """Gate a change on its dependencies: requirements files, pyproject.toml, SPECs, installed.

    \b
    Exit codes (as `install`):
      0  every dependency passes (or only warns), after the allowlist
      1  at least one dependency fails the gate
      2  bad input: an unreadable file, a bad line (named by file:line), no such package
      3  nothing failed, but something could not be fully checked
    """
    from shouldi.cli.runner import ScanSettings
    from shouldi.gate import GateOptions, decide, load_allowlist
    from shouldi.gate.formats import FORMATS, MarkdownFormatter, TextFormatter
    from shouldi.policy import load_policy

    loaded = load_allowlist(allowlist) if allowlist is not None else None
    inputs = gather_inputs(ctx, specs, requirements, pyproject, groups, all_groups, installed,
                           paths, index_url)
    settings = ScanSettings(
        index_url=index_url, policy=load_policy(path=policy_file), timeout=timeout,
        scan_timeout=scan_timeout, cache_dir=cache_dir, no_cache=no_cache, max_age=max_age,
        advisory_db=advisory_db, pip_audit_osv_url=pip_audit_osv_url,
        pip_audit=not no_pip_audit, safety_cli=not no_safety_cli, jobs=jobs)
    total = len({(t.index_url, t.spec) for t in inputs.targets if t.spec is not None})
    with progress_bar(total, "checking") as on_done:
        checked = check_targets(inputs.targets, settings, lambda: contextlib.nullcontext(on_done))
    options = GateOptions(fail_on_warn, max_risk_score,
                          Severity(severity_floor) if severity_floor else None)
    result = decide([(c.target.dependency, c.report) for c in checked], allowlist=loaded,
                    options=options, warnings=inputs.warnings)
    color = sys.stdout.isatty()
    rendered = TextFormatter(color).render(result) if fmt == "text" else FORMATS[fmt]().render(result)
    if output is not None:
        write_atomically(output, rendered if rendered.endswith("\n") else rendered + "\n")
        click.echo(TextFormatter(color).render(result))
    else:
        click.echo(rendered, nl=not rendered.endswith("\n"))
    if summary is not None:
        write_atomically(summary, MarkdownFormatter().render(result), append=True)
    bad = [c for c in checked if c.bad_input and c.report is not None]
    for c in bad:
        dep = c.target.dependency
        where = dep.origin if dep.origin_file else "command line"
        click.echo(f"error: {where}: {c.report.reasons[0].message if c.report else ''}", err=True)
    sys.exit(EXIT_BAD_INPUT if bad else result.exit_code)
