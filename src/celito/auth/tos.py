"""The API terms of service: served at /ns-api/tos, accepted per OAuth client."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from celito.auth import oauth
from celito.auth.clients import service as clients
from celito.auth.oauth import OAuthError
from celito.auth.token_routes import read_params
from celito.web import DbSession, RuntimeDep, client_ip

router = APIRouter(tags=["Authentication"])

DEFAULT_TERMS = """celitoVoice API terms of service (version {version})

1. API access is granted per account by {contact}; it may be suspended for abuse.
2. Keep client secrets, API keys and tokens confidential; rotate them if exposed.
3. Respect rate limits (HTTP 429 with Retry-After) and back off on errors.
4. Process callers' personal data (numbers, names, recordings) only as your customer allows
   and as the law where you operate requires.
5. Events and data are provided as they are; verify webhook signatures before trusting them.

Accept these terms for a client with POST /ns-api/tos/accept (client_id, client_secret,
username, password of an Office Manager, Reseller or Super User, tos_version={version}),
or in the API with POST /ns-api/v2/clients/{{client-id}}/tos-acceptance.
"""


def terms_text(runtime: Any) -> str:
    s = runtime.settings
    if s.tos_file is not None:
        return str(s.tos_file.expanduser().read_text())
    return DEFAULT_TERMS.format(version=s.tos_version, contact=s.support_contact)


@router.get(
    "/tos",
    summary="Read the API terms of service",
    description="The terms every OAuth client must accept before its first token, with their "
    "version in the `X-Terms-Version` header.\n\n**Roles:** anyone.",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"example": "celitoVoice API terms of service"}}}},
    openapi_extra={"x-roles": ["anyone"]},
)
async def read_terms(runtime: RuntimeDep) -> PlainTextResponse:
    return PlainTextResponse(
        terms_text(runtime), headers={"X-Terms-Version": runtime.settings.tos_version}
    )


@router.post(
    "/tos/accept",
    summary="Accept the API terms for a client",
    description="For integrators without a token yet: send `client_id`, `client_secret`, the "
    "`username` and `password` of an Office Manager (of the client's domain), Reseller or "
    "Super User, and the `tos_version` you read (form or JSON). Records who accepted which "
    "version, when and from where.\n\n**Roles:** Super User, Reseller, Office Manager.",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "client_id": "acme-crm",
                        "tos_version": "2026-11-01",
                        "accepted_by": "1000@acme",
                    }
                }
            }
        },
        403: {"description": "The login may not accept terms for this client"},
        409: {"description": "tos_version is not the current version"},
    },
    openapi_extra={
        "x-roles": ["Super User", "Reseller", "Office Manager"],
        "requestBody": {
            "content": {
                media: {
                    "schema": {
                        "type": "object",
                        "required": [
                            "client_id",
                            "client_secret",
                            "username",
                            "password",
                            "tos_version",
                        ],
                        "properties": {
                            name: {"type": "string"}
                            for name in (
                                "client_id",
                                "client_secret",
                                "username",
                                "password",
                                "tos_version",
                            )
                        },
                    },
                    "example": {
                        "client_id": "acme-crm",
                        "client_secret": "cvs_…",
                        "username": "1000@acme",
                        "password": "…",
                        "tos_version": "2026-11-01",
                    },
                }
                for media in ("application/x-www-form-urlencoded", "application/json")
            }
        },
    },
)
async def accept_terms(request: Request, session: DbSession, runtime: RuntimeDep) -> JSONResponse:
    ip = client_ip(request)
    try:
        params, basic = await read_params(request)
        client = await oauth.authenticate_client(
            session, params.get("client_id"), params.get("client_secret"), basic=basic
        )
        user = await oauth.authenticate_password(
            session, runtime, params.get("username"), params.get("password"), ip
        )
    except OAuthError as error:
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)
    caller = oauth.user_caller(user, via="token", client_id=client.client_id, ip=ip)
    clients.accept_terms(
        session,
        caller,
        client,
        version=params.get("tos_version", ""),
        current=runtime.settings.tos_version,
    )
    return JSONResponse(
        {
            "client_id": client.client_id,
            "tos_version": client.tos_version,
            "accepted_by": caller.uid,
        }
    )
