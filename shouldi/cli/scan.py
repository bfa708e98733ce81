"""``shouldi scan``: scan many packages, print a summary table, and record a dataset.

Records go to ``--output`` (CSV, JSON Lines or SQLite, by extension) as each package
finishes, one row per release (:func:`shouldi.record.report_to_record`), checkpointed so a
killed run keeps what it had done. A re-run resumes: a release already recorded is not
scanned again. A record's key holds the artifact sha256, which is only known after
resolving, so resuming matches ``(name, version, index)``: pinned specs are matched before
anything is fetched, unpinned ones after a cheap resolve (one index page each); what still
slips through (two specs resolving to one release) is scanned once and written once.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from shouldi.cli.inputs import Checked, Target, check_targets, gather_inputs, input_options
from shouldi.cli.options import RequirementSpecType, scan_options
from shouldi.cli.runner import ScanSettings, SpecOutcome
from shouldi.errors import EXIT_BAD_INPUT
from shouldi.verdict import Verdict, exit_code_for

if TYPE_CHECKING:
    from shouldi.sources import RecordKey, Source

__all__ = ["progress_bar", "scan"]

_COLOURS = {Verdict.PASS: "green", Verdict.WARN: "yellow", Verdict.FAIL: "red", Verdict.ERROR: "magenta"}
Done = tuple[str, str, str]  # (name, version, index root)


@contextlib.contextmanager
def progress_bar(total: int, verb: str = "scanning") -> Iterator[Callable[[str], None]]:
    """A bar with counts and ETA on stderr when it is a terminal; silent otherwise."""
    if not sys.stderr.isatty() or total == 0:
        yield lambda _spec: None
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
        yield lambda spec: bar.update(task, advance=1, description=spec)


async def _resolve_versions(targets: Sequence[Target], timeout: float) -> dict[Target, str]:
    """The version each unpinned target resolves to now (targets that fail are left out)."""
    from shouldi.index import make_client, parse_spec, resolve

    async with make_client(timeout=timeout) as client:
        async def one(t: Target) -> tuple[Target, str] | None:
            try:
                release = await resolve(client, t.index_url, parse_spec(t.spec or ""))
            except Exception:  # the real scan reports it properly
                return None
            return t, release.version

        found = await asyncio.gather(*(one(t) for t in targets))
    return dict(f for f in found if f is not None)


def _already_done(targets: Sequence[Target], done: set[Done], timeout: float
                  ) -> dict[Target, str]:
    """Targets whose release is already in the dataset, with its version (see the module doc)."""
    if not done:
        return {}
    skip: dict[Target, str] = {}
    unpinned = []
    for t in targets:
        dep = t.dependency
        if t.spec is None or dep.name is None:
            continue
        if dep.pinned and dep.version is not None:
            from packaging.version import InvalidVersion, Version

            with contextlib.suppress(InvalidVersion):
                version = str(Version(dep.version))
                if (dep.name, version, t.index_url) in done:
                    skip[t] = version
        else:
            unpinned.append(t)
    if unpinned:
        resolved = asyncio.run(_resolve_versions(unpinned, timeout))
        skip.update((t, v) for t, v in resolved.items() if (t.dependency.name, v, t.index_url) in done)
    return skip


def _table(checked: Sequence[Checked], recorded: Mapping[Target, str]) -> str:
    rows = [("PACKAGE", "VERSION", "VERDICT", "PINNED", "WHY")]
    for c in checked:
        dep = c.target.dependency
        if c.target in recorded:
            rows.append((dep.name or dep.spec, recorded[c.target], "-", "yes" if dep.pinned else "no",
                         "already recorded"))
        elif c.report is None:
            rows.append((dep.name or dep.spec, "", "-", "", "environment markers exclude it here"))
        else:
            r = c.report
            why = r.reasons[0].message if r.reasons else ""
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


def _summary(checked: Sequence[Checked], recorded: Mapping[Target, str], written: int | None
             ) -> str:
    counts = {v: sum(1 for c in checked if c.report is not None and c.report.verdict is v
                     and c.target not in recorded) for v in Verdict}
    parts = [f"{n} {v.value}" for v, n in counts.items() if n]
    if recorded:
        parts.append(f"{len(recorded)} already recorded")
    excluded = sum(1 for c in checked if c.report is None and c.target not in recorded)
    if excluded:
        parts.append(f"{excluded} excluded by markers")
    line = f"{len(checked)} dependencies: " + (", ".join(parts) or "nothing to do")
    return line + (f"; {written} records written" if written is not None else "")


@click.command()
@click.argument("specs", nargs=-1, type=RequirementSpecType())
@input_options
@scan_options
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Record one row per release here: .csv, .jsonl or .sqlite (resumable).")
@click.pass_context
def scan(ctx: click.Context, specs: tuple[str, ...], requirements: tuple[Path, ...],
         pyproject: Path | None, groups: tuple[str, ...], all_groups: bool, installed: bool,
         paths: tuple[str, ...], output: Path | None, index_url: str, timeout: float,
         scan_timeout: float, cache_dir: Path | None, no_cache: bool, max_age: float, advisory_db: Path | None,
         pip_audit_osv_url: str | None, no_pip_audit: bool, no_safety_cli: bool, jobs: int,
         policy_file: Path | None) -> None:
    """Scan SPECs, requirements files, a pyproject.toml or the installed packages.

    Unpinned requirements are resolved to the newest matching release (and shown as not
    pinned). With --output, each release becomes a record; a re-run skips releases already
    recorded.

    \b
    Exit codes: as `install`: 0 pass or warn; 1 a fail; 2 bad input; 3 not fully checked.
    """
    from shouldi.policy import load_policy

    inputs = gather_inputs(ctx, specs, requirements, pyproject, groups, all_groups, installed,
                           paths, index_url)
    for warning in inputs.warnings:
        click.echo(f"warning: {warning}", err=True)
    settings = ScanSettings(
        index_url=index_url, policy=load_policy(path=policy_file), timeout=timeout,
        scan_timeout=scan_timeout, cache_dir=cache_dir, no_cache=no_cache, max_age=max_age,
        advisory_db=advisory_db, pip_audit_osv_url=pip_audit_osv_url,
        pip_audit=not no_pip_audit, safety_cli=not no_safety_cli, jobs=jobs)
    source: Source | None = None
    keys: set[RecordKey] = set()
    done: set[Done] = set()
    if output is not None:
        from shouldi.sources import open_source

        source = open_source(output)
        keys = source.keys()
        done = {(k.name, k.version, k.index_url) for k in keys}
    recorded = _already_done(inputs.targets, done, timeout)
    todo = [replace(t, spec=None, excluded=True) if t in recorded else t for t in inputs.targets]
    total = len({(t.index_url, t.spec) for t in todo if t.spec is not None})
    with progress_bar(total) as on_done:
        if source is None:
            checked = check_targets(todo, settings, lambda: contextlib.nullcontext(on_done))
            written = None
        else:
            checked, written = _scan_recording(todo, settings, source, keys, on_done)
    checked = [replace(c, target=t) for c, t in zip(checked, inputs.targets, strict=True)]
    click.echo(_table(checked, recorded), color=None if sys.stdout.isatty() else False)
    click.echo(_summary(checked, recorded, written))
    bad = [c for c in checked if c.bad_input and c.report is not None]
    for c in bad:
        where = c.target.dependency.origin if c.target.dependency.origin_file else c.target.label
        click.echo(f"error: {where}: {c.report.reasons[0].message if c.report else ''}", err=True)
    if bad:
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(exit_code_for([c.report.verdict for c in checked
                            if c.report is not None and c.target not in recorded]))


def _scan_recording(todo: Sequence[Target], settings: ScanSettings, source: Source,
                    keys: set[RecordKey], on_done: Callable[[str], None]
                    ) -> tuple[list[Checked], int]:
    """Scan and write each release's record as soon as it is done (each key once)."""
    from shouldi.record import RECORD_COLUMNS, report_to_record
    from shouldi.sources import record_key

    seen = set(keys)
    with source.writer(RECORD_COLUMNS, checkpoint_every=10, checkpoint_seconds=10.0) as writer:
        def record(index_url: str, outcome: SpecOutcome) -> None:
            report = outcome.report
            if outcome.bad_input or report.version is None:
                return
            row = report_to_record(report, index_url)
            key = record_key(row)
            if key not in seen:
                seen.add(key)
                writer.write(row)

        checked = check_targets(todo, settings, lambda: contextlib.nullcontext(on_done), record)
    return checked, writer.written
