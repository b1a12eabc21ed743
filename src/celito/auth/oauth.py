"""The OAuth2 token service: password and rotating refresh grants, with every gate checked.

The gates, in order: the client authenticates; the client's owner has accepted the current API
terms of service; the login is not being throttled; the password verifies; the user may use
this client; the user's domain (or reseller) has API access enabled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth import throttle
from celito.auth.caller import Caller
from celito.auth.crypto import random_token, same, sha256_hex
from celito.auth.models import OAuthClient, OAuthToken
from celito.auth.scopes import Scope
from celito.db import utcnow
from celito.domains.models import Domain
from celito.errors import CelitoError
from celito.runtime import Runtime
from celito.users.models import User

log = logging.getLogger("celito.auth")

ACCESS_PREFIX = "cva_"
REFRESH_PREFIX = "cvr_"
CLIENT_SECRET_PREFIX = "cvs_"


class OAuthError(CelitoError):
    """An RFC 6749 error; rendered with both `error` and our `{code, message}`."""

    def __init__(
        self, error: str, message: str, *, status: int = 400, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message, headers=headers)
        self.error = error
        self.status = status

    def body(self) -> dict[str, Any]:
        return {
            "error": self.error,
            "error_description": self.message,
            "code": self.status,
            "message": self.message,
        }


@dataclass(frozen=True)
class Issued:
    user: User
    client: OAuthClient
    access_token: str
    refresh_token: str
    expires_in: int


def user_caller(user: User, *, via: Any, client_id: str, ip: str) -> Caller:
    return Caller(
        scope=Scope(user.scope),
        user_id=user.id,
        user=user.user,
        domain_id=user.domain_id,
        domain=user.domain.name,
        reseller_id=user.domain.reseller_id,
        reseller=user.domain.reseller.name,
        site=user.site,
        department=user.department,
        client_id=client_id,
        ip=ip,
        via=via,
    )


def token_response(issued: Issued, runtime: Runtime, login: str) -> dict[str, Any]:
    """Every field of NetSapiens' AccessToken, so existing clients parse it unchanged."""
    user = issued.user
    return {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "refresh_token": issued.refresh_token,
        "scope": user.scope,
        "username": user.uid,
        "user": user.user,
        "domain": user.domain.name,
        "territory": user.domain.reseller.name,
        "uid": user.uid,
        "login": login,
        "user_email": user.email,
        "displayName": user.display_name,
        "department": user.department,
        "site": user.site,
        "group": user.department,
        "client_id": issued.client.client_id,
        "apiversion": runtime.settings.apiversion_string,
    }


async def find_login(session: AsyncSession, username: str) -> User | None:
    """A login is `ext@domain` or a system-unique login username (often an e-mail)."""
    name = username.strip()
    wanted = [User.login_username == name.lower()]
    if "@" in name:
        ext, _, domain = name.rpartition("@")
        wanted.append((User.user == ext) & (Domain.name == domain.lower()))
    stmt = select(User).join(User.domain).where(or_(*wanted)).limit(2)
    found = list((await session.scalars(stmt)).unique().all())
    # A login username wins over an ext@domain reading of the same string.
    found.sort(key=lambda u: u.login_username != name.lower())
    return found[0] if found else None


async def authenticate_client(
    session: AsyncSession, client_id: str | None, client_secret: str | None, *, basic: bool
) -> OAuthClient:
    headers = {"WWW-Authenticate": 'Basic realm="ns-api"'} if basic else None
    if not client_id or not client_secret:
        raise OAuthError(
            "invalid_client",
            "client_id and client_secret are required",
            status=401,
            headers=headers,
        )
    client = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None or not same(sha256_hex(client_secret), client.secret_hash):
        raise OAuthError(
            "invalid_client", "Unknown client or wrong client secret", status=401, headers=headers
        )
    if not client.enabled:
        raise OAuthError("invalid_client", f"Client {client_id} is disabled", status=401)
    return client


def check_terms(runtime: Runtime, client: OAuthClient) -> None:
    settings = runtime.settings
    if client.tos_accepted_at is None or client.tos_version != settings.tos_version:
        what = (
            "have not been accepted"
            if client.tos_accepted_at is None
            else (
                f"were accepted in version {client.tos_version} but are now {settings.tos_version}"
            )
        )
        raise OAuthError(
            "access_denied",
            f"The API terms of service for client {client.client_id} {what}. "
            f"Read them at /ns-api/tos and accept them with POST /ns-api/tos/accept "
            f"(an Office Manager, Reseller or Super User of the client's account), "
            f"or contact {settings.support_contact}.",
            status=403,
        )


def check_user_gate(runtime: Runtime, client: OAuthClient, user: User) -> None:
    scope = Scope(user.scope)
    if scope is Scope.NO_PORTAL:
        raise OAuthError("access_denied", f"User {user.uid} is not allowed to log in", status=403)
    if user.account_status == "disabled":
        raise OAuthError("access_denied", f"User {user.uid} is disabled", status=403)
    if scope is not Scope.SUPER_USER and (
        user.domain.reseller_id != client.reseller_id
        or (client.domain_id is not None and client.domain_id != user.domain_id)
    ):
        raise OAuthError("invalid_grant", f"User {user.uid} may not use client {client.client_id}")
    if not (user.domain.api_access or user.domain.reseller.api_access):
        raise OAuthError(
            "access_denied",
            f"API access is not enabled for domain {user.domain.name}. "
            f"Ask {runtime.settings.support_contact} to enable it.",
            status=403,
        )


def login_key(username: str, user: User | None) -> str:
    """The throttling key of a login: every spelling of one user's login shares one counter."""
    key = user.uid if user is not None else username.strip()
    return key.lower()[:255]  # the column's width; longer names are never real logins


async def _throttle(session: AsyncSession, runtime: Runtime, key: str, ip: str) -> None:
    retry = await throttle.retry_after(session, runtime.settings, key, ip)
    if retry is not None:
        log.warning("login throttled: username=%r ip=%r", key, ip)
        raise OAuthError(
            "temporarily_unavailable",
            "Too many failed logins; try again later",
            status=429,
            headers={"Retry-After": str(retry)},
        )


async def authenticate_password(
    session: AsyncSession, runtime: Runtime, username: str | None, password: str | None, ip: str
) -> User:
    """Checks a login. The lookup and the throttle read through a separate read transaction
    and the slow Argon2 check runs outside any transaction, so `session` (the request's
    writer) takes its lock only afterwards: on SQLite a password grant never blocks other
    writers for the length of a hash."""
    if not username or not password:
        raise OAuthError("invalid_request", "username and password are required")
    async with runtime.db.reader() as reader:
        found = await find_login(reader, username)
        key = login_key(username, found)
        await _throttle(reader, runtime, key, ip)
        user_id, hashed = (found.id, found.password_hash) if found else (None, None)
    ok = await runtime.hasher.verify(password, hashed)
    user = await session.get(User, user_id) if ok and user_id is not None else None
    if user is None:
        await throttle.record_failure(session, runtime.settings, key, ip)
        log.warning("login failed: username=%r ip=%r", key, ip)
        raise OAuthError("invalid_grant", "Invalid username or password")
    await throttle.forget(session, key)
    return user


async def issue(
    session: AsyncSession,
    runtime: Runtime,
    user: User,
    client: OAuthClient,
    *,
    ip: str,
    family: str | None = None,
    grant: str,
) -> Issued:
    s = runtime.settings
    now = utcnow()
    access = random_token(ACCESS_PREFIX)
    refresh = random_token(REFRESH_PREFIX)
    row = OAuthToken(
        family=family or random_token("", 12),
        access_hash=sha256_hex(access),
        refresh_hash=sha256_hex(refresh),
        user_id=user.id,
        client_pk=client.id,
        issued_at=now,
        access_expires_at=now + timedelta(seconds=s.access_token_seconds),
        refresh_expires_at=now + timedelta(seconds=s.refresh_token_seconds),
    )
    session.add(row)
    audit.record(
        session,
        user_caller(user, via="token", client_id=client.client_id, ip=ip),
        "create",
        "oauth_token",
        row.family,
        reseller=user.domain.reseller.name,
        domain=user.domain.name,
        user=user.user,
        details={"grant_type": grant},
    )
    return Issued(user, client, access, refresh, s.access_token_seconds)


async def refresh(
    session: AsyncSession, runtime: Runtime, client: OAuthClient, token: str | None, ip: str
) -> Issued:
    if not token:
        raise OAuthError("invalid_request", "refresh_token is required")
    row = await session.scalar(
        select(OAuthToken).where(OAuthToken.refresh_hash == sha256_hex(token))
    )
    now = utcnow()
    if row is None or row.client_pk != client.id:
        raise OAuthError("invalid_grant", "Unknown refresh token")
    if row.revoked_at is not None:
        raise OAuthError("invalid_grant", "This refresh token has been revoked")
    if row.refresh_expires_at <= now:
        raise OAuthError("invalid_grant", "This refresh token has expired; log in again")
    if row.spent_at is None:
        # Refused before it is spent: once the terms are accepted (or API access is back on)
        # the same refresh token still works, and is not taken for a stolen one.
        check_terms(runtime, client)
        check_user_gate(runtime, client, row.user)
    # Spend atomically: of two concurrent uses, exactly one wins.
    spent = await session.execute(
        update(OAuthToken)
        .where(OAuthToken.id == row.id, OAuthToken.spent_at.is_(None))
        .values(spent_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        await revoke_family(session, row.family, now=now)
        runtime.callers.forget_where(user_id=row.user_id)
        log.warning("refresh token reuse: family=%s user=%s ip=%s", row.family, row.user.uid, ip)
        audit.record(
            session,
            user_caller(row.user, via="token", client_id=client.client_id, ip=ip),
            "revoke",
            "oauth_token",
            row.family,
            reseller=row.user.domain.reseller.name,
            domain=row.user.domain.name,
            user=row.user.user,
            details={"reason": "refresh token reused; token family revoked"},
        )
        raise OAuthError(
            "invalid_grant",
            "This refresh token was already used; all tokens from this login were revoked",
        )
    return await issue(
        session, runtime, row.user, client, ip=ip, family=row.family, grant="refresh_token"
    )


async def revoke_family(session: AsyncSession, family: str, *, now: Any) -> None:
    await session.execute(
        update(OAuthToken)
        .where(OAuthToken.family == family, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
