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

The risk model's ``history.*`` features (the project as of the release's upload,
:func:`shouldi.risk_model.features.history_check`) are computed here from the index's JSON
API (one request per project, :func:`shouldi.index.jsonapi.fetch_metadata`) and the labels
file's ``project_advisories`` column (publication times of the project's advisories; absent:
unknown). The flow computes a ``history`` check too, from the local advisory store (often
absent, or newer than the labels); where the labels file gives the project's advisory history,
that is what the row's label was made from, so its check replaces the flow's: a label and its
features come from the same data (the history never judges: the verdict is the flow's).
``--history-only`` writes those and the labels without downloading or scanning anything: for
research on history features, never for a model that is meant to read code features.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from shouldi.cli.options import scan_options
from shouldi.distributed.option import dask_option
from shouldi.errors import EXIT_ERROR, UsageError
from shouldi.results import CheckResult, Status
from shouldi.verdict import CheckSummary, PackageReport

if TYPE_CHECKING:
    from shouldi.record import Scalar
    from shouldi.settings import Settings

__all__ = ["LabelledSpec", "build", "history_checks", "read_labels", "with_history"]

LABEL_COLUMNS = ("label", "label_source", "date", "advisory_ids")
LabelledSpec = tuple[str, dict[str, str | int]]  # (spec, label columns)
ADVISORY_TIMES = "project_advisories"  # input of history features; written as label data


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
        for extra in (*LABEL_COLUMNS[1:], ADVISORY_TIMES):
            if extra in row:  # an empty cell is a value: for ADVISORY_TIMES, "none known"
                columns[extra] = "" if row[extra] is None else str(row[extra])
        _check_times(columns, where)
        out.setdefault(spec, columns)
    if not out:
        raise UsageError(f"{path}: no labelled releases")
    return list(out.items())


def _check_times(columns: dict[str, str | int], where: str) -> None:
    """A ``date`` that is not an ISO time (empty: unknown), or ``project_advisories`` that are
    not ISO times, is refused here, naming the row: it would be written into the output."""
    date = str(columns.get("date", "")).strip()
    if date:
        try:
            datetime.fromisoformat(date)
        except ValueError:
            raise UsageError(f"{where}: date {date[:40]!r} is not an ISO date "
                             "(e.g. 2022-10-05T12:14:22+00:00)") from None
    if ADVISORY_TIMES in columns:
        try:
            advisory_times(columns[ADVISORY_TIMES])
        except UsageError as e:
            raise UsageError(f"{where}: {e}") from e


def advisory_times(text: object) -> tuple[datetime, ...] | None:
    """The ``project_advisories`` cell: ISO times, space separated; empty: none; no column
    (``None``): unknown. Unknown and none must differ: a labels file whose clean projects had
    "unknown" here would let a model tell them apart by the missing value alone."""
    if text is None:
        return None
    try:
        return tuple(datetime.fromisoformat(t) for t in str(text).split())
    except ValueError as e:
        raise UsageError(f"{ADVISORY_TIMES}: not ISO times: {str(text)[:60]!r}") from e


def history_checks(specs: Sequence[LabelledSpec], index_url: str, timeout: float) -> dict[str, CheckResult]:
    """The ``history`` check of each spec, from one JSON API request per project."""
    from shouldi.index import make_client, normalize_name, parse_spec
    from shouldi.index.errors import PackageIndexError
    from shouldi.index.jsonapi import fetch_metadata
    from shouldi.results import PackageMetadata
    from shouldi.risk_model.features import history_check

    async def run() -> dict[str, CheckResult]:
        metas: dict[str, PackageMetadata | str] = {}
        out: dict[str, CheckResult] = {}
        async with make_client(timeout=timeout) as client:
            for spec, columns in specs:
                req = parse_spec(spec)
                name, version = normalize_name(req.name), spec.split("==", 1)[1]
                if name not in metas:
                    try:
                        metas[name] = await fetch_metadata(client, index_url, name, version)
                    except PackageIndexError as e:
                        metas[name] = str(e)
                meta = metas[name]
                if isinstance(meta, str):
                    out[spec] = CheckResult("history", Status.ERROR, reason=meta)
                    continue
                meta = replace(meta, version=version)
                out[spec] = history_check(meta, version, advisory_times(columns.get(ADVISORY_TIMES)))
        return out

    return asyncio.run(run())


def with_history(report: PackageReport, check: CheckResult | None,
                 from_labels: bool = False) -> PackageReport:
    """``report`` with the history ``check`` computed here: in place of the flow's when the
    labels gave the project's advisory history (``from_labels``), else only where it has none."""
    if check is None or ("history" in report.checks and not from_labels):
        return report
    return replace(report, checks={**report.checks, "history": CheckSummary.of(check)})


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


def _output_columns(columns: dict[str, str | int]) -> dict[str, str | int]:
    """The label columns as written: ``project_advisories`` too (label data the model never
    reads: the assessment uses it to tell projects with advisories from the others)."""
    return dict(columns)


def _history_record(spec: str, check: CheckResult, index_url: str,
                    columns: dict[str, str | int]) -> dict[str, Scalar]:
    """A record with only identity, the history check and the labels (``--history-only``)."""
    from shouldi.record import RECORD_COLUMNS, report_to_record
    from shouldi.verdict import Verdict

    name, version = spec.split("==", 1)
    report = PackageReport(name=name, version=version, verdict=Verdict.ERROR, reasons=(),
                           checks={"history": CheckSummary.of(check)}, requested=spec)
    record: dict[str, Scalar] = dict.fromkeys(RECORD_COLUMNS)
    full = report_to_record(report, index_url)
    for key in ("name", "version", "index_url", "requested", "history.status", "shouldi.version",
                "scanned_at", *(c for c in full if c.startswith("history."))):
        record[key] = full[key]
    record["verdict"] = None  # nothing was checked: no verdict
    return {**record, **_output_columns(columns)}


def _batches(items: Sequence[LabelledSpec], size: int) -> Iterator[Sequence[LabelledSpec]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@click.command("build")
@click.argument("labels", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Features file (.csv, .jsonl, .sqlite); existing rows are kept and skipped.")
@click.option("--batch", type=click.IntRange(min=1), default=None,
              help="Releases committed at once (default: 4 x --jobs).")
@click.option("--history-only", is_flag=True,
              help="Write the history features and labels only: no download, no scan.")
@scan_options
@dask_option
def build(labels: Path, output: Path, batch: int | None, history_only: bool, settings: Settings,
          quiet: bool) -> None:
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
        for chunk in _batches(todo, batch or (64 if history_only else 4 * settings.jobs)):
            columns = dict(chunk)
            history = history_checks(chunk, settings.index_url, settings.timeout)
            if history_only:
                for spec, cols in chunk:
                    writer.write(_history_record(spec, history[spec], settings.index_url, cols))
                    tick(spec)
                writer.checkpoint()
                continue
            outcomes = answer(list(columns), settings)
            for outcome in outcomes:
                report = outcome.report
                if report.version is None:
                    failed.append(f"{outcome.spec}: {report.reasons[0].message if report.reasons else '?'}")
                else:
                    report = with_history(report, history.get(outcome.spec),
                                          ADVISORY_TIMES in columns[outcome.spec])
                    record = report_to_record(report, settings.index_url)
                    writer.write({**record, **_output_columns(columns[outcome.spec])})
                tick(outcome.spec)
            writer.checkpoint()
    click.echo(f"wrote {writer.written} records to {output}", err=True)
    for line in failed:
        click.echo(f"not scanned: {line}", err=True)
    if failed:
        sys.exit(EXIT_ERROR)
