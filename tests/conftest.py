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
import os
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


# --- shouldi serve (tests/test_serve*.py) ------------------------------------------------
@dataclass
class ServeProcess:
    """A ``shouldi serve`` subprocess on a free loopback port; ``url`` ends in ``/``."""

    url: str
    process: Any
    log: Path
    argv: list[str]

    def stop(self, *, kill: bool = False) -> None:
        if self.process.poll() is None:
            (self.process.kill if kill else self.process.terminate)()
        try:
            self.process.wait(timeout=20)
        except Exception:  # noqa: BLE001 - a server that will not stop is killed
            self.process.kill()
            self.process.wait(timeout=10)

    def access_log(self) -> list[dict[str, Any]]:
        import json

        return [json.loads(line) for line in self.log.read_text().splitlines()
                if line.startswith("{")]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(upstream: str, home: Path, *args: str, wait: float = 60.0,
                port: int | None = None) -> ServeProcess:
    """Start ``shouldi serve`` (upstream ``upstream``, caches and state under ``home``) and
    wait until it answers; raises with its log when it does not start."""
    import subprocess
    import sys
    import time

    port = port or _free_port()
    argv = [sys.executable, "-m", "shouldi", "serve", "--port", str(port), "--upstream", upstream,
            "--cache-dir", str(home / "cache"), "--advisory-db", str(home / "adv.sqlite"),
            "--state", str(home / "state.sqlite"), "--no-pip-audit", "--no-safety-cli",
            "--timeout", "5", *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["SHOULDI_DATA_DIR"] = str(home / "data")
    log = home / f"serve-{port}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    server = ServeProcess(f"http://127.0.0.1:{port}/", process, log, argv)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"shouldi serve exited {process.returncode}:\n{log.read_text()}")
        try:
            token = _token_of(args)
            httpx.get(f"{server.url}openapi.json", timeout=1.0,
                      headers={"Authorization": f"Bearer {token}"} if token else {})
            return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop(kill=True)
    raise RuntimeError(f"shouldi serve did not start in {wait} s:\n{log.read_text()}")


def _token_of(args: tuple[str, ...]) -> str:
    if "--token-file" in args:
        return Path(args[args.index("--token-file") + 1]).read_text().strip()
    return ""


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """``serve(upstream, *options)`` starts a ``shouldi serve``; all are stopped after the test."""
    started: list[ServeProcess] = []

    def start(upstream: str, *args: str, home: Path | None = None, **kw: Any) -> ServeProcess:
        server = start_serve(upstream, home or tmp_path, *args, **kw)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
