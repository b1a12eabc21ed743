"""API keys: minted by managers (or keys allowed to mint), only ever of lower reach."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from celito.auditlog import service as audit
from celito.auth.apikeys.format import new_key, normalise_networks
from celito.auth.apikeys.schemas import MODELS, ApiKeyCreate, ApiKeyOut, ApiKeyUpdate
from celito.auth.caller import Caller
from celito.auth.crypto import sha256_hex
from celito.auth.models import ApiKey
from celito.auth.policy import check_scope_grant, deny
from celito.auth.scopes import DOMAIN_MANAGERS, Scope
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import NotFound, Unprocessable
from celito.kit.paging import Page
from celito.resellers.models import Reseller
from celito.users import service as users


def _clause(caller: Caller) -> ColumnElement[bool]:
    if caller.is_super:
        return true()
    if caller.is_reseller and caller.reseller_id is not None:
        in_domains = ApiKey.domain_id.in_(
            select(Domain.id).where(Domain.reseller_id == caller.reseller_id)
        )
        return or_(ApiKey.reseller_id == caller.reseller_id, in_domains)
    if caller.scope is Scope.OFFICE_MANAGER and caller.domain_id is not None:
        return ApiKey.domain_id == caller.domain_id
    if caller.user_id is not None:
        return ApiKey.user_id == caller.user_id
    return false()


def _require_minter(caller: Caller, wanted: Scope) -> None:
    if caller.via == "apikey":
        if not caller.can_create_keys:
            raise deny(
                "API key creation only allowed using an API key with permission to create "
                "new API keys"
            )
        if not caller.scope.outranks(wanted):
            raise deny(f"This key may only create keys of a scope below {caller.scope}")
        return
    if caller.scope not in DOMAIN_MANAGERS:
        raise deny(f"A {caller.scope} cannot create API keys")
    check_scope_grant(caller, wanted)


def _models(value: list[str] | str | None) -> list[str] | None:
    if value is None or value == "*":
        return None
    unknown = sorted(set(value) - set(MODELS))
    if unknown:
        raise Unprocessable(
            f"allowed-models: unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}"
        )
    return sorted(set(value))


def to_out(k: ApiKey, *, secret: str | None = None) -> ApiKeyOut:
    reseller = k.reseller or (k.domain.reseller if k.domain else None)
    return ApiKeyOut(
        key_id=k.key_id,
        key=secret,
        description=k.description,
        reseller=reseller.name if reseller else "*",
        domain=k.domain.name if k.domain else None,
        user=k.user.user if k.user else None,
        user_scope=k.scope,
        ip_address=k.ip_address,
        readonly=k.readonly,
        can_create_keys=k.can_create_keys,
        allowed_models="*" if k.allowed_models is None else list(k.allowed_models),
        created_by=k.created_by,
        created_datetime=k.created_at,
        lastused_datetime=k.last_used_at,
    )


def _snapshot(k: ApiKey) -> dict[str, Any]:
    return {
        "description": k.description,
        "user-scope": k.scope,
        "ip-address": k.ip_address,
        "readonly": k.readonly,
        "can-create-keys": k.can_create_keys,
        "allowed-models": k.allowed_models,
    }


async def create(session: AsyncSession, caller: Caller, body: ApiKeyCreate) -> tuple[ApiKey, str]:
    scope = body.user_scope
    _require_minter(caller, scope)
    if body.can_create_keys and caller.via == "apikey" and not caller.can_create_keys:
        raise deny("This key cannot hand out key creation")
    key = ApiKey(description=body.description, scope=scope.value, created_by=caller.uid)
    if body.user:
        user = await users.get(session, caller, body.domain or "~", body.user)
        if Scope(user.scope).outranks(caller.scope) or scope.outranks(Scope(user.scope)):
            raise deny("A key for a user cannot reach beyond that user's scope")
        key.user, key.domain = user, user.domain
    elif body.domain:
        key.domain = await domains.get(session, caller, body.domain)
    elif body.reseller == "*":
        if not caller.is_super:
            raise deny("Only a Super User makes keys without a reseller")
    else:
        name = body.reseller or caller.reseller
        if caller.is_super and name:
            found = await session.scalar(select(Reseller).where(Reseller.name == name))
        elif caller.is_reseller and name == caller.reseller:
            found = await session.get(Reseller, caller.reseller_id)
        elif caller.domain_id is not None and not body.reseller:
            found = None
            key.domain = await domains.get(session, caller, "~")
        else:
            found = None
            if body.reseller:
                raise NotFound(f"Reseller {body.reseller} does not exist")
        if found is not None:
            key.reseller = found
        elif key.domain is None:
            raise NotFound(f"Reseller {name} does not exist")
    if scope in (Scope.RESELLER, Scope.SUPER_USER) and key.domain is not None:
        raise Unprocessable(f"A {scope} key belongs to a reseller, not a domain")
    if (
        key.domain is None
        and key.reseller is not None
        and scope not in (Scope.RESELLER, Scope.SUPER_USER)
    ):
        raise Unprocessable("A key below Reseller scope needs a domain")
    key.ip_address = normalise_networks(body.ip_address or "")
    key.readonly = bool(body.readonly)
    key.can_create_keys = body.can_create_keys
    key.allowed_models = _models(body.allowed_models)
    key.key_id, secret = new_key(scope)
    key.key_hash = sha256_hex(secret)
    session.add(key)
    await session.flush()
    audit.record(
        session,
        caller,
        "create",
        "apikey",
        key.key_id,
        reseller=(key.reseller.name if key.reseller else ""),
        domain=(key.domain.name if key.domain else ""),
        user=(key.user.user if key.user else ""),
        after=_snapshot(key),
    )
    return key, secret


async def get(session: AsyncSession, caller: Caller, key_id: str) -> ApiKey:
    if key_id == "~":
        if caller.key_id is None:
            raise NotFound("The bearer is not an API key")
        key_id = caller.key_id
    # A key may always read itself, whatever its scope.
    own = ApiKey.key_id == caller.key_id if caller.key_id else false()
    found = await session.scalar(
        select(ApiKey).where(ApiKey.key_id == key_id, or_(_clause(caller), own))
    )
    if found is None:
        raise NotFound(f"API key {key_id} does not exist")
    return found


async def list_(session: AsyncSession, caller: Caller, page: Page) -> list[ApiKey]:
    stmt = page.apply(
        select(ApiKey).where(_clause(caller)),
        {
            "key-id": ApiKey.key_id,
            "created-datetime": ApiKey.created_at,
            "description": ApiKey.description,
        },
        "created-datetime",
    )
    return list((await session.scalars(stmt)).unique().all())


def _require_manager_of(caller: Caller, key: ApiKey) -> None:
    if caller.key_id == key.key_id:
        raise deny("A key cannot change or revoke itself; use another credential")
    if caller.via == "apikey" and not caller.can_create_keys:
        raise deny("This key cannot manage API keys")
    if caller.scope not in DOMAIN_MANAGERS and caller.via != "apikey":
        raise deny(f"A {caller.scope} cannot manage API keys")
    if Scope(key.scope).outranks(caller.scope):
        raise deny(f"A {caller.scope} cannot manage a {key.scope} key")


async def update(session: AsyncSession, caller: Caller, key_id: str, body: ApiKeyUpdate) -> ApiKey:
    key = await get(session, caller, key_id)
    _require_manager_of(caller, key)
    before = _snapshot(key)
    values = body.model_dump(exclude_unset=True)
    if values.get("description"):
        key.description = values["description"]
    if "ip_address" in values:
        key.ip_address = normalise_networks(values["ip_address"] or "")
    if "readonly" in values and values["readonly"] is not None:
        key.readonly = bool(values["readonly"])
    if "allowed_models" in values:
        key.allowed_models = _models(values["allowed_models"])
    await session.flush()
    audit.record(
        session,
        caller,
        "update",
        "apikey",
        key.key_id,
        domain=(key.domain.name if key.domain else ""),
        before=before,
        after=_snapshot(key),
    )
    return key


async def delete(session: AsyncSession, caller: Caller, key_id: str) -> ApiKey:
    key = await get(session, caller, key_id)
    _require_manager_of(caller, key)
    await session.delete(key)
    audit.record(
        session,
        caller,
        "delete",
        "apikey",
        key.key_id,
        domain=(key.domain.name if key.domain else ""),
        before=_snapshot(key),
    )
    return key
