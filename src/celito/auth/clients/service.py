"""OAuth clients: issued by Super Users and Resellers; usable once their terms are accepted."""

from __future__ import annotations

from sqlalchemy import delete as sql_delete
from sqlalchemy import false, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.clients.schemas import ClientCreate, ClientOut, ClientUpdate
from celito.auth.crypto import random_alnum, random_token, sha256_hex
from celito.auth.models import OAuthClient, OAuthToken
from celito.auth.oauth import CLIENT_SECRET_PREFIX
from celito.auth.policy import deny
from celito.auth.scopes import Scope
from celito.db import utcnow
from celito.domains import service as domains
from celito.errors import Conflict, NotFound
from celito.kit.paging import Page
from celito.resellers.models import Reseller


def _clause(caller: Caller) -> ColumnElement[bool]:
    if caller.is_super:
        return true()
    if caller.is_reseller and caller.reseller_id is not None:
        return OAuthClient.reseller_id == caller.reseller_id
    if caller.scope is Scope.OFFICE_MANAGER and caller.domain_id is not None:
        return OAuthClient.domain_id == caller.domain_id
    return false()


def to_out(c: OAuthClient, current_tos: str, *, secret: str | None = None) -> ClientOut:
    return ClientOut(
        client_id=c.client_id,
        client_secret=secret,
        name=c.name,
        reseller=c.reseller.name,
        domain=c.domain.name if c.domain else None,
        enabled=c.enabled,
        tos_version=c.tos_version,
        tos_accepted_by=c.tos_accepted_by,
        tos_accepted_datetime=c.tos_accepted_at,
        tos_current=c.tos_accepted_at is not None and c.tos_version == current_tos,
        created_by=c.created_by,
        created_datetime=c.created_at,
    )


async def create(
    session: AsyncSession, caller: Caller, body: ClientCreate
) -> tuple[OAuthClient, str]:
    if not (caller.is_super or caller.is_reseller):
        raise deny(f"A {caller.scope} cannot issue OAuth clients")
    if body.reseller in ("~", caller.reseller) and caller.reseller_id is not None:
        reseller = await session.get(Reseller, caller.reseller_id)
    elif caller.is_super:
        reseller = await session.scalar(select(Reseller).where(Reseller.name == body.reseller))
    else:
        reseller = None
    if reseller is None:
        raise NotFound(f"Reseller {body.reseller} does not exist")
    client = OAuthClient(
        client_id=body.client_id or f"{reseller.name}-{random_alnum(10).lower()}",
        name=body.name,
        reseller=reseller,
        created_by=caller.uid,
    )
    if body.domain:
        domain = await domains.get(session, caller, body.domain)
        if domain.reseller_id != reseller.id:
            raise NotFound(f"Domain {body.domain} does not exist in reseller {reseller.name}")
        client.domain = domain
    if await session.scalar(
        select(OAuthClient.id).where(OAuthClient.client_id == client.client_id)
    ):
        raise Conflict(f"Client {client.client_id} already exists")
    secret = random_token(CLIENT_SECRET_PREFIX)
    client.secret_hash = sha256_hex(secret)
    session.add(client)
    await session.flush()
    audit.record(
        session,
        caller,
        "create",
        "oauth_client",
        client.client_id,
        reseller=reseller.name,
        domain=client.domain.name if client.domain else "",
        after={"name": client.name, "domain": body.domain},
    )
    return client, secret


async def get(session: AsyncSession, caller: Caller, client_id: str) -> OAuthClient:
    found = await session.scalar(
        select(OAuthClient).where(OAuthClient.client_id == client_id, _clause(caller))
    )
    if found is None:
        raise NotFound(f"Client {client_id} does not exist")
    return found


async def list_(session: AsyncSession, caller: Caller, page: Page) -> list[OAuthClient]:
    stmt = page.apply(
        select(OAuthClient).where(_clause(caller)),
        {"client-id": OAuthClient.client_id, "created-datetime": OAuthClient.created_at},
        "client-id",
    )
    return list((await session.scalars(stmt)).unique().all())


def _require_issuer(caller: Caller) -> None:
    if not (caller.is_super or caller.is_reseller):
        raise deny(f"A {caller.scope} cannot manage OAuth clients")


async def update(
    session: AsyncSession, caller: Caller, client_id: str, body: ClientUpdate
) -> OAuthClient:
    client = await get(session, caller, client_id)
    _require_issuer(caller)
    before = {"name": client.name, "enabled": client.enabled}
    if body.name is not None:
        client.name = body.name
    if body.enabled is not None:
        client.enabled = body.enabled
    audit.record(
        session,
        caller,
        "update",
        "oauth_client",
        client.client_id,
        reseller=client.reseller.name,
        before=before,
        after={"name": client.name, "enabled": client.enabled},
    )
    return client


async def rotate_secret(
    session: AsyncSession, caller: Caller, client_id: str
) -> tuple[OAuthClient, str]:
    client = await get(session, caller, client_id)
    _require_issuer(caller)
    secret = random_token(CLIENT_SECRET_PREFIX)
    client.secret_hash = sha256_hex(secret)
    audit.record(
        session,
        caller,
        "update",
        "oauth_client",
        client.client_id,
        reseller=client.reseller.name,
        details={"rotated": "client_secret"},
    )
    return client, secret


async def delete(session: AsyncSession, caller: Caller, client_id: str) -> OAuthClient:
    client = await get(session, caller, client_id)
    _require_issuer(caller)
    await session.execute(sql_delete(OAuthToken).where(OAuthToken.client_pk == client.id))
    await session.delete(client)
    audit.record(
        session, caller, "delete", "oauth_client", client.client_id, reseller=client.reseller.name
    )
    return client


def accept_terms(
    session: AsyncSession, caller: Caller, client: OAuthClient, *, version: str, current: str
) -> None:
    """Records who accepted which version of the API terms, when and from where."""
    if version != current:
        raise Conflict(f"The current terms are version {current}; you accepted {version}")
    allowed = (
        caller.is_super
        or (caller.is_reseller and caller.reseller_id == client.reseller_id)
        or (
            caller.scope is Scope.OFFICE_MANAGER
            and client.domain_id is not None
            and caller.domain_id == client.domain_id
        )
    )
    if not allowed:
        raise deny(
            "Terms are accepted by a Super User, the client's Reseller, or an Office Manager of "
            "the client's domain"
        )
    client.tos_version = version
    client.tos_accepted_by = caller.uid
    client.tos_accepted_at = utcnow()
    client.tos_accepted_ip = caller.ip
    audit.record(
        session,
        caller,
        "accept_terms",
        "oauth_client",
        client.client_id,
        reseller=client.reseller.name,
        domain=client.domain.name if client.domain else "",
        details={"tos_version": version},
    )
