"""``shouldi dataset``: work with scan-record datasets (what ``shouldi scan --output`` writes).

``export`` converts between the formats of :mod:`shouldi.sources` (streaming, atomic; the
destination keeps its existing records: CSV/JSONL append, SQLite upserts by key). Other
dataset commands (``build``) join this group.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["dataset"]


@click.group()
def dataset() -> None:
    """Scan-record datasets: export between CSV, JSON Lines and SQLite."""


_PATH = click.Path(dir_okay=False, path_type=Path)


@dataset.command("export")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--csv", "csv_path", type=_PATH, help="Write a CSV file.")
@click.option("--jsonl", "jsonl_path", type=_PATH, help="Write a JSON Lines file.")
@click.option("--sqlite", "sqlite_path", type=_PATH, help="Write an SQLite database.")
def export(source: Path, csv_path: Path | None, jsonl_path: Path | None,
           sqlite_path: Path | None) -> None:
    """Copy every record of SOURCE (.csv, .jsonl or .sqlite) into one other format.

    \b
    Exit codes: 0 done; 2 bad input (unknown format, unreadable or malformed SOURCE).
    """
    from shouldi.errors import UsageError
    from shouldi.sources import CsvSource, JsonlSource, Source, SqliteSource, convert, open_source

    chosen = [(p, kind) for p, kind in ((csv_path, CsvSource), (jsonl_path, JsonlSource),
                                        (sqlite_path, SqliteSource)) if p is not None]
    if len(chosen) != 1:
        raise UsageError("give exactly one of --csv FILE, --jsonl FILE, --sqlite FILE")
    if not source.exists():
        raise UsageError(f"no such dataset: {source}")
    (dest_path, kind), = chosen
    src = open_source(source)
    dst: Source = kind(dest_path)
    count = convert(src, dst)
    click.echo(f"exported {count} records from {source} to {dest_path}")


def _attach_build() -> None:
    from shouldi.cli.dataset_build import build

    dataset.add_command(build, "build")


_attach_build()
