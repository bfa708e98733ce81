"""``shouldi dataset build``: scan every labelled release and write its features beside the label.

The labels file (any record format: .csv, .jsonl, .sqlite) lists ``name``, ``version`` and
``label`` (0 or 1; ``label_source`` is carried along when present). Each row becomes the spec
``name==version`` and runs through the real flow (:func:`shouldi.api.answer`),
downloading from the index. The output gets one scan record per release
(:func:`~shouldi.record.report_to_record`) plus the label columns.

Resumable: rows whose spec is already in the output (its ``requested`` column) are skipped, and
records are committed after every batch, so an interrupted build loses at most one batch.
A release that could not be resolved (no record to write) is listed at the end and retried by
the next run; exit code 3 then says the dataset is incomplete.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from shouldi.cli.options import scan_options
from shouldi.errors import EXIT_ERROR, UsageError

if TYPE_CHECKING:
    from shouldi.settings import Settings

__all__ = ["LabelledSpec", "build", "read_labels"]

LABEL_COLUMNS = ("label", "label_source")
LabelledSpec = tuple[str, dict[str, str | int]]  # (spec, label columns)


def read_labels(path: Path) -> list[LabelledSpec]:
    """``(name==version, {"label": 0|1, ...})`` per row, duplicates dropped; bad rows refused."""
    from shouldi.index import BadSpec, parse_spec
    from shouldi.sources import open_source

    out: dict[str, dict[str, str | int]] = {}
    for number, row in enumerate(open_source(path).read(), start=2):
        name, version, label = row.get("name"), row.get("version"), row.get("label")
        where = f"{path}: row {number}"
        if not name or not version:
            raise UsageError(f"{where}: needs 'name' and 'version'")
        if str(label).strip() not in ("0", "1", "True", "False", "true", "false"):
            raise UsageError(f"{where}: label must be 0 or 1, not {label!r}")
        spec = f"{str(name).strip()}=={str(version).strip()}"
        try:
            parse_spec(spec)
        except BadSpec as e:
            raise UsageError(f"{where}: {e}") from e
        columns: dict[str, str | int] = {"label": int(str(label).strip() in ("1", "True", "true"))}
        if row.get("label_source") is not None:
            columns["label_source"] = str(row["label_source"])
        out.setdefault(spec, columns)
    if not out:
        raise UsageError(f"{path}: no labelled releases")
    return list(out.items())


def _done_specs(output: Path) -> set[str]:
    from shouldi.sources import open_source

    source = open_source(output)
    if not source.path.exists():
        return set()
    return {str(r["requested"]) for r in source.read() if r.get("requested")}


@contextmanager
def _progress(total: int, done: int) -> Iterator[Callable[[str], None]]:
    """A bar on a terminal; otherwise one line per finished release (for logs)."""
    if not sys.stderr.isatty():
        count = [done]

        def line(spec: str) -> None:
            count[0] += 1
            click.echo(f"[{count[0]}/{total}] {spec}", err=True)

        yield line
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("building"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  TextColumn("{task.description}"), console=Console(stderr=True)) as bar:
        task = bar.add_task("", total=total, completed=done)
        yield lambda spec: bar.update(task, advance=1, description=spec)


def _batches(items: Sequence[LabelledSpec], size: int) -> Iterator[Sequence[LabelledSpec]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@click.command("build")
@click.argument("labels", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Features file (.csv, .jsonl, .sqlite); existing rows are kept and skipped.")
@click.option("--batch", type=click.IntRange(min=1), default=None,
              help="Releases committed at once (default: 4 x --jobs).")
@scan_options
def build(labels: Path, output: Path, batch: int | None, settings: Settings, quiet: bool) -> None:
    """Scan every release listed in LABELS and write features + label to --output."""
    from shouldi.api import answer
    from shouldi.record import report_to_record
    from shouldi.sources import open_source

    if output.resolve() == labels.resolve():
        raise UsageError("--output must not be the labels file")
    wanted = read_labels(labels)
    done = _done_specs(output)
    todo = [(spec, cols) for spec, cols in wanted if spec not in done]
    click.echo(f"{len(wanted)} labelled releases, {len(wanted) - len(todo)} already in {output}",
               err=True)
    failed: list[str] = []
    with _progress(len(wanted), len(wanted) - len(todo)) as tick, \
            open_source(output).writer(checkpoint_seconds=None) as writer:
        for chunk in _batches(todo, batch or 4 * settings.jobs):
            columns = dict(chunk)
            outcomes = answer(list(columns), settings)
            for outcome in outcomes:
                report = outcome.report
                if report.version is None:
                    failed.append(f"{outcome.spec}: {report.reasons[0].message if report.reasons else '?'}")
                else:
                    record = report_to_record(report, settings.index_url)
                    writer.write({**record, **columns[outcome.spec]})
                tick(outcome.spec)
            writer.checkpoint()
    click.echo(f"wrote {writer.written} records to {output}", err=True)
    for line in failed:
        click.echo(f"not scanned: {line}", err=True)
    if failed:
        sys.exit(EXIT_ERROR)
