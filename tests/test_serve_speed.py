"""What keeps a cached answer's latency low (bench/serve.py measures it): the event loop
accepts every waiting connection at once."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from test_serve_process import free_port

from shouldi.service.config import ServiceConfig
from shouldi.service.run import uvicorn_config
from shouldi.settings import Settings


def accepted_at_once(loop: asyncio.AbstractEventLoop, waiting: int = 50) -> int:
    """Connections ``loop`` accepts in a few iterations when ``waiting`` are queued."""
    made: list[Any] = []

    class Counting(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            made.append(transport)

    listening = socket.create_server(("127.0.0.1", 0), backlog=2048)
    server = loop.run_until_complete(loop.create_server(Counting, sock=listening, backlog=2048))
    clients = [socket.create_connection(listening.getsockname()) for _ in range(waiting)]
    try:
        for _ in range(3):
            loop.run_until_complete(asyncio.sleep(0))
        return len(made)
    finally:
        for c in clients:
            c.close()
        for t in made:
            t.close()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()


def test_the_service_loop_accepts_every_waiting_connection_at_once(tmp_path):
    """uvloop (libuv 1.52) accepts one connection per iteration: a busy worker left new
    connections waiting for seconds (bench/serve.py: p99 3 s). The loop uvicorn is told to
    run accepts all that wait."""
    config = ServiceConfig(Settings(), port=free_port(), state_path=tmp_path / "s.sqlite")
    uv = uvicorn_config(config)
    factory = uv.get_loop_factory() if hasattr(uv, "get_loop_factory") else None
    loop = factory() if factory is not None else asyncio.new_event_loop()
    assert accepted_at_once(loop) == 50

