"""Phones of a domain: a MAC, a model, its accounts mapped to users' devices, overrides.

Who may do what: the domain's managers (Office Manager, its Reseller, a Super User) create,
change and delete phones and read their web and provisioning passwords; the NDP scope and Call
Center Supervisors read phones; other users see none. A MAC belongs to at most one domain
(409, without saying which). Every write is audited and emits a `phone` event.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.policy import deny, domain_clause
from celito.auth.scopes import DOMAIN_MANAGERS, Scope
from celito.devices import secrets
from celito.devices.models import Device
from celito.devices.schemas import normalize_mac
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import BadRequest, Conflict, NotFound, Unprocessable
from celito.events import outbox
from celito.kit.paging import Page
from celito.phones.models import Phone, PhoneLine
from celito.phones.schemas import MAX_LINES, PhoneCreate, PhoneFields, PhoneOut, PhoneUpdate
from celito.users.models import User
from celito.yealink import catalog, render

READERS = DOMAIN_MANAGERS | {Scope.NDP, Scope.CALL_CENTER_SUPERVISOR}
SORTABLE = {
    "device-provisioning-mac-address": Phone.mac,
    "device-models-model": Phone.model,
    "created-datetime": Phone.created_at,
    "phone-last-seen-datetime": Phone.last_seen_at,
}
_URI = re.compile(r"^(?:sips?:)?([^@\s]+)(?:@([^\s;>]+))?$")


def web_password_bound(mac: str) -> str:
    return f"phone:{mac}#web"


def prov_password_bound(mac: str) -> str:
    return f"phone:{mac}#provisioning"


def is_manager(caller: Caller) -> bool:
    return caller.scope in DOMAIN_MANAGERS


def _require_reader(caller: Caller) -> None:
    if caller.scope not in READERS:
        raise deny(f"A {caller.scope} cannot read the domain's phones")


def _require_manager(caller: Caller) -> None:
    if not is_manager(caller):
        raise deny(f"A {caller.scope} cannot change phones; an Office Manager of the domain can")


def model_of(phone: Phone) -> catalog.PhoneModel:
    found = catalog.find(phone.model)
    assert found is not None, f"phone {phone.mac} has unknown model {phone.model}"
    return found


def generation_of(phone: Phone) -> catalog.Generation:
    return generation_from(phone.generation, phone.firmware, model_of(phone))


def generation_from(chosen: str, firmware: str, model: catalog.PhoneModel) -> catalog.Generation:
    """Chosen on the phone, else what its firmware says, else the model's usual one."""
    if chosen in ("v7x", "v8x"):
        return chosen  # type: ignore[return-value]
    return catalog.generation_of_firmware(firmware) or model.generation


def parse_overrides(blob: str) -> dict[str, str]:
    """`key = value` lines (the cfg syntax); `#` comments and blank lines are skipped."""
    found: dict[str, str] = {}
    for n, raw in enumerate(blob.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep:
            raise Unprocessable(f"device-models-overrides-blob line {n}: expected 'key = value'")
        check_override(key, value, where=f"device-models-overrides-blob line {n}")
        found[key] = value
    return found


def check_override(key: str, value: str, *, where: str) -> None:
    problem = render.override_problem(key, value)
    if problem:
        raise Unprocessable(f"{where}: {problem}")


def blob_of(overrides: dict[str, Any]) -> str:
    return "\n".join(f"{k} = {v}" for k, v in sorted(overrides.items()))


def to_out(phone: Phone, *, key: bytes | None = None, resync_pending: bool = False) -> PhoneOut:
    model = model_of(phone)
    lines = [
        {
            "line": line.position,
            "device": line.device.name,
            "user": line.device.user.user,
            "sip-uri": f"sip:{line.device.name}@{phone.domain.name}",
            "enabled": "yes" if line.enabled else "no",
            "shared": "yes" if line.shared else "no",
            "registered": "yes" if phone.registered.get(str(line.position)) else "no",
        }
        for line in phone.lines
    ]
    spec: dict[str, Any] = {}
    for line in phone.lines:
        n = line.position
        spec[f"device_provisioning_sip_uri_{n}"] = f"sip:{line.device.name}@{phone.domain.name}"
        spec[f"device_provisioning_line_{n}_enabled"] = "yes" if line.enabled else "no"
        spec[f"device_provisioning_sip_uri_{n}_shared_line_enabled"] = (
            "yes" if line.shared else "no"
        )
    password = None
    if key is not None and phone.prov_password:
        password = secrets.unseal(key, phone.prov_password, bound_to=prov_password_bound(phone.mac))
    out = PhoneOut.model_validate(
        {
            "device_provisioning_mac_address": phone.mac,
            "domain": phone.domain.name,
            "reseller": phone.domain.reseller.name,
            "device_models_brand_and_model": f"yealink {model.name}",
            "device_models_model": model.name,
            "device_models_model_code": model.code,
            "device_models_family": model.family,
            "device_models_firmware_generation": generation_of(phone),
            "device_models_count_accounts": model.accounts,
            "device_models_count_buttons": model.line_keys,
            "device_models_overrides_blob": blob_of(phone.overrides),
            "notes": phone.notes,
            "device_provisioning_sip_transport_protocol": phone.settings.get("transport", ""),
            "device_provisioning_username": phone.prov_username,
            "device_provisioning_password": password,
            "device_provisioning_last_retrieved_datetime": phone.provisioned_at,
            "device_provisioning_resync_pending": resync_pending,
            "device_sip_registration_state": (
                "registered" if any(phone.registered.values()) else "unregistered"
            ),
            "device_sip_registration_user_agent": phone.user_agent,
            "phone_lines": lines,
            "phone_last_seen_datetime": phone.last_seen_at,
            "phone_ip_address": phone.last_ip,
            "phone_firmware": phone.firmware,
            "phone_dnd_enabled": phone.dnd,
            "phone_forwarding": phone.forwarding,
            "phone_call": phone.call,
            "phone_last_event": phone.last_event,
            "created_datetime": phone.created_at,
            "last_modified_datetime": phone.updated_at,
        }
    )
    return out.model_copy(update={k: v for k, v in spec.items() if k in PhoneOut.model_fields})


def public(phone: Phone) -> dict[str, Any]:
    """The event payload and audit snapshot: the phone without secrets."""
    return to_out(phone).model_dump(
        by_alias=True, mode="json", exclude={"device_provisioning_password"}
    )


def _emit(session: AsyncSession, action: str, phone: Phone) -> None:
    outbox.record(
        session,
        "phone",
        action,
        public(phone),
        reseller=phone.domain.reseller.name,
        domain=phone.domain.name,
    )


def _secrets_set(body: PhoneFields) -> dict[str, bool]:
    """What the audit says of the phone's own provisioning password, which it never shows."""
    return {"password-changed": body.device_provisioning_password is not None}


def _audit(session: AsyncSession, caller: Caller, action: str, phone: Phone, **kw: Any) -> None:
    audit.record(
        session,
        caller,
        action,
        "phone",
        phone.mac,
        reseller=phone.domain.reseller.name,
        domain=phone.domain.name,
        **kw,
    )


def _loaded() -> Select[Phone]:
    return select(Phone).options(
        selectinload(Phone.lines).joinedload(PhoneLine.device).joinedload(Device.user)
    )


def _path_mac(raw: str) -> str:
    try:
        return normalize_mac(raw)
    except ValueError:
        raise BadRequest(
            f"'{raw[:64]}' is not a MAC address (12 hex digits, with or without separators)"
        ) from None


async def _find(session: AsyncSession, domain: Domain, mac: str) -> Phone:
    mac = _path_mac(mac)
    found = await session.scalar(_loaded().where(Phone.domain_id == domain.id, Phone.mac == mac))
    if found is None:
        raise NotFound(f"Phone {mac} does not exist in domain {domain.name}")
    return found


async def _device_for(session: AsyncSession, domain: Domain, uri: str, field: str) -> Device:
    match = _URI.match(uri.strip())
    if not match:
        raise Unprocessable(f"{field} '{uri}' is not a SIP URI such as sip:1001@{domain.name}")
    name, host = match.group(1), (match.group(2) or domain.name).lower()
    if host != domain.name:
        raise Unprocessable(f"{field} '{uri}' is not in domain {domain.name}")
    device = await session.scalar(
        select(Device).where(Device.domain_id == domain.id, Device.name == name)
    )
    if device is None:
        raise Unprocessable(f"{field}: device {name} does not exist in domain {domain.name}")
    return device


async def _apply(
    session: AsyncSession, phone: Phone, domain: Domain, body: PhoneFields, key: bytes
) -> None:
    values = body.model_dump(exclude_unset=True)
    for name in ("domain", "reseller"):
        given = values.pop(name, None)
        expected = domain.name if name == "domain" else domain.reseller.name
        if given and given.lower() != expected:
            raise Unprocessable(f"{name} '{given}' does not match the phone's {name} {expected}")
    values.pop("device_provisioning_mac_address", None)
    if "device_models_brand_and_model" in values:
        raw = values.pop("device_models_brand_and_model") or ""
        model = catalog.find(raw.lower().removeprefix("yealink").strip() or raw)
        if model is None:
            known = ", ".join(sorted(catalog.MODELS))
            raise Unprocessable(
                f"device-models-brand-and-model '{raw}' is not a supported phone; "
                f"supported Yealink models: {known}"
            )
        phone.model = model.name
    if "device_models_firmware_generation" in values:
        phone.generation = values.pop("device_models_firmware_generation") or ""
    if "notes" in values:
        phone.notes = values.pop("notes") or ""
    if "device_provisioning_sip_transport_protocol" in values:
        transport = values.pop("device_provisioning_sip_transport_protocol")
        settings = dict(phone.settings)
        if transport:
            settings["transport"] = transport
        else:
            settings.pop("transport", None)
        phone.settings = settings
    if "device_provisioning_username" in values:
        phone.prov_username = values.pop("device_provisioning_username") or ""
    if "device_provisioning_password" in values:
        password = values.pop("device_provisioning_password")
        if password:
            problem = secrets.problem_with(password, names=(phone.mac,))
            if problem:
                raise Unprocessable(f"device-provisioning-password {problem}")
        phone.prov_password = (
            secrets.seal(key, password, bound_to=prov_password_bound(phone.mac)) if password else ""
        )
    if bool(phone.prov_username) != bool(phone.prov_password):
        raise Unprocessable(
            "device-provisioning-username and device-provisioning-password go together"
        )
    if "device_models_overrides_blob" in values:
        phone.overrides = parse_overrides(values.pop("device_models_overrides_blob") or "")
    await _apply_lines(session, phone, domain, values)


async def _apply_lines(
    session: AsyncSession, phone: Phone, domain: Domain, values: dict[str, Any]
) -> None:
    model = model_of(phone)
    by_position = {line.position: line for line in phone.lines}
    for n in range(1, MAX_LINES + 1):
        uri_field = f"device_provisioning_sip_uri_{n}"
        enabled = values.get(f"device_provisioning_line_{n}_enabled")
        shared = values.get(f"device_provisioning_sip_uri_{n}_shared_line_enabled")
        line = by_position.get(n)
        if uri_field in values:
            uri = values[uri_field]
            if not uri:
                if line is not None:
                    phone.lines.remove(line)
                    by_position.pop(n)
                continue
            if n > model.accounts:
                raise Unprocessable(
                    f"device-provisioning-sip-uri-{n}: a {model.name} has {model.accounts} "
                    "account(s)"
                )
            device = await _device_for(session, domain, uri, uri_field.replace("_", "-"))
            if line is None:
                line = PhoneLine(position=n, device=device, device_id=device.id)
                phone.lines.append(line)
                by_position[n] = line
            else:
                line.device, line.device_id = device, device.id
        if line is None:
            if enabled is not None or shared is not None:
                raise Unprocessable(f"line {n} has no device-provisioning-sip-uri-{n}")
            continue
        if enabled is not None:
            line.enabled = enabled
        if shared is not None:
            line.shared = shared
    too_many = [line.position for line in phone.lines if line.position > model.accounts]
    if too_many:
        raise Unprocessable(
            f"a {model.name} has {model.accounts} account(s); line(s) {too_many} do not fit"
        )


async def create(
    session: AsyncSession, caller: Caller, domain_name: str, body: PhoneCreate
) -> Phone:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller)
    mac = body.device_provisioning_mac_address
    if await session.scalar(select(Phone.id).where(Phone.mac == mac)) is not None:
        raise Conflict(f"Phone {mac} is already registered to a domain; delete it there first")
    key = await secrets.load_key(session)
    phone = Phone(
        mac=mac,
        domain=domain,
        domain_id=domain.id,
        model="",
        web_password=secrets.seal(key, secrets.generate(), bound_to=web_password_bound(mac)),
        settings={},
        overrides={},
        registered={},
        forwarding={},
        call={},
        lines=[],
    )
    await _apply(session, phone, domain, body, key)
    session.add(phone)
    await session.flush()
    _audit(session, caller, "create", phone, after=public(phone), details=_secrets_set(body))
    _emit(session, "create", phone)
    return phone


async def update(
    session: AsyncSession, caller: Caller, domain_name: str, mac: str, body: PhoneUpdate
) -> Phone:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller)
    phone = await _find(session, domain, mac)
    before = public(phone)
    await _apply(session, phone, domain, body, await secrets.load_key(session))
    await session.flush()
    await session.refresh(phone)
    after = public(phone)
    _audit(session, caller, "update", phone, before=before, after=after, details=_secrets_set(body))
    _emit(session, "update", phone)
    return phone


async def delete(session: AsyncSession, caller: Caller, domain_name: str, mac: str) -> PhoneOut:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller)
    phone = await _find(session, domain, mac)
    out = to_out(phone)
    _audit(session, caller, "delete", phone, before=public(phone))
    _emit(session, "delete", phone)
    await session.delete(phone)
    await session.flush()
    return out


async def get(session: AsyncSession, caller: Caller, domain_name: str, mac: str) -> Phone:
    domain = await domains.get(session, caller, domain_name)
    _require_reader(caller)
    return await _find(session, domain, mac)


async def find_anywhere(session: AsyncSession, caller: Caller, mac: str) -> Phone:
    """`/phones/{mac}`: the phone in whichever domain of the caller's reach holds it."""
    _require_reader(caller)
    mac = _path_mac(mac)
    found = await session.scalar(
        _loaded()
        .join(Domain, Domain.id == Phone.domain_id)
        .where(Phone.mac == mac, domain_clause(caller))
    )
    if found is None:
        raise NotFound(f"Phone {mac} does not exist")
    return found


async def list_(
    session: AsyncSession, caller: Caller, domain_name: str | None, page: Page
) -> list[Phone]:
    _require_reader(caller)
    stmt = _loaded().join(Domain, Domain.id == Phone.domain_id).where(domain_clause(caller))
    if domain_name is not None:
        domain = await domains.get(session, caller, domain_name)
        stmt = stmt.where(Phone.domain_id == domain.id)
    stmt = page.apply(stmt, SORTABLE, "device-provisioning-mac-address")
    return list((await session.scalars(stmt)).unique().all())


async def count(session: AsyncSession, caller: Caller, domain_name: str | None) -> int:
    _require_reader(caller)
    stmt = select(func.count()).select_from(Phone).join(Domain, Domain.id == Phone.domain_id)
    stmt = stmt.where(domain_clause(caller))
    if domain_name is not None:
        domain = await domains.get(session, caller, domain_name)
        stmt = stmt.where(Phone.domain_id == domain.id)
    return int(await session.scalar(stmt) or 0)


async def users_of(session: AsyncSession, phone: Phone) -> list[str]:
    """The extensions whose devices the phone's accounts register as."""
    return sorted({line.device.user.user for line in phone.lines})


async def phones_of_user(session: AsyncSession, user: User) -> list[Phone]:
    stmt = (
        _loaded()
        .join(PhoneLine, PhoneLine.phone_id == Phone.id)
        .join(Device, Device.id == PhoneLine.device_id)
        .where(Device.user_id == user.id)
    )
    return list((await session.scalars(stmt)).unique().all())
