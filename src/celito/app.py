"""create_app(settings): the ASGI application. Nothing is built at import time."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from celito import __version__
from celito.auditlog import service as audit
from celito.auditlog.routes import router as auditlog_router
from celito.auth import jwt as jwts
from celito.auth.apikeys.routes import router as apikeys_router
from celito.auth.clients.routes import router as clients_router
from celito.auth.jwt_routes import router as jwt_router
from celito.auth.policy import ScopeDenied
from celito.auth.token_routes import router as token_router
from celito.auth.tos import router as tos_router
from celito.config import Settings
from celito.docs.routes import DOCS_URL, INTRODUCTION, OPENAPI_URL, mount_docs
from celito.domains.routes import router as domains_router
from celito.errors import CelitoError
from celito.resellers.routes import router as resellers_router
from celito.runtime import Runtime
from celito.system.routes import router as system_router
from celito.users.routes import router as users_router

log = logging.getLogger("celito")

V2_ROUTERS = (
    system_router,
    resellers_router,
    domains_router,
    users_router,
    apikeys_router,
    clients_router,
    jwt_router,
    auditlog_router,
)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": status, "message": message}, status_code=status, headers=headers)


def _describe_validation(exc: RequestValidationError) -> tuple[int, str]:
    problems: list[str] = []
    in_body = False
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] == "body":
            in_body = True
            loc = loc[1:]
        where = ".".join(p for p in loc if p not in ("query", "path", "header"))
        kind = err.get("type", "")
        if kind == "json_invalid":
            problems.append("the body is not valid JSON")
        elif kind == "extra_forbidden":
            problems.append(f"unknown field '{where}'")
        elif kind == "missing":
            problems.append(f"'{where}' is required")
        else:
            problems.append(f"{where}: {err.get('msg', 'invalid')}" if where else err["msg"])
    return (422 if in_body else 400), "; ".join(problems) or "Invalid request"


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

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        request_id = uuid.uuid4().hex[:12]
        log.exception("unhandled error, request id %s", request_id, exc_info=exc)
        return _error(500, f"Internal error; quote request id {request_id} to support")

    app.add_exception_handler(CelitoError, on_celito)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)


class GuardBodies:
    """413 for oversized bodies (declared or streamed); 415 for non-JSON v2 writes."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            await _error(413, f"Body too large; the limit is {self.max_bytes} bytes")(
                scope, receive, send
            )
            return
        path: str = scope["path"]
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if (
            path.startswith("/ns-api/v2/")
            and path != "/ns-api/v2/tokens"
            and declared not in (None, "0")
            and kind not in ("application/json", "")
            and not kind.endswith("+json")
        ):
            await _error(415, f"Send application/json, not {kind}")(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise CelitoBodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except CelitoBodyTooLarge:
            await _error(413, f"Body too large; the limit is {self.max_bytes} bytes")(
                scope, receive, send
            )


class CelitoBodyTooLarge(Exception):
    pass


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = runtime or Runtime.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        audit.set_node_name(settings.node_id)
        async with runtime.db.writer() as session:
            runtime.jwt_secret = await jwts.load_signing_secret(session)
            await session.commit()
        yield
        await runtime.db.dispose()

    app = FastAPI(
        title="celitoVoice API",
        version=__version__,
        description=INTRODUCTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    _install_error_handlers(app, settings)

    ns_api = APIRouter(prefix="/ns-api")
    ns_api.include_router(token_router)
    ns_api.include_router(tos_router)
    v2 = APIRouter(prefix="/v2")
    for router in V2_ROUTERS:
        v2.include_router(router)
    ns_api.include_router(v2)
    app.include_router(ns_api)
    mount_docs(app)

    @app.get("/", include_in_schema=False)
    async def root() -> JSONResponse:
        return JSONResponse({"service": "celitoVoice", "docs": DOCS_URL, "api": "/ns-api/v2/"})

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            base = settings.public_url or "http://127.0.0.1:8080"
            app.openapi_schema = get_openapi(
                title=app.title,
                version=app.version,
                description=INTRODUCTION.format(base=base),
                routes=app.routes,
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(GuardBodies, max_bytes=settings.max_body_bytes)
    return app
