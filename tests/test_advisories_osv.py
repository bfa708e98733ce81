"""OSV parsing and version matching (shouldi.advisories.osv) on real OSV documents."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from shouldi.advisories.documents import load_documents
from shouldi.advisories.osv import (
    OsvAffected,
    OsvRecord,
    match_version,
    parse_record,
    parse_timestamp,
    to_advisory,
)
from shouldi.results import Severity

WERKZEUG_YAML = b"""\
id: PYSEC-2023-221
details: 'Werkzeug is a comprehensive WSGI web application library.

  More text.'
aliases:
- CVE-2023-46136
- GHSA-hrfv-mqp8-q5rw
modified: '2023-11-08T18:38:34.170214Z'
published: 2023-10-25T18:17:00Z
references:
- type: FIX
  url: https://github.com/pallets/werkzeug/commit/f3c803b
- type: WEB
  url: https://example.org/web
- type: ADVISORY
  url: https://github.com/pallets/werkzeug/security/advisories/GHSA-hrfv-mqp8-q5rw
affected:
- package:
    name: Werkzeug
    ecosystem: PyPI
  ranges:
  - type: GIT
    repo: https://github.com/pallets/werkzeug
    events:
    - introduced: '0'
    - fixed: f3c803b3ade485a45f12b6d6617595350c0f03e2
  - type: ECOSYSTEM
    events:
    - introduced: '0'
    - fixed: 2.3.8
    - introduced: 3.0.0
    - fixed: 3.0.1
- package:
    name: werkzeug
    ecosystem: npm
  versions: ['9.9.9']
"""


def _record(doc: dict[str, object]) -> OsvRecord:
    base = {"id": "OSV-1", "modified": "2024-01-01T00:00:00Z"}
    return parse_record({**base, **doc})


def _affected(ranges: list[dict[str, object]], versions: tuple[str, ...] = ()) -> OsvAffected:
    record = _record(
        {
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "demo"},
                    "ranges": ranges,
                    "versions": list(versions),
                }
            ]
        }
    )
    return record.affected[0]


def test_yaml_advisory_parsed_with_pypi_parts_only() -> None:
    (doc,) = load_documents("PYSEC-2023-221.yaml", WERKZEUG_YAML)
    record = parse_record(doc)
    assert record.id == "PYSEC-2023-221"
    assert record.modified == datetime(2023, 11, 8, 18, 38, 34, 170214, tzinfo=timezone.utc)
    assert record.aliases == {"CVE-2023-46136", "GHSA-hrfv-mqp8-q5rw"}
    assert record.summary == "Werkzeug is a comprehensive WSGI web application library."
    assert (
        record.url == "https://github.com/pallets/werkzeug/security/advisories/GHSA-hrfv-mqp8-q5rw"
    )
    assert not record.withdrawn
    (affected,) = record.affected  # the npm entry is dropped
    assert affected.package == "werkzeug"
    assert len(affected.ranges) == 1  # the GIT range is ignored

    advisory = to_advisory(record, affected, "local-osv")
    assert advisory.fixed_versions == ("2.3.8", "3.0.1")
    assert advisory.affected_versions == ("<2.3.8", ">=3.0.0,<3.0.1")
    assert advisory.sources == {"local-osv"}
    assert advisory.severity is None  # only a CVSS vector (none here): no guessed severity


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.1", True), ("2.3.7", True), ("2.3.8", False), ("2.9", False), ("3.0.0", True),
     ("3.0.0rc1", False), ("3.0.1", False), ("4.0", False)],
)  # fmt: skip
def test_ecosystem_ranges_with_two_intervals(version: str, expected: bool) -> None:
    (doc,) = load_documents("a.yaml", WERKZEUG_YAML)
    affected = parse_record(doc).affected[0]
    assert match_version(affected, version) == (expected, None)


def test_last_affected_and_limit_events() -> None:
    last = _affected(
        [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "1.11.0"}]}]
    )
    assert match_version(last, "1.11.0")[0]
    assert not match_version(last, "1.11.1")[0]
    limited = _affected(
        [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"limit": "2.0"}]}]
    )
    assert not match_version(limited, "0.9")[0]
    assert match_version(limited, "1.5")[0]
    assert not match_version(limited, "2.0")[0]


def test_introduced_zero_without_fix_affects_every_version() -> None:
    affected = _affected([{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}])
    assert match_version(affected, "0.0.1")[0]
    assert match_version(affected, "99.0")[0]


def test_explicit_versions_match_even_with_only_git_ranges() -> None:
    affected = _affected(
        [
            {
                "type": "GIT",
                "repo": "https://x",
                "events": [{"introduced": "0"}, {"fixed": "abc123"}],
            }
        ],
        versions=("0.8.0-alpha2", "1.0"),
    )
    assert match_version(affected, "0.8.0a2")[0]  # same version, normalised
    assert match_version(affected, "1.0.0")[0]
    assert not match_version(affected, "1.1")[0]


def test_unparseable_version_is_noted_not_silently_clean() -> None:
    affected = _affected([{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}])
    hit, problem = match_version(affected, "not a version!")
    assert not hit
    assert "not PEP 440" in (problem or "")


def test_yaml_versions_stay_strings() -> None:
    text = b"id: X-1\nmodified: 2024-01-01T00:00:00Z\naffected:\n- package: {ecosystem: PyPI, name: demo}\n  versions: [0.10, 1.0]\n"
    (doc,) = load_documents("x.yml", text)
    affected = parse_record(doc).affected[0]
    assert affected.versions == ("0.10", "1.0")  # not the floats 0.1 and 1.0
    assert match_version(affected, "0.10")[0]
    assert not match_version(affected, "0.1")[0]


def test_withdrawn_and_database_specific_severity() -> None:
    record = _record(
        {"withdrawn": "2024-02-01T00:00:00Z", "database_specific": {"severity": "MODERATE"}}
    )
    assert record.withdrawn
    assert record.severity is Severity.MEDIUM


def test_json_list_and_osv_api_shapes() -> None:
    one = {"id": "A-1", "modified": "2024-01-01T00:00:00Z"}
    assert load_documents("x.json", json.dumps(one).encode()) == [one]
    assert load_documents("x.json", json.dumps([one, one]).encode()) == [one, one]
    assert load_documents("x.json", json.dumps({"vulns": [one]}).encode()) == [one]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "not valid JSON \\(Expecting property name"),
        (b"[1, 2]", "expected a mapping"),
        (b"\xff\xfe\x00", "not UTF-8 text"),
    ],
    ids=["syntax", "not-mapping", "not-utf8"],
)
def test_bad_documents_raise_readable_errors(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_documents("bad.json", data)


def test_record_without_id_is_refused() -> None:
    with pytest.raises(ValueError, match="no id or modified"):
        parse_record({"summary": "x"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2023-07-25T16:31:58.309647Z",
            datetime(2023, 7, 25, 16, 31, 58, 309647, tzinfo=timezone.utc),
        ),
        ("2023-03-31T20:15:00Z", datetime(2023, 3, 31, 20, 15, tzinfo=timezone.utc)),
        (
            "2021-01-01T10:00:00.123456789Z",
            datetime(2021, 1, 1, 10, 0, 0, 123456, tzinfo=timezone.utc),
        ),
        ("2021-01-01T12:00:00+02:00", datetime(2021, 1, 1, 10, 0, tzinfo=timezone.utc)),
        ("2021-01-01", datetime(2021, 1, 1, tzinfo=timezone.utc)),
    ],
)
def test_timestamps(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


def test_bad_timestamp() -> None:
    with pytest.raises(ValueError, match="bad timestamp"):
        parse_timestamp("yesterday")
