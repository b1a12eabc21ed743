"""Bearer → Caller: an OAuth access token, a JWT or an API key, checked without a network hop.

Each kind is verified against the shared database (so a token works on every node), and the
result is kept in the node's CallerCache for a moment to keep the hot path cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Network, IPv6Network, ip_address

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from celito.auth import jwt as jwts
from celito.auth.apikeys.format import KEY_PREFIXES, key_id_of, networks_of
from celito.auth.caller import Caller
from celito.auth.crypto import same, sha256_hex
from celito.auth.models import ApiKey, OAuthToken
from celito.auth.oauth import ACCESS_PREFIX, user_caller
from celito.auth.scopes import Scope
from celito.db import utcnow
from celito.domains.models import Domain
from celito.errors import Forbidden, Unauthorized
from celito.runtime import Runtime
from celito.users.models import User

log = logging.getLogger("celito.auth")

_LAST_USED_GRANULARITY = timedelta(seconds=60)
# Set while a request renews a cached bearer ahead of its expiry (celito.fastreads): resolve()
# then checks the bearer against the database, and replaces the cached caller.
_rechecking: ContextVar[bool] = ContextVar("celito_bearer_rechecking", default=False)


def _api_enabled(domain: Domain | None, reseller_enabled: bool) -> bool:
    return reseller_enabled or (domain is not None and domain.api_access)


def _require_enabled(user: User) -> None:
    if user.account_status == "disabled":
        raise Unauthorized(f"User {user.uid} is disabled")


def _require_api_access(runtime: Runtime, user: User) -> None:
    if Scope(user.scope) is Scope.SUPER_USER:
        return
    if not _api_enabled(user.domain, user.domain.reseller.api_access):
        raise Forbidden(
            f"API access is not enabled for domain {user.domain.name}. "
            f"Ask {runtime.settings.support_contact} to enable it."
        )


async def _from_access_token(session: AsyncSession, runtime: Runtime, token: str) -> Caller:
    row = await session.scalar(
        select(OAuthToken).where(OAuthToken.access_hash == sha256_hex(token))
    )
    if row is None:
        raise Unauthorized("Invalid access token")
    if row.revoked_at is not None:
        raise Unauthorized("Access token has been revoked")
    if row.access_expires_at <= utcnow():
        raise Unauthorized("Access token has expired")
    if not row.client.enabled:
        raise Unauthorized(f"Client {row.client.client_id} is disabled")
    _require_enabled(row.user)
    _require_api_access(runtime, row.user)
    caller = user_caller(row.user, via="token", client_id=row.client.client_id, ip="")
    return replace(caller, expires_at=row.access_expires_at)


async def _from_jwt(session: AsyncSession, runtime: Runtime, token: str) -> Caller:
    claims = jwts.decode(runtime, token, kind="access")
    user = await jwts.find_user_by_uid(session, str(claims.get("sub", "")))
    if user is None or await jwts.is_revoked(session, claims, user):
        raise Unauthorized("JWT has been revoked")
    _require_enabled(user)
    _require_api_access(runtime, user)
    caller = user_caller(user, via="jwt", client_id="jwt", ip="")
    return replace(caller, jti=claims["jti"], expires_at=datetime.fromtimestamp(claims["exp"], UTC))


def _is_writer(session: AsyncSession) -> bool:
    """Whether the request's own transaction is the writer (see celito.db.Database)."""
    bind = session.bind
    if not isinstance(bind, AsyncEngine):
        return True
    return bool(bind.get_execution_options().get("celito_writer", True))


async def _touch(session: AsyncSession, runtime: Runtime, row: ApiKey) -> None:
    """Records the key's use, at most once a minute."""
    now = utcnow()
    if row.last_used_at is not None and now - row.last_used_at <= _LAST_USED_GRANULARITY:
        return
    stmt = update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now)
    if _is_writer(session):
        # The request already holds the write transaction (on SQLite, the database's only
        # write lock): a second writer here would wait for it forever.
        await session.execute(stmt)
        return
    # A GET's read transaction stays read-only: record the use in a short one of its own.
    async with runtime.db.writer() as writer:
        await writer.execute(stmt)
        await writer.commit()


def _admits(networks: tuple[IPv4Network | IPv6Network, ...], ip: str) -> bool:
    if not networks:
        return True
    try:
        address = ip_address(ip)
    except ValueError:
        return False
    return any(address in net for net in networks)


def _check_network(
    networks: tuple[IPv4Network | IPv6Network, ...], key_id: str | None, ip: str
) -> None:
    if not _admits(networks, ip):
        log.warning("API key %s used from refused address %s", key_id, ip)
        raise Forbidden(f"This API key may not be used from {ip}")


async def _from_api_key(session: AsyncSession, runtime: Runtime, token: str, ip: str) -> Caller:
    key_id = key_id_of(token)
    row = await session.scalar(select(ApiKey).where(ApiKey.key_id == key_id)) if key_id else None
    if row is None or not same(sha256_hex(token), row.key_hash):
        raise Unauthorized("Invalid API key")
    scope = Scope(row.scope)
    if scope is not Scope.SUPER_USER:
        reseller_on = row.reseller.api_access if row.reseller else False
        if row.domain is not None:
            reseller_on = reseller_on or row.domain.reseller.api_access
        if not _api_enabled(row.domain, reseller_on):
            raise Forbidden(
                f"API access is not enabled for this key's account. "
                f"Ask {runtime.settings.support_contact} to enable it."
            )
    if row.user is not None:
        _require_enabled(row.user)
    networks = networks_of(row.ip_address)
    _check_network(networks, row.key_id, ip)  # a use refused for its address is not a use
    await _touch(session, runtime, row)
    domain = row.domain
    reseller = row.reseller or (domain.reseller if domain else None)
    user = row.user
    return Caller(
        scope=scope,
        user_id=user.id if user else None,
        user=user.user if user else None,
        domain_id=domain.id if domain else None,
        domain=domain.name if domain else None,
        reseller_id=reseller.id if reseller else None,
        reseller=reseller.name if reseller else None,
        site=user.site if user else "",
        department=user.department if user else "",
        client_id=row.key_id,
        via="apikey",
        key_pk=row.id,
        key_id=row.key_id,
        readonly=row.readonly,
        can_create_keys=row.can_create_keys,
        allowed_models=None if row.allowed_models is None else frozenset(row.allowed_models),
        allowed_networks=networks,
    )


def cached(runtime: Runtime, token: str, ip: str) -> Caller | None:
    """The caller of a bearer this node resolved moments ago, if `resolve` would accept it
    as it is: unexpired and allowed from `ip`. None means "ask `resolve`" (which then gives
    the reason); nothing is logged or raised here, so a fast path may try it first."""
    caller = runtime.callers.get(sha256_hex(token))
    if caller is None:
        return None
    if caller.expires_at is not None and caller.expires_at <= utcnow():
        return None
    if not _admits(caller.allowed_networks, ip):
        return None
    return caller


@contextmanager
def rechecking() -> Iterator[None]:
    """Within this, resolve() ignores the cached caller (and caches what it finds instead)."""
    reset = _rechecking.set(True)
    try:
        yield
    finally:
        _rechecking.reset(reset)


def forget(runtime: Runtime, token: str) -> None:
    runtime.callers.drop(sha256_hex(token))


async def resolve(session: AsyncSession, runtime: Runtime, token: str, ip: str) -> Caller:
    cache_key = sha256_hex(token)
    caller = None if _rechecking.get() else runtime.callers.get(cache_key)
    if caller is None:
        if token.startswith(ACCESS_PREFIX):
            caller = await _from_access_token(session, runtime, token)
        elif jwts.looks_like_jwt(token):
            caller = await _from_jwt(session, runtime, token)
        elif token.startswith(KEY_PREFIXES):
            caller = await _from_api_key(session, runtime, token, ip)
        else:
            raise Unauthorized("Unrecognised bearer token")
        runtime.callers.put(cache_key, caller)
    elif caller.expires_at is not None and caller.expires_at <= utcnow():
        raise Unauthorized("Access token has expired")
    _check_network(caller.allowed_networks, caller.key_id, ip)
    return caller.at(ip)
