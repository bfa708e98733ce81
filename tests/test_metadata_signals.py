from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from shouldi.results import Artifact, PackageMetadata, Release, Severity, Status
from shouldi.scanners.metadata import FEATURE_NAMES, features, metadata_signals

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def make_release(version="1.0", versions=("0.9", "1.0"), uploaded=NOW - timedelta(days=40),
                 yanked=False):
    artifact = Artifact(filename=f"demo-{version}.tar.gz", url="https://files.example/demo.tgz",
                        sha256=None, kind="sdist", upload_time=uploaded, yanked=yanked)
    return Release(name="demo", version=version, index_url="https://index.example/simple",
                   artifact=artifact, artifact_reason="only sdist", all_versions=versions)


WELL_KEPT = PackageMetadata(
    name="demo", version="1.0", available=True, license=None,
    classifiers=("License :: OSI Approved :: MIT License",),
    project_urls={"Source Code": "https://example.org/demo", "Homepage": "https://demo.example"},
    release_count=12, first_release_time=NOW - timedelta(days=900),
    release_time=NOW - timedelta(days=40), latest_version="1.0",
    latest_release_time=NOW - timedelta(days=40), yanked=False,
)


def rules(result):
    return {f.rule: f.severity for f in result.findings}


def test_well_kept_project_has_no_findings():
    result = metadata_signals(WELL_KEPT, make_release(), NOW)
    assert result.status is Status.OK
    assert result.check == "metadata"
    assert result.findings == ()
    assert features(WELL_KEPT, make_release(), NOW) == {
        "days_since_first_release": 900.0, "release_count": 12, "days_since_release": 40.0,
        "days_since_latest_release": 40.0, "is_latest": 1, "missing_repository_url": 0,
        "missing_homepage": 0, "missing_license": 0, "yanked": 0,
    }
    assert result.counts["days_since_first_release"] == 900


def test_fresh_single_release_without_urls_or_license():
    meta = PackageMetadata(
        name="demo", version="0.1", available=True, license="UNKNOWN",
        project_urls={"Documentation": "https://demo.readthedocs.io"}, release_count=1,
        first_release_time=NOW - timedelta(days=3), release_time=NOW - timedelta(hours=12),
        latest_version="0.1", latest_release_time=NOW - timedelta(hours=12), yanked=False,
    )
    result = metadata_signals(meta, make_release("0.1", ("0.1",)), NOW)
    assert rules(result) == {
        "new-project": Severity.MEDIUM, "single-release": Severity.LOW,
        "recent-release": Severity.LOW, "no-repository": Severity.LOW,
        "no-homepage": Severity.INFO, "no-license": Severity.INFO,
    }
    new = next(f for f in result.findings if f.rule == "new-project")
    assert new.message == "first release only 3 days ago"


def test_repository_found_from_a_forge_homepage_and_label_spelling():
    meta = replace(WELL_KEPT, project_urls={}, home_page="https://github.com/someone/demo")
    assert features(meta, make_release(), NOW)["missing_repository_url"] == 0
    meta = replace(WELL_KEPT, project_urls={"SOURCE-CODE": "https://hg.example/demo"},
                   home_page=None)
    feats = features(meta, make_release(), NOW)
    assert feats["missing_repository_url"] == 0
    assert feats["missing_homepage"] == 1


def test_license_from_text_or_classifier():
    meta = replace(WELL_KEPT, classifiers=(), license="Apache-2.0")
    assert features(meta, make_release(), NOW)["missing_license"] == 0
    meta = replace(WELL_KEPT, classifiers=("Programming Language :: Python",), license=" ")
    assert features(meta, make_release(), NOW)["missing_license"] == 1


def test_yanked_release_is_high():
    meta = replace(WELL_KEPT, yanked=True, yanked_reason="credential stealer")
    result = metadata_signals(meta, make_release(), NOW)
    [finding] = result.findings
    assert (finding.rule, finding.severity) == ("yanked", Severity.HIGH)
    assert finding.message == "release 1.0 is yanked: credential stealer"


def test_not_latest_is_a_feature_not_a_finding():
    meta = replace(WELL_KEPT, latest_version="2.0")
    assert features(meta, make_release(), NOW)["is_latest"] == 0
    assert metadata_signals(meta, make_release(), NOW).findings == ()


def test_without_json_api_skipped_but_release_signals_kept():
    meta = PackageMetadata(name="demo", version="1.0", available=False)
    release = make_release(versions=("1.0",), uploaded=NOW - timedelta(days=2), yanked=True)
    result = metadata_signals(meta, release, NOW)
    assert result.status is Status.SKIPPED
    assert "no JSON API" in result.reason
    assert rules(result) == {"single-release": Severity.LOW, "recent-release": Severity.LOW,
                             "yanked": Severity.HIGH}
    feats = features(meta, release, NOW)
    assert feats == {
        "days_since_first_release": None, "release_count": 1, "days_since_release": 2.0,
        "days_since_latest_release": None, "is_latest": None, "missing_repository_url": None,
        "missing_homepage": None, "missing_license": None, "yanked": 1,
    }
    assert set(result.counts) == {"release_count", "days_since_release", "yanked"}


def test_nothing_known_at_all():
    meta = PackageMetadata(name="demo", version="1.0", available=False)
    release = make_release(versions=(), uploaded=None)
    feats = features(meta, release, NOW)
    assert feats["release_count"] is None
    assert feats["days_since_release"] is None
    assert metadata_signals(meta, release, NOW).findings == ()


def test_naive_datetimes_are_taken_as_utc():
    meta = replace(WELL_KEPT, first_release_time=datetime(2026, 11, 1, 12, 0))
    assert features(meta, make_release(), NOW)["days_since_first_release"] == 21.0


@pytest.mark.parametrize("meta", [WELL_KEPT, PackageMetadata("demo", "1.0", available=False)])
def test_feature_names_are_stable(meta):
    assert tuple(features(meta, make_release(), NOW)) == FEATURE_NAMES
