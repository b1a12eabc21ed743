from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from celito.auth.caller import Caller
from celito.contacts import service
from celito.contacts.schemas import EXAMPLE, ContactFields, ContactOut
from celito.kit.docs import EVERYONE, MANAGERS, operation
from celito.kit.paging import PageParams
from celito.kit.schema import Count
from celito.web import DbSession, caller_for

router = APIRouter(tags=["Contacts"])
Reader = Annotated[Caller, caller_for("contact")]
Body_ = Annotated[ContactFields, Body()]
SHARED = {**EXAMPLE, "user": None, "shared": "yes"}
REQUEST = {
    "name-first-name": "Grace",
    "name-last-name": "Hopper",
    "phonenumber-work": "+1 212 555 0199",
    "company": "US Navy",
}
USER_DOC = (
    " A user manages its own contacts; managers manage those of users they may "
    "change. `~` works for domain and user."
)
SHARED_DOC = " Everyone in the domain reads shared contacts; managers change them."
WRITE_ERRORS = (401, 403, 404, 422)


@router.get(
    "/domains/{domain}/users/{user}/contacts",
    response_model=list[ContactOut],
    **operation(
        "List a user's contacts",
        "The user's own address book." + USER_DOC,
        roles=EVERYONE,
        example=[EXAMPLE],
    ),
)
async def list_user_contacts(
    session: DbSession, caller: Reader, domain: str, user: str, page: PageParams
) -> list[ContactOut]:
    b = await service.book(session, caller, domain, user, write=False)
    return [service.to_out(c, b) for c in await service.list_(session, b, page)]


@router.get(
    "/domains/{domain}/users/{user}/contacts/count",
    response_model=Count,
    **operation(
        "Count a user's contacts",
        "How many contacts the user has." + USER_DOC,
        roles=EVERYONE,
        example={"total": 3},
    ),
)
async def count_user_contacts(session: DbSession, caller: Reader, domain: str, user: str) -> Count:
    b = await service.book(session, caller, domain, user, write=False)
    return Count(total=await service.count(session, b))


@router.post(
    "/domains/{domain}/users/{user}/contacts",
    response_model=ContactOut,
    **operation(
        "Create a contact",
        "Adds a contact to the user's book." + USER_DOC,
        roles=EVERYONE,
        example=EXAMPLE,
        status=201,
        request_example=REQUEST,
        errors=WRITE_ERRORS,
    ),
)
async def create_user_contact(
    session: DbSession, caller: Reader, domain: str, user: str, body: Body_
) -> ContactOut:
    b = await service.book(session, caller, domain, user, write=True)
    return service.to_out(await service.create(session, caller, b, body), b)


@router.get(
    "/domains/{domain}/users/{user}/contacts/{contact_id}",
    response_model=ContactOut,
    **operation(
        "Read a contact",
        "One contact by its unique-id." + USER_DOC,
        roles=EVERYONE,
        example=EXAMPLE,
    ),
)
async def get_user_contact(
    session: DbSession, caller: Reader, domain: str, user: str, contact_id: str
) -> ContactOut:
    b = await service.book(session, caller, domain, user, write=False)
    return service.to_out(await service.get(session, b, contact_id), b)


@router.put(
    "/domains/{domain}/users/{user}/contacts/{contact_id}",
    response_model=ContactOut,
    **operation(
        "Update a contact",
        "Changes the given fields." + USER_DOC,
        roles=EVERYONE,
        example=EXAMPLE,
        request_example={"tags": "vip"},
        errors=WRITE_ERRORS,
    ),
)
async def update_user_contact(
    session: DbSession, caller: Reader, domain: str, user: str, contact_id: str, body: Body_
) -> ContactOut:
    b = await service.book(session, caller, domain, user, write=True)
    return service.to_out(await service.update(session, caller, b, contact_id, body), b)


@router.delete(
    "/domains/{domain}/users/{user}/contacts/{contact_id}",
    response_model=ContactOut,
    **operation(
        "Delete a contact",
        "Removes it; answers with what was removed." + USER_DOC,
        roles=EVERYONE,
        example=EXAMPLE,
    ),
)
async def delete_user_contact(
    session: DbSession, caller: Reader, domain: str, user: str, contact_id: str
) -> ContactOut:
    b = await service.book(session, caller, domain, user, write=True)
    return service.to_out(await service.delete(session, caller, b, contact_id), b)


@router.get(
    "/domains/{domain}/contacts",
    response_model=list[ContactOut],
    **operation(
        "List shared contacts",
        "The domain's shared address book." + SHARED_DOC,
        roles=EVERYONE,
        example=[SHARED],
    ),
)
async def list_shared(
    session: DbSession, caller: Reader, domain: str, page: PageParams
) -> list[ContactOut]:
    b = await service.book(session, caller, domain, None, write=False)
    return [service.to_out(c, b) for c in await service.list_(session, b, page)]


@router.post(
    "/domains/{domain}/contacts",
    response_model=ContactOut,
    **operation(
        "Create a shared contact",
        "Adds to the domain's book." + SHARED_DOC,
        roles=MANAGERS,
        example=SHARED,
        status=201,
        request_example=REQUEST,
        errors=WRITE_ERRORS,
    ),
)
async def create_shared(session: DbSession, caller: Reader, domain: str, body: Body_) -> ContactOut:
    b = await service.book(session, caller, domain, None, write=True)
    return service.to_out(await service.create(session, caller, b, body), b)


@router.get(
    "/domains/{domain}/contacts/{contact_id}",
    response_model=ContactOut,
    **operation(
        "Read a shared contact", "One shared contact." + SHARED_DOC, roles=EVERYONE, example=SHARED
    ),
)
async def get_shared(
    session: DbSession, caller: Reader, domain: str, contact_id: str
) -> ContactOut:
    b = await service.book(session, caller, domain, None, write=False)
    return service.to_out(await service.get(session, b, contact_id), b)


@router.put(
    "/domains/{domain}/contacts/{contact_id}",
    response_model=ContactOut,
    **operation(
        "Update a shared contact",
        "Changes the given fields." + SHARED_DOC,
        roles=MANAGERS,
        example=SHARED,
        request_example={"tags": "supplier"},
        errors=WRITE_ERRORS,
    ),
)
async def update_shared(
    session: DbSession, caller: Reader, domain: str, contact_id: str, body: Body_
) -> ContactOut:
    b = await service.book(session, caller, domain, None, write=True)
    return service.to_out(await service.update(session, caller, b, contact_id, body), b)


@router.delete(
    "/domains/{domain}/contacts/{contact_id}",
    response_model=ContactOut,
    **operation(
        "Delete a shared contact", "Removes it." + SHARED_DOC, roles=MANAGERS, example=SHARED
    ),
)
async def delete_shared(
    session: DbSession, caller: Reader, domain: str, contact_id: str
) -> ContactOut:
    b = await service.book(session, caller, domain, None, write=True)
    return service.to_out(await service.delete(session, caller, b, contact_id), b)
