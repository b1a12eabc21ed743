from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from celito.auth.caller import Caller
from celito.auth.scopes import Scope
from celito.devices import service
from celito.devices.schemas import EXAMPLE, DeviceCreate, DeviceOut, DeviceUpdate
from celito.kit.docs import EVERYONE, operation
from celito.kit.paging import PageParams
from celito.kit.schema import Count
from celito.web import DbSession, caller_for

router = APIRouter(tags=["Devices"])
Reader = Annotated[Caller, caller_for("device")]
MANAGERS = (Scope.SUPER_USER, Scope.RESELLER, Scope.OFFICE_MANAGER, Scope.SITE_MANAGER)
USER_PATH = "/domains/{domain}/users/{user}/devices"
READ_DOC = (
    " Readable by whoever may read the user (the user itself, its managers, a Call Center "
    "Supervisor); `device-sip-registration-password` is shown only to those who manage the "
    "user (null otherwise). `~` works for domain and user."
)
WRITE_ERRORS = (401, 403, 404, 409, 422)
PUBLIC = {**EXAMPLE, "device-sip-registration-password": None}


@router.get(
    USER_PATH,
    response_model=list[DeviceOut],
    **operation(
        "List a user's devices",
        "The user's SIP devices with their registration state." + READ_DOC,
        roles=EVERYONE,
        example=[EXAMPLE],
    ),
)
async def list_user_devices(
    session: DbSession, caller: Reader, domain: str, user: str, page: PageParams
) -> Any:
    page.check_fields(DeviceOut)
    rows = await service.list_for_user(session, caller, domain, user, page)
    return page.respond(rows, DeviceOut)


@router.get(
    USER_PATH + "/count",
    response_model=Count,
    **operation(
        "Count a user's devices",
        "How many SIP devices the user has." + READ_DOC,
        roles=EVERYONE,
        example={"total": 2},
    ),
)
async def count_user_devices(session: DbSession, caller: Reader, domain: str, user: str) -> Count:
    return Count(total=await service.count_for_user(session, caller, domain, user))


@router.post(
    USER_PATH,
    response_model=DeviceOut,
    **operation(
        "Create a device for a user",
        "Adds a SIP device. Its name must start with the user's extension (`1001`, `1001a`, "
        "`1001-desk`) and may not be another extension of the domain. Without "
        "`device-sip-registration-password` a strong one (20 letters and digits) is generated; "
        "a chosen one must be 12-64 characters mixing letters and digits. The answer shows "
        "the password. The password is stored encrypted (AES-256-GCM) and the registrar gets "
        "only its digest. `device-provisioning-mac-address` (any usual spelling, stored as 12 "
        "hex digits) needs `device-models-model`. The domain's `limits-max-devices` is enforced "
        "(409). Managers of the user only (Super User, Reseller, Office Manager, the Site "
        "Manager of the user's site). Emits a `device` event.",
        roles=MANAGERS,
        example=EXAMPLE,
        status=201,
        request_example={
            "device": "1001a",
            "device-models-model": "T54W",
            "device-provisioning-mac-address": "80:5E:C0:AA:BB:CC",
        },
        errors=WRITE_ERRORS,
    ),
)
async def create_device(
    session: DbSession,
    caller: Reader,
    domain: str,
    user: str,
    body: Annotated[DeviceCreate, Body()],
) -> DeviceOut:
    return await service.create(session, caller, domain, user, body)


@router.get(
    USER_PATH + "/{device}",
    response_model=DeviceOut,
    **operation(
        "Read a device", "One SIP device of the user." + READ_DOC, roles=EVERYONE, example=EXAMPLE
    ),
)
async def get_device(
    session: DbSession, caller: Reader, domain: str, user: str, device: str
) -> DeviceOut:
    return await service.get(session, caller, domain, user, device)


@router.put(
    USER_PATH + "/{device}",
    response_model=DeviceOut,
    **operation(
        "Update a device",
        "Changes the given fields. Managers of the user change anything (a new "
        "`device-sip-registration-password` is checked like on create); a user changes only "
        "`device-push-enabled`, `auto-answer-enabled`, "
        "`device-force-notify-new-voicemails-enabled` and "
        "`device-sip-registration-ignore-for-presence-calculation` of its own devices (403 "
        "otherwise). Registration fields are read-only (422). Emits a `device` event.",
        roles=EVERYONE,
        example=EXAMPLE,
        request_example={"device-srtp-enabled": "opportunistic"},
        errors=WRITE_ERRORS,
    ),
)
async def update_device(
    session: DbSession,
    caller: Reader,
    domain: str,
    user: str,
    device: str,
    body: Annotated[DeviceUpdate, Body()],
) -> DeviceOut:
    return await service.update(session, caller, domain, user, device, body)


@router.delete(
    USER_PATH + "/{device}",
    response_model=DeviceOut,
    **operation(
        "Delete a device",
        "Removes the device (its phone can no longer register); answers with what was "
        "removed, without its password. Emits a `device` event.",
        roles=MANAGERS,
        example=PUBLIC,
        errors=(401, 403, 404),
    ),
)
async def delete_device(
    session: DbSession, caller: Reader, domain: str, user: str, device: str
) -> DeviceOut:
    return await service.delete(session, caller, domain, user, device)


@router.get(
    "/domains/{domain}/devices",
    response_model=list[DeviceOut],
    **operation(
        "List devices in a domain",
        "Every SIP device of the users the caller may read: a manager's whole domain (a Site "
        "Manager's site), a user's own devices. Filter by `user`; page with `start`/`limit`, "
        "sort with `sort` (device, user, device-sip-registration-datetime, …), project with "
        "`fields`." + READ_DOC,
        roles=EVERYONE,
        example=[EXAMPLE],
    ),
)
async def list_domain_devices(
    session: DbSession,
    caller: Reader,
    domain: str,
    page: PageParams,
    user: Annotated[str | None, Query(description="Only this user's devices.")] = None,
) -> Any:
    page.check_fields(DeviceOut)
    rows = await service.list_for_domain(session, caller, domain, page, user=user)
    return page.respond(rows, DeviceOut)


@router.get(
    "/domains/{domain}/devices/count",
    response_model=Count,
    **operation(
        "Count devices in a domain",
        "How many devices of the domain the caller may read.",
        roles=EVERYONE,
        example={"total": 14},
    ),
)
async def count_domain_devices(session: DbSession, caller: Reader, domain: str) -> Count:
    return Count(total=await service.count_for_domain(session, caller, domain))


@router.get(
    "/domains/{domain}/devices/{device}/count",
    response_model=Count,
    **operation(
        "Count devices by device",
        "1 when the domain has a device of that name the caller may read, else 0: a cheap "
        "existence check.",
        roles=EVERYONE,
        example={"total": 1},
    ),
)
async def count_domain_device(
    session: DbSession, caller: Reader, domain: str, device: str
) -> Count:
    return Count(total=await service.count_for_domain(session, caller, domain, device=device))


@router.get(
    "/resellers/{reseller}/devices/count",
    response_model=Count,
    **operation(
        "Count devices for a reseller",
        "How many devices all domains of the reseller have (`~` = your reseller).",
        roles=(Scope.SUPER_USER, Scope.RESELLER),
        example={"total": 310},
    ),
)
async def count_reseller_devices(session: DbSession, caller: Reader, reseller: str) -> Count:
    return Count(total=await service.count_for_reseller(session, caller, reseller))
