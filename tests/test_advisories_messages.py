"""The lines a person reads, built from what the real sources answered (fakes for services)."""

from __future__ import annotations

import asyncio
import json
import socket
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fake_osv import FakePypiJson

from shouldi.advisories.local import LocalOsvSource
from shouldi.advisories.merge import merge_answers
from shouldi.advisories.messages import MAX_LINE, problem_line, source_lines, stale_data_line
from shouldi.advisories.osv_api import OsvApiSource
from shouldi.advisories.pypi_json import PypiJsonSource
from shouldi.advisories.store import AdvisoryStore
from shouldi.index import make_client
from shouldi.results import AdvisoryAnswer, Status

UTC = timezone.utc
RELEASED = datetime(2019, 1, 8, tzinfo=UTC)


def osv(ident: str, package: str, modified: str = "2024-10-10T00:00:00Z") -> dict[str, object]:
    return {
        "id": ident,
        "modified": modified,
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": package},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}],
            }
        ],
    }


@pytest.fixture
def closed_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SHOULDI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SHOULDI_ADVISORY_DB", raising=False)
    return tmp_path / "data"


def answers_for(
    name: str,
    version: str,
    released: datetime | None,
    *,
    store: AdvisoryStore | None,
    json_root: str | None,
    osv_url: str,
) -> list[AdvisoryAnswer]:
    async def main() -> list[AdvisoryAnswer]:
        async with make_client(timeout=2, retries=0) as client:
            sources = [
                PypiJsonSource(client, json_root),
                LocalOsvSource(store),
                OsvApiSource(client=client, url=osv_url),
            ]
            return list(await asyncio.gather(*(s.lookup(name, version, released) for s in sources)))

    return asyncio.run(main())


def test_fresh_install_says_how_to_load_advisories(
    fake_pypi_json: FakePypiJson, closed_url: str
) -> None:
    answers = answers_for(
        "urllib3", "1.24.1", RELEASED, store=None, json_root=fake_pypi_json.root, osv_url=closed_url
    )
    assert [a.status for a in answers] == [Status.SKIPPED] * 3
    line = problem_line("urllib3", "1.24.1", answers)
    assert line == (
        "no advisory source could vouch for urllib3 1.24.1: load advisories with"
        " `shouldi db update`, or `shouldi db import FILE` offline"
    )
    assert merge_answers(answers).status is Status.SKIPPED
    detail = source_lines(answers)
    assert detail[0].startswith("pypi-json: skipped - per-version JSON not served by this index")
    assert detail[1] == "local-osv: skipped - no local advisory store"
    assert detail[2].startswith(f"osv-api: skipped - OSV API at {closed_url} is unreachable")


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short path (pytest's tmp_path alone is ~70 characters, longer than a real store's)."""
    with tempfile.TemporaryDirectory(prefix="adv", dir="/tmp") as folder:
        yield Path(folder)


def test_a_broken_store_is_said_even_when_another_source_answered(
    fake_pypi_json: FakePypiJson, closed_url: str, short_dir: Path
) -> None:
    garbage = short_dir / "given.sqlite"
    garbage.write_bytes(b"\x00garbage" * 500)
    fake_pypi_json.add("urllib3", "1.24.1", [])
    answers = answers_for(
        "urllib3", "1.24.1", RELEASED, store=AdvisoryStore(garbage),
        json_root=fake_pypi_json.root, osv_url=closed_url,
    )  # fmt: skip
    merged = merge_answers(answers)
    assert merged.answered_by == ("pypi-json",)
    assert merged.status is Status.ERROR  # never outvoted
    line = problem_line("urllib3", "1.24.1", answers)
    assert line == (
        "advisory store is not a SQLite database: rebuild it with"
        f" `shouldi db --store {garbage} import FILE --replace`, or remove it"
    )
    assert len(line) <= MAX_LINE


def test_data_older_than_the_release_says_refresh(
    data_dir: Path, tmp_path: Path, closed_url: str
) -> None:
    store = AdvisoryStore()  # the default store, once it exists
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.json").write_text(json.dumps(osv("PYSEC-1", "werkzeug")))
    store.import_path(docs)
    answers = answers_for(
        "werkzeug", "3.0.6", datetime(2024, 10, 25, tzinfo=UTC),
        store=store, json_root=None, osv_url=closed_url,
    )  # fmt: skip
    assert problem_line("werkzeug", "3.0.6", answers) == (
        "advisory data (2024-10-10) is older than werkzeug 3.0.6: refresh it with `shouldi db update`"
    )
    vouched = answers_for(
        "werkzeug", "1.0", RELEASED, store=store, json_root=None, osv_url=closed_url
    )
    assert problem_line("werkzeug", "1.0", vouched) is None
    days = (datetime.now(UTC) - datetime(2024, 10, 10, tzinfo=UTC)).days
    assert stale_data_line([vouched, vouched], 30) == (
        f"advisory data is {days} days old (policy advisory_max_age_days = 30):"
        " refresh it with `shouldi db update`"
    )
    assert stale_data_line([vouched], days + 1) is None


def test_stale_line_counts_the_freshest_source_per_package() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    old = AdvisoryAnswer("local-osv", Status.OK, data_time=now - timedelta(days=400), fix="`x`")
    older = AdvisoryAnswer("safety-db", Status.OK, data_time=now - timedelta(days=900))
    live = AdvisoryAnswer("osv-api", Status.OK, data_time=now)
    skipped = AdvisoryAnswer("local-osv", Status.SKIPPED, data_time=now - timedelta(days=999))
    assert stale_data_line([[old, live], [skipped]], 30, now) is None
    assert stale_data_line([[old, live], [old]], 30, now) == (
        "advisory data is 400 days old (policy advisory_max_age_days = 30): refresh it with `x`"
    )
    assert stale_data_line([[older], [old]], 30, now) == (
        "safety-db data is 900 days old (policy advisory_max_age_days = 30)"
    )


def test_lines_stay_short() -> None:
    long_reason = "x" * 500
    answers = [AdvisoryAnswer("pypi-json", Status.ERROR, reason=long_reason)] * 3
    line = problem_line("p" * 300, "1.0", answers)
    assert line is not None and len(line) == MAX_LINE
    assert line.startswith("pypi-json: xxx") and line.endswith("xxx (+2 more, see -v)")
    assert "…" in line
    skipped = [AdvisoryAnswer("local-osv", Status.SKIPPED, reason="r", fix="`shouldi db update`")]
    line = problem_line("p" * 300, "1.0\nforged", skipped)
    assert line is not None and "\n" not in line and len(line) <= MAX_LINE
    assert problem_line("x", "1", [AdvisoryAnswer("pip-audit", Status.SKIPPED, reason="r")]) == (
        "no advisory source could vouch for x 1 (each source's reason: -v)"
    )
