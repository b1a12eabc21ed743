"""The token endpoints: /ns-api/oauth2/token (form, JSON or GET) and /ns-api/v2/tokens (JSON)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auth import oauth
from celito.auth.oauth import OAuthError
from celito.web import DbSession, RuntimeDep, client_ip

router = APIRouter(tags=["Authentication"])

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
TOKEN_EXAMPLE = {
    "access_token": "cva_3q2+7w…",
    "token_type": "Bearer",
    "expires_in": 3600,
    "refresh_token": "cvr_Zm9v…",
    "scope": "Office Manager",
    "username": "1000@acme",
    "user": "1000",
    "domain": "acme",
    "territory": "northwind",
    "uid": "1000@acme",
    "login": "1000@acme",
    "user_email": "om@acme.example",
    "displayName": "Olive Manager",
    "department": "",
    "site": "",
    "group": "",
    "client_id": "acme-crm",
    "apiversion": "Version: 45.0.0",
}
_FORM_SCHEMA = {
    "requestBody": {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["password", "refresh_token"]},
                        "client_id": {"type": "string"},
                        "client_secret": {"type": "string"},
                        "username": {"type": "string", "description": "ext@domain or login"},
                        "password": {"type": "string", "format": "password"},
                        "refresh_token": {"type": "string"},
                    },
                }
            },
            "application/json": {
                "schema": {"type": "object"},
                "example": {
                    "grant_type": "password",
                    "client_id": "acme-crm",
                    "client_secret": "cvs_…",
                    "username": "1000@acme",
                    "password": "…",
                },
            },
        }
    },
    "x-roles": ["anyone with a client and a login"],
}


async def read_params(request: Request) -> tuple[dict[str, str], bool]:
    """Form, JSON or query string; client credentials may also come as HTTP Basic."""
    params: dict[str, str] = {k: v for k, v in request.query_params.items()}
    if request.method == "POST":
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "application/json":
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                raise OAuthError("invalid_request", "The body is not valid JSON") from None
            if not isinstance(body, dict):
                raise OAuthError("invalid_request", "The body must be a JSON object")
            params.update({k: str(v) for k, v in body.items() if v is not None})
        elif kind in ("application/x-www-form-urlencoded", "multipart/form-data", ""):
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        else:
            raise OAuthError(
                "invalid_request",
                f"Unsupported content type {kind}; send a form or JSON body",
                status=415,
            )
    basic = False
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
            cid, _, secret = decoded.partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client", "Malformed Basic credentials", status=401) from None
        params.setdefault("client_id", unquote(cid))
        params.setdefault("client_secret", unquote(secret))
        basic = True
    for name, value in params.items():
        if "\x00" in name or "\x00" in value:
            raise OAuthError("invalid_request", f"{name.strip(chr(0))} must not contain NUL")
    return params, basic


async def grant(
    session: AsyncSession, runtime: Any, params: dict[str, str], basic: bool, ip: str
) -> dict[str, Any]:
    grant_type = params.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type not in ("password", "refresh_token"):
        raise OAuthError(
            "unsupported_grant_type",
            f"grant_type '{grant_type}' is not supported; use password or refresh_token",
        )
    # Read-only checks use their own read transaction; see authenticate_password.
    async with runtime.db.reader() as reader:
        client = await oauth.authenticate_client(
            reader, params.get("client_id"), params.get("client_secret"), basic=basic
        )
    oauth.check_terms(runtime, client)
    if grant_type == "password":
        user = await oauth.authenticate_password(
            session, runtime, params.get("username"), params.get("password"), ip
        )
        oauth.check_user_gate(runtime, client, user)
        issued = await oauth.issue(session, runtime, user, client, ip=ip, grant="password")
        login = params.get("username", user.uid)
    else:
        issued = await oauth.refresh(session, runtime, client, params.get("refresh_token"), ip)
        login = issued.user.login_username or issued.user.uid
    return oauth.token_response(issued, runtime, login)


async def _token(request: Request, session: AsyncSession, runtime: Any) -> JSONResponse:
    try:
        params, basic = await read_params(request)
        body = await grant(session, runtime, params, basic, client_ip(request))
    except OAuthError as error:
        # Returned, not raised: a failed login is still recorded (throttling), and a reused
        # refresh token still revokes its family, when the request's transaction commits.
        return JSONResponse(
            error.body(), status_code=error.status, headers={**_NO_STORE, **error.headers}
        )
    return JSONResponse(body, headers=_NO_STORE)


_DOC = (
    "Exchange a client's credentials and a user's login for an access token (grant_type="
    "`password`), or a refresh token for a new pair (grant_type=`refresh_token`; refresh "
    "tokens rotate, and reusing a spent one revokes every token of that login). Send a form "
    "or JSON body; a GET with a query string is accepted for old clients. Client credentials "
    "may be sent in the body or as HTTP Basic. The response has every NetSapiens field; "
    "`scope` is the user's role.\n\nRefusals follow RFC 6749 (`invalid_client`, "
    "`invalid_grant`, `unsupported_grant_type`, `invalid_request`), plus `access_denied` when "
    "the API terms of service are not accepted or API access is not enabled for the domain, "
    "and 429 with Retry-After after repeated failed logins."
)
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"example": TOKEN_EXAMPLE}}},
    400: {"description": "invalid_request, invalid_grant or unsupported_grant_type"},
    401: {"description": "invalid_client"},
    403: {"description": "access_denied: terms of service not accepted or API access off"},
    429: {"description": "Too many failed logins; see Retry-After"},
}


@router.post(
    "/oauth2/token",
    summary="Get an access token (OAuth2)",
    description=_DOC + "\n\n**Roles:** anyone with a client and a login.",
    responses=_RESPONSES,
    openapi_extra=_FORM_SCHEMA,
)
async def token_post(request: Request, session: DbSession, runtime: RuntimeDep) -> JSONResponse:
    return await _token(request, session, runtime)


@router.get(
    "/oauth2/token",
    summary="Get an access token (query string, for old clients)",
    description=_DOC + "\n\n**Roles:** anyone with a client and a login.",
    responses=_RESPONSES,
    openapi_extra={
        "x-roles": ["anyone with a client and a login"],
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": name == "grant_type",
                "schema": {"type": "string"},
            }
            for name in (
                "grant_type",
                "client_id",
                "client_secret",
                "username",
                "password",
                "refresh_token",
            )
        ],
    },
)
async def token_get(request: Request, session: DbSession, runtime: RuntimeDep) -> JSONResponse:
    # A GET changes state here (tokens, throttling), so it needs the writer transaction.
    return await _token(request, session, runtime)


router.add_api_route("/oauth2/token/", token_post, methods=["POST"], include_in_schema=False)
router.add_api_route("/oauth2/token/", token_get, methods=["GET"], include_in_schema=False)


@router.post(
    "/v2/tokens",
    summary="Get an access token (v2, JSON)",
    description=_DOC + "\n\n**Roles:** anyone with a client and a login.",
    responses=_RESPONSES,
    openapi_extra=_FORM_SCHEMA,
)
async def token_v2(request: Request, session: DbSession, runtime: RuntimeDep) -> JSONResponse:
    return await _token(request, session, runtime)
