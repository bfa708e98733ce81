"""``shouldi report``: a self-contained HTML triage report from scan records.

The command only checks its arguments, calls :func:`shouldi.report.build_report` and writes
the result. The output is written atomically (a temp file in the same directory, then a
rename: :func:`shouldi.cli.output.write_output`), so a failed run leaves any earlier report
as it was. It may never be one of the inputs (also through another path or a hard link) or
their sidecar files, nor have a scan-file extension: a report is not a scan file, and
overwriting one would lose the user's records.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["report"]

#: Files a scan file keeps beside it (CSV's column types, the writers' lock, SQLite's WAL).
_SIDECARS = (".types.json", ".lock", "-wal", "-shm", "-journal")


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.samefile(b)
    except OSError:  # either does not exist (yet)
        return False


@click.command()
@click.argument("scans", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path),
              help="The HTML file to write (replaced atomically).")
def report(scans: tuple[Path, ...], output: Path) -> None:
    """Write an HTML triage report of SCANS (files of `shouldi scan --output`: .csv, .jsonl
    or .sqlite) to --output: verdict counts, a sortable and filterable package table, risk
    charts, advisories with fixed-in versions and evidence with file:line. The file is
    self-contained: it needs no server and loads nothing from the network.

    \b
    Exit codes: 0 written; 2 bad input (a missing, unreadable or foreign scan file, an
    output that is one of the inputs or cannot be written).
    """
    from shouldi.cli.output import write_output
    from shouldi.errors import UsageError
    from shouldi.report import build_report
    from shouldi.sources import FORMATS

    if output.suffix.lower() in FORMATS:
        raise UsageError(f"the output {output} would be a scan file ({output.suffix}): "
                         "write the report to a .html file")
    for scan in scans:
        sidecars = [scan.with_name(scan.name + s) for s in _SIDECARS]
        if any(_same_file(p, output) for p in (scan, *sidecars)):
            raise UsageError(f"the output {output} is one of the inputs: choose another file")
    if output.is_dir():
        raise UsageError(f"the output {output} is a directory")
    html = build_report(list(scans))
    write_output(output, html)
    click.echo(f"wrote {output}")
