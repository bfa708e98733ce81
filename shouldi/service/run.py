"""Running the app: uvicorn, one process or ``workers`` processes sharing one socket.

Before anything serves, the state file is opened once here (a bad ``--state`` is a usage
error, exit 2, not a worker crash), jobs a previous server left unfinished are marked
failed and retryable, and the socket is bound (a port in use is exit 2, one line). With ``workers > 1`` uvicorn's supervisor spawns the workers and
restarts one that dies; each builds its own app from the :class:`ServiceConfig`, which is
sent to it pickled by :mod:`multiprocessing` as uvicorn sends its own config (our
dataclasses, from this process to its children; nothing read from disk is unpickled).

uvicorn's limits apply on top of the app's: ``limit_concurrency`` (connections and tasks
at once; beyond it, 503), ``timeout_keep_alive`` (idle connections are closed), h11's bound
on a request head. Its own access log is off: :mod:`shouldi.service.middleware` writes one
JSON line per request instead.

The event loop is asyncio's own, not uvloop (which uvicorn picks when it is installed, as
``uvicorn[standard]`` installs it): uvloop 0.23 (libuv 1.52) accepts one waiting connection
per loop iteration, and an iteration of a busy worker serves every ready connection first
(~100 requests, ~70 ms), so new connections waited seconds to be accepted: 200 clients
connecting at once to a loaded server saw a p99 of 3 s (wrk, closed loop), a queue of 154
connections draining at ~14 a second. asyncio's loop accepts every waiting connection
(up to the backlog) at once: the same load's p99 is 0.23 s, at a few percent more CPU per
request (bench/serve.py).
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any

import uvicorn

from shouldi.service.config import ServiceConfig, ServiceConfigError
from shouldi.service.state import State

__all__ = ["bind", "run", "uvicorn_config"]

#: Connections and in-flight requests one worker takes before answering 503.
LIMIT_CONCURRENCY = 2048


class _Config(uvicorn.Config):
    """A uvicorn config that builds the app from a :class:`ServiceConfig` in the process that
    serves it (uvicorn otherwise wants an import string to reach its workers)."""

    def __init__(self, service: ServiceConfig, **kw: Any) -> None:
        self.service = service
        super().__init__(_placeholder, **kw)

    def load(self) -> None:
        from shouldi.service.app import create_app

        _configure_logging()
        self.app = create_app(self.service)
        super().load()


async def _placeholder(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
    raise RuntimeError("replaced by the service's app when loaded")


class _ShutdownFilter(logging.Filter):
    """uvicorn's words for a Ctrl-C while a check runs, made one line: the "Cancel N running
    task(s), timeout graceful shutdown exceeded" error is said as what it is, and the
    traceback of each request cancelled by that shutdown ("Exception in ASGI application":
    CancelledError) is not shown: a cancelled request is the shutdown asked for."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and _cancelled(exc):
            return False
        text = record.getMessage()
        if text.startswith("Cancel ") and "graceful shutdown exceeded" in text:
            count = text.split()[1]
            record.msg, record.args = (f"shouldi serve: stopping: {count} request(s) still "
                                       "running were cancelled"), ()
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _cancelled(exc: BaseException) -> bool:
    import asyncio

    group = getattr(exc, "exceptions", None)  # an exception group (Python 3.11+)
    if isinstance(group, tuple) and group:
        return all(isinstance(e, BaseException) and _cancelled(e) for e in group)
    return isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt))


def _configure_logging() -> None:
    uv_errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _ShutdownFilter) for f in uv_errors.filters):
        uv_errors.addFilter(_ShutdownFilter())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("shouldi.service.access")
    if not access.handlers:
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False
    errors = logging.getLogger("shouldi.service")
    if not errors.handlers:
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        errors.addHandler(h)
        errors.setLevel(logging.INFO)


def uvicorn_config(config: ServiceConfig) -> uvicorn.Config:
    return _Config(config, host=config.host, port=config.port, workers=config.workers,
                   access_log=False, log_level="warning", limit_concurrency=LIMIT_CONCURRENCY,
                   timeout_keep_alive=5, timeout_graceful_shutdown=10, server_header=False,
                   proxy_headers=False, lifespan="on", loop="asyncio")


def run(config: ServiceConfig) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM)."""
    state = State.open(config.state_file)
    try:
        lost = state.recover()
    finally:
        state.close()
    if lost:
        print(f"{lost} unfinished job(s) of the previous server are marked failed (retryable)",
              file=sys.stderr)
    uv = uvicorn_config(config)
    sock = bind(config.host, config.port)
    if config.workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(uv, sockets=[sock]).run()
        return
    server = uvicorn.Server(uv)
    server.run(sockets=[sock])
    if not server.started:
        raise SystemExit(3)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, or a usage error (exit 2) saying why it cannot be had (a port
    in use, an address not of this machine): said once, before any worker starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host.strip("[]"), port), family=family, backlog=2048)
    except (OSError, OverflowError) as e:
        raise ServiceConfigError(f"--host {host} --port {port}: cannot listen there "
                                 f"({getattr(e, 'strerror', None) or e})") from e
    sock.set_inheritable(True)
    return sock
