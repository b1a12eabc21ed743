"""Sites and departments of a domain: managed by its managers, readable by its people."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.policy import deny
from celito.auth.scopes import DOMAIN_MANAGERS
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import Conflict, NotFound
from celito.kit.names import check_time_zone
from celito.kit.paging import Page
from celito.sites.models import Department, Site
from celito.sites.schemas import (
    DepartmentCreate,
    DepartmentOut,
    DepartmentUpdate,
    SiteCreate,
    SiteOut,
    SiteUpdate,
)
from celito.users.models import User


def _require_manager(caller: Caller, what: str) -> None:
    if caller.scope not in DOMAIN_MANAGERS:
        raise deny(f"A {caller.scope} cannot change {what}")


async def _users_per(session: AsyncSession, domain: Domain, column: Any) -> dict[str, int]:
    rows = await session.execute(
        select(column, func.count()).where(User.domain_id == domain.id).group_by(column)
    )
    return {str(name): int(n) for name, n in rows.all()}


def _site_out(s: Site, domain: Domain, users: int) -> SiteOut:
    return SiteOut.model_validate(
        {
            **s.attributes,
            "site": s.name,
            "domain": domain.name,
            "count_users_total": users,
            "created_datetime": s.created_at,
            "last_modified_datetime": s.updated_at,
        }
    )


async def list_sites(
    session: AsyncSession, caller: Caller, domain_name: str, page: Page
) -> list[SiteOut]:
    domain = await domains.get(session, caller, domain_name)
    stmt = page.apply(
        select(Site).where(Site.domain_id == domain.id),
        {"site": Site.name, "created-datetime": Site.created_at},
        "site",
    )
    counts = await _users_per(session, domain, User.site)
    return [
        _site_out(s, domain, counts.get(s.name, 0)) for s in (await session.scalars(stmt)).all()
    ]


async def count_sites(session: AsyncSession, caller: Caller, domain_name: str) -> int:
    domain = await domains.get(session, caller, domain_name)
    return int(
        await session.scalar(
            select(func.count()).select_from(Site).where(Site.domain_id == domain.id)
        )
        or 0
    )


async def _site(session: AsyncSession, domain: Domain, name: str) -> Site:
    found = await session.scalar(select(Site).where(Site.domain_id == domain.id, Site.name == name))
    if found is None:
        raise NotFound(f"Site {name} does not exist in domain {domain.name}")
    return found


async def get_site(session: AsyncSession, caller: Caller, domain_name: str, name: str) -> SiteOut:
    domain = await domains.get(session, caller, domain_name)
    site = await _site(session, domain, name)
    counts = await _users_per(session, domain, User.site)
    return _site_out(site, domain, counts.get(site.name, 0))


def _apply_site(site: Site, body: SiteCreate | SiteUpdate) -> None:
    values = body.model_dump(exclude_unset=True, exclude={"synchronous", "site"})
    if values.get("time_zone"):
        check_time_zone(values["time_zone"])
    site.attributes = {**site.attributes, **values}


async def create_site(
    session: AsyncSession, caller: Caller, domain_name: str, body: SiteCreate
) -> SiteOut:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller, "sites")
    name = body.site.strip()
    site = Site(domain_id=domain.id, name=name, attributes={})
    _apply_site(site, body)
    if await session.scalar(select(Site.id).where(Site.domain_id == domain.id, Site.name == name)):
        raise Conflict(f"Site {name} already exists in domain {domain.name}")
    limit = domains.limit_of(domain, "limits_max_sites")
    if limit is not None and await count_sites(session, caller, domain.name) >= limit:
        raise Conflict(f"Domain {domain.name} has reached its limit of {limit} sites")
    session.add(site)
    await session.flush()
    audit.record(
        session,
        caller,
        "create",
        "site",
        name,
        reseller=domain.reseller.name,
        domain=domain.name,
        after=site.attributes,
    )
    return _site_out(site, domain, 0)


async def update_site(
    session: AsyncSession, caller: Caller, domain_name: str, name: str, body: SiteUpdate
) -> SiteOut:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller, "sites")
    site = await _site(session, domain, name)
    before = dict(site.attributes)
    _apply_site(site, body)
    await session.flush()
    audit.record(
        session,
        caller,
        "update",
        "site",
        name,
        reseller=domain.reseller.name,
        domain=domain.name,
        before=before,
        after=site.attributes,
    )
    return await get_site(session, caller, domain.name, name)


async def delete_site(
    session: AsyncSession, caller: Caller, domain_name: str, name: str
) -> SiteOut:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller, "sites")
    site = await _site(session, domain, name)
    users = (await _users_per(session, domain, User.site)).get(name, 0)
    if users:
        raise Conflict(f"Site {name} still has {users} users; move them first")
    await session.delete(site)
    audit.record(
        session,
        caller,
        "delete",
        "site",
        name,
        reseller=domain.reseller.name,
        domain=domain.name,
        before=site.attributes,
    )
    return _site_out(site, domain, 0)


async def list_departments(
    session: AsyncSession, caller: Caller, domain_name: str
) -> list[DepartmentOut]:
    """Defined departments, plus any department named only in users' profiles."""
    domain = await domains.get(session, caller, domain_name)
    defined = {
        d.name: d
        for d in (
            await session.scalars(select(Department).where(Department.domain_id == domain.id))
        ).all()
    }
    counts = await _users_per(session, domain, User.department)
    names = sorted(set(defined) | {n for n in counts if n})
    return [
        DepartmentOut(
            department=n,
            domain=domain.name,
            description=defined[n].description if n in defined else "",
            count_users_total=counts.get(n, 0),
        )
        for n in names
    ]


async def _department(session: AsyncSession, domain: Domain, name: str) -> Department:
    found = await session.scalar(
        select(Department).where(Department.domain_id == domain.id, Department.name == name)
    )
    if found is None:
        raise NotFound(f"Department {name} does not exist in domain {domain.name}")
    return found


async def create_department(
    session: AsyncSession, caller: Caller, domain_name: str, body: DepartmentCreate
) -> DepartmentOut:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller, "departments")
    name = body.department.strip()
    if await session.scalar(
        select(Department.id).where(Department.domain_id == domain.id, Department.name == name)
    ):
        raise Conflict(f"Department {name} already exists in domain {domain.name}")
    limit = domains.limit_of(domain, "limits_max_departments")
    existing = (
        await session.scalar(
            select(func.count()).select_from(Department).where(Department.domain_id == domain.id)
        )
        or 0
    )
    if limit is not None and existing >= limit:
        raise Conflict(f"Domain {domain.name} has reached its limit of {limit} departments")
    department = Department(domain_id=domain.id, name=name, description=body.description or "")
    session.add(department)
    await session.flush()
    audit.record(
        session,
        caller,
        "create",
        "department",
        name,
        reseller=domain.reseller.name,
        domain=domain.name,
        after={"description": department.description},
    )
    counts = await _users_per(session, domain, User.department)
    return DepartmentOut(
        department=name,
        domain=domain.name,
        description=department.description,
        count_users_total=counts.get(name, 0),
    )


async def update_department(
    session: AsyncSession, caller: Caller, domain_name: str, name: str, body: DepartmentUpdate
) -> DepartmentOut:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller, "departments")
    department = await _department(session, domain, name)
    before = {"description": department.description}
    if body.description is not None:
        department.description = body.description
    audit.record(
        session,
        caller,
        "update",
        "department",
        name,
        reseller=domain.reseller.name,
        domain=domain.name,
        before=before,
        after={"description": department.description},
    )
    counts = await _users_per(session, domain, User.department)
    return DepartmentOut(
        department=name,
        domain=domain.name,
        description=department.description,
        count_users_total=counts.get(name, 0),
    )


async def delete_department(
    session: AsyncSession, caller: Caller, domain_name: str, name: str
) -> DepartmentOut:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller, "departments")
    department = await _department(session, domain, name)
    users = (await _users_per(session, domain, User.department)).get(name, 0)
    if users:
        raise Conflict(f"Department {name} still has {users} users; move them first")
    await session.delete(department)
    audit.record(
        session,
        caller,
        "delete",
        "department",
        name,
        reseller=domain.reseller.name,
        domain=domain.name,
        before={"description": department.description},
    )
    return DepartmentOut(
        department=name, domain=domain.name, description=department.description, count_users_total=0
    )
