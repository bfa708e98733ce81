"""``dataset build``: labelled releases scanned through the real flow on the local index."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from stores import store_option

from shouldi.cli.dataset_build import build, read_labels
from shouldi.errors import UsageError
from shouldi.record import MODEL_FEATURES
from shouldi.sources import open_source


@click.group()
def cli() -> None:
    pass


cli.add_command(build)


def run(index, tmp_path: Path, labels: Path, output: Path):
    argv = ["build", str(labels), "--output", str(output), "--index-url", index.url,
            "--cache-dir", str(tmp_path / "cache"), *store_option(tmp_path / "adv.sqlite"),
            "--no-pip-audit", "--no-safety-cli", "--timeout", "5", "--jobs", "2"]
    return CliRunner().invoke(cli, argv, catch_exceptions=False)


def test_build_writes_features_beside_labels_and_resumes(local_index, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("name,version,label,label_source,date\n"
                      "cleanpkg,1.0.0,0,none,2024-01-01\n"
                      "evilpkg,0.1.0,1,pypa,2024-01-01\n"
                      "cleanpkg,9.9.9,0,none,2024-01-01\n", encoding="utf-8")
    output = tmp_path / "features.jsonl"
    result = run(local_index, tmp_path, labels, output)
    assert result.exit_code == 3, result.output  # cleanpkg 9.9.9 does not exist: incomplete
    assert "not scanned: cleanpkg==9.9.9" in result.output
    rows = {r["requested"]: r for r in open_source(output).read()}
    assert sorted(rows) == ["cleanpkg==1.0.0", "evilpkg==0.1.0"]
    clean, evil = rows["cleanpkg==1.0.0"], rows["evilpkg==0.1.0"]
    assert (clean["label"], evil["label"], evil["label_source"]) == (0, 1, "pypa")
    assert set(MODEL_FEATURES) <= set(clean)
    assert clean["bandit.status"] == "ok" and isinstance(clean["bandit.loc"], int)
    assert clean["history.status"] == "ok" and clean["history.prior_releases"] >= 0
    assert clean["date"] == "2024-01-01"
    assert evil["heuristics.severity_high"] or evil["heuristics.severity_critical"]

    local_index.clear()
    again = run(local_index, tmp_path, labels, output)
    assert "3 labelled releases, 2 already in" in again.output
    assert not any("cleanpkg-1.0.0" in p or "evilpkg" in p for p in local_index.paths())
    assert len(list(open_source(output).read())) == 2


def test_a_scanned_row_s_history_comes_from_the_labels_advisory_history(local_index, tmp_path: Path) -> None:
    """The flow's own history check reads the local advisory store (here: empty); the labels'
    ``project_advisories`` is what the label was made from, so the row's features use it."""
    labels = tmp_path / "labels.csv"
    labels.write_text("name,version,label,date,project_advisories\n"
                      "cleanpkg,1.0.0,0,2024-01-01,\n"
                      "evilpkg,0.1.0,1,2024-01-01,2000-01-01T00:00:00+00:00 2999-01-01T00:00:00+00:00\n",
                      encoding="utf-8")
    output = tmp_path / "features.csv"
    result = run(local_index, tmp_path, labels, output)
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in open_source(output).read()}
    assert rows["evilpkg"]["bandit.status"] == "ok"  # scanned, not history-only
    assert rows["evilpkg"]["history.past_advisories"] == 1  # the one published before the upload
    assert rows["cleanpkg"]["history.past_advisories"] == 0  # an empty cell: none


def test_labels_are_validated(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("name,version,label\nx,1.0,1\nx,1.0,1\ny,2,0\n", encoding="utf-8")
    assert read_labels(labels) == [("x==1.0", {"label": 1}), ("y==2", {"label": 0})]
    labels.write_text("name,version,label\nx,1.0,yes\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"labels.csv: row 2: label must be 0 or 1, not 'yes'"):
        read_labels(labels)
    labels.write_text("name,version,label\nx,,1\n", encoding="utf-8")
    with pytest.raises(UsageError, match="needs 'name' and 'version'"):
        read_labels(labels)
    labels.write_text("name,version,label,date\nx,1.0,1,2022-10-05T12:14:22+00:00\n"
                      "y,2,0,notadate\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"labels.csv: row 3: date 'notadate' is not an ISO date"):
        read_labels(labels)
    labels.write_text("name,version,label,project_advisories\nx,1.0,1,soon\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"labels.csv: row 2: project_advisories: not ISO times"):
        read_labels(labels)
    labels.write_text("name,version,label\n", encoding="utf-8")
    with pytest.raises(UsageError, match="no labelled releases"):
        read_labels(labels)


DATASETS = Path(__file__).resolve().parent.parent / "datasets"


@pytest.mark.online
def test_build_on_real_pypi(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("name,version,label\nsix,1.16.0,0\n", encoding="utf-8")
    output = tmp_path / "features.csv"
    argv = ["build", str(labels), "--output", str(output), "--cache-dir", str(tmp_path / "cache"),
            *store_option(tmp_path / "adv.sqlite"), "--no-pip-audit", "--no-safety-cli"]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (row,) = open_source(output).read()
    assert (row["name"], row["version"], row["label"]) == ("six", "1.16.0", 0)
    assert row["bandit.status"] == "ok" and row["bandit.loc"] > 500
    assert row["artifact_filename"] == "six-1.16.0-py2.py3-none-any.whl"  # what pip installs
    # as of its upload (2021-05-05): six had 30-odd releases, the last one (1.15.0) in 2020
    assert row["history.status"] == "ok" and 25 <= row["history.prior_releases"] <= 40
    assert 300 <= row["history.days_since_previous"] <= 500 and row["history.newer_existed"] == 0
    assert row["history.past_advisories"] is None  # the labels file gave no advisory history


def test_history_only_build_scans_nothing_and_keeps_none_apart_from_unknown(local_index, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("name,version,label,date,project_advisories\n"
                      "cleanpkg,1.0.0,0,2024-01-01,\n"
                      "evilpkg,0.1.0,1,2024-01-01,2000-01-01T00:00:00+00:00 2999-01-01T00:00:00+00:00\n",
                      encoding="utf-8")
    output = tmp_path / "history.csv"
    argv = ["build", str(labels), "--output", str(output), "--index-url", local_index.url,
            "--history-only", "--timeout", "5"]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert not any(p.startswith("files/") for p in local_index.paths())  # nothing downloaded
    rows = {r["name"]: r for r in open_source(output).read()}
    assert rows["cleanpkg"]["history.status"] == "ok"
    assert rows["cleanpkg"]["history.past_advisories"] == 0  # an empty cell is "none", not unknown
    assert rows["evilpkg"]["history.past_advisories"] == 1  # only the one before the upload
    assert rows["cleanpkg"]["bandit.loc"] is None and rows["cleanpkg"]["verdict"] is None
    no_column = tmp_path / "plain.csv"
    no_column.write_text("name,version,label\ncleanpkg,1.0.0,0\n", encoding="utf-8")
    out2 = tmp_path / "plain-out.csv"
    CliRunner().invoke(cli, ["build", str(no_column), "-o", str(out2), "--index-url", local_index.url,
                             "--history-only"], catch_exceptions=False)
    (row,) = open_source(out2).read()
    assert row["history.past_advisories"] is None  # no column: unknown
