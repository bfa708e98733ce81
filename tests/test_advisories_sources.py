"""The key rule (vouch) and the pypi-json, safety-db and safety CLI sources."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from shouldi.advisories import safety as safety_module
from shouldi.advisories.interface import AdvisorySource, vouch
from shouldi.advisories.local import LocalOsvSource
from shouldi.advisories.pip_audit import PipAuditSource
from shouldi.advisories.pypi_json import PypiJsonSource, parse_pypi_vulnerabilities
from shouldi.advisories.safety import SafetyCliSource, SafetySource
from shouldi.advisories.safety_db import SafetyDbSource, locate_safety_db
from shouldi.results import Advisory, AdvisoryAnswer, PackageMetadata, Status, VulnId

UTC = timezone.utc
needs_safety_db = pytest.mark.skipif(locate_safety_db() is None, reason="safety-db not installed")


def run(source: AdvisorySource, name: str, version: str, when: datetime | None) -> AdvisoryAnswer:
    return asyncio.run(source.lookup(name, version, when))


# --- the key rule ----------------------------------------------------------------------------


def test_vouch_rule() -> None:
    data = datetime(2024, 5, 20, tzinfo=UTC)
    assert vouch("x", data, datetime(2024, 5, 1, tzinfo=UTC)).status is Status.OK
    same = vouch("x", data, data)  # not strictly older: cannot vouch
    assert same.status is Status.SKIPPED
    late = vouch("safety-db", datetime(2021, 7, 17, tzinfo=UTC), datetime(2024, 5, 1))
    assert late.reason == "safety-db data is from 2021-07-17, older than this release (2024-05-01)"
    unknown = vouch("x", data, None)
    assert unknown.status is Status.SKIPPED
    assert (
        unknown.reason
        == "x data is from 2024-05-20 and this release's upload time is unknown, so it cannot vouch for it"
    )
    assert vouch("x", None, datetime(2020, 1, 1, tzinfo=UTC)).status is Status.SKIPPED
    assert vouch("live", None, None, live=True).status is Status.OK


def test_every_source_satisfies_the_interface() -> None:
    meta = PackageMetadata(name="x", version="1", available=True)
    sources = [
        PypiJsonSource.from_metadata(meta),
        LocalOsvSource(),
        SafetyDbSource(),
        SafetyCliSource(),
        SafetySource(),
        PipAuditSource(),
    ]
    assert all(isinstance(s, AdvisorySource) for s in sources)
    assert [s.name for s in sources] == [
        "pypi-json",
        "local-osv",
        "safety-db",
        "safety",
        "safety",
        "pip-audit",
    ]


# --- pypi-json -------------------------------------------------------------------------------

PYPI_VULNS = [
    {
        "aliases": ["CVE-2023-1"],
        "details": "Bad thing.\nMore.",
        "fixed_in": ["1.2"],
        "id": "PYSEC-2023-1",
        "link": "https://osv.dev/vulnerability/PYSEC-2023-1",
        "source": "osv",
        "summary": None,
        "withdrawn": None,
    },
    {
        "aliases": [],
        "details": "gone",
        "fixed_in": [],
        "id": "PYSEC-2023-2",
        "withdrawn": "2023-05-01T00:00:00Z",
    },
]


def test_pypi_vulnerabilities_parsed_without_withdrawn() -> None:
    (advisory,) = parse_pypi_vulnerabilities(PYPI_VULNS)
    assert advisory == Advisory(
        id=VulnId("PYSEC-2023-1"),
        aliases=frozenset({"CVE-2023-1"}),
        summary="Bad thing.",
        fixed_versions=("1.2",),
        sources=frozenset({"pypi-json"}),
        url="https://osv.dev/vulnerability/PYSEC-2023-1",
    )


def test_project_json_answers_for_the_release_it_describes() -> None:
    meta = PackageMetadata(
        name="Demo_Pkg",
        version="1.0",
        available=True,
        vulnerabilities=parse_pypi_vulnerabilities(PYPI_VULNS),
    )
    answer = run(PypiJsonSource.from_metadata(meta), "demo-pkg", "1.0.0", None)
    assert answer.status is Status.OK  # current by nature: no release time needed
    assert [a.id for a in answer.advisories] == ["PYSEC-2023-1"]
    assert answer.data_time is not None
    clean = PackageMetadata(name="demo", version="1.0", available=True, vulnerabilities=())
    assert run(PypiJsonSource.from_metadata(clean), "demo", "1.0", None).status is Status.OK


@pytest.mark.parametrize(
    ("meta", "reason"),
    [
        (
            PackageMetadata(name="demo", version="1.0", available=True, latest_version="2.0"),
            "PyPI's project JSON lists vulnerabilities of 2.0 only, not 1.0",
        ),
        (
            PackageMetadata(name="demo", version="1.0", available=False),
            "this index has no PyPI JSON API",
        ),
        (
            PackageMetadata(name="demo", version="1.0", available=True),
            "PyPI's project JSON gave no vulnerability list for this release",
        ),
        (
            PackageMetadata(name="other", version="1.0", available=True, vulnerabilities=()),
            "PyPI's project JSON gave no vulnerability list for this release",
        ),
    ],
    ids=["not-latest", "no-json-api", "unknown", "other-package"],
)
def test_project_json_skips_when_it_does_not_know(meta: PackageMetadata, reason: str) -> None:
    answer = run(
        PypiJsonSource.from_metadata(meta), "demo", "1.0", datetime(2020, 1, 1, tzinfo=UTC)
    )
    assert (answer.status, answer.reason) == (Status.SKIPPED, reason)


# --- safety-db -------------------------------------------------------------------------------


@pytest.fixture
def small_safety_db(tmp_path: Path) -> Path:
    data = {
        "$meta": {"advisory": "PyUp.io metadata", "timestamp": 1625119202},  # 2021-07-01
        "Demo_Pkg": [
            {
                "advisory": "Old bug.\nDetails.",
                "cve": "CVE-2019-1",
                "id": "pyup.io-111",
                "specs": ["<1.0", ">=2.0,<2.1"],
                "v": "<1.0,>=2.0,<2.1",
            },
            {
                "advisory": "Odd spec.",
                "cve": None,
                "id": "pyup.io-112",
                "specs": ["<r5238"],
                "v": "<r5238",
            },
        ],
    }
    path = tmp_path / "insecure_full.json"
    path.write_text(json.dumps(data))
    return path


def test_safety_db_matches_specs(small_safety_db: Path) -> None:
    source = SafetyDbSource(small_safety_db)
    answer = run(source, "demo-pkg", "2.0.5", datetime(2020, 1, 1, tzinfo=UTC))
    assert answer.status is Status.OK
    (advisory,) = answer.advisories
    assert (advisory.id, advisory.aliases, advisory.summary) == (
        "PYUP-111",
        {"CVE-2019-1"},
        "Old bug.",
    )
    assert advisory.affected_versions == ("<1.0", ">=2.0,<2.1")
    assert answer.data_time == datetime(2021, 7, 1, 6, 0, 2, tzinfo=UTC)
    assert "safety-db spec '<r5238' for demo-pkg does not parse" in answer.warnings
    assert run(source, "demo-pkg", "1.5", datetime(2020, 1, 1, tzinfo=UTC)).advisories == ()
    # a pre-release of the fixed version is before the fix (PEP 440's "<" would say no)
    assert [a.id for a in run(source, "demo-pkg", "1.0rc1", None).advisories] == ["PYUP-111"]
    assert [a.id for a in run(source, "demo-pkg", "2.1rc1", None).advisories] == ["PYUP-111"]
    assert run(source, "demo-pkg", "2.1", None).advisories == ()


def test_safety_db_cannot_vouch_for_newer_releases(small_safety_db: Path) -> None:
    answer = run(
        SafetyDbSource(small_safety_db), "demo-pkg", "0.5", datetime(2024, 5, 1, tzinfo=UTC)
    )
    assert answer.status is Status.SKIPPED
    assert (
        answer.reason == "safety-db data is from 2021-07-01, older than this release (2024-05-01)"
    )
    assert [a.id for a in answer.advisories] == ["PYUP-111"]  # still reported


def test_safety_db_not_installed_or_unreadable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("shouldi.advisories.safety_db.locate_safety_db", lambda: None)
    missing = run(SafetyDbSource(), "demo", "1.0", None)
    assert (missing.status, missing.reason) == (
        Status.SKIPPED,
        "safety-db is not installed (optional, CC BY-NC-SA: `pip install safety-db`)",
    )
    broken = tmp_path / "insecure_full.json"
    broken.write_text("{truncated")
    answer = run(SafetyDbSource(broken), "demo", "1.0", None)
    assert answer.status is Status.ERROR
    assert (answer.reason or "").startswith(f"cannot read {broken}")


@needs_safety_db
def test_installed_safety_db_finds_insecure_package() -> None:
    source = SafetyDbSource()
    old = run(source, "insecure-package", "0.1.0", datetime(2017, 1, 1, tzinfo=UTC))
    assert old.status is Status.OK
    assert [a.id for a in old.advisories] == ["PYUP-25853"]
    # the package is dated 2021.7.17 but its data says 2021-07-01: the earlier date is used
    assert old.data_time == datetime(2021, 7, 1, 6, 0, 2, tzinfo=UTC)
    assert (
        run(source, "insecure-package", "0.2.0", datetime(2017, 1, 1, tzinfo=UTC)).advisories == ()
    )
    new = run(source, "insecure-package", "0.1.0", datetime(2024, 5, 1, tzinfo=UTC))
    assert new.reason == "safety-db data is from 2021-07-01, older than this release (2024-05-01)"
    django = run(source, "Django", "1.0.3", datetime(2009, 6, 1, tzinfo=UTC))
    assert any("CVE-2009-3695" in a.aliases for a in django.advisories)


# --- the safety CLI --------------------------------------------------------------------------


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A local TCP port that accepts connections (stands in for platform.safetycli.com)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fake_safety(tmp_path: Path, check_body: str) -> Path:
    """An executable standing in for the safety CLI: logs its calls, answers --version."""
    script = tmp_path / "safety"
    script.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            f"""\
            import json, pathlib, sys
            log = pathlib.Path({str(tmp_path / "calls.log")!r})
            log.open("a").write(" ".join(sys.argv[1:2]) + "\\n")
            if sys.argv[1:] == ["--version"]:
                print("safety, version 3.8.1")
                sys.exit(0)
            requirement = pathlib.Path(sys.argv[sys.argv.index("-r") + 1]).read_text().strip()
            """
        )
        + textwrap.dedent(check_body)
    )
    script.chmod(0o755)
    return script


FOUND = """\
name, version = requirement.split("==")
print("+===== DEPRECATED: this command is deprecated =====+")
print(json.dumps({"report_meta": {"packages_found": 1, "api_key": False},
    "vulnerabilities": [{"vulnerability_id": "25853", "package_name": name, "analyzed_version": version,
        "vulnerable_spec": "<0.2.0", "all_vulnerable_specs": ["<0.2.0"], "advisory": "Insecure.",
        "CVE": "CVE-2017-9", "fixed_versions": ["0.2.0"], "more_info_url": "https://data.safetycli.com/v/25853/f17"}]}))
sys.exit(64)
"""


def test_safety_cli_report_parsed(tmp_path: Path, listening_port: int) -> None:
    exe = fake_safety(tmp_path, FOUND)
    source = SafetyCliSource(str(exe), probe=("127.0.0.1", listening_port))
    answer = run(source, "insecure-package", "0.1.0", datetime(2017, 1, 1, tzinfo=UTC))
    assert answer.status is Status.OK
    (advisory,) = answer.advisories
    assert (advisory.id, advisory.aliases, advisory.fixed_versions) == (
        "PYUP-25853",
        {"CVE-2017-9"},
        ("0.2.0",),
    )
    assert advisory.url == "https://data.safetycli.com/v/25853/f17"
    # without an API key the free database lags a month: a release from yesterday is not vouched for
    recent = run(source, "insecure-package", "0.1.0", datetime.now(UTC) - timedelta(days=1))
    assert recent.status is Status.SKIPPED
    assert (recent.reason or "").startswith("safety (free database) data is from")
    calls = (tmp_path / "calls.log").read_text().split()
    assert calls == ["--version", "check", "check"]  # detection ran once for the process


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "sys.stderr.write('Traceback...\\nhttpx.ConnectError: [Errno -2] Name or service not known\\n'); sys.exit(1)",
            "safety check failed (exit 1): httpx.ConnectError: [Errno -2] Name or service not known",
        ),
        (
            "print(json.dumps({'report_meta': {'packages_found': 0}, 'vulnerabilities': []}))",
            "safety did not check demo==1.0",
        ),
        ("import time; time.sleep(30)", "safety check timed out after 1s"),
    ],
    ids=["offline-crash", "nothing-scanned", "timeout"],
)
def test_safety_cli_failures_are_skipped_never_clean(
    tmp_path: Path, listening_port: int, body: str, reason: str
) -> None:
    exe = fake_safety(tmp_path, body + "\n")
    source = SafetyCliSource(str(exe), probe=("127.0.0.1", listening_port), timeout=1)
    answer = run(source, "demo", "1.0", datetime(2017, 1, 1, tzinfo=UTC))
    assert (answer.status, answer.reason, answer.advisories) == (Status.SKIPPED, reason, ())


def test_safety_cli_unreachable_platform_is_detected_fast(closed_port: int) -> None:
    """The real safety executable of this venv, with its platform host unreachable."""
    source = SafetyCliSource(probe=("127.0.0.1", closed_port))
    started = time.perf_counter()
    answer = run(source, "insecure-package", "0.1.0", datetime(2017, 1, 1, tzinfo=UTC))
    assert time.perf_counter() - started < 3
    assert answer.status is Status.SKIPPED
    assert (answer.reason or "").startswith(
        "safety CLI needs network access to 127.0.0.1, which is unreachable"
    )


def test_safety_cli_missing_executable(tmp_path: Path) -> None:
    answer = run(SafetyCliSource(str(tmp_path / "nope"), probe=None), "demo", "1.0", None)
    assert answer.status is Status.SKIPPED
    assert (answer.reason or "").startswith(
        "safety CLI does not run: [Errno 2] No such file or directory"
    )


def test_safety_falls_back_to_safety_db(
    tmp_path: Path, small_safety_db: Path, closed_port: int
) -> None:
    source = SafetySource(
        SafetyCliSource(probe=("127.0.0.1", closed_port)), SafetyDbSource(small_safety_db)
    )
    answer = run(source, "demo-pkg", "0.5", datetime(2020, 1, 1, tzinfo=UTC))
    assert (answer.source, answer.status) == ("safety-db", Status.OK)
    assert (answer.reason or "").startswith("safety CLI needs network access")
    assert (answer.reason or "").endswith("; safety-db answered")
    assert answer.warnings == ("safety-db spec '<r5238' for demo-pkg does not parse",)
    both = SafetySource(
        SafetyCliSource(probe=("127.0.0.1", closed_port)), SafetyDbSource(small_safety_db)
    )
    skipped = run(both, "clean-pkg", "1.0", datetime(2024, 1, 1, tzinfo=UTC))
    assert (skipped.source, skipped.status) == ("safety", Status.SKIPPED)
    assert (
        "; safety-db: safety-db data is from 2021-07-01, older than this release (2024-01-01)"
        in (skipped.reason or "")
    )


@pytest.mark.online
def test_real_safety_never_reports_insecure_package_clean() -> None:
    safety_module._detections.clear()
    answer = run(SafetySource(), "insecure-package", "0.1.0", datetime(2017, 6, 1, tzinfo=UTC))
    if answer.status is Status.OK:
        assert any(a.id == "PYUP-25853" for a in answer.advisories)
    else:
        assert answer.reason


def test_a_hanging_probe_is_cut_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A resolver that hangs (offline with a broken DNS) must not hold the check."""
    monkeypatch.setattr(safety_module, "PROBE_BUDGET", 0.3)
    monkeypatch.setattr(safety_module, "_reachable", lambda probe: time.sleep(3))
    exe = fake_safety(tmp_path, FOUND)
    source = SafetyCliSource(str(exe), probe=("platform.invalid", 443))
    started = time.perf_counter()
    answer = run(source, "insecure-package", "0.1.0", datetime(2017, 1, 1, tzinfo=UTC))
    again = run(source, "demo", "1.0", datetime(2017, 1, 1, tzinfo=UTC))
    assert time.perf_counter() - started < 1.5  # once, then remembered
    reason = "safety CLI needs network access to platform.invalid, which did not answer in 0.3s"
    assert (answer.status, answer.reason) == (Status.SKIPPED, reason)
    assert (again.status, again.reason) == (Status.SKIPPED, reason)
    assert not (tmp_path / "calls.log").exists()  # the CLI itself never ran


@needs_safety_db
def test_insecure_package_with_every_source(
    local_index: Any, fake_osv: Any, with_client: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """insecure-package 0.1.0 is known to safety-db only (a PyUp id, no OSV record): with the
    extra installed it is found; every other source says what it knows, correctly."""
    from shouldi.advisories.merge import merge_answers
    from shouldi.advisories.osv_api import OsvApiSource
    from shouldi.advisories.pypi_json import json_root_for
    from shouldi.index.jsonapi import fetch_metadata

    monkeypatch.setenv("SHOULDI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SHOULDI_ADVISORY_DB", raising=False)
    local_index.add_raw_file("insecure-package", "0.1.0", "insecure-package-0.1.0.tar.gz", b"x")

    async def main(client: Any) -> list[AdvisoryAnswer]:
        meta = await fetch_metadata(client, local_index.url, "insecure-package", "0.1.0")
        assert meta.release_time is not None and meta.release_time.year == 2024
        sources = [
            PypiJsonSource(client, json_root_for(local_index.url), metadata=meta),
            OsvApiSource(client=client, url=fake_osv.url),
            LocalOsvSource(),
            SafetyDbSource(),
        ]
        return list(await asyncio.gather(*(s.lookup("insecure-package", "0.1.0", meta.release_time) for s in sources)))

    pypi, osv_api, local, safety_db = with_client(main)
    assert (pypi.status, pypi.advisories) == (Status.OK, ())  # the index's JSON lists nothing
    assert (osv_api.status, osv_api.advisories) == (Status.OK, ())  # OSV has no record of it
    assert (local.status, local.reason) == (Status.SKIPPED, "no local advisory store")
    assert safety_db.status is Status.SKIPPED  # 2021 data cannot vouch for a 2024 upload...
    assert [a.id for a in safety_db.advisories] == ["PYUP-25853"]  # ...but its match counts
    merged = merge_answers([pypi, osv_api, local, safety_db])
    assert [a.id for a in merged.advisories] == ["PYUP-25853"]
    assert merged.status is Status.OK and merged.answered_by == ("pypi-json", "osv-api")
