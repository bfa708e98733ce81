"""The allowlist file: parsing, refusals with file and entry, matching, expiry."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from shouldi.gate import AllowlistError, load_allowlist
from shouldi.results import Severity
from shouldi.verdict import Reason, Verdict

GOOD = """
[[allow]]
package = "Requests_Lib"
versions = ">=2,<3"
advisory = "CVE-2099-1"
reason = "the vulnerable function is never called"
expires = 2030-06-30

[[allow]]
package = "evilpkg"
check = "bandit"
reason = "reviewed by hand"
expires = 2020-01-01T12:00:00

[[allow]]
package = "anything"
reason = "vendored fork"
expires = 2030-01-01
"""

ADVISORY = Reason("advisories", Severity.HIGH, "PYSEC-2099-9: bad", None, Verdict.FAIL)
BANDIT = Reason("bandit", Severity.HIGH, "2 high-severity bandit findings", None, Verdict.WARN)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "allow.toml"
    path.write_text(text)
    return path


def test_entries_are_read_normalised_and_numbered(tmp_path):
    allow = load_allowlist(write(tmp_path, GOOD))
    first, second, third = allow.entries
    assert (first.number, first.package, str(first.versions), first.advisory) == (
        1, "requests-lib", "<3,>=2", "CVE-2099-1")
    assert second.expires == date(2020, 1, 1)  # a TOML datetime counts by its day
    assert third.check is None and third.advisory is None
    assert second.describe() == "entry 2 (evilpkg check bandit, expires 2020-01-01)"


def test_matching_by_package_version_advisory_alias_and_check(tmp_path):
    first, second, third = load_allowlist(write(tmp_path, GOOD)).entries
    ids = frozenset({"PYSEC-2099-9", "cve-2099-1"})
    assert first.matches("requests.lib", "2.5", ADVISORY, ids)  # alias, any case, any spelling
    assert not first.matches("requests-lib", "3.0", ADVISORY, ids)  # outside the range
    assert not first.matches("requests-lib", None, ADVISORY, ids)  # unknown version
    assert not first.matches("requests-lib", "2.5", ADVISORY, frozenset({"PYSEC-2099-9"}))
    assert second.matches("evilpkg", "0.1", BANDIT, frozenset())
    assert not second.matches("evilpkg", "0.1", ADVISORY, ids)  # another check
    assert third.matches("anything", None, ADVISORY, ids) and third.matches("anything", "1", BANDIT, frozenset())
    assert not third.matches("other", "1", BANDIT, frozenset())


def test_expiry_is_inclusive_of_the_last_day(tmp_path):
    first = load_allowlist(write(tmp_path, GOOD)).entries[0]
    assert not first.expired(date(2030, 6, 30))
    assert first.expired(date(2030, 7, 1))


@pytest.mark.parametrize(("text", "message"), [
    ('[[allow]]\npackage = "a"\nexpires = 2030-01-01\n', "entry 1 (a): 'reason' is required"),
    ('[[allow]]\npackage = "a"\nreason = "r"\n', "entry 1 (a): 'expires' is required"),
    ('[[allow]]\npackage = "a"\nreason = "r"\nexpires = "2030-01-01"\n',
     "'expires' must be a TOML date such as 2025-06-30"),
    ('[[allow]]\npackage = "a"\nreason = "r"\nexpires = 2030-01-01\nadvisor = "X"\n',
     "entry 1 (a): unknown key 'advisor'"),
    ('[[allow]]\npackage = "a"\nreason = "r"\nexpires = 2030-01-01\nversions = "~~1"\n',
     "invalid versions '~~1'"),
    ('[[allow]]\npackage = "a"\nreason = "  "\nexpires = 2030-01-01\n', "'reason' must be a non-empty string"),
    ('[[allow]]\npackage = "a"\nreason = "r"\nexpires = 2030-01-01\nadvisory = "X"\ncheck = "bandit"\n',
     'an advisory entry can only have check = "advisories"'),
    ('[allow]\npackage = "a"\n', "'allow' must be an array of tables"),
    ('[[allowed]]\npackage = "a"\n', "unknown table or key 'allowed'"),
    ('[[allow]]\npackage = "a"\nreason = \n', "invalid TOML"),
], ids=["no-reason", "no-expiry", "string-date", "typo-key", "bad-range", "blank-reason",
        "advisory-and-check", "not-array", "unknown-table", "bad-toml"])
def test_bad_files_are_refused_naming_file_and_entry(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(AllowlistError) as info:
        load_allowlist(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert info.value.exit_code == 2


def test_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(AllowlistError, match="cannot read allowlist .*nope.toml"):
        load_allowlist(tmp_path / "nope.toml")
