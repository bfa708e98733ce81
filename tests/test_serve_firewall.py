"""The firewall index through a real pip: ``shouldi serve`` in a subprocess proxying the
local test index; pip downloads (and installs) through it, with no config of its own."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from test_serve_process import ServeProcess, serving

WHEEL_JSON = "application/vnd.pypi.simple.v1+json"


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    yield from serving(tmp_path)


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> Path:
    """One artifact/scan cache for the module: a file scanned once is not scanned again."""
    return tmp_path_factory.mktemp("serve-cache")


def pip(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A real pip, isolated from this machine's pip configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    argv = [sys.executable, "-m", "pip", *args, "--isolated", "--disable-pip-version-check",
            "--no-cache-dir", "--no-input", "--timeout", "120"]
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=900)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def page(server, project: str) -> dict:
    r = httpx.get(f"{server.url}simple/{project}/", headers={"Accept": WHEEL_JSON}, timeout=60)
    assert r.status_code == 200 and r.headers["content-type"] == WHEEL_JSON, r.text
    return r.json()


def file_url(server, project: str, entry: dict) -> str:
    return httpx.URL(f"{server.url}simple/{project}/").join(entry["url"]).__str__()


def wait_for_200(url: str, limit: float = 600) -> httpx.Response:
    deadline = time.monotonic() + limit
    while True:
        r = httpx.get(url, timeout=120)
        if r.status_code != 503:
            return r
        assert time.monotonic() < deadline, r.text
        time.sleep(0.5)


def test_pip_downloads_and_installs_a_clean_package(serve, local_index, shared_cache, tmp_path):
    server = serve(local_index.url, "--cache-dir", str(shared_cache))
    index = f"{server.url}simple/"
    got = pip("download", "--no-deps", "--only-binary", ":all:", "--index-url", index,
              "-d", str(tmp_path / "dl"), "cleanpkg")
    assert got.returncode == 0, got.stdout + got.stderr
    (wheel,) = (tmp_path / "dl").iterdir()
    upstream = next(f for f in local_index.projects["cleanpkg"].files if f.filename == wheel.name)
    assert sha256_of(wheel) == upstream.sha256  # the upstream's bytes, exactly
    installed = pip("install", "--no-deps", "--only-binary", ":all:", "--index-url", index,
                    "--target", str(tmp_path / "site"), "cleanpkg")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (tmp_path / "site" / "cleanpkg" / "__init__.py").is_file()
    log = server.access_log()
    assert all(set(line) == {"method", "path", "status", "ms", "client"} for line in log)
    assert any(line["path"].endswith(wheel.name) and line["status"] == 200 for line in log)
    stored = httpx.get(f"{server.url}v1/packages/cleanpkg/1.0.0").json()["packages"]
    assert stored[0]["verdict"] == "pass" and stored[0]["artifact"]["filename"] == wheel.name


def test_evilpkg_is_refused_with_the_reason_then_hidden(serve, local_index, shared_cache, tmp_path):
    server = serve(local_index.url, "--cache-dir", str(shared_cache))
    index = f"{server.url}simple/"
    (entry,) = page(server, "evilpkg")["files"]
    got = pip("download", "--no-deps", "--index-url", index, "-d", str(tmp_path / "dl"), "evilpkg")
    assert got.returncode != 0 and "403" in got.stdout + got.stderr
    assert not (tmp_path / "dl").exists() or not list((tmp_path / "dl").iterdir())
    r = httpx.get(file_url(server, "evilpkg", entry))
    assert r.status_code == 403
    reason = r.json()["error"]
    assert reason.startswith("evilpkg 0.1.0 is refused by shouldi (fail):") and "setup.py:" in reason
    # judged once: now hidden from pip, and the page says why
    listed = page(server, "evilpkg")
    assert listed["files"] == [] and listed.get("versions", []) == []
    (hidden,) = listed["_shouldi"]["hidden"]
    assert hidden["version"] == "0.1.0" and "setup.py:" in hidden["reason"]
    html = httpx.get(f"{server.url}simple/evilpkg/").text
    assert "<a " not in html and "hidden by shouldi: evilpkg 0.1.0 (fail)" in html
    again = pip("download", "--no-deps", "--index-url", index, "-d", str(tmp_path / "dl"), "evilpkg")
    assert again.returncode != 0 and "No matching distribution found for evilpkg" in again.stderr


def test_an_unjudged_file_waits_then_503_with_retry_after(serve, local_index, shared_cache, tmp_path):
    local_index.add_wheel({"freshpkg/__init__.py": "def hello():\n    return 'hi'\n"}, "freshpkg", "2.0")
    # the upstream stalls the first two downloads (5 s each, then the client retries): the
    # judgement cannot end before pip asks, however fast the scan
    local_index.fault("files/freshpkg-*", "stall", times=2)
    server = serve(local_index.url, "--cache-dir", str(shared_cache), "--judge-wait", "0.05")
    (entry,) = page(server, "freshpkg")["files"]
    started = time.monotonic()
    r = httpx.get(file_url(server, "freshpkg", entry), timeout=30)
    assert r.status_code == 503 and time.monotonic() - started < 5
    assert r.headers["Retry-After"] == "1" and "is being judged" in r.json()["error"]
    got = pip("download", "--no-deps", "--retries", "0", "--index-url", f"{server.url}simple/",
              "-d", str(tmp_path / "early"), "freshpkg")
    assert got.returncode != 0 and "503" in got.stdout + got.stderr
    r = wait_for_200(file_url(server, "freshpkg", entry))  # the judgement went on meanwhile
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == entry["hashes"]["sha256"]
    got = pip("download", "--no-deps", "--index-url", f"{server.url}simple/", "-d",
              str(tmp_path / "dl"), "freshpkg")
    assert got.returncode == 0, got.stdout + got.stderr


def test_bytes_other_than_the_upstreams_sha256_are_502_and_never_cached(serve, local_index, tmp_path):
    local_index.add_wheel({"hashpkg/__init__.py": "Y = 2\n"}, "hashpkg", "1.0")
    local_index.fault("files/hashpkg-*", "wrong-sha256")
    cache = tmp_path / "own-cache"
    server = serve(local_index.url, "--cache-dir", str(cache))
    (entry,) = page(server, "hashpkg")["files"]
    sha = entry["hashes"]["sha256"]
    r = httpx.get(file_url(server, "hashpkg", entry), timeout=60)
    assert r.status_code == 502 and "sha256 mismatch" in r.json()["error"]
    assert not (cache / "artifacts" / sha[:2] / sha).exists()
    got = pip("download", "--no-deps", "--index-url", f"{server.url}simple/", "-d",
              str(tmp_path / "dl"), "hashpkg")
    assert got.returncode != 0 and "502" in got.stdout + got.stderr
    local_index.clear()  # the upstream serves its real bytes again
    r = wait_for_200(file_url(server, "hashpkg", entry))
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == sha
    # a cached copy that rotted is never served: it is thrown away and fetched again
    cached = cache / "artifacts" / sha[:2] / sha
    cached.write_bytes(b"rotten")
    r = httpx.get(file_url(server, "hashpkg", entry), timeout=60)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == sha


def test_metadata_requires_python_and_yanked_are_kept(serve, local_index_factory, shared_cache, tmp_path):
    index = local_index_factory(core_metadata="pep714", preload=False)
    index.add_wheel({"metapkg/__init__.py": "Z = 3\n"}, "metapkg", "0.9", yanked="broken")
    index.add_wheel({"metapkg/__init__.py": "Z = 4\n"}, "metapkg", "1.0", requires_python=">=3.8",
                    requires=["cleanpkg>=1"])
    server = serve(index.url, "--cache-dir", str(shared_cache))
    listed = page(server, "metapkg")
    by_version = {e["filename"].split("-")[1]: e for e in listed["files"]}
    assert by_version["0.9"]["yanked"] is True and by_version["1.0"]["yanked"] is False
    assert by_version["1.0"]["requires-python"] == ">=3.8"
    upstream = {f.version: f for f in index.projects["metapkg"].files}
    announced = {"sha256": upstream["1.0"].metadata_sha256}
    assert by_version["1.0"]["core-metadata"] == by_version["1.0"]["dist-info-metadata"] == announced
    assert listed["versions"] == ["0.9", "1.0"] and listed["meta"]["api-version"] == "1.1"
    html = httpx.get(f"{server.url}simple/metapkg/").text
    assert 'data-requires-python="&gt;=3.8"' in html and 'data-yanked=""' in html
    assert f'data-core-metadata="sha256={announced["sha256"]}"' in html
    metadata = httpx.get(file_url(server, "metapkg", by_version["1.0"]) + ".metadata")
    assert metadata.status_code == 200 and metadata.content == upstream["1.0"].metadata
    # pip resolves from the .metadata file, and skips the yanked release
    got = pip("download", "--no-deps", "--index-url", f"{server.url}simple/", "-d",
              str(tmp_path / "dl"), "metapkg")
    assert got.returncode == 0, got.stdout + got.stderr
    assert [p.name for p in (tmp_path / "dl").iterdir()] == [upstream["1.0"].filename]
    assert any(line["path"].endswith(".metadata") for line in server.access_log())


NEGOTIATION = [
    (None, "text/html"),
    ("*/*", "text/html"),
    (WHEEL_JSON, WHEEL_JSON),
    ("application/vnd.pypi.simple.latest+json", WHEEL_JSON),
    ("application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.v1+html"),
    (f"{WHEEL_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01", WHEEL_JSON),
    (f"text/html, {WHEEL_JSON};q=0.5", "text/html"),
    (f"{WHEEL_JSON};q=0, text/html;q=0.1", "text/html"),
    ("image/png", None),
]


def test_content_negotiation(serve, local_index):
    server = serve(local_index.url)
    for accept, media in NEGOTIATION:
        headers = {"Accept": accept} if accept else {}
        for path in ("simple/", "simple/cleanpkg/"):
            r = httpx.get(f"{server.url}{path}", headers=headers, timeout=30)
            if media is None:
                assert r.status_code == 406 and "Accept" in r.json()["error"]
                continue
            assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == media, accept
            assert r.headers["vary"] == "Accept"
            if media == WHEEL_JSON:
                assert r.json()["meta"]["api-version"].startswith("1.")
            else:
                assert "cleanpkg" in r.text
    moved = httpx.get(f"{server.url}simple/CleanPkg/")
    assert moved.status_code == 301 and moved.headers["location"] == "../cleanpkg/"
    assert httpx.get(f"{server.url}simple/nosuchproject/").status_code == 404


def test_what_could_not_be_checked_is_not_served(serve, local_index, tmp_path):
    local_index.add_wheel({"slowscan/__init__.py": "W = 5\n"}, "slowscan", "1.0")
    server = serve(local_index.url, "--scan-timeout", "0.01", "--cache-dir", str(tmp_path / "c"))
    (entry,) = page(server, "slowscan")["files"]
    r = httpx.get(file_url(server, "slowscan", entry), timeout=300)
    deadline = time.monotonic() + 300
    while "being judged" in r.text and time.monotonic() < deadline:
        time.sleep(0.5)
        r = httpx.get(file_url(server, "slowscan", entry), timeout=300)
    assert r.status_code == 503 and "could not check it, so it is not served" in r.json()["error"]
    assert "Retry-After" in r.headers


def test_a_restart_loses_nothing(serve, local_index, shared_cache, tmp_path):
    local_index.add_wheel({"stallpkg/__init__.py": "V = 6\n"}, "stallpkg", "1.0")
    local_index.fault("files/stallpkg-*", "stall")
    first = serve(local_index.url, "--cache-dir", str(shared_cache))
    checked = httpx.post(f"{first.url}v1/check", json={"specs": ["cleanpkg==1.0.0"]}, timeout=600)
    assert checked.status_code == 200
    (evil,) = page(first, "evilpkg")["files"]
    assert httpx.get(file_url(first, "evilpkg", evil), timeout=600).status_code == 403
    job = httpx.post(f"{first.url}v1/jobs", json={"specs": ["stallpkg"]}).json()
    deadline = time.monotonic() + 30
    while httpx.get(f"{first.url}v1/jobs/{job['id']}").json()["state"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    first.stop(kill=True)  # a crash: SIGKILL, nothing gets to clean up
    port = int(first.url.rsplit(":", 1)[1].strip("/"))
    second = serve(local_index.url, "--cache-dir", str(shared_cache), port=port)
    lost = httpx.get(f"{second.url}v1/jobs/{job['id']}").json()
    assert lost["state"] == "failed" and lost["retryable"] is True
    assert "the server stopped before this job finished" in lost["error"]
    assert "1 unfinished job(s) of the previous server" in second.log.read_text()
    stored = httpx.get(f"{second.url}v1/packages/cleanpkg/1.0.0").json()["packages"]
    assert stored[0]["verdict"] == "pass"
    assert page(second, "evilpkg")["files"] == []  # still hidden, without judging again
    assert json.loads(checked.text)["packages"][0]["name"] == "cleanpkg"


def test_several_workers_share_one_state(serve, local_index, shared_cache):
    server = serve(local_index.url, "--cache-dir", str(shared_cache), "--workers", "2")
    r = httpx.post(f"{server.url}v1/check", json={"specs": ["cleanpkg==1.0.0"]}, timeout=600)
    assert r.status_code == 200 and r.json()["packages"][0]["verdict"] == "pass"
    for _ in range(6):  # whichever worker answers, the answer is there
        stored = httpx.get(f"{server.url}v1/packages/cleanpkg/1.0.0")
        assert stored.status_code == 200
