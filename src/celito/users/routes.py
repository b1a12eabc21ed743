from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from celito.auth.caller import Caller
from celito.auth.scopes import Scope
from celito.kit.docs import EVERYONE, operation
from celito.kit.paging import PageParams
from celito.kit.schema import Count
from celito.users import lifecycle, service
from celito.users.schemas import EXAMPLE, UserCreate, UserListItem, UserOut, UserUpdate
from celito.web import DbSession, RuntimeDep, caller_for

router = APIRouter(prefix="/domains/{domain}/users", tags=["Users"])
Reader = Annotated[Caller, caller_for("subscriber")]
READERS = (
    Scope.SUPER_USER,
    Scope.RESELLER,
    Scope.OFFICE_MANAGER,
    Scope.SITE_MANAGER,
    Scope.CALL_CENTER_SUPERVISOR,
)
WRITERS = (Scope.SUPER_USER, Scope.RESELLER, Scope.OFFICE_MANAGER, Scope.SITE_MANAGER)
CREATE_EXAMPLE = {
    "user": "1001",
    "name-first-name": "Ada",
    "name-last-name": "Lovelace",
    "email-address": "ada@acme.example",
    "user-scope": "Basic User",
    "login-password": "correct horse battery staple",
}
DOMAIN_DOC = " `{domain}` may be `~` for your own domain."


@router.get(
    "",
    response_model=list[UserOut],
    response_model_exclude_none=False,
    **operation(
        "List users in a domain",
        "Full user objects. Office Managers see their domain, Site Managers their site, "
        "Resellers their domains. Basic users read themselves at `/domains/~/users/~` and the "
        "directory at `/users/list`. Filter with `site`; page with `start`/`limit`; pick "
        "fields with `fields`." + DOMAIN_DOC,
        roles=READERS,
        example=[EXAMPLE],
    ),
)
async def list_users(
    session: DbSession,
    caller: Reader,
    domain: str,
    page: PageParams,
    site: Annotated[str | None, Query(description="Only users of this site.")] = None,
) -> Any:
    page.check_fields(UserOut)
    rows = [
        service.to_out(u) for u in await service.list_(session, caller, domain, page, site=site)
    ]
    return page.respond(rows, UserOut)


@router.get(
    "/count",
    response_model=Count,
    **operation(
        "Count users in a domain",
        "How many users of the domain you can see." + DOMAIN_DOC,
        roles=READERS,
        example={"total": 12},
    ),
)
async def count_users(session: DbSession, caller: Reader, domain: str) -> Count:
    return Count(total=await service.count(session, caller, domain))


@router.get(
    "/list",
    response_model=list[UserListItem],
    **operation(
        "Directory of the domain",
        "Names, extensions, departments and sites of the domain's users (those listed in the "
        "directory): what a phone's directory shows, readable by every user." + DOMAIN_DOC,
        roles=EVERYONE,
        example=[
            {
                k: EXAMPLE[k]
                for k in (
                    "domain",
                    "user",
                    "name-first-name",
                    "name-last-name",
                    "email-address",
                    "department",
                    "site",
                    "user-scope",
                )
            }
        ],
    ),
)
async def user_directory(session: DbSession, caller: Reader, domain: str, page: PageParams) -> Any:
    page.check_fields(UserListItem)
    return page.respond(await service.directory(session, caller, domain, page), UserListItem)


@router.post(
    "",
    response_model=UserOut,
    **operation(
        "Create a user",
        "Creates a user (extension) in the domain. `login-password` sets the portal/API "
        "password (at least 10 characters, not a common one, not containing the extension or "
        "name); it is stored hashed and never returned. You cannot grant a scope above your "
        "own. The domain's `limits-max-users` is enforced with 409. One call makes a usable "
        "user: its voicemail box (unless `voicemail-enabled` is no; `voicemail-login-pin` "
        "sets its PIN, stored hashed) and its default answer rule are created with it, and "
        "`devices` (names) and `phonenumber` (a DID to route to it) create those too; what was "
        "made is in `provisioned`, including the devices' SIP passwords. All or nothing."
        + DOMAIN_DOC,
        roles=WRITERS,
        example=EXAMPLE,
        status=201,
        request_example=CREATE_EXAMPLE,
        errors=(401, 403, 404, 409, 422),
    ),
)
async def create_user(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    domain: str,
    body: Annotated[UserCreate, Body()],
) -> UserOut:
    user, provisioned = await lifecycle.create(session, caller, domain, body, hasher=runtime.hasher)
    return service.to_out(user).model_copy(update={"provisioned": provisioned})


@router.get(
    "/{user}",
    response_model=UserOut,
    **operation(
        "Get a user",
        "One user. `~` for both domain and user (`/domains/~/users/~`) is the token's own user.",
        roles=EVERYONE,
        example=EXAMPLE,
    ),
)
async def get_user(session: DbSession, caller: Reader, domain: str, user: str) -> UserOut:
    return service.to_out(await service.get(session, caller, domain, user))


@router.put(
    "/{user}",
    response_model=UserOut,
    **operation(
        "Update a user",
        "Changes the given fields only. Users may update themselves (not their scope); "
        "managers may update users they outrank, but not set the password of a peer.",
        roles=EVERYONE,
        example=EXAMPLE,
        request_example={"name-first-name": "Augusta", "time-zone": "Europe/London"},
        errors=(401, 403, 404, 409, 422),
    ),
)
async def update_user(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    domain: str,
    user: str,
    body: Annotated[UserUpdate, Body()],
) -> UserOut:
    updated = await lifecycle.update(session, caller, domain, user, body, hasher=runtime.hasher)
    runtime.callers.forget_where(user_id=updated.id)
    return service.to_out(updated)


@router.delete(
    "/{user}",
    response_model=UserOut,
    **operation(
        "Delete a user",
        "Deletes the user and everything that hangs off it: devices, answer rules and its "
        "time frames, queue memberships, voicemail box and messages, greetings, tokens and "
        "API keys; its numbers return to available and bridges it owned to the domain. The "
        "audit entry lists what went. Refused (409) while an attendant or a queue overflow "
        "still routes calls to it. Answers with the deleted object.",
        roles=WRITERS,
        example=EXAMPLE,
    ),
)
async def delete_user(
    session: DbSession, caller: Reader, runtime: RuntimeDep, domain: str, user: str
) -> UserOut:
    gone = await lifecycle.delete(session, caller, domain, user, settings=runtime.settings)
    runtime.callers.forget_where(user_id=gone.id)
    return service.to_out(gone)
