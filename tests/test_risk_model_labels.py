"""The question's labels: the 12-month window, coverage, dating, and the labels builder."""

from __future__ import annotations

import csv
import importlib
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from shouldi.risk_model.labels import (
    COVERAGE_LAG,
    WINDOW,
    DatedAdvisory,
    estimate_date,
    id_year_start,
    label_release,
)

UTC = timezone.utc
U = datetime(2021, 3, 1, tzinfo=UTC)
DATA = datetime(2024, 10, 10, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT.parent / "shared" / "data" / "pypa-advisory-database.tar.gz"


def dated(days: float, ident: str = "PYSEC-2021-1") -> DatedAdvisory:
    return DatedAdvisory(ident, U + timedelta(days=days), "published")


@pytest.mark.parametrize(("days", "label"), [(-30, 0), (0, 0), (0.001, 1), (200, 1), (365, 1),
                                             (365.01, 0), (900, 0)],
                         ids=["before", "at-upload", "just-after", "inside", "last-day", "just-late", "late"])
def test_window_is_the_year_after_upload(days: float, label: int) -> None:
    result = label_release(U, [dated(days)], DATA)
    assert result.value == label
    assert result.advisory_ids == (("PYSEC-2021-1",) if label else ())


def test_unobserved_window_is_unknown_never_negative() -> None:
    late = DATA - COVERAGE_LAG - WINDOW + timedelta(days=1)
    assert label_release(late, [], DATA).value is None
    assert "after the label data" in label_release(late, [], DATA).reason
    assert label_release(late - timedelta(days=2), [], DATA).value == 0


def test_an_undatable_advisory_makes_the_label_unknown_unless_it_cannot_fall_inside() -> None:
    undated = DatedAdvisory("GHSA-xxxx", None, "undated")
    assert label_release(U, [undated], DATA).value is None
    after = DatedAdvisory("CVE-2023-1", None, "undated", datetime(2023, 1, 1, tzinfo=UTC))
    assert label_release(U, [after], DATA).value == 0  # its year starts after the window
    assert label_release(U, [undated, dated(10)], DATA).value == 1  # a dated hit decides


def test_estimated_dates_use_the_fix_upload_never_before_the_id_year() -> None:
    fix = datetime(2019, 6, 1, tzinfo=UTC)
    assert estimate_date("GHSA-a", [], [fix]).published == fix
    bounded = estimate_date("PYSEC-2020-5", ["CVE-2020-9"], [fix])
    assert bounded.published == datetime(2020, 1, 1, tzinfo=UTC) and bounded.how == "fix-upload"
    assert estimate_date("GHSA-b", ["CVE-2018-1"], []).not_before == datetime(2018, 1, 1, tzinfo=UTC)
    assert id_year_start(["GHSA-c"]) is None


@pytest.fixture(scope="module")
def builder():
    sys.path.insert(0, str(ROOT / "datasets"))
    try:
        yield importlib.import_module("build_labels")
    finally:
        sys.path.remove(str(ROOT / "datasets"))


@pytest.mark.skipif(not SNAPSHOT.is_file(), reason="needs ../shared/data/pypa-advisory-database.tar.gz")
def test_snapshot_advisories_match_releases_with_their_published_dates(builder) -> None:
    snapshot = builder.read_snapshot(SNAPSHOT)
    assert len(snapshot.records) >= 500
    found = builder.advisories_of("django", "3.2.0", snapshot)
    assert len(found) >= 10 and all(a.how == "published" and a.published for a in found)
    assert not builder.advisories_of("django", "99.0", snapshot)
    times = builder.project_advisory_times("django", snapshot)
    assert times == sorted(times) and len(times) >= 100


def test_candidates_and_choice_spread_over_eras(builder) -> None:
    def files(day: str, size: int = 1000) -> list[dict[str, object]]:
        return [{"packagetype": "sdist", "size": size, "upload_time_iso_8601": f"{day}T00:00:00Z"}]

    doc = {"releases": {"1.0": files("2015-01-01"), "1.1": files("2016-01-01"), "1.2rc1": files("2016-02-01"),
                        "2.0": files("2022-02-01"), "2.1": files("2022-06-01"), "3.0": files("2023-09-01"),
                        "big": files("2017-01-01"), "1.5": files("2019-01-01", 7 << 20), "0.1": []}}
    last = datetime(2023, 8, 11, tzinfo=UTC)
    cands = builder.candidates(doc, last)
    assert [v for v, _ in cands] == ["1.0", "1.1", "2.0", "2.1"]  # no rc, no huge file, no later upload
    import random

    chosen = builder.choose(cands, random.Random(0), 1)
    assert len(chosen) == 2 and chosen[0][1].year < 2021 <= chosen[1][1].year


def test_committed_labels_meet_the_brief() -> None:
    with (ROOT / "datasets" / "labels.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    per_project = Counter(r["name"] for r in rows)
    assert len(rows) >= 1500 and len(per_project) >= 500
    assert sum(1 for r in rows if r["date"] >= "2023") >= 100
    assert {r["label"] for r in rows} == {"0", "1"}
    # several releases per project over time, and projects without any advisory
    assert sum(1 for n in per_project.values() if n >= 3) >= 300
    assert sum(1 for r in rows if not r["project_advisories"]) >= 1000
    for r in rows:
        uploaded = datetime.fromisoformat(r["date"])
        assert uploaded + WINDOW <= DATA - COVERAGE_LAG  # every window observed
        assert (r["label"] == "1") == bool(r["advisory_ids"])
        past = [datetime.fromisoformat(t) for t in r["project_advisories"].split()]
        assert past == sorted(past)
    assert len({(r["name"], r["version"]) for r in rows}) == len(rows)
