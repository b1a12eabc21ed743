from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from celito.answerrules import service
from celito.answerrules.schemas import (
    CREATE_EXAMPLE,
    EXAMPLE,
    AnswerruleCreate,
    AnswerruleOut,
    AnswerruleUpdate,
    ReorderItem,
)
from celito.auth.caller import Caller
from celito.kit.docs import EVERYONE, operation
from celito.kit.schema import Count
from celito.web import DbSession, caller_for

router = APIRouter(prefix="/domains/{domain}/users/{user}/answerrules", tags=["Answer rules"])
Reader = Annotated[Caller, caller_for("answerrule")]
WRITE_ERRORS = (401, 403, 404, 409, 422)
DOC = (
    " A user manages its own answer rules; Office Managers, Site Managers (their site), "
    "Resellers and Super Users manage those of users they may change; a Call Center "
    "Supervisor reads them. `~` works for domain and user."
)
FEATURES_DOC = (
    "\n\nOne rule per time frame (`*` is the default, always active). Rules apply in `order` "
    "(1 first): the first enabled rule whose time frame is active now is used, and `is-active` "
    "marks it. Features are `{enabled, parameters}`: `simultaneous-ring` lists what rings "
    "(`<OwnDevices>`, an extension, a device such as `1002a`, a phone number; `confirm_` in "
    "front asks the callee to accept, `;delay=N` after starts that leg late); the forwards "
    "(`forward-always`, `-on-active`, `-on-busy`, `-no-answer`, `-when-unregistered`, "
    "`-on-dnd`, `-on-spam-call`) take one destination (an extension, `user_…`, `vmail_…`, "
    "`queue_…`, `aa_…`, `conf_…`, `park_…`, or a phone number), `forward-no-answer` "
    "optionally the seconds to ring first (else the user's ring-no-answer-timeout-seconds); "
    "`do-not-disturb` and `call-screening` only switch; `phone-numbers-to-allow` (they pass "
    "do-not-disturb and screening) and `phone-numbers-to-reject` list numbers, prefixes "
    "ending in `*`, or `anonymous` (callers without a number). A destination must exist in "
    "the domain's extension plan (or be a phone number), and a user cannot forward to itself: "
    "422 otherwise."
)


@router.get(
    "",
    response_model=list[AnswerruleOut],
    **operation(
        "List a user's answer rules",
        "The user's answer rules in priority order." + DOC,
        roles=EVERYONE,
        example=[EXAMPLE],
    ),
)
async def list_answerrules(
    session: DbSession, caller: Reader, domain: str, user: str
) -> list[AnswerruleOut]:
    b = await service.book(session, caller, domain, user, write=False)
    return await service.render(session, b)


@router.get(
    "/count",
    response_model=Count,
    **operation(
        "Count a user's answer rules",
        "How many rules the user has." + DOC,
        roles=EVERYONE,
        example={"total": 2},
    ),
)
async def count_answerrules(session: DbSession, caller: Reader, domain: str, user: str) -> Count:
    b = await service.book(session, caller, domain, user, write=False)
    return Count(total=await service.count(session, b))


@router.post(
    "",
    response_model=AnswerruleOut,
    **operation(
        "Create an answer rule",
        "Adds the user's rule for `time-frame` (the user's own time frame of that name, else "
        "the domain's shared one; `*` for the default). It goes just above a default rule at "
        "the bottom, unless `new-position` (top/bottom) or `order` says where. One rule per "
        "time frame (409); at most 50 per user (409)." + FEATURES_DOC + DOC,
        roles=EVERYONE,
        example=EXAMPLE,
        status=201,
        request_example=CREATE_EXAMPLE,
        errors=WRITE_ERRORS,
    ),
)
async def create_answerrule(
    session: DbSession,
    caller: Reader,
    domain: str,
    user: str,
    body: Annotated[AnswerruleCreate, Body()],
) -> AnswerruleOut:
    b = await service.book(session, caller, domain, user, write=True)
    r = await service.create(session, caller, b, body)
    return (await service.render(session, b, only=r))[0]


@router.put(
    "/reorder",
    response_model=list[AnswerruleOut],
    **operation(
        "Reorder a user's answer rules",
        'Gives the new priority order as `[{"time-frame": …}, …]`: every rule\'s time frame '
        "once (400 otherwise, 404 for one the user has no rule for; `*` is the default). "
        "Answers the rules in their new order." + DOC,
        roles=EVERYONE,
        example=[EXAMPLE],
        request_example=[{"time-frame": "Business hours"}, {"time-frame": "*"}],
        errors=(400, 401, 403, 404, 422),
    ),
)
async def reorder_answerrules(
    session: DbSession,
    caller: Reader,
    domain: str,
    user: str,
    body: Annotated[list[ReorderItem], Body(max_length=100)],
) -> list[AnswerruleOut]:
    b = await service.book(session, caller, domain, user, write=True)
    return await service.reorder(session, caller, b, body)


@router.get(
    "/{timeframe}",
    response_model=AnswerruleOut,
    **operation(
        "Read an answer rule",
        "The user's rule for one time frame (by name; `*` for the default)." + DOC,
        roles=EVERYONE,
        example=EXAMPLE,
    ),
)
async def get_answerrule(
    session: DbSession, caller: Reader, domain: str, user: str, timeframe: str
) -> AnswerruleOut:
    b = await service.book(session, caller, domain, user, write=False)
    return (await service.render(session, b, only=await service.get(session, b, timeframe)))[0]


@router.put(
    "/{timeframe}",
    response_model=AnswerruleOut,
    **operation(
        "Update an answer rule",
        "Changes the given fields: each feature given replaces that feature; `time-frame` "
        "moves the rule to another time frame (409 if the user has a rule there); "
        "`new-position`/`order` move it in the priority list." + FEATURES_DOC + DOC,
        roles=EVERYONE,
        example=EXAMPLE,
        request_example={"do-not-disturb": {"enabled": "yes"}},
        errors=WRITE_ERRORS,
    ),
)
async def update_answerrule(
    session: DbSession,
    caller: Reader,
    domain: str,
    user: str,
    timeframe: str,
    body: Annotated[AnswerruleUpdate, Body()],
) -> AnswerruleOut:
    b = await service.book(session, caller, domain, user, write=True)
    r = await service.update(session, caller, b, timeframe, body)
    return (await service.render(session, b, only=r))[0]


@router.delete(
    "/{timeframe}",
    response_model=AnswerruleOut,
    **operation(
        "Delete an answer rule",
        "Removes the user's rule for the time frame and answers it; the rules below move up." + DOC,
        roles=EVERYONE,
        example=EXAMPLE,
    ),
)
async def delete_answerrule(
    session: DbSession, caller: Reader, domain: str, user: str, timeframe: str
) -> AnswerruleOut:
    b = await service.book(session, caller, domain, user, write=True)
    return await service.delete(session, caller, b, timeframe)
