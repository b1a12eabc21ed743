"""/ns-api/v2/jwt: issue (password, refresh JWT, delegated), read, revoke."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import update

from celito.auditlog import service as audit
from celito.auth import jwt as jwts
from celito.auth import oauth
from celito.auth.bearer import resolve
from celito.auth.caller import Caller
from celito.auth.oauth import OAuthError
from celito.auth.policy import deny, user_clause
from celito.auth.scopes import Scope
from celito.db import utcnow
from celito.errors import BadRequest, NotFound, Unauthorized
from celito.kit.docs import EVERYONE, MANAGERS, operation
from celito.users.models import User
from celito.web import DbSession, RuntimeDep, bearer, caller_for, client_ip

router = APIRouter(prefix="/jwt", tags=["Authentication"])
Reader = Annotated[Caller, caller_for("jwt")]


class JwtRequest(BaseModel):
    """One of: a password grant, `{refresh}`, or `{user, domain}` with an API key bearer."""

    model_config = ConfigDict(extra="forbid")
    grant_type: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    username: str | None = None
    password: str | None = None
    refresh: str | None = None
    user: str | None = None
    domain: str | None = None


class JwtPair(BaseModel):
    token: str
    refresh: str


_PAIR_EXAMPLE = {"token": "eyJhbGciOiJIUzI1NiIs…", "refresh": "eyJhbGciOiJIUzI1NiIs…"}


def _issuer(request: Request) -> str:
    return request.url.hostname or "celito"


@router.post(
    "",
    response_model=JwtPair,
    **operation(
        "Create a JWT",
        "Three ways: (1) a password grant body (`grant_type=password`, `client_id`, "
        "`client_secret`, `username`, `password`) under the same gates as the token endpoint; "
        '(2) `{"refresh": <refresh JWT>}` — the refresh JWT is single-use; (3) '
        '`{"user": "1000", "domain": "acme"}` with an API key as bearer, for delegated '
        "access to a user the key can see and does not outrank. Answers "
        "`{token, refresh}`; the token is HS256, audience `ns`, valid for 24 hours.",
        roles=EVERYONE,
        example=_PAIR_EXAMPLE,
        # No bearer for (1) and (2); an API key bearer for (3).
        security=[{}, {"bearer": []}, {"oauth2-password": []}],
        request_example={
            "grant_type": "password",
            "client_id": "acme-crm",
            "client_secret": "cvs_…",
            "username": "1000@acme",
            "password": "…",
        },
        errors=(400, 401, 403, 404),
    ),
)
async def create_jwt(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    body: Annotated[JwtRequest, Body()],
) -> Any:
    ip = client_ip(request)
    user: User | None = None
    by: Caller
    try:
        if body.refresh:
            claims = jwts.decode(runtime, body.refresh, kind="refresh")
            user = await jwts.find_user_by_uid(session, str(claims.get("sub")))
            if (
                user is None
                or await jwts.is_revoked(session, claims, user)
                or not await jwts.revoke(session, claims["jti"], jwts.expiry_of(claims))
            ):
                raise Unauthorized("Refresh JWT has been revoked or already used")
            by = oauth.user_caller(user, via="jwt", client_id="jwt", ip=ip)
        elif body.user and body.domain:
            auth = await bearer(request)
            if auth is None:
                raise Unauthorized("Delegated JWTs need an API key as bearer")
            key_caller = await resolve(session, runtime, auth.credentials, ip)
            if key_caller.via != "apikey":
                raise deny("Delegated JWTs need an API key as bearer")
            user = await jwts.find_user_by_uid(session, f"{body.user}@{body.domain}")
            if (
                user is None
                or await session.scalar(
                    User.__table__.select()
                    .with_only_columns(User.id)
                    .where(User.id == user.id, user_clause(key_caller))
                )
                is None
            ):
                raise NotFound(f"User {body.user} does not exist in domain {body.domain}")
            if Scope(user.scope).outranks(key_caller.scope):
                raise deny("The API key cannot mint a JWT for a user of higher scope")
            by = key_caller
        elif body.grant_type == "password":
            async with runtime.db.reader() as reader:
                client = await oauth.authenticate_client(
                    reader, body.client_id, body.client_secret, basic=False
                )
            oauth.check_terms(runtime, client)
            user = await oauth.authenticate_password(
                session, runtime, body.username, body.password, ip
            )
            oauth.check_user_gate(runtime, client, user)
            by = oauth.user_caller(user, via="jwt", client_id=client.client_id, ip=ip)
        else:
            raise BadRequest(
                'Send a password grant, {"refresh": …}, or {"user", "domain"} with an API key'
            )
    except OAuthError as error:
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)
    token, refresh, claims = jwts.issue_pair(runtime, user, issuer=_issuer(request))
    audit.record(
        session,
        by,
        "create",
        "jwt",
        claims["jti"],
        reseller=user.domain.reseller.name,
        domain=user.domain.name,
        user=user.user,
    )
    return JwtPair(token=token, refresh=refresh)


@router.get(
    "",
    **operation(
        "Read the current JWT",
        "Validates the bearer JWT on the server and answers its claims — the way to check a "
        "JWT without holding the key.",
        roles=EVERYONE,
        example={
            "aud": "ns",
            "sub": "1000@acme",
            "user_scope": "Office Manager",
            "exp": 1795000000,
            "jti": "…",
        },
    ),
)
async def read_jwt(request: Request, runtime: RuntimeDep, caller: Reader) -> dict[str, Any]:
    if caller.via != "jwt":
        raise BadRequest("The bearer is not a JWT")
    auth = await bearer(request)
    assert auth is not None
    return jwts.decode(runtime, auth.credentials, kind="access")


@router.delete(
    "",
    **operation(
        "Revoke the current JWT",
        "Revokes the bearer JWT by its `jti`.",
        roles=EVERYONE,
        example={"code": 202, "message": "Accepted"},
        status=202,
    ),
)
async def revoke_current(
    request: Request, session: DbSession, runtime: RuntimeDep, caller: Reader
) -> dict[str, Any]:
    if caller.via != "jwt":
        raise BadRequest("The bearer is not a JWT")
    auth = await bearer(request)
    assert auth is not None
    claims = jwts.decode(runtime, auth.credentials, kind="access")
    await jwts.revoke(session, claims["jti"], jwts.expiry_of(claims))
    runtime.callers.forget_where(user_id=caller.user_id)
    audit.record(
        session,
        caller,
        "revoke",
        "jwt",
        claims["jti"],
        domain=caller.domain or "",
        user=caller.user or "",
    )
    return {"code": 202, "message": "Accepted"}


@router.delete(
    "/{jti_or_uid}",
    **operation(
        "Revoke JWTs by jti or by user",
        "`/jwt/{jti}` revokes one JWT you hold; `/jwt/{user@domain}` revokes every JWT issued "
        "so far to that user (yourself, or a user you manage).",
        roles=MANAGERS,
        example={"code": 202, "message": "Accepted"},
        status=202,
    ),
)
async def revoke_by(
    jti_or_uid: str, session: DbSession, runtime: RuntimeDep, caller: Reader
) -> dict[str, Any]:
    if "@" in jti_or_uid:
        user = await jwts.find_user_by_uid(session, jti_or_uid)
        visible = user is not None and await session.scalar(
            User.__table__.select()
            .with_only_columns(User.id)
            .where(User.id == user.id, user_clause(caller))
        )
        if user is None or not visible:
            raise NotFound(f"User {jti_or_uid} does not exist")
        if user.id != caller.user_id and (
            caller.is_user_level or Scope(user.scope).outranks(caller.scope)
        ):
            raise deny(f"A {caller.scope} cannot revoke {jti_or_uid}'s JWTs")
        await session.execute(
            update(User).where(User.id == user.id).values(jwt_not_before=utcnow())
        )
        runtime.callers.forget_where(user_id=user.id)
        audit.record(
            session,
            caller,
            "revoke",
            "jwt",
            jti_or_uid,
            domain=user.domain.name,
            user=user.user,
            details={"all": True},
        )
        return {"code": 202, "message": "Accepted"}
    # A jti names no owner (JWTs are stateless), so besides its holder only managers may
    # block one; the entry lapses once any JWT with that id would have expired anyway.
    if caller.jti != jti_or_uid and (caller.is_user_level or caller.scope is Scope.NO_PORTAL):
        raise deny(f"A {caller.scope} can revoke only the JWT it holds")
    await jwts.revoke(
        session, jti_or_uid, utcnow() + timedelta(seconds=runtime.settings.jwt_seconds)
    )
    runtime.callers.clear()
    audit.record(session, caller, "revoke", "jwt", jti_or_uid, domain=caller.domain or "")
    return {"code": 202, "message": "Accepted"}
