"""``shouldi ci``: the gate for CI — scan the dependencies, apply the allowlist, exit 0/1/2/3.

The report goes to stdout in ``--format``, or to ``--output FILE`` (written atomically) with
the text report on stdout for the log; ``--summary FILE`` appends the Markdown summary (for
``$GITHUB_STEP_SUMMARY``), so one run gives SARIF for code scanning and a readable summary.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from shouldi.cli.inputs import (
    CLOSURE,
    check_targets,
    gather_inputs,
    input_options,
    with_dependencies,
)
from shouldi.cli.options import RequirementSpecType, scan_options, trace_option
from shouldi.results import Severity

if TYPE_CHECKING:
    from shouldi.settings import Settings

__all__ = ["ci"]


@click.command()
@click.argument("specs", nargs=-1, type=RequirementSpecType())
@input_options
@scan_options
@trace_option
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
       severity_floor: str | None, settings: Settings, quiet: bool,
       trace_file: Path | None) -> None:
    """Gate a change on its dependencies: requirements files, pyproject.toml, SPECs, installed.

    \b
    Exit codes (as `install`):
      0  every dependency passes (or only warns), after the allowlist
      1  at least one dependency fails the gate
      2  bad input: an unreadable file, a bad line (named by file:line), no such package
      3  nothing failed, but something could not be fully checked
    """
    from shouldi.cli.output import check_outputs, write_output, write_trace
    from shouldi.cli.progress import progress
    from shouldi.gate import GateOptions, decide, load_allowlist
    from shouldi.gate.formats import FORMATS, MarkdownFormatter, TextFormatter

    inputs_given = [*requirements, *([pyproject] if pyproject else []),
                    *([allowlist] if allowlist else [])]
    outputs = ((output, "--output"), (summary, "--summary"), (trace_file, "--trace"))
    check_outputs(outputs, inputs_given)
    if max_risk_score is not None:  # before anything runs: a gate on a score that means nothing
        from shouldi.settings import check_risk_gate

        check_risk_gate(max_risk_score)
    loaded = load_allowlist(allowlist) if allowlist is not None else None
    inputs = gather_inputs(ctx, specs, requirements, pyproject, groups, all_groups, installed,
                           paths, settings.index_url, spec_tree=CLOSURE)
    # again with every file read (-r/-c includes too): an output never replaces one
    check_outputs(outputs, inputs.files)
    inputs = with_dependencies(ctx, inputs, settings)
    total = len({t.request for t in inputs.targets if t.spec is not None})
    with progress(total, "checking", quiet) as tick:
        checked = check_targets(inputs.targets, settings, on_answer=tick,
                                trace=trace_file is not None)
    if trace_file is not None:
        write_trace(trace_file, [c.answer for c in checked if c.answer is not None])
    options = GateOptions(fail_on_warn, max_risk_score,
                          Severity(severity_floor) if severity_floor else None)
    result = decide([(c.target.dependency, c.report) for c in checked], allowlist=loaded,
                    options=options, warnings=inputs.warnings)
    color = sys.stdout.isatty()
    rendered = TextFormatter(color).render(result) if fmt == "text" else FORMATS[fmt]().render(result)
    if output is not None:
        write_output(output, rendered if rendered.endswith("\n") else rendered + "\n")
        click.echo(TextFormatter(color).render(result))
    else:
        click.echo(rendered, nl=not rendered.endswith("\n"))
    if summary is not None:
        write_output(summary, MarkdownFormatter().render(result), append=True, what="--summary")
    for c in checked:
        if c.bad_input and c.report is not None:
            dep = c.target.dependency
            where = dep.origin if dep.origin_file else "command line"
            click.echo(f"error: {where}: {c.report.input_error}", err=True)
    sys.exit(result.exit_code)
