from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from celito.auth.caller import Caller
from celito.auth.scopes import Scope
from celito.devices import secrets
from celito.kit.docs import EVERYONE, MANAGERS, operation
from celito.kit.paging import PageParams
from celito.kit.schema import Count, Message
from celito.phones import actions, configuration, hooks, provisioning
from celito.phones import service as phones
from celito.phones.models import Phone
from celito.phones.schemas import (
    ModelOut,
    PhoneCreate,
    PhoneOut,
    PhoneSelect,
    PhoneUpdate,
    ProvisioningOut,
    ProvisioningUpdate,
)
from celito.web import DbSession, caller_for, runtime_of
from celito.yealink import actionuri, catalog

router = APIRouter(tags=["Phones"])
Reader = Annotated[Caller, caller_for("phone")]
READERS = (*MANAGERS, Scope.CALL_CENTER_SUPERVISOR, Scope.NDP)
WRITE_ERRORS = (400, 401, 403, 404, 409, 422)
MAC = "001565aabbcc"
EXAMPLE: dict[str, Any] = {
    "device-provisioning-mac-address": MAC,
    "domain": "acme.example",
    "reseller": "demo-reseller",
    "device-models-brand-and-model": "yealink T46S",
    "device-models-model": "T46S",
    "device-models-model-code": "066",
    "device-models-firmware-generation": "v8x",
    "device-provisioning-sip-uri-1": "sip:1001@acme.example",
    "device-provisioning-line-1-enabled": "yes",
    "device-models-overrides-blob": "lang.gui = English",
    "phone-last-seen-datetime": "2026-11-27T09:14:03Z",
    "phone-dnd-enabled": "no",
}
CREATE_EXAMPLE = {
    "device-provisioning-mac-address": "00:15:65:AA:BB:CC",
    "device-models-brand-and-model": "yealink T46S",
    "device-provisioning-sip-uri-1": "sip:1001@acme.example",
    "notes": "reception desk",
}


def _base(request: Request) -> str:
    return provisioning.base_url(runtime_of(request).settings, str(request.base_url))


async def _render(
    session: Any, caller: Caller, request: Request, rows: list[Phone]
) -> list[PhoneOut]:
    key = await secrets.load_key(session) if rows and phones.is_manager(caller) else None
    settings, url = runtime_of(request).settings, _base(request)
    return [
        phones.to_out(
            p,
            key=key,
            resync_pending=await provisioning.resync_pending(session, settings, p, url),
        )
        for p in rows
    ]


@router.get(
    "/phones/models",
    response_model=list[ModelOut],
    **operation(
        "List the phone models that can be provisioned",
        "Every Yealink model the platform writes files for, with its common-file code, family, "
        "firmware generation (V7x or V8x key names), SIP accounts and line keys.",
        roles=EVERYONE,
        example=[{"brand": "yealink", "model": "T46S", "code": "066", "phone_ext": 16}],
    ),
)
async def list_models(caller: Reader) -> list[ModelOut]:
    return [
        ModelOut(
            brand="yealink",
            model=m.name,
            brand_model=f"yealink {m.name}",
            device_type="phone",
            ndp_syntax="yealink",
            phone_ext=m.accounts,
            sidecar="no",
            resync="yes",
            description=f"Yealink {m.name} ({m.family})",
            code=m.code,
            family=m.family,
            firmware_generation=m.generation,
            line_keys=m.line_keys,
        )
        for m in catalog.MODELS.values()
    ]


@router.get(
    "/phones",
    response_model=list[PhoneOut],
    **operation(
        "List phones in reach",
        "Every phone of the domains the caller reaches (a Reseller: its domains).",
        roles=READERS,
        example=[EXAMPLE],
    ),
)
async def list_all(session: DbSession, caller: Reader, request: Request, page: PageParams) -> Any:
    page.check_fields(PhoneOut)
    rows = await phones.list_(session, caller, None, page)
    return page.respond(await _render(session, caller, request, rows), PhoneOut)


@router.get(
    "/phones/count",
    response_model=Count,
    **operation("Count phones in reach", "How many phones.", roles=READERS, example={"total": 3}),
)
async def count_all(session: DbSession, caller: Reader) -> Count:
    return Count(total=await phones.count(session, caller, None))


@router.get(
    "/phones/{mac}",
    response_model=PhoneOut,
    **operation(
        "Find a phone by MAC",
        "The phone with this MAC (any spelling), in whichever domain of the caller's reach.",
        roles=READERS,
        example=EXAMPLE,
    ),
)
async def find_phone(session: DbSession, caller: Reader, request: Request, mac: str) -> PhoneOut:
    phone = await phones.find_anywhere(session, caller, mac)
    return (await _render(session, caller, request, [phone]))[0]


DOMAIN = "/domains/{domain}/phones"


@router.get(
    DOMAIN,
    response_model=list[PhoneOut],
    **operation(
        "List a domain's phones",
        "The domain's phones with their accounts and what each last reported "
        "(`phone-*`). `device-provisioning-resync-pending` says whether the phone's file "
        "changed since it last downloaded it.",
        roles=READERS,
        example=[EXAMPLE],
    ),
)
async def list_phones(
    session: DbSession, caller: Reader, request: Request, domain: str, page: PageParams
) -> Any:
    page.check_fields(PhoneOut)
    rows = await phones.list_(session, caller, domain, page)
    return page.respond(await _render(session, caller, request, rows), PhoneOut)


@router.get(
    DOMAIN + "/count",
    response_model=Count,
    **operation("Count a domain's phones", "How many.", roles=READERS, example={"total": 3}),
)
async def count_phones(session: DbSession, caller: Reader, domain: str) -> Count:
    return Count(total=await phones.count(session, caller, domain))


@router.post(
    DOMAIN,
    response_model=PhoneOut,
    **operation(
        "Add a phone to a domain",
        "A phone is its MAC (any usual spelling, stored as 12 lowercase hex digits) and a "
        "Yealink model (`GET /phones/models`). `device-provisioning-sip-uri-N` maps account N "
        "to a device of the domain (`sip:1001@domain` or the device name). "
        "`device-models-overrides-blob` holds extra phone settings, one `key = value` per line "
        "(keys the platform manages — action URLs, web credentials, the Action URI allow-list — "
        "are refused). A MAC belongs to one domain at most (409). The phone downloads its "
        "file from `/cfg/` with the domain's provisioning credentials. Emits a `phone` event.",
        roles=MANAGERS,
        example=EXAMPLE,
        status=201,
        request_example=CREATE_EXAMPLE,
        errors=WRITE_ERRORS,
    ),
)
async def create_phone(
    session: DbSession,
    caller: Reader,
    request: Request,
    domain: str,
    body: Annotated[PhoneCreate, Body()],
) -> PhoneOut:
    phone = await phones.create(session, caller, domain, body)
    return (await _render(session, caller, request, [phone]))[0]


@router.put(
    DOMAIN,
    response_model=PhoneOut,
    **operation(
        "Update a phone (MAC in the body)",
        "The NetSapiens form of `PUT /domains/{domain}/phones/{mac}`.",
        roles=MANAGERS,
        example=EXAMPLE,
        request_example={"device-provisioning-mac-address": MAC, "notes": "moved to room 2"},
        errors=WRITE_ERRORS,
    ),
)
async def update_phone_body(
    session: DbSession,
    caller: Reader,
    request: Request,
    domain: str,
    body: Annotated[PhoneUpdate, Body()],
) -> PhoneOut:
    if body.device_provisioning_mac_address is None:
        from celito.errors import Unprocessable

        raise Unprocessable("device-provisioning-mac-address names the phone to update")
    phone = await phones.update(session, caller, domain, body.device_provisioning_mac_address, body)
    return (await _render(session, caller, request, [phone]))[0]


@router.delete(
    DOMAIN,
    response_model=PhoneOut,
    **operation(
        "Remove a phone (MAC in the body)",
        "The NetSapiens form of `DELETE /domains/{domain}/phones/{mac}`.",
        roles=MANAGERS,
        example=EXAMPLE,
        request_example={"device-provisioning-mac-address": MAC},
    ),
)
async def delete_phone_body(
    session: DbSession, caller: Reader, domain: str, body: Annotated[PhoneSelect, Body()]
) -> PhoneOut:
    return await phones.delete(session, caller, domain, body.device_provisioning_mac_address)


@router.get(
    DOMAIN + "/{mac}",
    response_model=PhoneOut,
    **operation("Read a phone", "One phone of the domain.", roles=READERS, example=EXAMPLE),
)
async def get_phone(
    session: DbSession, caller: Reader, request: Request, domain: str, mac: str
) -> PhoneOut:
    phone = await phones.get(session, caller, domain, mac)
    return (await _render(session, caller, request, [phone]))[0]


@router.put(
    DOMAIN + "/{mac}",
    response_model=PhoneOut,
    **operation(
        "Update a phone",
        "Changes the given fields (an empty `device-provisioning-sip-uri-N` removes account "
        "N). The phone gets the change at its next download; `POST …/actions` with `resync` "
        "asks it to download now. Emits a `phone` event.",
        roles=MANAGERS,
        example=EXAMPLE,
        request_example={"device-provisioning-sip-uri-2": "sip:1002@acme.example"},
        errors=WRITE_ERRORS,
    ),
)
async def update_phone(
    session: DbSession,
    caller: Reader,
    request: Request,
    domain: str,
    mac: str,
    body: Annotated[PhoneUpdate, Body()],
) -> PhoneOut:
    phone = await phones.update(session, caller, domain, mac, body)
    return (await _render(session, caller, request, [phone]))[0]


@router.delete(
    DOMAIN + "/{mac}",
    response_model=PhoneOut,
    **operation(
        "Remove a phone",
        "The phone's files stop being served; its action URLs stop being accepted.",
        roles=MANAGERS,
        example=EXAMPLE,
    ),
)
async def delete_phone(session: DbSession, caller: Reader, domain: str, mac: str) -> PhoneOut:
    return await phones.delete(session, caller, domain, mac)


@router.post(
    DOMAIN + "/{mac}/actions",
    response_model=actions.ActionOut,
    **operation(
        "Tell a phone what to do (Action URI)",
        "`action`: `dial` (with `number`, optional `line`), `answer`, `hangup`, `hold`, "
        "`resume` (optional `call-id`: the phone's `$call_id`), `dnd-on`, `dnd-off`, `mute`, "
        "`reboot`, `resync` (download its file now, no reboot), `key` (`key`: a key name or a "
        "`;` sequence such as `F1`, `OK`, `L2`). The platform calls the phone's web server at "
        "the address it last reported from, on port 80 or the one set by the override "
        "`static.network.port.http` (phone or domain). 504 when the phone does not answer, "
        "502 when it refuses (each with the reason), 409 when it never reported its address. "
        "Audited. Managers "
        "of the domain, or a user on a phone where one of its devices is an account.",
        roles=EVERYONE,
        example={
            "mac": MAC,
            "action": "dial",
            "sent": "key=number=1002",
            "phone-address": "192.0.2.10:80",
            "phone-status": 200,
        },
        request_example={"action": "dial", "number": "1002"},
        errors=(400, 401, 403, 404, 409, 422, 502, 504),
    ),
)
async def phone_action(
    session: DbSession,
    caller: Reader,
    request: Request,
    domain: str,
    mac: str,
    body: Annotated[actions.ActionRequest, Body()],
) -> actions.ActionOut:
    runtime = runtime_of(request)
    plan = await actions.plan(session, caller, domain, mac, body)
    # No transaction stays open while the phone is called (on SQLite it would hold the
    # write lock for up to the timeout).
    await session.commit()
    answer = await actionuri.send(
        request.app.state.phone_services.http,
        plan.target,
        plan.query,
        seconds=runtime.settings.phone_action_timeout_seconds,
    )
    try:
        out = actions.record(session, caller, plan, answer)
    except Exception:
        await session.commit()  # the refusal is audited too
        raise
    await actions.mark_resync(session, plan)
    return out


@router.get(
    "/domains/{domain}/provisioning",
    response_model=ProvisioningOut,
    **operation(
        "Read the domain's provisioning settings",
        "The URL and HTTP Digest credentials the domain's phones use to download their files "
        "(for DHCP option 66, RPS or the phone's own setting), and what goes into every "
        "phone's file: SIP server, port and transport, time zone, re-provisioning interval, "
        "automatic BLF keys for colleagues, voicemail number, and domain-wide overrides.",
        roles=MANAGERS,
        example={"url": "https://pbx.example/cfg/", "username": "acme.example"},
    ),
)
async def get_provisioning(caller: Reader, request: Request, domain: str) -> ProvisioningOut:
    # The first read makes the domain's profile (a random password), so it runs in a writer:
    # on SQLite a write inside a GET's read transaction fails whenever another writer holds
    # the lock (the ingest, the download log).
    async with runtime_of(request).db.writer() as session:
        found = await provisioning.get_profile(session, caller, domain, _base(request))
        await session.commit()
    return found


@router.put(
    "/domains/{domain}/provisioning",
    response_model=ProvisioningOut,
    **operation(
        "Change the domain's provisioning settings",
        "`password`: `generate` for a new random one or a chosen one (phones need the new one "
        "before their next download). `overrides`: `{key: value}` for every phone of the "
        "domain (a phone's own overrides win). Audited.",
        roles=MANAGERS,
        example={"url": "https://pbx.example/cfg/", "resync-minutes": 720},
        request_example={"resync-minutes": 720, "overrides": {"lang.gui": "English"}},
        errors=(401, 403, 404, 422),
    ),
)
async def update_provisioning(
    session: DbSession,
    caller: Reader,
    request: Request,
    domain: str,
    body: Annotated[ProvisioningUpdate, Body()],
) -> ProvisioningOut:
    return await provisioning.update_profile(session, caller, domain, body, _base(request))


HOOK_DOC = (
    " `url` is a template: Yealink variable names (`$active_user`, `$display_local`, "
    "`$remote`, `$call_id`, `$local`, `$display_remote`, `$mac`, `$ip`, `$model`, "
    "`$calledNumber`, `$callerID`, …, plus `$event`, `$domain`, `$user`) are replaced with "
    "the values the phone reported, URL-encoded. Example: "
    "`https://example.yourdomain.com/call_established.php?user=$active_user&display="
    "$display_local` on `call_established`. Called with GET after the event is committed, "
    "retried with backoff for 24 hours; 410 Gone disables the hook."
)
HOOK_EXAMPLE = {
    "id": "9f2c4e1a7b3d5c60",
    "domain": "acme.example",
    "user": None,
    "event": "call_established",
    "url": "https://example.yourdomain.com/call_established.php?user=$active_user",
    "enabled": "yes",
    "status": "active",
}


def _hook_routes(path: str, who: str, roles: tuple[Any, ...]) -> None:
    user_level = "{user}" in path

    @router.get(
        path,
        response_model=list[hooks.HookOut],
        **operation(
            f"List {who} phone hooks",
            "Hooks and their call counts." + HOOK_DOC,
            roles=roles,
            example=[HOOK_EXAMPLE],
        ),
        name=f"list_phone_hooks_{'user' if user_level else 'domain'}",
    )
    async def list_hooks(
        session: DbSession, caller: Reader, domain: str, user: str | None = None
    ) -> list[hooks.HookOut]:
        return await hooks.list_(session, caller, domain, user if user_level else None)

    @router.post(
        path,
        response_model=hooks.HookOut,
        **operation(
            f"Create {who} phone hook",
            "On `event`, call `url`." + HOOK_DOC,
            roles=roles,
            example=HOOK_EXAMPLE,
            status=201,
            request_example={"event": HOOK_EXAMPLE["event"], "url": HOOK_EXAMPLE["url"]},
            errors=WRITE_ERRORS,
        ),
        name=f"create_phone_hook_{'user' if user_level else 'domain'}",
    )
    async def create_hook(
        session: DbSession,
        caller: Reader,
        request: Request,
        domain: str,
        body: Annotated[hooks.HookCreate, Body()],
        user: str | None = None,
    ) -> hooks.HookOut:
        allow = runtime_of(request).settings.webhook_allow_private
        return await hooks.create(
            session, caller, domain, user if user_level else None, body, allow_private=allow
        )

    @router.get(
        path + "/{hook_id}",
        response_model=hooks.HookOut,
        **operation(
            f"Read {who} phone hook", "One hook." + HOOK_DOC, roles=roles, example=HOOK_EXAMPLE
        ),
        name=f"get_phone_hook_{'user' if user_level else 'domain'}",
    )
    async def get_hook(
        session: DbSession, caller: Reader, domain: str, hook_id: str, user: str | None = None
    ) -> hooks.HookOut:
        return await hooks.get(session, caller, domain, user if user_level else None, hook_id)

    @router.put(
        path + "/{hook_id}",
        response_model=hooks.HookOut,
        **operation(
            f"Change {who} phone hook",
            "Enabling a disabled hook re-activates it." + HOOK_DOC,
            roles=roles,
            example=HOOK_EXAMPLE,
            request_example={"enabled": "yes"},
            errors=WRITE_ERRORS,
        ),
        name=f"update_phone_hook_{'user' if user_level else 'domain'}",
    )
    async def update_hook(
        session: DbSession,
        caller: Reader,
        request: Request,
        domain: str,
        hook_id: str,
        body: Annotated[hooks.HookUpdate, Body()],
        user: str | None = None,
    ) -> hooks.HookOut:
        allow = runtime_of(request).settings.webhook_allow_private
        return await hooks.update(
            session,
            caller,
            domain,
            user if user_level else None,
            hook_id,
            body,
            allow_private=allow,
        )

    @router.delete(
        path + "/{hook_id}",
        response_model=Message,
        **operation(
            f"Delete {who} phone hook",
            "Pending calls are dropped.",
            roles=roles,
            example={"code": 200, "message": "Phone hook deleted"},
        ),
        name=f"delete_phone_hook_{'user' if user_level else 'domain'}",
    )
    async def delete_hook(
        session: DbSession, caller: Reader, domain: str, hook_id: str, user: str | None = None
    ) -> Message:
        await hooks.delete(session, caller, domain, user if user_level else None, hook_id)
        return Message(code=200, message="Phone hook deleted")


_hook_routes("/domains/{domain}/phone-hooks", "a domain's", MANAGERS)
_hook_routes("/domains/{domain}/users/{user}/phone-hooks", "a user's", EVERYONE)


CONFIG = "/domains/{domain}/phoneconfiguration"
CONFIG_DOC = (
    " A configuration replaces the phone's automatic keys (a line key per account, then BLF "
    "keys for colleagues) with its `phoneconfiguration-buttons`: `-order` is the line key "
    "number, `-feature` one of `line`, `blf`, `speed-dial`, `park`, `none`, `-target` the "
    "account number (line), extension or number, `-label` the key's text. The phone gets it "
    "at its next download."
)
CONFIG_EXAMPLE = {
    "phoneconfiguration-mac-address": MAC,
    "phoneconfiguration-brand": "yealink",
    "phoneconfiguration-model": "T46S",
    "phoneconfiguration-buttons": [
        {
            "phoneconfiguration-button-order": 1,
            "phoneconfiguration-button-feature": "line",
            "phoneconfiguration-button-target": "1",
            "phoneconfiguration-button-label": "1001",
        },
        {
            "phoneconfiguration-button-order": 2,
            "phoneconfiguration-button-feature": "blf",
            "phoneconfiguration-button-target": "1002",
            "phoneconfiguration-button-label": "Reception",
        },
    ],
}


@router.get(
    CONFIG + "/count",
    response_model=Count,
    tags=["Phone configuration"],
    **operation(
        "Count configured phones",
        "Phones of the domain with a phone configuration." + CONFIG_DOC,
        roles=READERS,
        example={"total": 1},
    ),
)
async def count_configurations(session: DbSession, caller: Reader, domain: str) -> Count:
    return Count(total=await configuration.count(session, caller, domain))


@router.post(
    CONFIG,
    response_model=configuration.ConfigurationOut,
    tags=["Phone configuration"],
    **operation(
        "Create a phone configuration",
        "For an existing phone of the domain (404 otherwise; 409 if it has one)." + CONFIG_DOC,
        roles=MANAGERS,
        example=CONFIG_EXAMPLE,
        status=201,
        request_example=CONFIG_EXAMPLE,
        errors=WRITE_ERRORS,
    ),
)
async def create_configuration(
    session: DbSession,
    caller: Reader,
    domain: str,
    body: Annotated[configuration.ConfigurationCreate, Body()],
) -> configuration.ConfigurationOut:
    return await configuration.create(session, caller, domain, body)


@router.get(
    CONFIG + "/{mac}",
    response_model=configuration.ConfigurationOut,
    tags=["Phone configuration"],
    **operation(
        "Read a phone configuration",
        "404 when the phone uses automatic keys." + CONFIG_DOC,
        roles=READERS,
        example=CONFIG_EXAMPLE,
    ),
)
async def get_configuration(
    session: DbSession, caller: Reader, domain: str, mac: str
) -> configuration.ConfigurationOut:
    return await configuration.get(session, caller, domain, mac)


@router.put(
    CONFIG + "/{mac}",
    response_model=configuration.ConfigurationOut,
    tags=["Phone configuration"],
    **operation(
        "Update a phone configuration",
        "Given `phoneconfiguration-buttons` replace all buttons." + CONFIG_DOC,
        roles=MANAGERS,
        example=CONFIG_EXAMPLE,
        request_example={"phoneconfiguration-description": "reception"},
        errors=WRITE_ERRORS,
    ),
)
async def update_configuration(
    session: DbSession,
    caller: Reader,
    domain: str,
    mac: str,
    body: Annotated[configuration.ConfigurationFields, Body()],
) -> configuration.ConfigurationOut:
    return await configuration.update(session, caller, domain, mac, body)


@router.delete(
    CONFIG + "/{mac}",
    response_model=Message,
    tags=["Phone configuration"],
    **operation(
        "Delete a phone configuration",
        "The phone goes back to automatic keys." + CONFIG_DOC,
        roles=MANAGERS,
        example={"code": 200, "message": "Phone configuration deleted"},
    ),
)
async def delete_configuration(
    session: DbSession, caller: Reader, domain: str, mac: str
) -> Message:
    await configuration.delete(session, caller, domain, mac)
    return Message(code=200, message="Phone configuration deleted")
