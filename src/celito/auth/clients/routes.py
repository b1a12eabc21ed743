from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request

from celito.auth.caller import Caller
from celito.auth.clients import service
from celito.auth.clients.schemas import (
    EXAMPLE,
    ClientCreate,
    ClientOut,
    ClientUpdate,
    TermsAcceptance,
)
from celito.auth.scopes import Scope
from celito.kit.docs import MANAGERS, operation
from celito.kit.paging import PageParams
from celito.web import DbSession, RuntimeDep, caller_for

router = APIRouter(prefix="/clients", tags=["OAuth clients"])
Reader = Annotated[Caller, caller_for("oauth")]
ISSUERS = (Scope.SUPER_USER, Scope.RESELLER)
_NO_SECRET = {k: v for k, v in EXAMPLE.items() if k != "client-secret"}


@router.post(
    "",
    response_model=ClientOut,
    **operation(
        "Issue an OAuth client",
        "Creates a client for an integration, owned by a reseller and optionally limited to "
        "one domain. The `client-secret` is shown in this response only. The client cannot "
        "get tokens until its terms of service are accepted (POST …/tos-acceptance, or "
        "POST /ns-api/tos/accept).",
        roles=ISSUERS,
        example=EXAMPLE,
        status=201,
        request_example={"name": "Acme CRM integration", "reseller": "~", "domain": "acme"},
        errors=(401, 403, 404, 409, 422),
    ),
)
async def create_client(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    body: Annotated[ClientCreate, Body()],
) -> ClientOut:
    client, secret = await service.create(session, caller, body)
    return service.to_out(client, runtime.settings.tos_version, secret=secret)


@router.get(
    "",
    response_model=list[ClientOut],
    response_model_exclude={"__all__": {"client_secret"}},
    **operation(
        "List OAuth clients",
        "Clients in your tenancy, with their terms status.",
        roles=MANAGERS,
        example=[_NO_SECRET],
    ),
)
async def list_clients(
    session: DbSession, caller: Reader, runtime: RuntimeDep, page: PageParams
) -> list[ClientOut]:
    rows = await service.list_(session, caller, page)
    return [service.to_out(c, runtime.settings.tos_version) for c in rows]


@router.get(
    "/{client_id}",
    response_model=ClientOut,
    response_model_exclude={"client_secret"},
    **operation("Read an OAuth client", "One client by id.", roles=MANAGERS, example=_NO_SECRET),
)
async def get_client(
    session: DbSession, caller: Reader, runtime: RuntimeDep, client_id: str
) -> ClientOut:
    return service.to_out(
        await service.get(session, caller, client_id), runtime.settings.tos_version
    )


@router.put(
    "/{client_id}",
    response_model=ClientOut,
    response_model_exclude={"client_secret"},
    **operation(
        "Update an OAuth client",
        "Rename, enable or disable a client.",
        roles=ISSUERS,
        example=_NO_SECRET,
        request_example={"enabled": "no"},
        errors=(401, 403, 404, 422),
    ),
)
async def update_client(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    client_id: str,
    body: Annotated[ClientUpdate, Body()],
) -> ClientOut:
    client = await service.update(session, caller, client_id, body)
    runtime.callers.clear()
    return service.to_out(client, runtime.settings.tos_version)


@router.post(
    "/{client_id}/secret",
    response_model=ClientOut,
    **operation(
        "Rotate a client secret",
        "Issues a new secret (shown once); the old one stops working at once.",
        roles=ISSUERS,
        example=EXAMPLE,
    ),
)
async def rotate_secret(
    session: DbSession, caller: Reader, runtime: RuntimeDep, client_id: str
) -> ClientOut:
    client, secret = await service.rotate_secret(session, caller, client_id)
    return service.to_out(client, runtime.settings.tos_version, secret=secret)


@router.post(
    "/{client_id}/tos-acceptance",
    response_model=ClientOut,
    response_model_exclude={"client_secret"},
    **operation(
        "Accept the API terms for a client",
        "Records that you accept the current API terms of service (see /ns-api/tos) for this "
        "client: who, when, which version, from which address.",
        roles=MANAGERS,
        example={
            **_NO_SECRET,
            "tos-version": "2026-11-01",
            "tos-accepted-by": "1000@acme",
            "tos-accepted-datetime": "2026-11-27T10:05:00Z",
            "tos-current": "yes",
        },
        request_example={"tos-version": "2026-11-01"},
        errors=(401, 403, 404, 409, 422),
    ),
)
async def accept_terms(
    request: Request,
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    client_id: str,
    body: Annotated[TermsAcceptance, Body()],
) -> ClientOut:
    client = await service.get(session, caller, client_id)
    service.accept_terms(
        session, caller, client, version=body.tos_version, current=runtime.settings.tos_version
    )
    return service.to_out(client, runtime.settings.tos_version)


@router.delete(
    "/{client_id}",
    response_model=ClientOut,
    response_model_exclude={"client_secret"},
    **operation(
        "Delete an OAuth client",
        "Deletes the client and revokes its tokens.",
        roles=ISSUERS,
        example=_NO_SECRET,
    ),
)
async def delete_client(
    session: DbSession, caller: Reader, runtime: RuntimeDep, client_id: str
) -> ClientOut:
    client = await service.delete(session, caller, client_id)
    runtime.callers.clear()
    return service.to_out(client, runtime.settings.tos_version)
