from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from celito.auth.caller import Caller
from celito.auth.scopes import Scope
from celito.kit.docs import EVERYONE, MANAGERS, operation
from celito.kit.paging import PageParams
from celito.kit.schema import Count
from celito.phonenumbers import service
from celito.phonenumbers.schemas import (
    CREATE_REQUEST,
    EXAMPLE,
    PhonenumberCreate,
    PhonenumberOut,
    PhonenumberUpdate,
)
from celito.web import DbSession, caller_for

router = APIRouter(tags=["Phone Numbers"])
Reader = Annotated[Caller, caller_for("phonenumber")]
PATH = "/domains/{domain}/phonenumbers"
WRITE_ERRORS = (400, 401, 403, 404, 409, 422)
ROUTING_DOC = (
    " Routing: `dial-rule-application` takes the v2 names (to-user, to-callqueue, "
    "to-voicemail, to-single-device, to-connection, available-number, hangup, …) or their v1 "
    "responders (sip:start@to-user, sip:start@call-queuing, AvailableDID, …), and v1 field "
    "names (`responder`, `to_user`, `to_host`, `plan_description`, …) are accepted. The "
    "destination must exist in the domain with the right kind: a to-callqueue number points "
    "at a call queue, to-voicemail at a user, to-user at a user, an auto attendant or a "
    "conference, to-single-device at a device (422 otherwise). Numbers are +E.164; any usual "
    "spelling is accepted in bodies and paths."
)
READ_DOC = (
    " Managers and supervisors see all of the domain's numbers; a user sees the numbers that "
    "ring it. `~` = your domain."
)
INVENTORY_ROLES = (Scope.SUPER_USER, Scope.RESELLER)


@router.get(
    PATH,
    response_model=list[PhonenumberOut],
    **operation(
        "List a domain's phone numbers",
        "The domain's DIDs and where they go. Filter with `dial-rule-application` and "
        "`dial-rule-translation-destination-user`." + READ_DOC,
        roles=EVERYONE,
        example=[EXAMPLE],
    ),
)
async def list_numbers(
    session: DbSession,
    caller: Reader,
    domain: str,
    page: PageParams,
    application: Annotated[
        str | None, Query(alias="dial-rule-application", description="v2 or v1 name.")
    ] = None,
    destination: Annotated[
        str | None,
        Query(alias="dial-rule-translation-destination-user", description="e.g. 1001"),
    ] = None,
) -> list[PhonenumberOut]:
    return await service.list_(
        session, caller, domain, page, application=application, destination=destination
    )


@router.get(
    PATH + "/count",
    response_model=Count,
    **operation(
        "Count a domain's phone numbers",
        "How many numbers the caller sees in the domain." + READ_DOC,
        roles=EVERYONE,
        example={"total": 12},
    ),
)
async def count_numbers(session: DbSession, caller: Reader, domain: str) -> Count:
    return Count(total=await service.count(session, caller, domain))


@router.post(
    PATH,
    response_model=PhonenumberOut,
    **operation(
        "Add a phone number to a domain",
        "Adds a DID. Numbers are unique across the whole system: 409 `Phone number already "
        "exists` when any domain has it. Without an application the number routes to-user "
        "when a destination is given, else it is an available-number." + ROUTING_DOC,
        roles=MANAGERS,
        example=EXAMPLE,
        status=201,
        request_example=CREATE_REQUEST,
        errors=WRITE_ERRORS,
    ),
)
async def create_number(
    session: DbSession, caller: Reader, domain: str, body: Annotated[PhonenumberCreate, Body()]
) -> PhonenumberOut:
    return await service.create(session, caller, domain, body)


@router.put(
    PATH,
    response_model=PhonenumberOut,
    **operation(
        "Route a phone number (use cases)",
        "The spec's use-case form of an update: the body names the number (`phonenumber`) and "
        "where it goes, e.g. to a call queue, to a user, off-net, or back to available-number. "
        "Same rules as PUT …/phonenumbers/{phonenumber}." + ROUTING_DOC,
        roles=MANAGERS,
        example=EXAMPLE,
        request_example={
            "phonenumber": "12125550100",
            "responder": "sip:start@call-queuing",
            "to_user": "3000",
            "plan_description": "Marketing queue",
        },
        errors=WRITE_ERRORS,
    ),
)
async def route_number(
    session: DbSession, caller: Reader, domain: str, body: Annotated[PhonenumberUpdate, Body()]
) -> PhonenumberOut:
    return await service.update(session, caller, domain, None, body)


@router.get(
    PATH + "/{phonenumber}",
    response_model=PhonenumberOut,
    **operation(
        "Read a phone number",
        "One DID of the domain (any spelling in the path)." + READ_DOC,
        roles=EVERYONE,
        example=EXAMPLE,
    ),
)
async def get_number(
    session: DbSession, caller: Reader, domain: str, phonenumber: str
) -> PhonenumberOut:
    return await service.get(session, caller, domain, phonenumber)


@router.put(
    PATH + "/{phonenumber}",
    response_model=PhonenumberOut,
    **operation(
        "Update a phone number",
        "Changes where the number goes, `enabled`, its description. `domain` moves it to "
        "another domain (Resellers and Super Users only): it arrives as an available-number "
        "unless the same body routes it there." + ROUTING_DOC,
        roles=MANAGERS,
        example=EXAMPLE,
        request_example={
            "dial-rule-application": "to-callqueue",
            "dial-rule-translation-destination-user": "3000",
        },
        errors=WRITE_ERRORS,
    ),
)
async def update_number(
    session: DbSession,
    caller: Reader,
    domain: str,
    phonenumber: str,
    body: Annotated[PhonenumberUpdate, Body()],
) -> PhonenumberOut:
    return await service.update(session, caller, domain, phonenumber, body)


@router.delete(
    PATH + "/{phonenumber}",
    response_model=PhonenumberOut,
    **operation(
        "Remove a phone number from a domain",
        "Deletes the DID; answers with what was removed.",
        roles=MANAGERS,
        example=EXAMPLE,
        errors=(400, 401, 403, 404),
    ),
)
async def delete_number(
    session: DbSession, caller: Reader, domain: str, phonenumber: str
) -> PhonenumberOut:
    return await service.delete(session, caller, domain, phonenumber)


@router.get(
    "/phonenumbers",
    response_model=list[PhonenumberOut],
    **operation(
        "List phone numbers of the system or reseller",
        "The inventory: every number of every domain for a Super User, of the Reseller's "
        "domains for a Reseller. Filter with `domain` and `dial-rule-application` (e.g. "
        "available-number for the spare ones).",
        roles=INVENTORY_ROLES,
        example=[EXAMPLE],
    ),
)
async def list_inventory(
    session: DbSession,
    caller: Reader,
    page: PageParams,
    domain: Annotated[str | None, Query(description="Only this domain's numbers.")] = None,
    application: Annotated[
        str | None, Query(alias="dial-rule-application", description="v2 or v1 name.")
    ] = None,
) -> list[PhonenumberOut]:
    return await service.inventory(
        session, caller, page, domain_name=domain, application=application
    )


@router.get(
    "/phonenumbers/count",
    response_model=Count,
    **operation(
        "Count phone numbers of the system or reseller",
        "How many numbers the inventory holds for the caller.",
        roles=INVENTORY_ROLES,
        example={"total": 120},
    ),
)
async def count_inventory(session: DbSession, caller: Reader) -> Count:
    return Count(total=await service.count_inventory(session, caller))
