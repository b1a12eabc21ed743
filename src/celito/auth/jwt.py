"""NetSapiens-style JWTs: HS256, audience `ns`, with a single-use refresh JWT.

The signing key lives in the database (created once), so every node verifies every JWT.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auth.models import RevokedJwt, SystemSecret
from celito.domains.models import Domain
from celito.errors import Unauthorized
from celito.runtime import Runtime
from celito.users.models import User

AUDIENCE = "ns"
_KEY_NAME = "jwt_hs256"
_REFRESH_SECONDS = 30 * 24 * 3600


async def load_signing_secret(session: AsyncSession) -> bytes:
    existing = await session.get(SystemSecret, _KEY_NAME)
    if existing is None:
        try:
            async with session.begin_nested():
                session.add(SystemSecret(name=_KEY_NAME, value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another node created it first
        existing = await session.get(SystemSecret, _KEY_NAME)
    assert existing is not None
    return bytes.fromhex(existing.value)


def looks_like_jwt(token: str) -> bool:
    return token.startswith("eyJ") and token.count(".") == 2


def _key(runtime: Runtime) -> OctKey:
    return OctKey.import_key(runtime.jwt_secret)


def issue_pair(runtime: Runtime, user: User, *, issuer: str) -> tuple[str, str, dict[str, Any]]:
    exact = time.time()
    now = int(exact)
    # `iat` is whole seconds; revoke-all-of-a-user (`jwt_not_before`) needs to tell a JWT issued
    # just before the revocation from one issued just after it, in the same second.
    iat_ms = int(exact * 1000)
    ttl = runtime.settings.jwt_seconds
    claims: dict[str, Any] = {
        "aud": AUDIENCE,
        "iss": issuer,
        "iat": now,
        "exp": now + ttl,
        "jti": secrets.token_hex(16),
        "sub": user.uid,
        "typ": "access",
        "iat_ms": iat_ms,
        "time_out": ttl * 1000,
        "domain": user.domain.name,
        "territory": user.domain.reseller.name,
        "user": user.user,
        "user_email": user.email or None,
        "user_scope": user.scope,
        "displayName": user.display_name,
        "department": user.department,
        "login": user.login_username or user.uid,
        "apiversion": runtime.settings.apiversion_string,
    }
    refresh_claims = {
        "aud": AUDIENCE,
        "iss": issuer,
        "iat": now,
        "exp": now + _REFRESH_SECONDS,
        "jti": secrets.token_hex(16),
        "sub": user.uid,
        "typ": "refresh",
        "iat_ms": iat_ms,
    }
    header = {"alg": "HS256", "typ": "JWT"}
    key = _key(runtime)
    return jwt.encode(header, claims, key), jwt.encode(header, refresh_claims, key), claims


def decode(runtime: Runtime, token: str, *, kind: str) -> dict[str, Any]:
    try:
        claims = dict(jwt.decode(token, _key(runtime), algorithms=["HS256"]).claims)
    except (JoseError, ValueError):
        raise Unauthorized("Invalid JWT") from None
    if claims.get("aud") != AUDIENCE or claims.get("typ") != kind:
        raise Unauthorized("Invalid JWT")
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
        raise Unauthorized("JWT has expired")
    return claims


def issued_at(claims: dict[str, Any]) -> datetime:
    exact = claims.get("iat_ms")
    if isinstance(exact, int):
        return datetime.fromtimestamp(exact / 1000, UTC)
    return datetime.fromtimestamp(claims["iat"], UTC)


async def is_revoked(session: AsyncSession, claims: dict[str, Any], user: User) -> bool:
    if await session.get(RevokedJwt, claims["jti"]) is not None:
        return True
    if user.jwt_not_before is not None:
        return issued_at(claims) <= user.jwt_not_before
    return False


async def revoke(session: AsyncSession, jti: str, expires_at: datetime) -> bool:
    """Blocks a JWT id; False when it already was. Safe against a concurrent revocation (a
    refresh JWT spent twice at once): exactly one of them inserts the row."""
    if await session.get(RevokedJwt, jti) is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(RevokedJwt(jti=jti, expires_at=expires_at))
    except IntegrityError:
        return False
    return True


def expiry_of(claims: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(claims["exp"], UTC)


async def find_user_by_uid(session: AsyncSession, uid: str) -> User | None:
    ext, _, domain = uid.rpartition("@")
    return await session.scalar(
        select(User).join(User.domain).where(User.user == ext, Domain.name == domain)
    )
