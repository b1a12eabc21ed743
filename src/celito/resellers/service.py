"""Resellers (territories). Super Users manage them; a Reseller reads and tunes its own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.models import ApiKey, OAuthClient
from celito.auth.policy import deny, reseller_clause, reseller_tenancy_clause
from celito.domains.models import Domain
from celito.errors import Conflict, NotFound
from celito.kit.names import check_name
from celito.kit.paging import Page
from celito.resellers.models import Reseller
from celito.resellers.schemas import ResellerCreate, ResellerOut, ResellerUpdate
from celito.users.models import User

_SMTP = (
    "email_send_smtp_hostname",
    "email_send_smtp_port",
    "email_send_smtp_username",
    "email_send_smtp_password",
)


def _require_reader(caller: Caller) -> None:
    if not (caller.is_super or caller.is_reseller):
        raise deny(f"A {caller.scope} cannot read resellers")


async def get(session: AsyncSession, caller: Caller, name: str) -> Reseller:
    """The reseller by name (`~` = the caller's).

    Another tenancy's reseller is missing (404) for everyone but a Super User; the caller's
    own reseller is visible but only readable by a Reseller (403 for the roles below it).
    """
    if name == "~":
        if caller.reseller is None:
            raise NotFound("You have no reseller")
        name = caller.reseller
    found = await session.scalar(
        select(Reseller).where(Reseller.name == name.lower(), reseller_tenancy_clause(caller))
    )
    if found is None:
        raise NotFound(f"Reseller {name} does not exist")
    _require_reader(caller)
    return found


async def list_(session: AsyncSession, caller: Caller, page: Page) -> list[Reseller]:
    _require_reader(caller)
    stmt = select(Reseller).where(reseller_clause(caller))
    stmt = page.apply(
        stmt,
        {"reseller": Reseller.name, "description": Reseller.description},
        "reseller",
    )
    return list((await session.scalars(stmt)).all())


async def count(session: AsyncSession, caller: Caller) -> int:
    _require_reader(caller)
    total = await session.scalar(
        select(func.count()).select_from(Reseller).where(reseller_clause(caller))
    )
    return int(total or 0)


async def render(session: AsyncSession, rows: list[Reseller]) -> list[ResellerOut]:
    """Adds domains-total and users-total with two grouped queries for the whole page."""
    ids = [r.id for r in rows]
    domains: dict[int, int] = {}
    users: dict[int, int] = {}
    if ids:
        domains = dict(
            (
                await session.execute(
                    select(Domain.reseller_id, func.count())
                    .where(Domain.reseller_id.in_(ids))
                    .group_by(Domain.reseller_id)
                )
            ).all()
        )
        users = dict(
            (
                await session.execute(
                    select(Domain.reseller_id, func.count(User.id))
                    .join(User, User.domain_id == Domain.id)
                    .where(Domain.reseller_id.in_(ids))
                    .group_by(Domain.reseller_id)
                )
            ).all()
        )
    return [
        ResellerOut(
            reseller=r.name,
            description=r.description,
            domains_total=domains.get(r.id, 0),
            users_total=users.get(r.id, 0),
            api_access=r.api_access,
            created_datetime=r.created_at,
            last_modified_datetime=r.updated_at,
            **{k: r.attributes.get(k) for k in _SMTP[:3]},
        )
        for r in rows
    ]


def _snapshot(r: Reseller) -> dict[str, Any]:
    return {"description": r.description, "api-access": r.api_access, **r.attributes}


def _apply(r: Reseller, body: ResellerCreate | ResellerUpdate, caller: Caller) -> None:
    values = body.model_dump(exclude_unset=True, exclude={"synchronous", "reseller"})
    if "api_access" in values:
        wanted = bool(values.pop("api_access"))
        if wanted != r.api_access and not caller.is_super:
            raise deny("Only a Super User can turn API access on or off")
        r.api_access = wanted
    if "description" in values:
        r.description = values.pop("description") or ""
    attrs = dict(r.attributes)
    attrs.update({k: v for k, v in values.items() if k in _SMTP})
    r.attributes = attrs


async def create(session: AsyncSession, caller: Caller, body: ResellerCreate) -> Reseller:
    if not caller.is_super:
        raise deny(f"A {caller.scope} cannot create resellers")
    name = check_name("reseller", body.reseller)
    if await session.scalar(select(Reseller.id).where(Reseller.name == name)):
        raise Conflict(f"Reseller {name} already exists")
    reseller = Reseller(name=name, description="", api_access=False, attributes={})
    _apply(reseller, body, caller)
    session.add(reseller)
    await session.flush()
    audit.record(
        session, caller, "create", "reseller", name, reseller=name, after=_snapshot(reseller)
    )
    return reseller


async def update(
    session: AsyncSession, caller: Caller, name: str, body: ResellerUpdate
) -> Reseller:
    reseller = await get(session, caller, name)
    before = _snapshot(reseller)
    _apply(reseller, body, caller)
    await session.flush()
    audit.record(
        session,
        caller,
        "update",
        "reseller",
        reseller.name,
        reseller=reseller.name,
        before=before,
        after=_snapshot(reseller),
    )
    return reseller


async def delete(session: AsyncSession, caller: Caller, name: str) -> Reseller:
    reseller = await get(session, caller, name)
    if not caller.is_super:
        raise deny(f"A {caller.scope} cannot delete resellers")
    if await session.scalar(select(Domain.id).where(Domain.reseller_id == reseller.id).limit(1)):
        raise Conflict(f"Cannot delete reseller {reseller.name}: it still has domains")
    # Clients and keys that belong to the reseller itself go with it.
    await session.execute(sql_delete(ApiKey).where(ApiKey.reseller_id == reseller.id))
    await session.execute(sql_delete(OAuthClient).where(OAuthClient.reseller_id == reseller.id))
    await session.delete(reseller)
    audit.record(
        session,
        caller,
        "delete",
        "reseller",
        reseller.name,
        reseller=reseller.name,
        before=_snapshot(reseller),
    )
    return reseller
