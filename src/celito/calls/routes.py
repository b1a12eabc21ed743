from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from celito.auth.caller import Caller
from celito.auth.scopes import Scope
from celito.calls import service
from celito.calls.schemas import (
    EXAMPLE,
    REQUEST_EXAMPLE,
    REQUEST_OUT_EXAMPLE,
    ActiveCallOut,
    CallActions,
    CallRequest,
    CallRequestOut,
    TransferPeer,
)
from celito.kit.docs import EVERYONE, operation
from celito.kit.paging import PageParams
from celito.kit.schema import Count
from celito.telephony.adapter import ControlAction
from celito.web import DbSession, RuntimeDep, caller_for

router = APIRouter(tags=["Calls (live/active calls)"])
Reader = Annotated[Caller, caller_for("call")]
READERS = tuple(s for s in EVERYONE if s is not Scope.NDP)
CONTROLLERS = tuple(s for s in READERS if s is not Scope.CALL_CENTER_SUPERVISOR)
USER_CALLS = "/domains/{domain}/users/{user}/calls"
CONTROL_ERRORS = (401, 403, 404, 422, 503)
ENGINE_DOC = (
    " The request goes to the telephony engine; if this server has none configured the "
    "answer is **503** and nothing happens (never a pretended success), if the engine refuses "
    "it **502**. A user controls its own calls; Office Managers, Site Managers (their site), "
    "Resellers and Super Users those of users they manage; a Call Center Supervisor only "
    "watches. Audited."
)
READ_DOC = (
    " Office Managers, Call Center Supervisors, Resellers and Super Users see every call with "
    "an end in the domain, Site Managers those of their site's users, everyone else only "
    "their own. `call-state` is ringing, active or held."
)


@router.get(
    "/domains/{domain}/calls",
    response_model=list[ActiveCallOut],
    **operation(
        "Read active calls in a domain",
        "The domain's live call legs (`~` = yours), as the telephony engine reports them."
        + READ_DOC,
        roles=READERS,
        example=[EXAMPLE],
    ),
)
async def list_domain_calls(
    session: DbSession, caller: Reader, domain: str, page: PageParams
) -> Any:
    page.check_fields(ActiveCallOut)
    rows = service.out_list(await service.list_(session, caller, domain, None, page))
    return page.respond(rows, ActiveCallOut)


@router.get(
    "/domains/{domain}/calls/count",
    response_model=Count,
    **operation(
        "Count active calls in a domain",
        "How many live calls (distinct calls, not legs) you can see in the domain." + READ_DOC,
        roles=READERS,
        example={"total": 3},
    ),
)
async def count_domain_calls(session: DbSession, caller: Reader, domain: str) -> Count:
    return Count(total=await service.count(session, caller, domain))


@router.get(
    USER_CALLS,
    response_model=list[ActiveCallOut],
    **operation(
        "Read a user's active calls",
        "The live call legs the user is an end of (`~` = you)." + READ_DOC,
        roles=READERS,
        example=[EXAMPLE],
    ),
)
async def list_user_calls(
    session: DbSession, caller: Reader, domain: str, user: str, page: PageParams
) -> Any:
    page.check_fields(ActiveCallOut)
    rows = service.out_list(await service.list_(session, caller, domain, user, page))
    return page.respond(rows, ActiveCallOut)


@router.post(
    USER_CALLS,
    response_model=CallRequestOut,
    **operation(
        "Make a call (click-to-call)",
        "Rings `call-orig-user` (a device, `user@domain` or a number; default the user) and "
        "then connects it to `call-term-user`. Keep `call-id` (one is made up if you send "
        "none) to find the call under …/calls/{call-id} and control it. Answers **202** with "
        "the accepted request, or **200** with `synchronous: yes`." + ENGINE_DOC,
        roles=CONTROLLERS,
        example=REQUEST_OUT_EXAMPLE,
        status=202,
        request_example=REQUEST_EXAMPLE,
        errors=CONTROL_ERRORS,
    ),
)
async def make_call(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    domain: str,
    user: str,
    body: Annotated[CallRequest, Body()],
) -> JSONResponse:
    out = await service.originate(session, caller, domain, user, body, adapter=runtime.telephony)
    return JSONResponse(
        out.model_dump(by_alias=True, mode="json"), status_code=200 if body.synchronous else 202
    )


@router.get(
    USER_CALLS + "/{callid}",
    response_model=ActiveCallOut,
    **operation(
        "Read one active call",
        "A live call of the user by its call id (orig, term or click-to-call id)." + READ_DOC,
        roles=READERS,
        example=EXAMPLE,
    ),
)
async def get_call(
    session: DbSession, caller: Reader, domain: str, user: str, callid: str
) -> ActiveCallOut:
    return service.to_out(await service.get(session, caller, domain, user, callid))


async def _control(
    session: DbSession,
    caller: Caller,
    runtime: RuntimeDep,
    domain: str,
    user: str,
    call_id: str,
    action: ControlAction,
    status: int,
    **details: str,
) -> JSONResponse:
    leg = await service.control(
        session, caller, domain, user, call_id, action, adapter=runtime.telephony, **details
    )
    body = service.to_out(leg).model_dump(by_alias=True, mode="json")
    return JSONResponse(body, status_code=status)


def _control_op(summary: str, description: str, status: int, request: Any = None) -> Any:
    return operation(
        summary,
        description
        + " Answers with the call as it was when the engine accepted the action."
        + ENGINE_DOC,
        roles=CONTROLLERS,
        example=EXAMPLE,
        status=status,
        request_example=request,
        errors=CONTROL_ERRORS,
    )


@router.delete(
    USER_CALLS + "/{call_id}",
    response_model=ActiveCallOut,
    **_control_op("Disconnect a call", "Hangs up the user's live call.", 200),
)
async def hangup_call(
    session: DbSession, caller: Reader, runtime: RuntimeDep, domain: str, user: str, call_id: str
) -> JSONResponse:
    return await _control(session, caller, runtime, domain, user, call_id, "hangup", 200)


@router.delete(
    USER_CALLS + "/{call_id}/reject",
    response_model=ActiveCallOut,
    **_control_op(
        "Reject a call", "Rejects a call still ringing for the user (before any answer).", 202
    ),
)
async def reject_call(
    session: DbSession, caller: Reader, runtime: RuntimeDep, domain: str, user: str, call_id: str
) -> JSONResponse:
    return await _control(session, caller, runtime, domain, user, call_id, "reject", 202)


@router.patch(
    USER_CALLS + "/{call_id}/answer",
    response_model=ActiveCallOut,
    **_control_op(
        "Answer a call",
        "Answers a ringing call, optionally on a given device (`destination`).",
        202,
        {"destination": "sip:1001wp@acme"},
    ),
)
async def answer_call(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    domain: str,
    user: str,
    call_id: str,
    body: Annotated[CallActions | None, Body()] = None,
) -> JSONResponse:
    b = body or CallActions()
    where = b.destination or b.call_term_user or ""
    return await _control(
        session, caller, runtime, domain, user, call_id, "answer", 202, destination=where
    )


@router.patch(
    USER_CALLS + "/{call_id}/hold",
    response_model=ActiveCallOut,
    **_control_op("Hold a call", "Puts the user's live call on hold.", 202),
)
async def hold_call(
    session: DbSession, caller: Reader, runtime: RuntimeDep, domain: str, user: str, call_id: str
) -> JSONResponse:
    return await _control(session, caller, runtime, domain, user, call_id, "hold", 202)


@router.patch(
    USER_CALLS + "/{call_id}/unhold",
    response_model=ActiveCallOut,
    **_control_op("Take a call off hold", "Resumes the user's held call.", 202),
)
async def unhold_call(
    session: DbSession, caller: Reader, runtime: RuntimeDep, domain: str, user: str, call_id: str
) -> JSONResponse:
    return await _control(session, caller, runtime, domain, user, call_id, "unhold", 202)


@router.patch(
    USER_CALLS + "/{call_id}/transfer",
    response_model=ActiveCallOut,
    **_control_op(
        "Transfer a call",
        "Blind transfer to `call-term-user` (or `destination`); for a supervised transfer "
        "also `hostname` and `call-destination-session-id` of the call to merge with.",
        202,
        {"call-term-user": "18587625200"},
    ),
)
async def transfer_call(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    domain: str,
    user: str,
    call_id: str,
    body: Annotated[CallActions, Body()],
) -> JSONResponse:
    return await _control(
        session,
        caller,
        runtime,
        domain,
        user,
        call_id,
        "transfer",
        202,
        destination=body.call_term_user or body.destination or "",
        hostname=body.hostname or "",
        destination_session_id=body.call_destination_session_id or "",
    )


@router.patch(
    USER_CALLS + "/{call_id}/transferPeer",
    response_model=ActiveCallOut,
    **_control_op(
        "Transfer the other end of a call",
        "Transfers the user's peer to `destination`, or parks it on one of the `valid` "
        "park extensions (with `prefix`).",
        202,
        {"destination": "sip:1002@acme"},
    ),
)
async def transfer_peer(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    domain: str,
    user: str,
    call_id: str,
    body: Annotated[TransferPeer, Body()],
) -> JSONResponse:
    return await _control(
        session,
        caller,
        runtime,
        domain,
        user,
        call_id,
        "transfer-peer",
        202,
        destination=body.destination or "",
        park_extensions=body.valid or "",
        park_prefix=body.prefix or "",
    )
