"""``shouldi scan``: scan many packages, print a summary table, and record a dataset.

Records go to ``--output`` (CSV, JSON Lines or SQLite, by extension) as each package
finishes, one row per release (:func:`shouldi.record.report_to_record`), checkpointed so a
killed run keeps what it had done. A re-run resumes: a release already recorded is not
scanned again. A record's key holds the artifact sha256, which is only known after
resolving, so resuming matches ``(name, version, index)`` inside the flow: the releases
already recorded are a seed (``Recorded``), every spec is resolved (one index page) and a
release found there is not checked again (``release_wanted``). Two specs resolving to one
release are scanned once and written once.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from shouldi.cli.inputs import (
    Checked,
    Inputs,
    check_targets,
    gather_inputs,
    input_options,
    with_dependencies,
)
from shouldi.cli.options import RequirementSpecType, scan_options, trace_option
from shouldi.distributed.option import dask_option
from shouldi.verdict import Verdict, exit_code_for

if TYPE_CHECKING:
    from shouldi.api import Answer
    from shouldi.settings import Settings
    from shouldi.sources import RecordKey, Source

__all__ = ["scan"]

_COLOURS = {Verdict.PASS: "green", Verdict.WARN: "yellow", Verdict.FAIL: "red", Verdict.ERROR: "magenta"}


def _table(checked: Sequence[Checked]) -> str:
    rows = [("PACKAGE", "VERSION", "VERDICT", "PINNED", "WHY")]
    for c in checked:
        dep = c.target.dependency
        if c.recorded and c.report is not None:
            rows.append((c.report.name, c.report.version or "", "-",
                         "yes" if dep.pinned else "no", "already recorded"))
        elif c.report is None:
            rows.append((dep.name or dep.spec, "", "-", "", "environment markers exclude it here"))
        else:
            r = c.report
            counted = r.counted_reasons
            why = "bad input (the error below)" if r.input_error else counted[0].message if counted else ""
            rows.append((r.name, r.version or "", r.verdict.value, "yes" if dep.pinned else "no",
                         why[:70] + ("..." if len(why) > 70 else "")))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for row in rows:
        cells = [row[i].ljust(widths[i]) for i in range(4)]
        if row[2] in {v.value for v in Verdict}:
            cells[2] = click.style(cells[2], fg=_COLOURS[Verdict(row[2])], bold=True)
        lines.append("  ".join([*cells, row[4]]).rstrip())
    return "\n".join(lines)


def _summary(checked: Sequence[Checked], written: int | None) -> str:
    counts = {v: sum(1 for c in checked if c.report is not None and c.report.verdict is v
                     and not c.recorded) for v in Verdict}
    parts = [f"{n} {v.value}" for v, n in counts.items() if n]
    recorded = sum(1 for c in checked if c.recorded)
    if recorded:
        parts.append(f"{recorded} already recorded")
    excluded = sum(1 for c in checked if c.report is None)
    if excluded:
        parts.append(f"{excluded} excluded by markers")
    line = f"{len(checked)} dependencies: " + (", ".join(parts) or "nothing to do")
    return line + (f"; {written} records written" if written is not None else "")


@click.command()
@click.argument("specs", nargs=-1, type=RequirementSpecType())
@input_options
@scan_options
@dask_option
@trace_option
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Record one row per release here: .csv, .jsonl or .sqlite (resumable).")
@click.pass_context
def scan(ctx: click.Context, specs: tuple[str, ...], requirements: tuple[Path, ...],
         pyproject: Path | None, groups: tuple[str, ...], all_groups: bool, installed: bool,
         paths: tuple[str, ...], output: Path | None, settings: Settings, quiet: bool,
         trace_file: Path | None) -> None:
    """Scan SPECs, requirements files, a pyproject.toml or the installed packages.

    Unpinned requirements are resolved to the newest matching release (and shown as not
    pinned). With --output, each release becomes a record; a re-run skips releases already
    recorded.

    \b
    Exit codes: as `install`: 0 pass or warn; 1 a fail; 2 bad input; 3 not fully checked.
    """
    from shouldi.cli.output import check_outputs, write_trace
    from shouldi.cli.progress import progress

    given = [*requirements, *([pyproject] if pyproject else [])]
    outputs = ((output, "--output"), (trace_file, "--trace"))
    check_outputs(outputs, given)
    inputs = gather_inputs(ctx, specs, requirements, pyproject, groups, all_groups, installed,
                           paths, settings.index_url)
    # again with every file read (-r/-c includes too): an output never replaces one
    check_outputs(outputs, inputs.files)
    trace = trace_file is not None
    if output is None:
        inputs = _with_tree(ctx, inputs, settings)
        with progress(_total(inputs), "scanning", quiet) as tick:
            checked = check_targets(inputs.targets, settings, on_answer=tick, trace=trace)
        written = None
    else:  # the output is opened (and a foreign file refused) before a tree is resolved
        checked, written = _scan_recording(ctx, inputs, settings, output, quiet, trace)
    if trace_file is not None:
        write_trace(trace_file, [c.answer for c in checked if c.answer is not None])
    click.echo(_table(checked), color=None if sys.stdout.isatty() else False)
    click.echo(_summary(checked, written))
    bad = [c for c in checked if c.bad_input and c.report is not None]
    for c in bad:
        where = c.target.dependency.origin if c.target.dependency.origin_file else c.target.label
        click.echo(f"error: {where}: {c.report.input_error if c.report else ''}", err=True)
    sys.exit(exit_code_for([c.report.verdict for c in checked
                            if c.report is not None and not c.recorded], bad_input=bool(bad)))


def _with_tree(ctx: click.Context, inputs: Inputs, settings: Settings) -> Inputs:
    """The inputs with their files' dependency trees (see shouldi.cli.inputs); warnings said."""
    inputs = with_dependencies(ctx, inputs, settings)
    for warning in inputs.warnings:
        click.echo(f"warning: {warning}", err=True)
    return inputs


def _total(inputs: Inputs) -> int:
    return len({t.request for t in inputs.targets if t.spec is not None})


def _scan_recording(ctx: click.Context, inputs: Inputs, settings: Settings, output: Path,
                    quiet: bool, trace: bool) -> tuple[list[Checked], int]:
    """Scan and write each release's record as soon as it is done (each key once)."""
    from shouldi.cli.progress import progress
    from shouldi.record import RECORD_COLUMNS, report_to_record
    from shouldi.sources import open_source

    source: Source = open_source(output)
    # The writer holds the lock from here on: keys read before it could be stale (a second
    # `scan -o` on the same file waits here, then resumes from what the first one wrote).
    with source.writer(RECORD_COLUMNS, checkpoint_every=10, checkpoint_seconds=10.0) as writer:
        keys: set[RecordKey] = set(writer.known_keys())
        recorded = frozenset((k.name, k.version, k.index_url) for k in keys)
        inputs = _with_tree(ctx, inputs, settings)
        with progress(_total(inputs), "scanning", quiet) as tick:
            def record(a: Answer) -> None:
                tick(a)
                report = a.report
                if a.recorded or a.bad_input or report.version is None:
                    return
                writer.write_if_new(report_to_record(report, a.request.index_url or settings.index_url))

            checked = check_targets(inputs.targets, settings, on_answer=record, trace=trace,
                                    recorded=recorded)
    return checked, writer.written
