"""The local OSV store: imports from files, directories and archives, lookups, the key rule,
atomicity, hostile archives, and the shared PyPA advisory database."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import tarfile
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from shouldi.advisories.download import update_store
from shouldi.advisories.errors import (
    AdvisoryImportError,
    DownloadError,
    StoreError,
    UnsupportedInput,
)
from shouldi.advisories.local import LocalOsvSource
from shouldi.advisories.reader import Limits
from shouldi.advisories.store import AdvisoryStore, default_store_path
from shouldi.results import Status

SHARED = Path(__file__).resolve().parents[1].parent / "shared/data/pypa-advisory-database.tar.gz"
needs_shared = pytest.mark.skipif(not SHARED.is_file(), reason="shared advisory archive absent")


def osv(
    ident: str,
    package: str,
    *,
    fixed: str = "2.0",
    modified: str = "2024-03-01T00:00:00Z",
    **extra: object,
) -> dict[str, object]:
    return {
        "id": ident,
        "modified": modified,
        "aliases": [f"CVE-{ident}"],
        "summary": f"{ident} summary",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": package},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
        **extra,
    }


def write_docs(folder: Path, docs: list[dict[str, object]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        (folder / f"{doc['id']}.json").write_text(json.dumps(doc))
    return folder


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def make_tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


DOCS = [
    osv("PYSEC-1", "Demo_Pkg", fixed="2.0"),
    osv("PYSEC-2", "demo-pkg", fixed="1.5", modified="2024-04-01T00:00:00Z"),
    osv("PYSEC-3", "other", fixed="1.0"),
    osv(
        "PYSEC-4",
        "demo-pkg",
        fixed="9.0",
        modified="2024-04-02T00:00:00Z",
        withdrawn="2024-04-02T00:00:00Z",
    ),
]
MEMBERS = {f"db/vulns/{d['id']}.json": json.dumps(d).encode() for d in DOCS} | {
    "db/README.md": b"not an advisory"
}


@pytest.fixture
def store(tmp_path: Path) -> AdvisoryStore:
    return AdvisoryStore(tmp_path / "data" / "advisories.sqlite")


def ids(store: AdvisoryStore, name: str, version: str) -> list[str]:
    return [a.id for a in store.matches(name, version)[0]]


@pytest.mark.parametrize("kind", ["directory", "zip", "tar.gz", "file"])
def test_import_every_input_kind(tmp_path: Path, store: AdvisoryStore, kind: str) -> None:
    if kind == "directory":
        source = write_docs(tmp_path / "in", DOCS)
    elif kind == "zip":
        source = make_zip(tmp_path / "in.zip", MEMBERS)
    elif kind == "tar.gz":
        source = make_tar(tmp_path / "in.tar.gz", MEMBERS)
    else:
        source = tmp_path / "all.json"
        source.write_text(json.dumps(DOCS))
    stats = store.import_path(source)
    assert (stats.advisories, stats.packages, stats.withdrawn) == (4, 2, 1)
    assert stats.data_time == datetime(
        2024, 4, 2, tzinfo=timezone.utc
    )  # a withdrawn one counts too
    assert ids(store, "demo-pkg", "1.0") == ["PYSEC-1", "PYSEC-2"]  # withdrawn PYSEC-4 excluded
    assert ids(store, "demo-pkg", "1.5") == ["PYSEC-1"]
    assert ids(store, "demo-pkg", "2.0") == []
    status = store.status()
    assert status is not None
    assert (status.advisories, status.withdrawn, status.packages) == (4, 1, 2)
    assert status.last_source == str(source)


def test_yaml_directory_like_the_pypa_layout(tmp_path: Path, store: AdvisoryStore) -> None:
    folder = tmp_path / "vulns" / "demo"
    folder.mkdir(parents=True)
    (folder / "PYSEC-9.yaml").write_text(
        "id: PYSEC-9\nmodified: 2024-01-01T00:00:00Z\naffected:\n- package: {ecosystem: PyPI, name: demo}\n"
        "  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n    - fixed: 0.10\n"
    )
    store.import_path(tmp_path / "vulns")
    assert ids(store, "demo", "0.9") == ["PYSEC-9"]
    assert ids(store, "demo", "0.10") == []  # "0.10" stayed a version, not the float 0.1


def test_reimport_is_idempotent_and_keeps_the_newest(tmp_path: Path, store: AdvisoryStore) -> None:
    source = write_docs(tmp_path / "in", DOCS)
    store.import_path(source)
    again = store.import_path(source)
    assert again.updated == 0
    assert store.status().advisories == 4  # type: ignore[union-attr]

    newer = write_docs(
        tmp_path / "newer",
        [osv("PYSEC-1", "demo-pkg", fixed="3.0", modified="2024-06-01T00:00:00Z")],
    )
    assert store.import_path(newer).updated == 1
    assert ids(store, "demo-pkg", "2.5") == ["PYSEC-1"]
    older = write_docs(
        tmp_path / "older",
        [osv("PYSEC-1", "demo-pkg", fixed="1.0", modified="2020-01-01T00:00:00Z")],
    )
    assert store.import_path(older).updated == 0  # an older copy does not replace a newer one
    assert ids(store, "demo-pkg", "2.5") == ["PYSEC-1"]


def test_replace_drops_old_data(tmp_path: Path, store: AdvisoryStore) -> None:
    store.import_path(write_docs(tmp_path / "a", DOCS))
    store.import_path(write_docs(tmp_path / "b", [osv("PYSEC-7", "third")]), replace=True)
    assert store.status().advisories == 1  # type: ignore[union-attr]
    assert ids(store, "demo-pkg", "1.0") == []


@pytest.mark.parametrize(
    "breakage", ["truncated-tar", "garbage-zip", "bad-document", "no-advisories", "not-osv"]
)
def test_failed_import_leaves_previous_data_intact(
    tmp_path: Path, store: AdvisoryStore, breakage: str
) -> None:
    store.import_path(write_docs(tmp_path / "good", DOCS))
    before = store.status()
    if breakage == "truncated-tar":
        full = make_tar(
            tmp_path / "full.tar.gz", MEMBERS | {"db/big.json": json.dumps(DOCS * 200).encode()}
        )
        bad = tmp_path / "bad.tar.gz"
        bad.write_bytes(full.read_bytes()[:-200])
        message = "corrupt or unreadable archive"
    elif breakage == "garbage-zip":
        bad = tmp_path / "bad.zip"
        bad.write_bytes(b"PK\x03\x04 this is not a zip at all")
        message = "corrupt or unreadable"
    elif breakage == "bad-document":
        bad = make_zip(
            tmp_path / "bad.zip",
            {
                "a/PYSEC-5.json": json.dumps(osv("PYSEC-5", "x")).encode(),
                "a/PYSEC-6.json": b"{oops",
            },
        )
        message = "PYSEC-6.json: not valid JSON"
    elif breakage == "no-advisories":
        bad = make_zip(tmp_path / "bad.zip", {"README.md": b"hello"})
        message = "no OSV advisories found"
    else:
        bad = make_zip(tmp_path / "bad.zip", {"x.json": b'{"hello": "world"}'})
        message = "x.json: not an OSV advisory"
    with pytest.raises(AdvisoryImportError, match=message):
        store.import_path(bad)
    assert store.status() == before
    assert ids(store, "demo-pkg", "1.0") == ["PYSEC-1", "PYSEC-2"]
    assert ids(store, "x", "0.1") == []  # the valid document before the bad one was rolled back


def test_unsupported_input_is_bad_input(tmp_path: Path, store: AdvisoryStore) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    with pytest.raises(UnsupportedInput, match="notes.txt: not an advisory file") as info:
        store.import_path(other)
    assert info.value.exit_code == 2
    with pytest.raises(UnsupportedInput, match="no such file or directory"):
        store.import_path(tmp_path / "missing.json")


def test_bomb_and_oversized_members_are_refused(tmp_path: Path) -> None:
    store = AdvisoryStore(
        tmp_path / "s.sqlite", limits=Limits(member_bytes=64 * 1024, total_bytes=256 * 1024)
    )
    bomb = make_tar(
        tmp_path / "bomb.tar.gz", {"LICENSE": b"\0" * (10 * 1024 * 1024)}
    )  # ~10 KB compressed
    with pytest.raises(AdvisoryImportError, match="larger than 65536 bytes"):
        store.import_path(bomb)
    big = make_zip(tmp_path / "big.zip", {"a.json": b" " * (100 * 1024)})
    with pytest.raises(AdvisoryImportError, match="a.json is larger than 65536 bytes"):
        store.import_path(big)
    padded = {
        f"{i}.json": json.dumps(osv(f"P-{i}", "x")).encode() + b" " * 60_000 for i in range(6)
    }
    many = make_zip(tmp_path / "many.zip", padded)
    with pytest.raises(AdvisoryImportError, match="archive is too large"):
        store.import_path(many)
    assert store.status() is None


def test_links_and_devices_are_never_read(tmp_path: Path, store: AdvisoryStore) -> None:
    secret = tmp_path / "outside.json"
    secret.write_text(json.dumps(osv("PYSEC-66", "leaked")))
    folder = write_docs(tmp_path / "in", DOCS[:1])
    os.symlink(secret, folder / "link.json")
    archive = tmp_path / "links.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for name, kind in [
            ("sym.json", tarfile.SYMTYPE),
            ("hard.json", tarfile.LNKTYPE),
            ("dev.json", tarfile.CHRTYPE),
        ]:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, str(secret)
            tf.addfile(info)
        data = json.dumps(DOCS[0]).encode()
        info = tarfile.TarInfo("../../escape/PYSEC-1.json")  # never extracted, so harmless
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    for source in (folder, archive):
        stats = store.import_path(source)
        assert stats.advisories == 1
        assert ids(store, "leaked", "1.0") == []
    assert not (tmp_path.parent / "escape").exists()


def test_default_path_honours_the_data_dir_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOULDI_DATA_DIR", str(tmp_path / "dd"))
    assert default_store_path() == tmp_path / "dd" / "advisories.sqlite"
    assert AdvisoryStore().path == tmp_path / "dd" / "advisories.sqlite"


# --- the local-osv source and the key rule ---------------------------------------------------


def lookup(source: LocalOsvSource, name: str, version: str, when: datetime | None):  # noqa: ANN201
    return asyncio.run(source.lookup(name, version, when))


def test_missing_default_store_is_skipped_and_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOULDI_DATA_DIR", str(tmp_path / "dd"))
    monkeypatch.delenv("SHOULDI_ADVISORY_DB", raising=False)
    answer = lookup(LocalOsvSource(), "demo", "1.0", datetime(2020, 1, 1, tzinfo=timezone.utc))
    assert (answer.status, answer.reason) == (Status.SKIPPED, "no local advisory store")
    assert answer.fix == "`shouldi db update`, or `shouldi db import FILE` offline"
    assert not (tmp_path / "dd").exists()


def test_missing_configured_store_is_an_error(store: AdvisoryStore) -> None:
    answer = lookup(LocalOsvSource(store), "demo", "1.0", None)
    assert answer.status is Status.ERROR
    assert answer.reason == (
        f"advisory store does not exist: create it with `shouldi db --store {store.path} update`,"
        f" or `shouldi db --store {store.path} import FILE` offline"
    )
    assert not store.path.exists()


def test_store_without_advisories_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    path.write_bytes(b"")  # SQLite reads an empty file as an empty database
    answer = lookup(LocalOsvSource(AdvisoryStore(path)), "demo", "1.0", None)
    assert answer.status is Status.ERROR
    assert (answer.reason or "").startswith("advisory store holds no advisories: load them with")


def test_corrupt_database_is_an_error_answer(tmp_path: Path) -> None:
    path = tmp_path / "advisories.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    store = AdvisoryStore(path)
    answer = lookup(LocalOsvSource(store), "demo", "1.0", None)
    assert answer.status is Status.ERROR
    assert answer.reason == (
        "advisory store is not a SQLite database: rebuild it with"
        f" `shouldi db --store {path} import FILE --replace`, or remove it"
    )
    with pytest.raises(StoreError, match="is not a SQLite database"):
        store.import_path(write_docs(tmp_path / "in", DOCS))


def test_key_rule_release_must_be_older_than_the_data(tmp_path: Path, store: AdvisoryStore) -> None:
    now = datetime.now(timezone.utc)
    fresh = now - timedelta(days=2)
    doc = osv("PYSEC-1", "demo", modified=fresh.strftime("%Y-%m-%dT%H:%M:%SZ"))
    store.import_path(write_docs(tmp_path / "in", [doc]))
    source = LocalOsvSource(store)

    older = lookup(source, "Demo", "1.0", now - timedelta(days=30))
    assert older.status is Status.OK
    assert [a.id for a in older.advisories] == ["PYSEC-1"]
    assert older.warnings == ()  # two-day-old data is not stale
    clean = lookup(source, "demo", "2.0", now - timedelta(days=30))
    assert (clean.status, clean.advisories) == (Status.OK, ())

    newer = lookup(source, "demo", "1.0", now)
    assert newer.status is Status.SKIPPED
    assert newer.reason == (
        f"local OSV store data is from {fresh.date().isoformat()}, older than this release ({now.date().isoformat()})"
    )
    assert [a.id for a in newer.advisories] == ["PYSEC-1"]  # a match is a match

    unknown = lookup(source, "demo", "2.0", None)
    assert unknown.status is Status.SKIPPED
    assert "upload time is unknown" in (unknown.reason or "")


def test_old_data_still_answers_and_carries_its_time(tmp_path: Path, store: AdvisoryStore) -> None:
    store.import_path(write_docs(tmp_path / "in", DOCS))
    answer = lookup(
        LocalOsvSource(store), "demo-pkg", "3.0", datetime(2023, 1, 1, tzinfo=timezone.utc)
    )
    assert answer.status is Status.OK
    assert answer.warnings == ()  # its age is said once per run (messages.stale_data_line)
    assert answer.data_time == datetime(2024, 4, 2, tzinfo=timezone.utc)


# --- update (download) -----------------------------------------------------------------------


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def client_for(handler) -> httpx.Client:  # noqa: ANN001
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_update_downloads_and_replaces(tmp_path: Path, store: AdvisoryStore) -> None:
    store.import_path(write_docs(tmp_path / "old", [osv("PYSEC-OLD", "gone")]))
    payload = zip_bytes({f"{d['id']}.json": json.dumps(d).encode() for d in DOCS})
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=payload)

    with client_for(handler) as client:
        stats = update_store(store, url="https://osv.test/PyPI/all.zip", client=client)
    assert seen == ["https://osv.test/PyPI/all.zip"]
    assert stats.advisories == 4
    assert ids(store, "gone", "1.0") == []
    assert ids(store, "demo-pkg", "1.0") == ["PYSEC-1", "PYSEC-2"]
    assert store.status().last_source == "https://osv.test/PyPI/all.zip"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("response", "message"),
    [
        ("connect", "cannot download https://osv.test/all.zip: no route to osv.test"),
        (404, "cannot download https://osv.test/all.zip: HTTP 404"),
        ("huge", "https://osv.test/all.zip is larger than 1000 bytes"),
        ("garbage", "https://osv.test/all.zip: corrupt or unreadable zip archive"),
    ],
)
def test_failed_update_keeps_the_store(
    tmp_path: Path, store: AdvisoryStore, response: object, message: str
) -> None:
    store.import_path(write_docs(tmp_path / "old", DOCS))
    before = store.status()

    def handler(request: httpx.Request) -> httpx.Response:
        if response == "connect":
            raise httpx.ConnectError("no route to osv.test", request=request)
        if response == "huge":
            return httpx.Response(200, content=b"x" * 5000)
        if response == "garbage":
            return httpx.Response(200, content=b"not a zip")
        return httpx.Response(404)

    with (
        client_for(handler) as client,
        pytest.raises((DownloadError, AdvisoryImportError), match=message) as info,
    ):
        update_store(store, url="https://osv.test/all.zip", client=client, max_bytes=1000)
    assert info.value.exit_code == 3
    assert store.status() == before


# --- the shared PyPA advisory database -------------------------------------------------------


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[AdvisoryStore, float]:
    if not SHARED.is_file():
        pytest.skip("shared advisory archive absent")
    store = AdvisoryStore(tmp_path_factory.mktemp("shared") / "advisories.sqlite")
    started = time.perf_counter()
    store.import_path(SHARED)
    return store, time.perf_counter() - started


@needs_shared
def test_shared_archive_imports(shared_store: tuple[AdvisoryStore, float]) -> None:
    store, seconds = shared_store
    status = store.status()
    assert status is not None
    # The archive holds 1,459 advisory files (1,462 regular files: + README.md, LICENSE and
    # vulns/.id-allocator); the data README's "1,460" counts the allocator file.
    assert (status.advisories, status.packages, status.withdrawn) == (1459, 529, 9)
    assert status.data_time == datetime(2024, 10, 10, 17, 22, 0, 587279, tzinfo=timezone.utc)
    assert seconds < 20, f"import took {seconds:.1f}s"


@needs_shared
def test_shared_archive_known_advisories(shared_store: tuple[AdvisoryStore, float]) -> None:
    store, _ = shared_store
    source = LocalOsvSource(store)
    affected = lookup(source, "Werkzeug", "2.3.7", datetime(2023, 8, 1, tzinfo=timezone.utc))
    assert affected.status is Status.OK
    assert "PYSEC-2023-221" in [a.id for a in affected.advisories]
    werkzeug = next(a for a in affected.advisories if a.id == "PYSEC-2023-221")
    assert {"CVE-2023-46136", "GHSA-hrfv-mqp8-q5rw"} <= werkzeug.aliases
    assert "2.3.8" in werkzeug.fixed_versions
    fixed = lookup(source, "werkzeug", "2.3.8", datetime(2023, 10, 25, tzinfo=timezone.utc))
    assert "PYSEC-2023-221" not in [a.id for a in fixed.advisories]
    # py: last_affected 1.11.0
    assert ids(store, "py", "1.11.0") == ["PYSEC-2022-42969"]
    assert ids(store, "py", "1.11.1") == []
    # redis PYSEC-2023-73 is withdrawn
    assert "PYSEC-2023-73" not in ids(store, "redis", "2.10.0")

    newer = lookup(source, "werkzeug", "3.0.6", datetime(2024, 10, 25, tzinfo=timezone.utc))
    assert newer.status is Status.SKIPPED
    assert (
        newer.reason
        == "local OSV store data is from 2024-10-10, older than this release (2024-10-25)"
    )


@needs_shared
@pytest.mark.slow
def test_shared_archive_reimport_is_idempotent(
    shared_store: tuple[AdvisoryStore, float], tmp_path: Path
) -> None:
    store, _ = shared_store
    copy = AdvisoryStore(tmp_path / "copy.sqlite")
    shutil.copyfile(store.path, copy.path)
    stats = copy.import_path(SHARED)
    assert (stats.advisories, stats.updated) == (1459, 0)
    assert copy.status().advisories == 1459  # type: ignore[union-attr]


def test_fingerprint_is_the_content_not_the_file(tmp_path: Path) -> None:
    docs = [osv("PYSEC-1", "a"), osv("PYSEC-2", "b", modified="2024-05-02T00:00:00Z")]
    one, two = AdvisoryStore(tmp_path / "one.sqlite"), AdvisoryStore(tmp_path / "two.sqlite")
    assert one.fingerprint() is None  # absent
    one.import_path(write_docs(tmp_path / "d1", docs))
    two.import_path(write_docs(tmp_path / "d2", list(reversed(docs))))
    seen = one.fingerprint()
    assert seen is not None and seen == two.fingerprint()
    assert seen.startswith("2 advisories up to 2024-05-02, sha256 ")
    # Newer data for one advisory, or one more advisory: another fingerprint.
    two.import_path(write_docs(tmp_path / "d3", [osv("PYSEC-1", "a", modified="2024-04-01T00:00:00Z")]))
    assert two.fingerprint() not in (None, seen)
    one.import_path(write_docs(tmp_path / "d4", [osv("PYSEC-3", "c")]))
    assert one.fingerprint() is not None and one.fingerprint().startswith("3 advisories")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not sqlite at all, just bytes")
    with pytest.raises(StoreError, match="not a SQLite database"):
        AdvisoryStore(garbage).fingerprint()
