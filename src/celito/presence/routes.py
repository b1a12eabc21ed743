from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from celito.auth.caller import Caller
from celito.kit.docs import EVERYONE, operation
from celito.kit.paging import PageParams
from celito.kit.timeparse import parse_api_datetime
from celito.presence import service
from celito.web import DbSession, caller_for

router = APIRouter(prefix="/domains/{domain}", tags=["Presence"])
Reader = Annotated[Caller, caller_for("presence")]
EXAMPLE = {
    "user": "1002",
    "uid": "1002@acme",
    "domain": "acme",
    "site": "HQ",
    "email": "grace@acme.example",
    "name-first-name": "Grace",
    "name-last-name": "Hopper",
    "department": "Engineering",
    "user-presence-status": "open",
    "status-message": "",
}
DERIVATION = (
    " `user-presence-status` is derived, first rule that applies: `busy` (on an answered "
    "call, or placing one), `ringing` (a call to the user is ringing), `dnd` (do-not-disturb "
    "is on), `open` (a device is registered), else `inactive`. `last_update` (a datetime, "
    "e.g. `2026-11-27T13:00:00Z`) keeps only users whose presence changed since then. Sorted "
    "by `user` unless `sort` names user, name-first-name, name-last-name, department or site. "
    "Every user of the domain may read it, as every phone's busy-lamp field does."
)
LastUpdate = Annotated[
    str | None, Query(description="Only users whose presence changed at or after this.")
]


@router.get(
    "/presence/list",
    **operation(
        "List presence in a domain",
        "Each user of the domain (`~` = yours) with its presence." + DERIVATION,
        roles=EVERYONE,
        example=[EXAMPLE],
    ),
)
async def list_presence(
    session: DbSession,
    caller: Reader,
    domain: str,
    page: PageParams,
    last_update: LastUpdate = None,
) -> list[dict[str, Any]]:
    since = parse_api_datetime(last_update, field="last_update") if last_update else None
    rows = await service.list_(session, caller, domain, page, last_update=since)
    return page.project(rows, service.FIELDS)


@router.get(
    "/departments/{department}/presence/list",
    **operation(
        "List presence in a department",
        "The users of one department with their presence; 404 if the domain has no such "
        "department." + DERIVATION,
        roles=EVERYONE,
        example=[EXAMPLE],
    ),
)
async def list_department_presence(
    session: DbSession,
    caller: Reader,
    domain: str,
    department: str,
    page: PageParams,
    last_update: LastUpdate = None,
) -> list[dict[str, Any]]:
    since = parse_api_datetime(last_update, field="last_update") if last_update else None
    rows = await service.list_(
        session, caller, domain, page, department=department, last_update=since
    )
    return page.project(rows, service.FIELDS)
