"""Fixtures shared by the whole suite: the hermetic local index and the sentinel guard.

- ``local_index``: a fresh PyPI-compatible index (see tests/index_server.py) preloaded with
  the packages in tests/packages/ (cleanpkg 1.0.0 sdist+wheel, sentinelpkg 0.1.0 sdist,
  evilpkg 0.1.0 sdist). Add more with ``.add_sdist``/``.add_wheel``/``.add_raw_file``,
  break it with ``.fault(pattern, kind)``, check ``.requests``.
- ``local_index_factory(json_api=..., simple_json=..., preload=..., stall_seconds=...)``
  for variants (an index without the JSON API, HTML-only, empty).
- ``built_packages``: the session's real sdists/wheels of tests/packages/, by name.
- ``with_client(fn, **make_client_kwargs)``: run ``await fn(client)`` with a fresh client
  from ``make_client`` (defaults for tests: timeout 5s, 1 retry, no backoff).
- ``sentinel_dir``: $SHOULDI_SENTINEL_DIR for the session. After EVERY test it must be
  empty: a file there means code from a scanned package was executed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from builders import make_sdist, make_wheel, read_tree
from index_server import IndexServer, LocalIndex

from shouldi.index import make_client

PACKAGES_DIR = Path(__file__).parent / "packages"


@dataclass(frozen=True)
class BuiltPackage:
    name: str
    version: str
    source: Path
    sdist: Path
    wheel: Path | None = None


@pytest.fixture(scope="session")
def sentinel_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("sentinels")
    old = os.environ.get("SHOULDI_SENTINEL_DIR")
    os.environ["SHOULDI_SENTINEL_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("SHOULDI_SENTINEL_DIR", None)
    else:
        os.environ["SHOULDI_SENTINEL_DIR"] = old


@pytest.fixture(autouse=True)
def _no_package_code_ran(sentinel_dir: Path) -> Iterator[None]:
    yield
    ran = sorted(p.name for p in sentinel_dir.iterdir())
    if ran:
        for p in sentinel_dir.iterdir():
            p.unlink()
        pytest.fail(f"code from a scanned package was EXECUTED (sentinels: {', '.join(ran)})")


@pytest.fixture(scope="session")
def built_packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BuiltPackage]:
    """Real archives of tests/packages/*, built once per session without any build backend."""
    out = tmp_path_factory.mktemp("built")
    versions = {"cleanpkg": "1.0.0", "sentinelpkg": "0.1.0", "evilpkg": "0.1.0"}
    built = {}
    for name, version in versions.items():
        src = PACKAGES_DIR / name
        wheel = None
        if name == "cleanpkg":  # a wheel holds the import package only
            code = {f"{name}/{rel}": data for rel, data in read_tree(src / name).items()}
            wheel = make_wheel(out, name, version, code)
        built[name] = BuiltPackage(name, version, src, make_sdist(out, name, version, src), wheel)
    return built


@pytest.fixture(scope="session")
def index_server() -> Iterator[IndexServer]:
    with IndexServer() as server:
        yield server


@pytest.fixture
def local_index_factory(
    index_server: IndexServer, built_packages: dict[str, BuiltPackage]
) -> Iterator[Callable[..., LocalIndex]]:
    made: list[LocalIndex] = []

    def make(*, preload: bool = True, **kw: Any) -> LocalIndex:
        index = index_server.new_index(**kw)
        made.append(index)
        if preload:
            for pkg in built_packages.values():
                for path in filter(None, (pkg.sdist, pkg.wheel)):
                    index.add_raw_file(pkg.name, pkg.version, path.name, path.read_bytes())
        return index

    yield make
    for index in made:
        index.close()


@pytest.fixture
def local_index(local_index_factory: Callable[..., LocalIndex]) -> LocalIndex:
    return local_index_factory()


@pytest.fixture
def with_client() -> Callable[..., Any]:
    def run(fn: Callable[[httpx.AsyncClient], Awaitable[Any]], **kw: Any) -> Any:
        options = {"timeout": 5.0, "retries": 1, "backoff": 0.0, **kw}

        async def main() -> Any:
            async with make_client(**options) as client:
                return await fn(client)

        return asyncio.run(main())

    return run


# --- fake online advisory services (tests/fake_osv.py) -----------------------------------------


@pytest.fixture
def fake_osv() -> Iterator[Any]:
    """A fake OSV API (``FakeOsv``) on 127.0.0.1; ``.url`` is its base URL."""
    from fake_osv import FakeOsv, running_server

    with running_server() as server:
        yield FakeOsv(server)


@pytest.fixture
def fake_pypi_json() -> Iterator[Any]:
    """A fake PyPI per-version JSON API (``FakePypiJson``); ``.root`` is its JSON root."""
    from fake_osv import FakePypiJson, running_server

    with running_server() as server:
        yield FakePypiJson(server)


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own empty data dir: the default advisory store is never the
    developer's, and is absent unless the test fills it."""
    monkeypatch.setenv("SHOULDI_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.delenv("SHOULDI_ADVISORY_DB", raising=False)


def _is_local_or_literal(host: object) -> bool:
    if host in (None, "", b"", "localhost", b"localhost"):
        return True
    text = host.decode() if isinstance(host, bytes) else str(host)
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return text.endswith(".localhost")
    return True  # an address literal: no name is looked up


@pytest.fixture(autouse=True)
def _no_internet(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test but an ``online`` one resolves a host name: this process's name lookups are
    refused as an unknown name would be (the tests' servers are on 127.0.0.1). Real host names
    in hermetic tests are data (URLs inside scanned code, a default index compared as text),
    never contacted; this guard is what says so."""
    if request.node.get_closest_marker("online") is not None:
        return
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_local_or_literal(host):
            raise socket.gaierror(socket.EAI_NONAME,
                                  f"hermetic test: no name lookup for {host!r} (mark it online)")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(autouse=True)
def _no_osv_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's OSV API is a closed local port unless a test gives its fake: no test reaches
    api.osv.dev (the source then answers SKIPPED, as offline)."""
    monkeypatch.setenv("SHOULDI_OSV_URL", "http://127.0.0.1:9/")


@pytest.fixture(autouse=True, scope="session")
def _own_tracking_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """``model train`` records its run in an MLflow store: a session temp dir, never the
    developer's (session-scoped so module-scoped fixtures that train are covered too)."""
    old = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp_path_factory.mktemp('mlflow')}/mlflow.db"
    yield
    if old is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = old
