"""The ASGI app: the check API (``/v1/...``) and the firewall index (``/simple/``,
``/files/``), on FastAPI (which validates bodies with :mod:`shouldi.service.models` and
writes ``/openapi.json``).

:func:`create_app` builds one app for one :class:`~shouldi.service.config.ServiceConfig`;
each worker process builds its own (its own SQLite connection, HTTP client, gate and jobs),
in the lifespan, so nothing is shared across a fork or a spawn.

Errors: a :class:`~shouldi.service.errors.ServiceError` is its status and ``{"error": "..."}``;
a body FastAPI cannot validate is 400 (not JSON) or 422 (the wrong shape), said in one line;
an unknown path or method is 404/405 the same way. Anything else is a bug: its traceback is
logged on the server and the client gets ``500 {"error": "internal error"}``, nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shouldi import __version__
from shouldi.service.checks import Checker, iso_time
from shouldi.service.config import ServiceConfig
from shouldi.service.errors import NotFound, ServiceError, Unavailable
from shouldi.service.firewall import Firewall, iter_file
from shouldi.service.jobs import Jobs
from shouldi.service.middleware import AccessLog, BodyLimit, TokenAuth
from shouldi.service.models import CheckBody, ErrorBody, JobBody, PackagesBody
from shouldi.service.pages import JSON_TYPE, negotiate, project_page, root_page

__all__ = ["create_app"]

log = logging.getLogger("shouldi.service")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_JSON = "application/json"
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": what} for code, what in (
        (401, "No token, or the wrong one"), (413, "Request body too large"),
        (422, "Unusable input"), (503, "Busy: too many checks waiting"))}
_INDEX_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": what} for code, what in (
        (404, "No such project (or file) upstream"),
        (406, "None of the media types in Accept is served"),
        (502, "The upstream index failed, or served other bytes than it lists"))}


class _Parts:
    """What the lifespan builds for one worker process."""

    checker: Checker
    firewall: Firewall
    jobs: Jobs


def create_app(config: ServiceConfig) -> Any:
    """The service's ASGI app (FastAPI wrapped in the access log, token and body limit)."""
    config = config.check()
    parts = _Parts()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        from shouldi.index import make_client
        from shouldi.service.state import State

        state = State.open(config.state_file)
        async with make_client(timeout=config.settings.timeout) as client:
            parts.checker = Checker(config, state)
            parts.firewall = Firewall(config, state, parts.checker, client)
            parts.jobs = Jobs(parts.checker, state)
            try:
                yield
            finally:
                await parts.jobs.close()
                state.close()

    app = FastAPI(title="shouldi", version=__version__, lifespan=lifespan,
                  description="Should I install this Python package? The check API and a "
                              "package-firewall index (pip installs through `/simple/`).",
                  responses=_ERRORS)
    _handlers(app)
    _api_routes(app, parts, config)
    _index_routes(app, parts)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    wrapped: Any = BodyLimit(app, config.max_body)
    if config.token is not None:
        wrapped = TokenAuth(wrapped, config.token)
    return AccessLog(wrapped)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(_: Request, e: ServiceError) -> JSONResponse:
        return _error(e.status, str(e), e.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        errors = e.errors()
        first = errors[0] if errors else {}
        if first.get("type") == "json_invalid":
            return _error(400, f"the body is not JSON: {first.get('ctx', {}).get('error', '')}"
                          .rstrip(": "))
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        if first.get("type") == "extra_forbidden":
            return _error(422, f"unknown option {where!r}")
        return _error(422, f"{where or 'body'}: {first.get('msg', 'invalid')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, e: StarletteHTTPException) -> JSONResponse:
        return _error(e.status_code, str(e.detail), dict(e.headers or {}))

    @app.exception_handler(Exception)
    async def bug(request: Request, e: Exception) -> JSONResponse:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=e)
        return _error(500, "internal error")


def _api_routes(app: FastAPI, parts: _Parts, config: ServiceConfig) -> None:
    @app.post("/v1/check", response_model=PackagesBody, tags=["checks"],
              responses={400: {"model": ErrorBody, "description": "Not JSON"}})
    async def check(body: CheckBody) -> Response:
        """Should I install these? The JSON `shouldi install --format json` prints: the
        specs and what they would install (`"no_deps": true`: the specs alone); the exit
        code it would give is in the `Shouldi-Exit-Code` header. A tree that cannot be
        resolved (a conflict, no such project: `install` exits 2) is a 422. A check still
        running after the server's wait goes on as a job: 503 with its id."""
        run = parts.checker.parse(body)
        given = parts.checker.remembered(run)
        if given is None:
            task = asyncio.ensure_future(parts.checker.answers(run))
            try:
                given = await asyncio.wait_for(asyncio.shield(task), config.check_wait)
            except asyncio.TimeoutError:
                job = parts.jobs.adopt(task, run, body.model_dump())
                raise Unavailable(f"still checking after {config.check_wait:g} s; the check "
                                  f"goes on as job {job.id} (GET /v1/jobs/{job.id})",
                                  retry_after=30) from None
        return Response(Checker.render(given, run.trace), media_type=_JSON,
                        headers={"Shouldi-Exit-Code": str(Checker.exit_code(given))})

    @app.post("/v1/jobs", status_code=202, response_model=JobBody, tags=["checks"],
              responses={400: {"model": ErrorBody, "description": "Not JSON"}})
    async def submit(body: CheckBody) -> JSONResponse:
        """Check in the background: 202 with the job's id at once (poll `GET /v1/jobs/{id}`)."""
        job = parts.jobs.submit(parts.checker.parse(body), body.model_dump())
        return JSONResponse(job.to_dict(), status_code=202,
                            headers={"Location": f"/v1/jobs/{job.id}"})

    @app.get("/v1/jobs/{job_id}", response_model=JobBody, tags=["checks"],
             responses={404: {"model": ErrorBody, "description": "No such job"}})
    async def job(job_id: str) -> JSONResponse:
        """A job's state, and its result (the install JSON plus `exit_code`) once done."""
        found = parts.checker.state.job(job_id) if len(job_id) <= 64 else None
        if found is None:
            raise NotFound(f"no job {job_id[:64]!r}")
        return JSONResponse(found.to_dict())

    @app.get("/v1/packages/{name}/{version}", response_model=PackagesBody, tags=["checks"],
             responses={404: {"model": ErrorBody, "description": "Never judged here"}})
    async def package(name: str, version: str) -> Response:
        """The answers stored for a release (one per file judged, newest first): no check
        runs. 404 when the service never judged it."""
        from shouldi.index.spec import normalize_name

        stored = parts.checker.state.answers_for(normalize_name(name), version)
        if not stored:
            raise NotFound(f"no stored answer for {name} {version}; POST /v1/check to judge it")
        # each stored report is a compact JSON object: add "reused_from" and "required_by"
        # (who required a package belongs to the request that judged it, not to the release)
        # before its "}" rather than decoding and encoding it again
        packages = ",".join(f'{body[:-1]},"reused_from":{json.dumps(iso_time(at))},"required_by":[]}}'
                            for body, _, at in stored)
        notes = json.dumps(list(dict.fromkeys(n for _, ns, _ in stored for n in ns)))
        return Response(f'{{"packages":[{packages}],"notes":{notes}}}', media_type=_JSON)


def _media(request: Request) -> str:
    media = negotiate(request.headers.get("accept"))
    if media is None:
        raise ServiceError("none of the media types in Accept is served here (PEP 691: "
                           f"{JSON_TYPE} or text/html)", status=406)
    return media


def _index_routes(app: FastAPI, parts: _Parts) -> None:
    @app.get("/simple/", tags=["index"], response_class=Response, responses=_INDEX_ERRORS)
    async def simple_root(request: Request) -> Response:
        """Every project of the upstream (PEP 503 HTML or PEP 691 JSON, by `Accept`)."""
        media = _media(request)
        body = root_page(await parts.firewall.root(), media)
        return Response(body, media_type=media, headers={"Vary": "Accept"})

    @app.get("/simple/{project}/", tags=["index"], response_class=Response,
             responses={**_INDEX_ERRORS, 301: {"description": "To the normalised name's page"}})
    async def simple_project(project: str, request: Request) -> Response:
        """A project's files, less those of releases judged `fail`."""
        from shouldi.service.firewall import project_name

        media = _media(request)
        name = project_name(project)
        if name != project:
            return RedirectResponse(f"../{name}/", status_code=301)
        listed, versions, hidden = await parts.firewall.listing(name)
        body = project_page(name, listed, versions, hidden, media)
        return Response(body, media_type=media, headers={"Vary": "Accept"})

    @app.get("/files/{project}/{sha256}/{filename}", tags=["index"], response_class=Response,
             responses={**_INDEX_ERRORS,
                        403: {"model": ErrorBody, "description": "Judged fail"},
                        503: {"model": ErrorBody, "description": "Not judged yet, or could "
                              "not be checked (Retry-After)"}})
    async def file(project: str, sha256: str, filename: str) -> Response:
        """A file, once judged `pass` or `warn` (or its PEP 658 `.metadata`)."""
        if not _SHA256.fullmatch(sha256):
            raise NotFound(f"{sha256[:80]!r} is not a sha256")
        if filename.endswith(".metadata"):
            body = await parts.firewall.metadata(project, sha256, filename[:-len(".metadata")])
            return Response(body, media_type="application/octet-stream")
        _, artifact = await parts.firewall.judge(project, sha256, filename)
        handle = await parts.firewall.open_verified(artifact)
        size = str(handle.seek(0, 2))
        handle.seek(0)
        return StreamingResponse(iter_file(handle), media_type="application/octet-stream",
                                 headers={"Content-Length": size})



def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with its validation-error body replaced by ours (we answer 422
    with ``{"error": ...}``, not FastAPI's ``detail`` list)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    ours = "#/components/schemas/ErrorBody"
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {}).get(_JSON, {})
                if content.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                    content["schema"] = {"$ref": ours}
                    response["description"] = "Unusable input" if code == "422" else response[
                        "description"]
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    app.openapi_schema = schema
    return schema

