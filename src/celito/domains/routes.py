from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from celito.auth.caller import Caller
from celito.auth.scopes import Scope
from celito.domains import service
from celito.domains.schemas import EXAMPLE, DomainCreate, DomainOut, DomainUpdate
from celito.kit.docs import EVERYONE, MANAGERS, operation
from celito.kit.paging import PageParams
from celito.kit.schema import Count
from celito.web import DbSession, RuntimeDep, caller_for

router = APIRouter(prefix="/domains", tags=["Domains"])
Reader = Annotated[Caller, caller_for("domain")]
OWNERS = (Scope.SUPER_USER, Scope.RESELLER)


@router.get(
    "",
    response_model=list[DomainOut],
    **operation(
        "List domains",
        "Domains you can see: all (Super User), your reseller's (Reseller), or your own "
        "(everyone else). Supports `start`, `limit`, `sort`, `order`.",
        roles=MANAGERS,
        example=[EXAMPLE],
    ),
)
async def list_domains(session: DbSession, caller: Reader, page: PageParams) -> Any:
    page.check_fields(DomainOut)
    rows = await service.render(session, await service.list_(session, caller, page))
    return page.respond(rows, DomainOut)


@router.get(
    "/count",
    response_model=Count,
    **operation(
        "Count domains", "How many domains you can see.", roles=MANAGERS, example={"total": 3}
    ),
)
async def count_domains(session: DbSession, caller: Reader) -> Count:
    return Count(total=await service.count(session, caller))


@router.post(
    "",
    response_model=DomainOut,
    **operation(
        "Create a domain",
        "Creates a domain under a reseller (`~` = your own). API access starts off.",
        roles=OWNERS,
        example=EXAMPLE,
        status=201,
        request_example={
            "domain": "acme",
            "reseller": "~",
            "description": "Acme Corporation",
            "time-zone": "America/New_York",
        },
        errors=(401, 403, 404, 409, 422),
    ),
)
async def create_domain(
    session: DbSession, caller: Reader, body: Annotated[DomainCreate, Body()]
) -> DomainOut:
    return service.to_out(await service.create(session, caller, body))


@router.get(
    "/~",
    response_model=DomainOut,
    **operation(
        "Get my domain", "The domain of the token's user.", roles=EVERYONE, example=EXAMPLE
    ),
)
async def my_domain(session: DbSession, caller: Reader) -> DomainOut:
    return (await service.render(session, [await service.get(session, caller, "~")]))[0]


@router.get(
    "/{domain}",
    response_model=DomainOut,
    **operation("Get a domain", "One domain by name.", roles=EVERYONE, example=EXAMPLE),
)
async def get_domain(session: DbSession, caller: Reader, domain: str) -> DomainOut:
    return (await service.render(session, [await service.get(session, caller, domain)]))[0]


@router.get(
    "/{domain}/count",
    response_model=Count,
    **operation(
        "Check that a domain exists",
        '`{"total": 1}` when the domain exists and you can see it, else 404.',
        roles=EVERYONE,
        example={"total": 1},
    ),
)
async def domain_exists(session: DbSession, caller: Reader, domain: str) -> Count:
    await service.get(session, caller, domain)
    return Count(total=1)


@router.put(
    "/{domain}",
    response_model=DomainOut,
    **operation(
        "Update a domain",
        "Changes the given fields only. Office Managers cannot edit the domain object; only a "
        "Super User changes `api-access` or moves a domain to another reseller.",
        roles=OWNERS,
        example=EXAMPLE,
        request_example={"description": "Acme Corp.", "limits-max-users": 100},
        errors=(401, 403, 404, 422),
    ),
)
async def update_domain(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    domain: str,
    body: Annotated[DomainUpdate, Body()],
) -> DomainOut:
    updated = await service.update(session, caller, domain, body)
    # Cached callers carry the domain's API access and reseller: let them be looked up again.
    runtime.callers.clear()
    return (await service.render(session, [updated]))[0]


@router.delete(
    "/{domain}",
    response_model=DomainOut,
    **operation(
        "Delete a domain",
        "Deletes the domain with its users, their tokens, API keys and the domain's OAuth "
        "clients. Answers with the deleted object; the audit log records how many users went.",
        roles=OWNERS,
        example=EXAMPLE,
    ),
)
async def delete_domain(
    session: DbSession, caller: Reader, runtime: RuntimeDep, domain: str
) -> DomainOut:
    gone = await service.delete(session, caller, domain)
    runtime.callers.clear()
    return gone
