"""The service layer's errors: each carries the HTTP status it answers with.

Every handler raises one of these for anything a client or an upstream did wrong; the app
turns them into ``{"error": "<one line>"}`` with :attr:`ServiceError.status` (and a
``Retry-After`` header where it applies). Anything else that escapes a handler is a bug: it
is logged with its traceback on the server and answered ``500 {"error": "internal error"}``.
The token (401) and the body limit (413) answer from :mod:`shouldi.service.middleware`,
before any route::

    ShouldiError
    └── ServiceError                 500 unless a subclass says otherwise
        ├── BadRequest               400 malformed JSON; 422 well-formed but unusable input
        │   └── BadRequirements      422 + Shouldi-Exit-Code 2: requirements ``install``
        │                                refuses (a tree that cannot be resolved)
        ├── Unauthorized             401 no token, or the wrong one
        ├── Refused                  403 the firewall refuses a file judged ``fail``
        ├── NotFound                 404 no such project, file, job or stored answer
        ├── UpstreamError            502 the upstream index failed, or served other bytes
        │                                than its sha256 says (never cached)
        └── Unavailable              503 + Retry-After: not judged yet, could not check
                                         (``error``), or too many checks waiting
"""

from __future__ import annotations

from shouldi.errors import ShouldiError

__all__ = ["BadRequest", "BadRequirements", "NotFound", "Refused", "ServiceError", "Unauthorized",
           "Unavailable", "UpstreamError"]


class ServiceError(ShouldiError):
    """An error answered to the client with ``status`` and a one-line message."""

    status = 500
    retry_after: float | None = None

    def __init__(self, message: str, *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        if retry_after is not None:
            self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        return {"Retry-After": str(max(1, round(self.retry_after)))}


class BadRequest(ServiceError):
    status = 422


class BadRequirements(BadRequest):
    """Requirements that have no answer (a conflict, no such project): what ``shouldi
    install`` exits 2 for, so the header says the exit code as an answer's does."""

    @property
    def headers(self) -> dict[str, str]:
        from shouldi.errors import EXIT_BAD_INPUT

        return {**super().headers, "Shouldi-Exit-Code": str(EXIT_BAD_INPUT)}


class Unauthorized(ServiceError):
    status = 401


class Refused(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class UpstreamError(ServiceError):
    status = 502


class Unavailable(ServiceError):
    status = 503
