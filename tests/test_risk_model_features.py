"""As-of-upload history features: release history from the JSON API, the pure feature
function, its check form, and the record columns a model reads."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shouldi.index.jsonapi import parse_metadata, release_history
from shouldi.record import (
    CAPABILITY_FEATURES,
    CODE_FEATURES,
    HISTORY_COLUMNS,
    MODEL_FEATURES,
    report_to_record,
)
from shouldi.results import CheckResult, PackageMetadata, ReleaseUpload, Status
from shouldi.risk_model.features import history_check, history_features, popularity_rank
from shouldi.verdict import CheckSummary, PackageReport, Verdict

UTC = timezone.utc
T0 = datetime(2018, 1, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def doc() -> dict[str, object]:
    def f(when: datetime, yanked: bool = False) -> dict[str, object]:
        return {"filename": "x.tar.gz", "url": "https://files.example/x.tar.gz",
                "upload_time_iso_8601": when.isoformat().replace("+00:00", "Z"), "yanked": yanked,
                "packagetype": "sdist", "digests": {"sha256": "0" * 64}}

    return {"info": {"version": "2.0.0", "name": "demo"},
            "releases": {"1.0.0": [f(day(0)), f(day(3))], "1.1.0": [f(day(100))],
                         "2.0.0": [f(day(400))], "1.1.1": [f(day(500))],
                         "0.9": [], "weird-version!": [f(day(50), yanked=True)]}}


def test_release_history_is_every_dated_version_oldest_first() -> None:
    history = release_history(doc())
    assert [r.version for r in history] == ["1.0.0", "weird-version!", "1.1.0", "2.0.0", "1.1.1"]
    assert history[0].uploaded == day(0)  # first file, not the later one
    assert history[1].yanked and not history[0].yanked
    meta = parse_metadata(doc(), "demo", "1.1.1", "https://index.example/pypi/demo/json")
    assert meta.history == history


def test_history_features_look_only_before_the_upload() -> None:
    meta = parse_metadata(doc(), "demo", "1.1.1", "https://index.example/pypi/demo/json")
    advisories = [day(-10), day(450), day(499), day(700)]  # the last one is after: not counted
    feats = history_features(meta, "1.1.1", advisories, None)
    assert feats["history.prior_releases"] == 4
    assert feats["history.project_age_days"] == 500
    assert feats["history.days_since_previous"] == 100
    assert feats["history.releases_prev_year"] == 1  # only 2.0.0 in the year before
    assert feats["history.newer_existed"] == 1  # 2.0.0 was out: a maintenance release
    assert feats["history.version_bump"] == 0
    assert feats["history.past_advisories"] == 3 and feats["history.past_advisories_2y"] == 3
    assert feats["history.requires"] is None
    first = history_features(meta, "1.0.0", [], ["a>=1", "b; extra == 'x'", "A"])
    assert first["history.prior_releases"] == 0 and first["history.days_since_previous"] is None
    assert first["history.version_bump"] is None and first["history.past_advisories"] == 0
    assert first["history.requires"] == 1  # a (once; extras not counted)
    bump = history_features(meta, "2.0.0", None, None)
    assert bump["history.version_bump"] == 3 and bump["history.past_advisories"] is None


def test_future_releases_never_change_a_release_s_features() -> None:
    meta = parse_metadata(doc(), "demo", "1.1.0", "https://index.example/pypi/demo/json")
    later = PackageMetadata(**{**meta.__dict__, "history": (*meta.history, ReleaseUpload("9.0", day(9000)))})
    assert history_features(meta, "1.1.0", [day(5)], None) == history_features(later, "1.1.0", [day(5)], None)


def test_history_check_statuses_and_whole_numbers() -> None:
    meta = parse_metadata(doc(), "demo", "1.1.1", "https://index.example/pypi/demo/json")
    check = history_check(meta, "1.1.1", [day(1)])
    assert check.status is Status.OK and check.reason is None
    assert check.counts["project_age_days"] == 500 and all(isinstance(v, int) for v in check.counts.values())
    assert "requires" not in check.counts  # unknown is left out, never 0
    assert history_check(meta, "1.1.1", None).reason == "the project's advisory history is not known"
    unknown = history_check(PackageMetadata(name="demo", version="1", available=False), "1", [])
    assert unknown.status is Status.SKIPPED
    assert history_check(meta, "7.7.7", []).status is Status.SKIPPED  # not in the history


def test_popularity_rank_from_the_shipped_list() -> None:
    assert popularity_rank("boto3") < 100 and popularity_rank("Boto3") == popularity_rank("boto3")
    assert popularity_rank("surely-not-a-popular-name-xyz") == 5001


def test_record_columns_and_model_features() -> None:
    assert "history.requires" not in MODEL_FEATURES  # not knowable as of an old upload
    assert not any(f.startswith(("metadata.", "typosquat.", "advisories.")) for f in MODEL_FEATURES)
    assert "heuristics.cap_network" in CODE_FEATURES and "bandit.high_high" in CODE_FEATURES
    assert (*HISTORY_COLUMNS, *CODE_FEATURES) == MODEL_FEATURES
    # the compact set: the history, then code columns the model may read, each once
    assert CAPABILITY_FEATURES[:len(HISTORY_COLUMNS)] == HISTORY_COLUMNS
    assert set(CAPABILITY_FEATURES) <= set(MODEL_FEATURES)
    assert len(set(CAPABILITY_FEATURES)) == len(CAPABILITY_FEATURES) < len(MODEL_FEATURES) // 2
    meta = parse_metadata(doc(), "demo", "1.1.1", "https://index.example/pypi/demo/json")
    heuristics = CheckResult("heuristics", Status.OK, counts={"network": 2})
    report = PackageReport("demo", "1.1.1", Verdict.PASS, (), {
        "history": CheckSummary.of(history_check(meta, "1.1.1", [])),
        "heuristics": CheckSummary.of(heuristics)})
    record = report_to_record(report, "")
    assert record["history.status"] == "ok" and record["history.prior_releases"] == 4
    assert record["history.requires"] is None
    assert record["heuristics.network"] == 2 and record["heuristics.exec-dynamic"] == 0
    assert record["heuristics.cap_network"] is None  # not reported yet: unknown, not 0


@pytest.mark.parametrize("value", [{"releases": "nope"}, {"releases": {"1": "x"}}, {}])
def test_malformed_release_lists_give_an_empty_history(value: dict[str, object]) -> None:
    assert release_history(value) == ()
