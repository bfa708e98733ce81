"""Starting ``shouldi serve`` for the serve tests and bench/serve.py: a subprocess on a free
loopback port (``start_serve``), and the ``serve`` fixture that stops what it started.

Test modules define their ``serve`` fixture with :func:`serving`; this module has no tests
of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


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


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(upstream: str, home: Path, *args: str, wait: float = 60.0,
                port: int | None = None) -> ServeProcess:
    """Start ``shouldi serve`` (upstream ``upstream``, caches and state under ``home``) and
    wait until it answers; raises with its log when it does not start. Its advisory store is
    the default one of its data dir (``home/data``); the OSV API is what ``$SHOULDI_OSV_URL``
    says (conftest: a closed port) unless ``args`` say otherwise."""
    import subprocess
    import sys
    import time

    port = port or free_port()
    argv = [sys.executable, "-m", "shouldi", "serve", "--port", str(port), "--upstream", upstream,
            "--cache-dir", str(home / "cache"), "--state", str(home / "state.sqlite"),
            "--no-pip-audit", "--no-safety-cli", "--timeout", "5", *args]
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


def serving(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """The body of a ``serve`` fixture: ``serve(upstream, *options)`` starts a ``shouldi
    serve``; all are stopped after the test (``yield from serving(tmp_path)``)."""
    started: list[ServeProcess] = []

    def start(upstream: str, *args: str, home: Path | None = None, **kw: Any) -> ServeProcess:
        server = start_serve(upstream, home or tmp_path, *args, **kw)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
