from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from celito.auditlog import service
from celito.auth.caller import Caller
from celito.kit.docs import MANAGERS, operation
from celito.kit.paging import PageParams
from celito.kit.timeparse import parse_api_datetime
from celito.web import DbSession, caller_for

router = APIRouter(prefix="/auditlog", tags=["Audit log"])
Reader = Annotated[Caller, caller_for("auditlog")]

EXAMPLE = {
    "id": 42,
    "timestamp-datetime": "2026-11-27T10:00:00Z",
    "by-user": "1000@acme",
    "by-domain": "acme",
    "by-client": "acme-crm",
    "by-ip": "203.0.113.5",
    "action-type": "update",
    "target-object": "subscriber",
    "target-id": "1001@acme",
    "target-reseller": "northwind",
    "target-domain": "acme",
    "target-user": "1001",
    "target-host": "node-a",
    "auditlog-details": {
        "before": {"name-first-name": "Ada"},
        "after": {"name-first-name": "Augusta"},
    },
}


Text = Annotated[str | None, Query()]


@router.get(
    "",
    **operation(
        "Read the audit log",
        "Every write, newest first, within `datetime-start` … `datetime-end` (required; forms "
        "like `2026-11-27 13:00:00`, `2026-11-27T13:00:00Z` or "
        "`2026-11-27T08:00:00-05:00[America/New_York]`). Filter by who (`by-*`), what "
        "(`action-type`, `target-*`). Super Users see everything, Resellers their domains, "
        "Office Managers their domain. Secrets are never in the details.",
        roles=MANAGERS,
        example=[EXAMPLE],
    ),
)
async def read_audit_log(
    session: DbSession,
    caller: Reader,
    page: PageParams,
    datetime_start: Annotated[str, Query(alias="datetime-start")],
    datetime_end: Annotated[str, Query(alias="datetime-end")],
    by_ip: Annotated[str | None, Query(alias="by-ip")] = None,
    by_user: Annotated[str | None, Query(alias="by-user")] = None,
    by_domain: Annotated[str | None, Query(alias="by-domain")] = None,
    by_client: Annotated[str | None, Query(alias="by-client")] = None,
    action_type: Annotated[str | None, Query(alias="action-type")] = None,
    target_object: Annotated[str | None, Query(alias="target-object")] = None,
    target_domain: Annotated[str | None, Query(alias="target-domain")] = None,
    target_user: Annotated[str | None, Query(alias="target-user")] = None,
    target_host: Annotated[str | None, Query(alias="target-host")] = None,
) -> list[dict[str, Any]]:
    rows = await service.search(
        session,
        caller,
        start=parse_api_datetime(datetime_start, field="datetime-start"),
        end=parse_api_datetime(datetime_end, field="datetime-end"),
        filters={
            "by-ip": by_ip,
            "by-user": by_user,
            "by-domain": by_domain,
            "by-client": by_client,
            "action-type": action_type,
            "target-object": target_object,
            "target-domain": target_domain,
            "target-user": target_user,
            "target-host": target_host,
        },
        offset=page.start,
        limit=page.limit,
    )
    return page.project([service.entry_json(e) for e in rows], EXAMPLE.keys())
