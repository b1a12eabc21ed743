"""create_app(settings): the ASGI application. Nothing is built at import time."""

from __future__ import annotations

import gc
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from celito import __version__
from celito.answerrules.routes import router as answerrules_router
from celito.audio.routes import router as audio_router
from celito.audio.web import body_limits as audio_body_limits
from celito.auditlog import service as audit
from celito.auditlog.routes import router as auditlog_router
from celito.auth import jwt as jwts
from celito.auth.apikeys.routes import router as apikeys_router
from celito.auth.clients.routes import router as clients_router
from celito.auth.jwt_routes import router as jwt_router
from celito.auth.policy import ScopeDenied
from celito.auth.token_routes import router as token_router
from celito.auth.tos import router as tos_router
from celito.autoattendants.routes import router as autoattendants_router
from celito.callqueues.routes import router as callqueues_router
from celito.calls.routes import router as calls_router
from celito.cdrs.routes import router as cdrs_router
from celito.conferences.routes import router as conferences_router
from celito.config import Settings
from celito.contacts.routes import router as contacts_router
from celito.devices.routes import router as devices_router
from celito.dialplans.routes import router as dialplans_router
from celito.docs.routes import DOCS_URL, INTRODUCTION, OPENAPI_URL, mount_docs
from celito.domains.routes import router as domains_router
from celito.errors import CelitoError
from celito.events.node import EventServices
from celito.events.stream_routes import router as stream_router
from celito.fastreads import install as install_fast_reads
from celito.phonenumbers.routes import router as phonenumbers_router
from celito.phones.routes import router as phones_router
from celito.presence.routes import router as presence_router
from celito.resellers.routes import router as resellers_router
from celito.runtime import Runtime
from celito.sites.routes import router as sites_router
from celito.subscriptions.routes import router as subscriptions_router
from celito.system.routes import router as system_router
from celito.timeframes.routes import router as timeframes_router
from celito.users.routes import router as users_router
from celito.voicemail.routes import router as voicemail_router
from celito.yealink.cfg_routes import router as cfg_router
from celito.yealink.front import install as install_phone_paths
from celito.yealink.node import PhoneServices
from celito.yealink.receiver import router as yealink_hooks_router

log = logging.getLogger("celito")
# How many collections of the middle generation run before a full one (CPython's default: 10).
FULL_GC_EVERY = 100

V2_ROUTERS = (
    system_router,
    callqueues_router,
    autoattendants_router,
    conferences_router,
    resellers_router,
    domains_router,
    users_router,
    sites_router,
    contacts_router,
    apikeys_router,
    clients_router,
    jwt_router,
    auditlog_router,
    subscriptions_router,
    stream_router,
    devices_router,
    phones_router,
    phonenumbers_router,
    dialplans_router,
    audio_router,
    voicemail_router,
    timeframes_router,
    answerrules_router,
    cdrs_router,
    calls_router,
    presence_router,
)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": status, "message": message}, status_code=status, headers=headers)


# Parts of an error location that name a member of a type union, not a field.
_UNION_TAGS = frozenset({"str", "int", "float", "bool", "none", "list", "dict", "constrained-str"})


def _describe_validation(exc: RequestValidationError) -> tuple[int, str]:
    problems: dict[str, str] = {}
    in_body = False
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] == "body":
            in_body = True
            loc = loc[1:]
        where = ".".join(
            p
            for p in loc
            if p not in ("query", "path", "header") and "[" not in p and p not in _UNION_TAGS
        )
        kind = err.get("type", "")
        if kind == "json_invalid":
            problem = "the body is not valid JSON"
        elif kind == "extra_forbidden":
            problem = f"unknown field '{where}'"
        elif kind == "missing":
            problem = f"'{where}' is required" if where else "a JSON body is required"
        else:
            problem = f"{where}: {err.get('msg', 'invalid')}" if where else err["msg"]
        # One problem per field: a union reports each member's complaint, the first is enough.
        problems.setdefault(where or problem, problem)
    return (422 if in_body else 400), "; ".join(problems.values()) or "Invalid request"


def _crash(exc: BaseException) -> JSONResponse:
    """A 500 that names a request id (also in the log) and nothing of the internals."""
    request_id = uuid.uuid4().hex[:12]
    log.error("unhandled error, request id %s", request_id, exc_info=exc)
    return _error(500, f"Internal error; quote request id {request_id} to support")


def _install_error_handlers(app: FastAPI, settings: Settings) -> None:
    async def on_celito(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, CelitoError)
        if isinstance(exc, ScopeDenied) and settings.scope_error_style == "netsapiens":
            return _error(401, "Invalid Scope [APP001]")
        return _error(exc.status, exc.message, exc.headers)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        status, message = _describe_validation(exc)
        return _error(status, message)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            message = f"No route for {request.method} {request.url.path} [92]"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        return _error(exc.status_code, message, dict(exc.headers or {}))

    async def on_data(request: Request, exc: Exception) -> JSONResponse:
        # A value the database refuses (a NUL in text on PostgreSQL, a number out of range)
        # that validation let through: the client's input, so a 400, never a 500.
        log.warning(
            "database refused a value on %s %s: %s",
            request.method,
            request.url.path,
            getattr(exc, "orig", exc),
        )
        return _error(
            400,
            "A value in the request cannot be stored: it holds a NUL character or is out of range",
        )

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        return _crash(exc)

    app.add_exception_handler(CelitoError, on_celito)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(DataError, on_data)
    app.add_exception_handler(Exception, on_crash)


class GuardBodies:
    """413 for oversized bodies (declared or streamed); 415 for non-JSON v2 writes; 400 for NULs.

    A body is read here in full (it is at most `max_bytes`) and replayed to the app, so an
    oversized one is refused before any handler runs, however it was sent. `limits` gives
    some paths (a full-match regex) another limit and extra accepted content types (uploads).
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        limits: Sequence[tuple[str, int, Sequence[str]]] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits = [(re.compile(p), n, frozenset(k)) for p, n, k in limits]

    def _limit_for(self, path: str) -> tuple[int, frozenset[str]]:
        for pattern, max_bytes, kinds in self.limits:
            if pattern.fullmatch(path):
                return max_bytes, kinds
        return self.max_bytes, frozenset()

    def _too_large(self, max_bytes: int) -> JSONResponse:
        return _error(413, f"Body too large; the limit is {max_bytes} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # No name, extension or filter may hold a NUL (PostgreSQL cannot even compare one).
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"").lower():
            await _error(400, "The URL must not contain NUL characters")(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self._run(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length")
        path: str = scope["path"]
        max_bytes, kinds = self._limit_for(path)
        if declared and declared.isdigit() and int(declared) > max_bytes:
            await self._too_large(max_bytes)(scope, receive, send)
            return
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if (
            path.startswith("/ns-api/v2/")
            and path != "/ns-api/v2/tokens"
            and (declared not in (None, "0") or chunked)
            and kind not in ("application/json", "")
            and not kind.endswith("+json")
            and kind not in kinds
        ):
            await _error(415, f"Send application/json, not {kind}")(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > max_bytes:
                await self._too_large(max_bytes)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self._run(scope, replay, send)

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answers an unhandled error with the 500 body here, so it is logged once and the
        connection stays usable (Starlette's outer handler re-raises to the server)."""
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if started:
                raise
            await _crash(exc)(scope, receive, send)


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = runtime or Runtime.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        audit.set_node_name(settings.node_id)
        async with runtime.db.writer() as session:
            runtime.jwt_secret = await jwts.load_signing_secret(session)
            await session.commit()
        events = EventServices(runtime)
        app.state.stream_hub = events.hub
        await events.start()
        phone_services = PhoneServices(runtime)
        app.state.phone_services = phone_services
        await phone_services.start()
        # Everything built at start-up lives as long as the process: keep it out of the
        # collector's full passes, which otherwise stall requests for ~150 ms (bench/).
        gc.freeze()
        # A full pass over what requests leave behind still stalls the loop for 25-40 ms and
        # frees almost nothing (what they leave dies by reference counting). Under load one
        # ran every ~2 s, each a p99 spike (bench/yealink_actionurls.py): 10x rarer instead.
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, FULL_GC_EVERY)
        try:
            yield
        finally:
            await phone_services.stop()
            await events.stop()
            await runtime.db.dispose()

    app = FastAPI(
        title="celitoVoice API",
        version=__version__,
        description=INTRODUCTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    _install_error_handlers(app, settings)

    # One level of inclusion: FastAPI resolves nested routers on every request.
    app.include_router(token_router, prefix="/ns-api")
    app.include_router(tos_router, prefix="/ns-api")
    app.include_router(yealink_hooks_router)
    app.include_router(cfg_router)
    for router in V2_ROUTERS:
        app.include_router(router, prefix="/ns-api/v2")
    mount_docs(app)

    @app.get("/", include_in_schema=False)
    async def root() -> JSONResponse:
        return JSONResponse({"service": "celitoVoice", "docs": DOCS_URL, "api": "/ns-api/v2/"})

    def openapi() -> dict[str, Any]:
        """The schema, built once; its introduction's curl examples use `{base}`."""
        if app.openapi_schema is None:
            app.openapi_schema = get_openapi(
                title=app.title,
                version=app.version,
                description=INTRODUCTION,
                routes=app.routes,
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    rendered: dict[str, Response] = {}

    @app.get(OPENAPI_URL, include_in_schema=False)
    async def openapi_json(request: Request) -> Response:
        # The examples name the address the reader used (or the configured public URL).
        base = settings.public_url or str(request.base_url).rstrip("/")
        if base not in rendered:
            schema = dict(openapi())
            schema["info"] = {**schema["info"], "description": INTRODUCTION.format(base=base)}
            rendered.clear()
            rendered[base] = Response(json.dumps(schema), media_type="application/json")
        return rendered[base]

    install_fast_reads(app, runtime)  # added before GuardBodies, so the guard runs first
    install_phone_paths(app)  # likewise
    app.add_middleware(
        GuardBodies, max_bytes=settings.max_body_bytes, limits=audio_body_limits(settings)
    )
    return app
