"""Merging answers: de-duplication by ids and aliases, transitivity, the "answered" rule."""

from __future__ import annotations

from datetime import datetime, timezone

from shouldi.advisories.merge import merge_advisories, merge_answers, primary_id
from shouldi.results import Advisory, AdvisoryAnswer, Severity, Status, VulnId


def adv(
    ident: str, *aliases: str, source: str = "s", fixed: tuple[str, ...] = (), **kw: object
) -> Advisory:
    return Advisory(
        id=VulnId(ident),
        aliases=frozenset(aliases),
        sources=frozenset({source}),
        fixed_versions=fixed,
        **kw,  # type: ignore[arg-type]
    )


def test_overlapping_alias_sets_merge() -> None:
    merged = merge_advisories(
        [
            adv(
                "PYSEC-2023-221",
                "CVE-2023-46136",
                source="local-osv",
                fixed=("3.0.1", "2.3.8"),
                summary="osv text",
            ),
            adv(
                "GHSA-hrfv-mqp8-q5rw",
                "CVE-2023-46136",
                source="pypi-json",
                fixed=("2.3.8",),
                url="https://gh",
            ),
            adv("PYUP-9", "CVE-2023-46136", source="safety-db", severity=Severity.HIGH),
        ]
    )
    (one,) = merged
    assert one.id == "PYSEC-2023-221"
    assert one.aliases == {"CVE-2023-46136", "GHSA-hrfv-mqp8-q5rw", "PYUP-9"}
    assert one.sources == {"local-osv", "pypi-json", "safety-db"}
    assert one.fixed_versions == ("2.3.8", "3.0.1")  # unioned, in version order
    assert (one.summary, one.url, one.severity) == ("osv text", "https://gh", Severity.HIGH)


def test_transitive_links_merge_into_one() -> None:
    # A~B share CVE-1, B~C share GHSA-x, C~D share CVE-2: one vulnerability, found via a chain
    chain = [
        adv("PYUP-1", "CVE-1"),
        adv("CVE-1", "GHSA-x"),
        adv("GHSA-x", "CVE-2"),
        adv("PYSEC-7", "CVE-2"),
    ]
    (one,) = merge_advisories(reversed(chain))
    assert one.id == "PYSEC-7"
    assert one.all_ids == {"PYUP-1", "CVE-1", "GHSA-x", "CVE-2", "PYSEC-7"}


def test_unrelated_advisories_stay_apart_and_sorted() -> None:
    merged = merge_advisories(
        [adv("PYSEC-2", "CVE-2"), adv("PYSEC-1", "CVE-1"), adv("PYSEC-1", source="other")]
    )
    assert [(a.id, sorted(a.sources)) for a in merged] == [
        ("PYSEC-1", ["other", "s"]),
        ("PYSEC-2", ["s"]),
    ]


def test_primary_id_preference() -> None:
    assert primary_id(["CVE-1", "GHSA-a", "PYSEC-9", "PYUP-1"]) == "PYSEC-9"
    assert primary_id(["CVE-1", "GHSA-a", "PYUP-1"]) == "GHSA-a"
    assert primary_id(["PYUP-1", "CVE-1"]) == "CVE-1"
    assert primary_id(["PYUP-2", "OSV-1"]) == "OSV-1"


def test_answered_needs_one_ok_source() -> None:
    when = datetime(2024, 1, 1, tzinfo=timezone.utc)
    skipped = AdvisoryAnswer(
        "safety-db",
        Status.SKIPPED,
        (adv("PYUP-1", "CVE-1"),),
        "too old",
        when,
        ("advisory data is 900 days old",),
    )
    error = AdvisoryAnswer("pip-audit", Status.ERROR, reason="crashed")
    result = merge_answers([skipped, error])
    assert not result.answered
    assert result.answered_by == ()
    assert [a.id for a in result.advisories] == ["CVE-1"]  # a match is a match, even unvouched
    assert result.warnings == ("safety-db: advisory data is 900 days old",)

    ok = AdvisoryAnswer("local-osv", Status.OK, (adv("PYSEC-1", "CVE-1", source="local-osv"),))
    result = merge_answers([skipped, error, ok])
    assert result.answered
    assert result.answered_by == ("local-osv",)
    (one,) = result.advisories
    assert (one.id, one.sources) == ("PYSEC-1", {"s", "local-osv"})
    assert len(result.answers) == 3


def test_nothing_to_merge() -> None:
    result = merge_answers([])
    assert (result.advisories, result.answered, result.warnings) == ((), False, ())


def test_public_names_exist() -> None:
    import importlib

    for module in ("", ".errors", ".interface", ".osv", ".store", ".local", ".merge", ".pypi_json",
                   ".safety", ".safety_db", ".pip_audit", ".reader", ".download", ".process"):  # fmt: skip
        mod = importlib.import_module(f"shouldi.advisories{module}")
        assert all(hasattr(mod, name) for name in mod.__all__), module


def test_the_check_is_ok_only_when_someone_vouched_and_nothing_is_broken() -> None:
    ok = AdvisoryAnswer("pypi-json", Status.OK)
    live = AdvisoryAnswer("osv-api", Status.OK, warnings=("PYSEC-1: a range has an invalid version",))
    skipped = AdvisoryAnswer("local-osv", Status.SKIPPED, reason="no local advisory store",
                             fix="`shouldi db update`, or `shouldi db import FILE` offline")
    broken = AdvisoryAnswer("local-osv", Status.ERROR, reason="advisory store is corrupt: rebuild it")

    answered = merge_answers([ok, live, skipped]).check("demo", "1.0")
    assert (answered.status, answered.reason) == (Status.OK, "answered by pypi-json, osv-api")
    assert answered.warnings == ("osv-api: PYSEC-1: a range has an invalid version",)
    assert answered.counts == {"source_pypi_json_ok": 1, "source_osv_api_ok": 1,
                               "source_local_osv_skipped": 1, "advisories": 0}

    outvoted = merge_answers([ok, live, broken]).check("demo", "1.0")
    assert (outvoted.status, outvoted.reason) == (Status.ERROR, "advisory store is corrupt: rebuild it")

    nobody = merge_answers([skipped, AdvisoryAnswer("osv-api", Status.SKIPPED, reason="offline")])
    check = nobody.check("demo", "1.0")
    assert check.status is Status.SKIPPED
    assert check.reason == (
        "no advisory source could vouch for demo 1.0: load advisories with"
        " `shouldi db update`, or `shouldi db import FILE` offline"
    )


def test_published_and_modified_span_the_group() -> None:
    early, late = datetime(2020, 1, 1, tzinfo=timezone.utc), datetime(2024, 1, 1, tzinfo=timezone.utc)
    (merged,) = merge_advisories(
        [adv("PYSEC-1", "CVE-1", published=late, modified=late),
         adv("GHSA-1", "CVE-1", published=early, modified=early)]
    )  # fmt: skip
    assert (merged.id, merged.published, merged.modified) == ("PYSEC-1", early, late)
