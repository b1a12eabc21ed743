from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, create_model

from celito.auth.caller import Caller
from celito.auth.scopes import Scope
from celito.cdrs import service
from celito.cdrs.fields import CDR_FIELDS, output_zone, parse_type
from celito.errors import BadRequest
from celito.kit.docs import EVERYONE, operation
from celito.kit.paging import Page, PageParams
from celito.kit.schema import ApiOut
from celito.kit.timeparse import parse_api_datetime
from celito.web import DbSession, RuntimeDep, caller_for

router = APIRouter(tags=["CDR (Call History)"])
Reader = Annotated[Caller, caller_for("cdr")]
READERS = tuple(s for s in EVERYONE if s is not Scope.NDP)
TOP = (Scope.SUPER_USER, Scope.RESELLER)

CdrOut: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "CdrOut", __base__=ApiOut, **{f.replace("-", "_"): (Any, None) for f in CDR_FIELDS}
)


class CdrCount(BaseModel):
    total: int
    minutes: int
    seconds: int


EXAMPLE: dict[str, Any] = {
    **dict.fromkeys(CDR_FIELDS),
    "id": "a3f09c1d2e4b5a6c7d8e",
    "domain": "acme",
    "reseller": "northwind",
    "call-direction": 0,
    "call-start-datetime": "2026-11-27T13:00:04Z",
    "call-answer-datetime": "2026-11-27T13:00:09Z",
    "call-disconnect-datetime": "2026-11-27T13:02:09Z",
    "call-total-duration-seconds": 125,
    "call-talking-duration-seconds": 120,
    "call-on-hold-duration-seconds": 0,
    "call-orig-call-id": "0a1b2c3d@10.0.0.5",
    "call-orig-user": "1001",
    "call-orig-domain": "acme",
    "call-orig-caller-id": "12125550101",
    "call-orig-from-name": "Ada Lovelace",
    "call-orig-request-user": "14155550123",
    "call-orig-site": "HQ",
    "call-term-call-id": "7f8e9d0c@carrier",
    "call-term-to-uri": "sip:14155550123@carrier.example",
    "call-audio-codec": "PCMU",
    "core-server": "node-a",
}
COUNT_EXAMPLE = {"total": 12, "minutes": 120, "seconds": 7176}
WINDOW_DOC = (
    " `datetime-start` and `datetime-end` are required (`2026-11-27 13:00:00`, "
    "`2026-11-27T13:00:00Z`, `…-08:00`, or `…-08:00[US/Pacific]`; a bare stamp is UTC). When "
    "`datetime-start` names a zone in brackets, datetimes in the answer are shown in that zone "
    "with their offset, else in UTC. `type` is Inbound (1 or 2), Outbound (0), Received (1), "
    "Missed (2), On-net (3), Off-net (0-2) or an integer 0-3 for exactly that `call-direction`. "
    "`dialled` and `caller` match part of the number; `site` and `group` (department) match "
    "either end; `orig_callid`/`term_callid` find one call (on every CDR path, not only the "
    "top level). Page with `start`/`limit`, sort by `call-start-datetime` (default), "
    "`call-total-duration-seconds`, `call-talking-duration-seconds` or `id`, pick `fields`."
)
CSV_DOC = (
    " **CSV export:** add `format=csv` (or send `Accept: text/csv`) to get the whole window as "
    "a streamed CSV file (a header row of the field names, then one row per CDR, oldest first "
    "unless sorted otherwise) instead of a JSON page; `start`/`limit` apply only when given, "
    "`fields` picks and orders the columns. The export is streamed from a database cursor, "
    "so its size is not limited by memory."
)
ROLE_DOC = (
    " Office Managers and Call Center Supervisors read their domain's CDRs, Site Managers "
    "those of their site's users, Resellers those of their domains; every other user reads "
    "only CDRs it is an end of."
)


def cdr_filters(
    datetime_start: Annotated[
        str,
        Query(alias="datetime-start", description="Start of the window (inclusive)."),
    ],
    datetime_end: Annotated[
        str, Query(alias="datetime-end", description="End of the window (exclusive).")
    ],
    type_: Annotated[
        str | None,
        Query(
            alias="type",
            description="Inbound, Outbound, On-net, Off-net, Missed, Received, or 0-3.",
        ),
    ] = None,
    user_filter: Annotated[
        str | None,
        Query(alias="user", description="Only CDRs this user of the domain is an end of."),
    ] = None,
    dialled: Annotated[str | None, Query(description="Part of the dialled number.")] = None,
    caller: Annotated[str | None, Query(description="Part of the caller's number.")] = None,
    site: Annotated[str | None, Query(description="Either end is in this site.")] = None,
    group: Annotated[str | None, Query(description="Either end is in this department.")] = None,
    orig_callid: Annotated[str | None, Query(description="The caller's SIP call id.")] = None,
    term_callid: Annotated[str | None, Query(description="The callee's SIP call id.")] = None,
) -> service.Filters:
    return service.Filters(
        start=parse_api_datetime(datetime_start, field="datetime-start"),
        end=parse_api_datetime(datetime_end, field="datetime-end"),
        types=parse_type(type_),
        user=user_filter or None,
        dialled=dialled or None,
        caller=caller or None,
        site=site or None,
        group=group or None,
        orig_callid=orig_callid or None,
        term_callid=term_callid or None,
        zone=output_zone(datetime_start),
    )


FiltersDep = Annotated[service.Filters, Depends(cdr_filters)]
Format = Annotated[
    Literal["json", "csv"] | None,
    Query(description="`csv` streams the whole window as a CSV file."),
]


def _one_user(path_user: str, f: service.Filters) -> str:
    if f.user is not None and f.user != path_user:
        raise BadRequest("The user is in the path; drop the 'user' query parameter")
    return path_user


def _wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


async def _answer(
    request: Request,
    session: DbSession,
    caller: Caller,
    runtime: RuntimeDep,
    scope: service.Visible,
    f: service.Filters,
    page: Page,
    fmt: str | None,
    name: str,
) -> Response:
    known = service.known_fields(scope)
    if not _wants_csv(request, fmt):
        rows = await service.list_(session, caller, scope, f, page)
        return JSONResponse(page.project(rows, known))
    columns = list(page.fields or known)
    page.project([], known)  # 400 for an unknown name in `fields`, before anything streams
    paged = "start" in request.query_params or "limit" in request.query_params
    stmt = await service.select_rows(session, caller, scope, f, page, paged=paged)
    body = service.export_csv(
        runtime.db.reader, stmt, columns=columns, zone=f.zone, user=scope.user
    )
    stamp = f.start.strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="cdrs-{name}-{stamp}.csv"'},
    )


LIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"example": "id,domain,reseller,...\r\n"}}}
}


def _list_op(summary: str, description: str, roles: Any, example: Any) -> dict[str, Any]:
    op = operation(summary, description, roles=roles, example=example)
    op["responses"][200]["content"].update(LIST_RESPONSES[200]["content"])
    return op


@router.get(
    "/cdrs",
    response_model=list[CdrOut],
    **_list_op(
        "Read CDRs (all domains)",
        "Call history across every domain you reach: all of them for a Super User, a "
        "Reseller's own domains." + WINDOW_DOC + CSV_DOC,
        TOP,
        [EXAMPLE],
    ),
)
async def read_all_cdrs(
    request: Request,
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    page: PageParams,
    f: FiltersDep,
    format: Format = None,
) -> Response:
    scope = await service.scope_for(session, caller, None, f.user)
    return await _answer(request, session, caller, runtime, scope, f, page, format, "all")


@router.get(
    "/cdrs/count",
    response_model=CdrCount,
    **operation(
        "Count CDRs and sum minutes (all domains)",
        "How many CDRs match, their summed `call-total-duration-seconds` (`seconds`) and that "
        "sum in minutes rounded up (`minutes`)." + WINDOW_DOC,
        roles=TOP,
        example=COUNT_EXAMPLE,
    ),
)
async def count_all_cdrs(session: DbSession, caller: Reader, f: FiltersDep) -> dict[str, int]:
    scope = await service.scope_for(session, caller, None, f.user)
    return await service.count(session, caller, scope, f)


@router.get(
    "/domains/{domain}/cdrs",
    response_model=list[CdrOut],
    **_list_op(
        "Read CDRs for a domain",
        "The domain's call history (`~` = yours); also the spec's site and search variants "
        "(`site`, `group`, `dialled`, `caller`)." + ROLE_DOC + WINDOW_DOC + CSV_DOC,
        READERS,
        [EXAMPLE],
    ),
)
async def read_domain_cdrs(
    request: Request,
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    domain: str,
    page: PageParams,
    f: FiltersDep,
    format: Format = None,
) -> Response:
    scope = await service.scope_for(session, caller, domain, f.user, user_view=False)
    assert scope.domain is not None
    return await _answer(
        request, session, caller, runtime, scope, f, page, format, scope.domain.name
    )


@router.get(
    "/domains/{domain}/cdrs/count",
    response_model=CdrCount,
    **operation(
        "Count CDRs and sum minutes for a domain",
        "How many of the domain's CDRs match, with their summed seconds and minutes (rounded "
        "up)." + ROLE_DOC + WINDOW_DOC,
        roles=READERS,
        example=COUNT_EXAMPLE,
    ),
)
async def count_domain_cdrs(
    session: DbSession, caller: Reader, domain: str, f: FiltersDep
) -> dict[str, int]:
    scope = await service.scope_for(session, caller, domain, f.user, user_view=False)
    return await service.count(session, caller, scope, f)


USER_EXAMPLE = {
    **EXAMPLE,
    "uid": "1001@acme",
    "cdr_id": EXAMPLE["id"],
    "type": 0,
    "time_start": 1795784404,
    "time_answer": 1795784409,
    "time_release": 1795784529,
    "duration": 125,
    "orig_to_uri": None,
    "number": "14155550123",
    "name": None,
    "onnet": 0,
    "hide": 0,
    "tag": "",
    "expected_trace": False,
}


@router.get(
    "/domains/{domain}/users/{user}/cdrs",
    response_model=list[CdrOut],
    **_list_op(
        "Read CDRs for a user",
        "The CDRs the user is an end of (`~` = you). Each carries every CdrD field and also "
        "the spec's per-user CdrU fields (`uid`, `cdr_id`, `type`, `time_start`, "
        "`time_answer`, `time_release` as epoch seconds, `duration`, `number` and `name` of "
        "the other end, `onnet`, …). A user reads its own; managers those of users they "
        "see." + WINDOW_DOC + CSV_DOC,
        READERS,
        [USER_EXAMPLE],
    ),
)
async def read_user_cdrs(
    request: Request,
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    domain: str,
    user: str,
    page: PageParams,
    f: FiltersDep,
    format: Format = None,
) -> Response:
    scope = await service.scope_for(session, caller, domain, _one_user(user, f))
    assert scope.domain is not None
    name = f"{scope.domain.name}-{scope.user}"
    return await _answer(request, session, caller, runtime, scope, f, page, format, name)


@router.get(
    "/domains/{domain}/users/{user}/cdrs/count",
    response_model=CdrCount,
    **operation(
        "Count CDRs and sum minutes for a user",
        "How many of the user's CDRs match, with their summed seconds and minutes (rounded "
        "up)." + WINDOW_DOC,
        roles=READERS,
        example=COUNT_EXAMPLE,
    ),
)
async def count_user_cdrs(
    session: DbSession, caller: Reader, domain: str, user: str, f: FiltersDep
) -> dict[str, int]:
    scope = await service.scope_for(session, caller, domain, _one_user(user, f))
    return await service.count(session, caller, scope, f)
