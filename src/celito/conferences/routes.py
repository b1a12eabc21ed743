from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from celito.auth.caller import Caller
from celito.conferences import service
from celito.conferences.schemas import (
    CREATE_EXAMPLE,
    EXAMPLE,
    ConferenceCreate,
    ConferenceOut,
    ConferenceUpdate,
)
from celito.kit.docs import EVERYONE, MANAGERS, operation
from celito.kit.paging import PageParams
from celito.kit.schema import Count
from celito.web import DbSession, caller_for

router = APIRouter(prefix="/domains/{domain}/conferences", tags=["Conferences"])
Reader = Annotated[Caller, caller_for("conference")]
WRITE_ERRORS = (401, 403, 404, 409, 422)
FIELDS = (
    " Fields keep NetSapiens' conference names (snake_case). `conference` is the bridge's "
    "extension in the domain's plan; `owner` a user of the domain; `leader_pin`, "
    "`participants_pin` and `speaker_pin` are 3 to 12 digits (empty for none) and must "
    "differ; `max_participants` 2 to 500 (default 10); `quorum` at most `max_participants`; "
    "`time_begin`/`time_end` datetimes, the end after the beginning; the other settings are "
    "stored as given. Numbers may be sent as strings and are read back as strings, as "
    "NetSapiens does. Registering a bridge at a foreign SIP server (`SipSip*`, "
    "`RegRequired`) is not supported."
)
PINS = " PINs are shown to managers and the bridge's owner only (null for others)."


@router.get(
    "",
    response_model=list[ConferenceOut],
    **operation(
        "List conferences",
        "The domain's conference bridges." + PINS,
        roles=EVERYONE,
        example=[EXAMPLE],
    ),
)
async def list_conferences(
    session: DbSession, caller: Reader, domain: str, page: PageParams
) -> list[ConferenceOut]:
    return await service.list_(session, caller, domain, page)


@router.get(
    "/count",
    response_model=Count,
    **operation(
        "Count conferences",
        "How many conference bridges the domain has.",
        roles=EVERYONE,
        example={"total": 2},
    ),
)
async def count_conferences(session: DbSession, caller: Reader, domain: str) -> Count:
    return Count(total=await service.count(session, caller, domain))


@router.post(
    "",
    response_model=ConferenceOut,
    **operation(
        "Create a conference",
        "Creates a bridge on an extension of the domain (409 if a user, queue or attendant "
        "has it). `limits-max-conferences` of the domain is enforced (409)." + FIELDS,
        roles=MANAGERS,
        example=EXAMPLE,
        status=201,
        request_example=CREATE_EXAMPLE,
        errors=WRITE_ERRORS,
    ),
)
async def create_conference(
    session: DbSession, caller: Reader, domain: str, body: Annotated[ConferenceCreate, Body()]
) -> ConferenceOut:
    return await service.create(session, caller, domain, body)


@router.get(
    "/{conference}",
    response_model=ConferenceOut,
    **operation(
        "Read a conference",
        "One bridge by extension." + PINS,
        roles=EVERYONE,
        example=EXAMPLE,
    ),
)
async def get_conference(
    session: DbSession, caller: Reader, domain: str, conference: str
) -> ConferenceOut:
    return await service.get(session, caller, domain, conference)


@router.put(
    "/{conference}",
    response_model=ConferenceOut,
    **operation(
        "Update a conference",
        "Changes the given fields. Managers change any bridge; a user the bridges it owns "
        "(but not their owner). The extension cannot change." + FIELDS,
        roles=EVERYONE,
        example=EXAMPLE,
        request_example={
            "name": "Updated Conference Room",
            "leader_pin": "5678",
            "participants_pin": "1111",
            "max_participants": "20",
            "leader_required": "to-start",
            "quorum": "3",
        },
        errors=WRITE_ERRORS,
    ),
)
async def update_conference(
    session: DbSession,
    caller: Reader,
    domain: str,
    conference: str,
    body: Annotated[ConferenceUpdate, Body()],
) -> ConferenceOut:
    return await service.update(session, caller, domain, conference, body)


@router.delete(
    "/{conference}",
    response_model=ConferenceOut,
    **operation(
        "Delete a conference",
        "Removes the bridge and releases its extension; 409 while an attendant menu or a "
        "queue overflow sends calls to it.",
        roles=MANAGERS,
        example=EXAMPLE,
        errors=(401, 403, 404, 409),
    ),
)
async def delete_conference(
    session: DbSession, caller: Reader, domain: str, conference: str
) -> ConferenceOut:
    return await service.delete(session, caller, domain, conference)
