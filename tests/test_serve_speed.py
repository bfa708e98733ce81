"""What keeps a cached answer cheap and its latency low (bench/serve.py measures it): the
event loop accepts every waiting connection at once, a remembered answer is rendered by
joining its packages' JSON (byte for byte the install JSON), a body is parsed once while
its answer key still follows the local advisory store."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

from reports import make_report
from test_serve_process import free_port

from shouldi.api import Answer, Request, trace_to_dict
from shouldi.cli.render import render_json
from shouldi.resolve.requirer import Requirer
from shouldi.service.checks import Checker
from shouldi.service.config import ServiceConfig
from shouldi.service.memo import Given
from shouldi.service.models import CheckBody
from shouldi.service.run import uvicorn_config
from shouldi.service.state import State
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


def answers() -> list[Answer]:
    root = Answer(Request("pkg==1.0"), make_report(), reused_from=1_700_000_000.5,
                  required_by=(Requirer("pkg==1.0"),))
    dep = Answer(Request("dep==2.0"), make_report("dép", "2.0"),  # not ASCII: escaped alike
                 required_by=(Requirer("dep>=2", "pkg", "1.0"),))
    return [root, dep]


def test_a_remembered_answer_is_the_install_json_byte_for_byte():
    given = [Given.of(a) for a in answers()]
    printed = json.loads(render_json(answers()))  # what `install --format json` prints
    assert printed["packages"][1]["required_by"][0]["parent"] == "pkg"
    assert Checker.render(given) == json.dumps(printed, separators=(",", ":"))
    traced = {**printed, "traces": [trace_to_dict(a) for a in answers()]}
    assert Checker.render(given, trace=True) == json.dumps(traced, separators=(",", ":"))


def test_a_body_is_parsed_once_and_its_key_follows_the_advisory_store(tmp_path):
    store = tmp_path / "advisories.sqlite"
    config = ServiceConfig(Settings(advisory_db=store), state_path=tmp_path / "s.sqlite")
    state = State.open(config.state_file)
    try:
        checker = Checker(config, state)
        run = checker.parse(CheckBody(specs=["six"]))
        assert run.tree and [r.spec for r in run.requests] == ["six"]
        assert checker.parse(CheckBody(specs=["six"])) is run  # not validated again
        alone = checker.parse(CheckBody(specs=["six"], no_deps=True))
        assert not alone.tree and alone.key() == run.key()  # the same settings
        other = checker.parse(CheckBody(specs=["six"], python_version="3.9"))
        assert other.key() != run.key()
        key = run.key()
        store.write_bytes(b"imported")  # a `db import`: answers given before are not reused
        assert run.key() != key and run.key() == checker.parse(CheckBody(specs=["six"])).key()
    finally:
        state.close()
