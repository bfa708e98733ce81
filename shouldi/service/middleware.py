"""Pure ASGI middleware: access logs, the bearer token, the request body limit.

Pure ASGI (not Starlette's ``BaseHTTPMiddleware``) so a streamed file is not buffered and
each layer costs a function call. Order, outermost first: the access log (every request is
logged, refused ones too), the token, the body limit.

- **Access log**: one JSON line per request on the ``shouldi.service.access`` logger:
  ``method``, ``path`` (never the query string), ``status``, ``ms``, ``client``. Headers
  are never logged: they hold the token.
- **Token**: with ``--token-file``, every request must carry it, as ``Authorization:
  Bearer <token>`` or as HTTP Basic credentials (user or password; that is how pip sends
  ``https://__token__:<token>@host/simple/``). Compared with :func:`hmac.compare_digest`
  (constant time). A missing or wrong token is 401, said the same way for both.
- **Body limit**: a declared ``Content-Length`` over the limit is refused before reading;
  a chunked body is counted as it arrives and refused (413) when it passes the limit (the
  app then sees the client disconnect, and whatever it would answer is dropped).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["AccessLog", "BodyLimit", "TokenAuth", "access_logger"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_logger = logging.getLogger("shouldi.service.access")


async def _send_json(send: Send, status: int, body: dict[str, str],
                     headers: list[tuple[bytes, bytes]] = []) -> None:  # noqa: B006 - read only
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode()), *headers]})
    await send({"type": "http.response.body", "body": data})


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = [0]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client")
            if access_logger.isEnabledFor(logging.INFO):
                access_logger.info(json.dumps({
                    "method": scope["method"], "path": scope["path"], "status": status[0] or 500,
                    "ms": round((time.perf_counter() - start) * 1000, 2),
                    "client": client[0] if client else None}))


class TokenAuth:
    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self.token = app, token.encode()

    def _allowed(self, header: bytes | None) -> bool:
        if not header:
            return False
        kind, _, value = header.strip().partition(b" ")
        kind, value = kind.lower(), value.strip()
        if kind == b"bearer":
            return hmac.compare_digest(value, self.token)
        if kind == b"basic":
            try:
                user, _, password = base64.b64decode(value, validate=True).partition(b":")
            except (binascii.Error, ValueError):
                return False
            # both compared, always: the time taken says nothing about which one matched
            ok_user = hmac.compare_digest(user, self.token)
            ok_password = hmac.compare_digest(password, self.token)
            return ok_user or ok_password
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        header = next((v for k, v in scope["headers"] if k == b"authorization"), None)
        if not self._allowed(header):
            return await _send_json(send, 401, {"error": "missing or wrong token (Authorization: "
                                                "Bearer <token>)"},
                                    [(b"www-authenticate", b'Basic realm="shouldi"')])
        return await self.app(scope, receive, send)


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await _send_json(send, 413, {"error": f"request body larger than {self.limit} "
                                                "bytes" if declared.isdigit() else
                                                "bad Content-Length"})
        seen, refused = [0], [False]

        async def counting() -> Message:
            if refused[0]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > self.limit:  # answer now; the app sees the client go away
                    refused[0] = True
                    await _send_json(send, 413, {"error": f"request body larger than "
                                                          f"{self.limit} bytes"})
                    return {"type": "http.disconnect"}
            return message

        async def sending(message: Message) -> None:
            if not refused[0]:
                await send(message)

        return await self.app(scope, counting, sending)
