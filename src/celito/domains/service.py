"""Domains: created and changed by Super Users and Resellers, read by their Office Managers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.models import ApiKey, OAuthClient, OAuthToken
from celito.auth.policy import deny, domain_clause
from celito.domains.models import Domain
from celito.domains.schemas import ATTRIBUTE_FIELDS, DomainCreate, DomainOut, DomainUpdate
from celito.errors import Conflict, NotFound
from celito.kit.names import check_name, check_time_zone
from celito.kit.paging import Page
from celito.resellers.models import Reseller
from celito.users.models import User


async def get(session: AsyncSession, caller: Caller, name: str) -> Domain:
    """The domain by name (`~` = the caller's), or 404 when it is outside the caller's reach."""
    if name == "~":
        if caller.domain is None:
            raise NotFound("You have no domain")
        name = caller.domain
    found = await session.scalar(
        select(Domain).where(Domain.name == name.lower(), domain_clause(caller))
    )
    if found is None:
        raise NotFound(f"Domain {name} does not exist")
    return found


async def list_(session: AsyncSession, caller: Caller, page: Page) -> list[Domain]:
    stmt = select(Domain).join(Domain.reseller).where(domain_clause(caller))
    stmt = page.apply(
        stmt,
        {
            "domain": Domain.name,
            "reseller": Reseller.name,
            "description": Domain.description,
            "created-datetime": Domain.created_at,
        },
        "domain",
    )
    return list((await session.scalars(stmt)).unique().all())


async def count(session: AsyncSession, caller: Caller) -> int:
    total = await session.scalar(
        select(func.count()).select_from(Domain).where(domain_clause(caller))
    )
    return int(total or 0)


async def render(session: AsyncSession, rows: list[Domain]) -> list[DomainOut]:
    ids = [d.id for d in rows]
    users: dict[int, int] = {}
    if ids:
        users = dict(
            (
                await session.execute(
                    select(User.domain_id, func.count())
                    .where(User.domain_id.in_(ids))
                    .group_by(User.domain_id)
                )
            ).all()
        )
    return [to_out(d, users.get(d.id, 0)) for d in rows]


def to_out(d: Domain, users_total: int = 0) -> DomainOut:
    return DomainOut.model_validate(
        {
            **{k: v for k, v in d.attributes.items() if k in ATTRIBUTE_FIELDS and v is not None},
            "domain": d.name,
            "reseller": d.reseller.name,
            "description": d.description,
            "api_access": d.api_access,
            "time_zone": d.time_zone,
            "count_users_total": users_total,
            "created_datetime": d.created_at,
            "last_modified_datetime": d.updated_at,
        }
    )


def snapshot(d: Domain) -> dict[str, Any]:
    return {
        "description": d.description,
        "api-access": d.api_access,
        "time-zone": d.time_zone,
        "reseller": d.reseller.name,
        **d.attributes,
    }


def limit_of(domain: Domain, name: str) -> int | None:
    value = domain.attributes.get(name)
    return int(value) if value is not None else None


async def _reseller_for(session: AsyncSession, caller: Caller, name: str) -> Reseller:
    if name == "~" or (caller.is_reseller and name.lower() == (caller.reseller or "")):
        if caller.reseller_id is None:
            raise NotFound("You have no reseller")
        if not (caller.is_reseller or caller.is_super):
            raise deny(f"A {caller.scope} cannot manage domains")
        found = await session.get(Reseller, caller.reseller_id)
    else:
        if not caller.is_super:
            raise NotFound(f"Reseller {name} does not exist")
        found = await session.scalar(select(Reseller).where(Reseller.name == name.lower()))
    if found is None:
        raise NotFound(f"Reseller {name} does not exist")
    return found


def _apply(d: Domain, body: DomainCreate | DomainUpdate, caller: Caller) -> None:
    values = body.model_dump(exclude_unset=True, exclude={"synchronous", "domain", "reseller"})
    if "api_access" in values:
        wanted = bool(values.pop("api_access"))
        if wanted != d.api_access and not caller.is_super:
            raise deny("Only a Super User can turn API access on or off")
        d.api_access = wanted
    if "description" in values:
        d.description = values.pop("description") or ""
    if "time_zone" in values:
        zone = values.pop("time_zone")
        d.time_zone = check_time_zone(zone) if zone else "UTC"
    attrs = dict(d.attributes)
    attrs.update(values)
    d.attributes = attrs


async def create(session: AsyncSession, caller: Caller, body: DomainCreate) -> Domain:
    if not (caller.is_super or caller.is_reseller):
        raise deny(f"A {caller.scope} cannot create domains")
    name = check_name("domain", body.domain)
    reseller = await _reseller_for(session, caller, body.reseller)
    if await session.scalar(select(Domain.id).where(Domain.name == name)):
        raise Conflict(f"Domain {name} already exists")
    domain = Domain(name=name, reseller=reseller, description="", api_access=False, attributes={})
    _apply(domain, body, caller)
    session.add(domain)
    await session.flush()
    audit.record(
        session,
        caller,
        "create",
        "domain",
        name,
        reseller=reseller.name,
        domain=name,
        after=snapshot(domain),
    )
    return domain


async def update(session: AsyncSession, caller: Caller, name: str, body: DomainUpdate) -> Domain:
    domain = await get(session, caller, name)
    if not (caller.is_super or caller.is_reseller):
        raise deny(f"A {caller.scope} cannot change the domain itself")
    before = snapshot(domain)
    if body.reseller is not None:
        target = await _reseller_for(session, caller, body.reseller)
        if target.id != domain.reseller_id:
            if not caller.is_super:
                raise deny("Only a Super User can move a domain to another reseller")
            domain.reseller = target
    _apply(domain, body, caller)
    await session.flush()
    audit.record(
        session,
        caller,
        "update",
        "domain",
        domain.name,
        reseller=domain.reseller.name,
        domain=domain.name,
        before=before,
        after=snapshot(domain),
    )
    return domain


async def delete(session: AsyncSession, caller: Caller, name: str) -> DomainOut:
    """Deletes the domain and everything in it: users, their tokens, keys and clients."""
    domain = await get(session, caller, name)
    if not (caller.is_super or caller.is_reseller):
        raise deny(f"A {caller.scope} cannot delete domains")
    out = (await render(session, [domain]))[0]
    user_ids = select(User.id).where(User.domain_id == domain.id)
    await session.execute(sql_delete(OAuthToken).where(OAuthToken.user_id.in_(user_ids)))
    await session.execute(sql_delete(ApiKey).where(ApiKey.domain_id == domain.id))
    await session.execute(sql_delete(ApiKey).where(ApiKey.user_id.in_(user_ids)))
    client_ids = select(OAuthClient.id).where(OAuthClient.domain_id == domain.id)
    await session.execute(sql_delete(OAuthToken).where(OAuthToken.client_pk.in_(client_ids)))
    await session.execute(sql_delete(OAuthClient).where(OAuthClient.domain_id == domain.id))
    await session.execute(sql_delete(User).where(User.domain_id == domain.id))
    await session.delete(domain)
    audit.record(
        session,
        caller,
        "delete",
        "domain",
        domain.name,
        reseller=domain.reseller.name,
        domain=domain.name,
        before=snapshot(domain),
        details={"users_deleted": out.count_users_total},
    )
    return out
