from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from celito.auth.caller import Caller
from celito.kit.docs import EVERYONE, MANAGERS, operation
from celito.kit.paging import PageParams
from celito.kit.schema import Count
from celito.sites import service
from celito.sites.schemas import (
    DEPARTMENT_EXAMPLE,
    SITE_EXAMPLE,
    DepartmentCreate,
    DepartmentOut,
    DepartmentUpdate,
    SiteCreate,
    SiteOut,
    SiteUpdate,
)
from celito.web import DbSession, caller_for

router = APIRouter(prefix="/domains/{domain}", tags=["Sites and departments"])
Reader = Annotated[Caller, caller_for("site")]
DeptReader = Annotated[Caller, caller_for("department")]
WRITE_ERRORS = (401, 403, 404, 409, 422)


@router.get(
    "/sites",
    response_model=list[SiteOut],
    **operation(
        "List sites",
        "The domain's sites with how many users each has.",
        roles=EVERYONE,
        example=[SITE_EXAMPLE],
    ),
)
async def list_sites(
    session: DbSession, caller: Reader, domain: str, page: PageParams
) -> list[SiteOut]:
    return await service.list_sites(session, caller, domain, page)


@router.get(
    "/sites/list",
    response_model=list[SiteOut],
    **operation(
        "List sites (compatibility)", "Same as GET …/sites.", roles=EVERYONE, example=[SITE_EXAMPLE]
    ),
)
async def list_sites_compat(
    session: DbSession, caller: Reader, domain: str, page: PageParams
) -> list[SiteOut]:
    return await service.list_sites(session, caller, domain, page)


@router.get(
    "/sites/count",
    response_model=Count,
    **operation(
        "Count sites", "How many sites the domain has.", roles=EVERYONE, example={"total": 2}
    ),
)
async def count_sites(session: DbSession, caller: Reader, domain: str) -> Count:
    return Count(total=await service.count_sites(session, caller, domain))


@router.post(
    "/sites",
    response_model=SiteOut,
    **operation(
        "Create a site",
        "Adds a site; `limits-max-sites` of the domain is enforced (409).",
        roles=MANAGERS,
        example=SITE_EXAMPLE,
        status=201,
        request_example={"site": "HQ", "time-zone": "America/New_York"},
        errors=WRITE_ERRORS,
    ),
)
async def create_site(
    session: DbSession, caller: Reader, domain: str, body: Annotated[SiteCreate, Body()]
) -> SiteOut:
    return await service.create_site(session, caller, domain, body)


@router.get(
    "/sites/{site}",
    response_model=SiteOut,
    **operation("Read a site", "One site by name.", roles=EVERYONE, example=SITE_EXAMPLE),
)
async def get_site(session: DbSession, caller: Reader, domain: str, site: str) -> SiteOut:
    return await service.get_site(session, caller, domain, site)


@router.put(
    "/sites/{site}",
    response_model=SiteOut,
    **operation(
        "Update a site",
        "Changes the given fields.",
        roles=MANAGERS,
        example=SITE_EXAMPLE,
        request_example={"caller-id-name": "Acme HQ"},
        errors=WRITE_ERRORS,
    ),
)
async def update_site(
    session: DbSession, caller: Reader, domain: str, site: str, body: Annotated[SiteUpdate, Body()]
) -> SiteOut:
    return await service.update_site(session, caller, domain, site, body)


@router.delete(
    "/sites/{site}",
    response_model=SiteOut,
    **operation(
        "Delete a site",
        "Removes a site that has no users (409 otherwise).",
        roles=MANAGERS,
        example=SITE_EXAMPLE,
        errors=(401, 403, 404, 409),
    ),
)
async def delete_site(session: DbSession, caller: Reader, domain: str, site: str) -> SiteOut:
    return await service.delete_site(session, caller, domain, site)


@router.get(
    "/departments/list",
    response_model=list[DepartmentOut],
    **operation(
        "List departments",
        "Departments defined for the domain, and any named in users' profiles, with user counts.",
        roles=EVERYONE,
        example=[DEPARTMENT_EXAMPLE],
    ),
)
async def list_departments(
    session: DbSession, caller: DeptReader, domain: str
) -> list[DepartmentOut]:
    return await service.list_departments(session, caller, domain)


@router.get(
    "/departments",
    response_model=list[DepartmentOut],
    **operation(
        "List departments (REST)",
        "Same as GET …/departments/list.",
        roles=EVERYONE,
        example=[DEPARTMENT_EXAMPLE],
    ),
)
async def list_departments_rest(
    session: DbSession, caller: DeptReader, domain: str
) -> list[DepartmentOut]:
    return await service.list_departments(session, caller, domain)


@router.post(
    "/departments",
    response_model=DepartmentOut,
    **operation(
        "Create a department",
        "Defines a department; `limits-max-departments` is enforced (409).",
        roles=MANAGERS,
        example=DEPARTMENT_EXAMPLE,
        status=201,
        request_example={"department": "Sales"},
        errors=WRITE_ERRORS,
    ),
)
async def create_department(
    session: DbSession, caller: DeptReader, domain: str, body: Annotated[DepartmentCreate, Body()]
) -> DepartmentOut:
    return await service.create_department(session, caller, domain, body)


@router.put(
    "/departments/{department}",
    response_model=DepartmentOut,
    **operation(
        "Update a department",
        "Changes its description.",
        roles=MANAGERS,
        example=DEPARTMENT_EXAMPLE,
        request_example={"description": "EMEA"},
        errors=WRITE_ERRORS,
    ),
)
async def update_department(
    session: DbSession,
    caller: DeptReader,
    domain: str,
    department: str,
    body: Annotated[DepartmentUpdate, Body()],
) -> DepartmentOut:
    return await service.update_department(session, caller, domain, department, body)


@router.delete(
    "/departments/{department}",
    response_model=DepartmentOut,
    **operation(
        "Delete a department",
        "Removes a department no user is in (409 otherwise).",
        roles=MANAGERS,
        example=DEPARTMENT_EXAMPLE,
        errors=(401, 403, 404, 409),
    ),
)
async def delete_department(
    session: DbSession, caller: DeptReader, domain: str, department: str
) -> DepartmentOut:
    return await service.delete_department(session, caller, domain, department)
