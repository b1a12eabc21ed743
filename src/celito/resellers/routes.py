from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from celito.auth.caller import Caller
from celito.auth.scopes import Scope
from celito.kit.docs import operation
from celito.kit.paging import PageParams
from celito.kit.schema import Count
from celito.resellers import service
from celito.resellers.schemas import EXAMPLE, ResellerCreate, ResellerOut, ResellerUpdate
from celito.web import DbSession, RuntimeDep, caller_for

router = APIRouter(prefix="/resellers", tags=["Resellers"])
Reader = Annotated[Caller, caller_for("reseller")]
READERS = (Scope.SUPER_USER, Scope.RESELLER)
SUPER = (Scope.SUPER_USER,)


@router.get(
    "",
    response_model=list[ResellerOut],
    **operation(
        "List resellers",
        "Resellers (territories) you can see: all for a Super User, your own for a Reseller.",
        roles=READERS,
        example=[EXAMPLE],
    ),
)
async def list_resellers(session: DbSession, caller: Reader, page: PageParams) -> Any:
    page.check_fields(ResellerOut)
    rows = await service.render(session, await service.list_(session, caller, page))
    return page.respond(rows, ResellerOut)


@router.get(
    "/count",
    response_model=Count,
    **operation(
        "Count resellers", "How many resellers you can see.", roles=READERS, example={"total": 2}
    ),
)
async def count_resellers(session: DbSession, caller: Reader) -> Count:
    return Count(total=await service.count(session, caller))


@router.post(
    "",
    response_model=ResellerOut,
    **operation(
        "Create a reseller",
        "Creates a territory. API access starts off; a Super User turns it on with "
        "`api-access: yes` here or on each domain.",
        roles=SUPER,
        example=EXAMPLE,
        status=201,
        request_example={"reseller": "northwind", "description": "Northwind Telecom"},
        errors=(401, 403, 409, 422),
    ),
)
async def create_reseller(
    session: DbSession, caller: Reader, body: Annotated[ResellerCreate, Body()]
) -> ResellerOut:
    reseller = await service.create(session, caller, body)
    return (await service.render(session, [reseller]))[0]


@router.get(
    "/{reseller}",
    response_model=ResellerOut,
    **operation(
        "Get a reseller", "One reseller by name (`~` for your own).", roles=READERS, example=EXAMPLE
    ),
)
async def get_reseller(session: DbSession, caller: Reader, reseller: str) -> ResellerOut:
    found = await service.get(session, caller, reseller)
    return (await service.render(session, [found]))[0]


@router.get(
    "/{reseller}/count",
    response_model=Count,
    **operation(
        "Check that a reseller exists",
        '`{"total": 1}` when the reseller exists and you can see it, else 404.',
        roles=READERS,
        example={"total": 1},
    ),
)
async def reseller_exists(session: DbSession, caller: Reader, reseller: str) -> Count:
    await service.get(session, caller, reseller)
    return Count(total=1)


@router.put(
    "/{reseller}",
    response_model=ResellerOut,
    **operation(
        "Update a reseller",
        "Changes the given fields only. A Reseller may edit its own description and SMTP "
        "settings; only a Super User changes `api-access`.",
        roles=READERS,
        example=EXAMPLE,
        request_example={"description": "Northwind Telecom Ltd"},
        errors=(401, 403, 404, 422),
    ),
)
async def update_reseller(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    reseller: str,
    body: Annotated[ResellerUpdate, Body()],
) -> ResellerOut:
    updated = await service.update(session, caller, reseller, body)
    # Cached callers carry the reseller's API access: let them be looked up again.
    runtime.callers.clear()
    return (await service.render(session, [updated]))[0]


@router.delete(
    "/{reseller}",
    response_model=ResellerOut,
    **operation(
        "Delete a reseller",
        "Deletes a reseller that has no domains left (409 otherwise), with its own OAuth "
        "clients and API keys. Answers with the deleted object.",
        roles=SUPER,
        example=EXAMPLE,
        errors=(401, 403, 404, 409),
    ),
)
async def delete_reseller(
    session: DbSession, caller: Reader, runtime: RuntimeDep, reseller: str
) -> ResellerOut:
    gone = await service.delete(session, caller, reseller)
    runtime.callers.clear()
    out = ResellerOut(
        reseller=gone.name,
        description=gone.description,
        api_access=gone.api_access,
        created_datetime=gone.created_at,
        last_modified_datetime=gone.updated_at,
    )
    return out
