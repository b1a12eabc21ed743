"""SIP devices of users: `1001`, `1001a`, … with generated passwords and registration state.

Who may do what: a device is read by whoever may read its user (users.get: the user itself,
its managers, a Call Center Supervisor of the domain); it is created, deleted and fully
changed by whoever may manage its user (Super User, Reseller, Office Manager, a Site Manager
for its site). A user may change only a few settings of its own devices (USER_EDITABLE).
The SIP password is shown on create and to those managers, never to anyone else, never in an
event, and never logged. Registration fields are the telephony plane's (`set_registration`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller, system_caller
from celito.auth.policy import ScopeDenied, check_manage_user, deny, user_clause
from celito.auth.scopes import Scope
from celito.db import utcnow
from celito.devices import secrets
from celito.devices.models import Device
from celito.devices.schemas import (
    ATTRIBUTE_FIELDS,
    DEFAULTS,
    SECRET_FIELDS,
    USER_EDITABLE,
    DeviceCreate,
    DeviceFields,
    DeviceOut,
    DeviceUpdate,
)
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import Conflict, NotFound, Unprocessable
from celito.events import outbox
from celito.extensions import service as extensions
from celito.kit.paging import Page
from celito.resellers import service as resellers
from celito.routing.snapshot import Device as RoutingDevice
from celito.users import service as users
from celito.users.models import User

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
SORTABLE = {
    "device": Device.name,
    "user": User.user,
    "device-provisioning-mac-address": Device.mac,
    "device-models-model": Device.model,
    "device-sip-registration-datetime": Device.reg_at,
    "created-datetime": Device.created_at,
}
_MANAGING = (Scope.RESELLER, Scope.OFFICE_MANAGER, Scope.SITE_MANAGER)


@dataclass(frozen=True)
class Registration:
    """What the registrar reports about a device (see `set_registration`)."""

    registered: bool
    contact: str = ""
    user_agent: str = ""
    ip_address: str = ""
    core_server: str = ""
    registered_at: datetime | None = None
    expires_at: datetime | None = None
    latency_seconds: float | None = None


@dataclass(frozen=True)
class RegistrarDigests:
    """What a SIP registrar needs to challenge a device, without its clear password."""

    username: str
    realm: str
    ha1: str
    ha1b: str
    allowed_user_agent: str


def manages(caller: Caller, owner: User) -> bool:
    """May the caller fully manage the devices of `owner` (already known to be visible)?"""
    if caller.is_super:
        return True
    if caller.scope not in _MANAGING:
        return False
    try:
        check_manage_user(caller, owner)
    except ScopeDenied:
        return False
    return True


def _uri(d: Device) -> str:
    return f"sip:{d.name}@{d.user.domain.name}"


def is_registered(d: Device, now: datetime | None = None) -> bool:
    """Registered, and the registration has not lapsed (a silent phone goes unregistered)."""
    if not d.reg_registered:
        return False
    return d.reg_expires_at is None or d.reg_expires_at > (now or utcnow())


def registered_clause(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """`is_registered` as SQL, for reads that want the answer without loading devices."""
    return Device.reg_registered.is_(True) & (
        Device.reg_expires_at.is_(None) | (Device.reg_expires_at > now)
    )


def to_out(d: Device, *, key: bytes | None = None) -> DeviceOut:
    """The device as the API shows it; secrets only when a key is given (caller may see them)."""
    owner = d.user
    shown: dict[str, Any] = {}
    if key is not None:
        bound = _uri(d)
        shown["device_sip_registration_password"] = secrets.unseal(
            key, d.sip_secret, bound_to=bound
        )
        if d.provisioning_secret:
            shown["device_provisioning_password"] = secrets.unseal(
                key, d.provisioning_secret, bound_to=bound + "#provisioning"
            )
    latency = list(d.reg_latency or [])
    return DeviceOut.model_validate(
        {
            **DEFAULTS,
            **{k: v for k, v in d.attributes.items() if k in ATTRIBUTE_FIELDS},
            **shown,
            "device": d.name,
            "user": owner.user,
            "domain": owner.domain.name,
            "device_sip_registration_uri": _uri(d),
            "device_sip_registration_state": "registered" if is_registered(d) else "unregistered",
            "device_sip_registration_contact": d.reg_contact,
            "device_sip_registration_core_server": d.reg_core_server,
            "device_sip_registration_datetime": d.reg_at,
            "device_sip_registration_expires_datetime": d.reg_expires_at,
            "device_sip_registration_ip_address": d.reg_ip,
            "device_sip_registration_user_agent": d.reg_user_agent,
            "device_sip_latency_seconds_current": latency[-1] if latency else None,
            "device_sip_latency_seconds_average": (
                round(sum(latency) / len(latency), 3) if latency else None
            ),
            "login_username": owner.login_username,
            "name_full_name": f"{owner.first_name} {owner.last_name}".strip(),
            "device_models_model": d.model,
            "device_provisioning_mac_address": d.mac,
            "created_datetime": d.created_at,
            "last_modified_datetime": d.updated_at,
        }
    )


async def render(session: AsyncSession, caller: Caller, rows: list[Device]) -> list[DeviceOut]:
    """Each device, with its secrets for the rows whose user the caller manages."""
    if not rows:
        return []
    key = await secrets.load_key(session) if any(manages(caller, d.user) for d in rows) else None
    return [to_out(d, key=key if manages(caller, d.user) else None) for d in rows]


def _public(d: Device) -> dict[str, Any]:
    """The event payload: the device without any secret."""
    return to_out(d).model_dump(by_alias=True, mode="json", exclude=set(SECRET_FIELDS))


def _emit(session: AsyncSession, action: str, d: Device) -> None:
    outbox.record(
        session,
        "device",
        action,
        _public(d),
        reseller=d.user.domain.reseller.name,
        domain=d.user.domain.name,
        user=d.user.user,
    )


def _snapshot(d: Device) -> dict[str, Any]:
    return {
        **d.attributes,
        "device-models-model": d.model,
        "device-provisioning-mac-address": d.mac,
        # A fingerprint of the sealed value: the audit log shows that it changed, nothing more.
        "device-sip-registration-password": secrets.fingerprint(d.sip_secret),
        "device-provisioning-password": secrets.fingerprint(d.provisioning_secret),
    }


def _audit(session: AsyncSession, caller: Caller, action: str, d: Device, **changes: Any) -> None:
    audit.record(
        session,
        caller,
        action,
        "device",
        _uri(d),
        reseller=d.user.domain.reseller.name,
        domain=d.user.domain.name,
        user=d.user.user,
        **changes,
    )


def _check_password(password: str, device: str, owner: User) -> None:
    problem = secrets.problem_with(password, names=(device, owner.user))
    if problem:
        raise Unprocessable(f"device-sip-registration-password {problem}")


def _apply(d: Device, body: DeviceFields, key: bytes, owner: User) -> None:
    values = body.model_dump(exclude_unset=True, exclude={"synchronous"})
    bound = f"sip:{d.name}@{owner.domain.name}"
    if "device_sip_registration_password" in values:
        password = values.pop("device_sip_registration_password")
        if password is None:
            raise Unprocessable("device-sip-registration-password cannot be removed")
        _check_password(password, d.name, owner)
        d.sip_secret = secrets.seal(key, password, bound_to=bound)
    if "device_provisioning_password" in values:
        password = values.pop("device_provisioning_password")
        d.provisioning_secret = (
            secrets.seal(key, password, bound_to=bound + "#provisioning") if password else ""
        )
    if "device_models_model" in values:
        d.model = values.pop("device_models_model") or ""
    if "device_provisioning_mac_address" in values:
        d.mac = values.pop("device_provisioning_mac_address") or ""
    if d.mac and not d.model:
        raise Unprocessable(
            "device-provisioning-mac-address needs device-models-model (the phone's model)"
        )
    d.attributes = {**d.attributes, **values}


async def _owner(
    session: AsyncSession, caller: Caller, domain_name: str, user: str, *, manage: bool
) -> User:
    owner = await users.get(session, caller, domain_name, user)
    if manage and not manages(caller, owner):
        raise deny(
            f"A {caller.scope} cannot add or remove devices of user {owner.user}; "
            "an Office Manager of the domain can"
        )
    return owner


async def _device(session: AsyncSession, owner: User, name: str) -> Device:
    found = await session.scalar(
        select(Device).where(Device.user_id == owner.id, Device.name == name)
    )
    if found is None:
        raise NotFound(f"Device {name} does not exist for user {owner.user}")
    return found


def _of_user(owner: User) -> Any:
    return select(Device).where(Device.user_id == owner.id)


async def list_for_user(
    session: AsyncSession, caller: Caller, domain_name: str, user: str, page: Page
) -> list[DeviceOut]:
    owner = await _owner(session, caller, domain_name, user, manage=False)
    stmt = page.apply(_of_user(owner).join(Device.user), SORTABLE, "device")
    return await render(session, caller, list((await session.scalars(stmt)).unique().all()))


async def count_for_user(session: AsyncSession, caller: Caller, domain_name: str, user: str) -> int:
    owner = await _owner(session, caller, domain_name, user, manage=False)
    stmt = select(func.count()).select_from(Device).where(Device.user_id == owner.id)
    return int(await session.scalar(stmt) or 0)


async def get(
    session: AsyncSession, caller: Caller, domain_name: str, user: str, name: str
) -> DeviceOut:
    owner = await _owner(session, caller, domain_name, user, manage=False)
    return (await render(session, caller, [await _device(session, owner, name)]))[0]


def _visible_in(domain: Domain, caller: Caller) -> Any:
    """Devices of the domain whose user the caller may read (a user: its own)."""
    return (
        select(Device).join(Device.user).where(Device.domain_id == domain.id, user_clause(caller))
    )


async def list_for_domain(
    session: AsyncSession, caller: Caller, domain_name: str, page: Page, *, user: str | None
) -> list[DeviceOut]:
    domain = await domains.get(session, caller, domain_name)
    stmt = _visible_in(domain, caller)
    if user:
        stmt = stmt.where(User.user == user)
    stmt = page.apply(stmt, SORTABLE, "device")
    return await render(session, caller, list((await session.scalars(stmt)).unique().all()))


async def count_for_domain(
    session: AsyncSession, caller: Caller, domain_name: str, *, device: str | None = None
) -> int:
    domain = await domains.get(session, caller, domain_name)
    stmt = _visible_in(domain, caller)
    if device is not None:
        stmt = stmt.where(Device.name == device)
    return int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


async def count_for_reseller(session: AsyncSession, caller: Caller, reseller_name: str) -> int:
    reseller = await resellers.get(session, caller, reseller_name)
    stmt = (
        select(func.count())
        .select_from(Device)
        .join(Domain, Domain.id == Device.domain_id)
        .where(Domain.reseller_id == reseller.id)
    )
    return int(await session.scalar(stmt) or 0)


async def _check_name(session: AsyncSession, owner: User, name: str) -> None:
    domain = owner.domain
    if not _NAME.fullmatch(name):
        raise Unprocessable(
            f"device '{name}' is not valid: use letters, digits, '.', '_' or '-' (up to 64)"
        )
    if not name.startswith(owner.user):
        raise Unprocessable(
            f"device '{name}' must start with the user's extension {owner.user} "
            f"(e.g. {owner.user}, {owner.user}a, {owner.user}-desk)"
        )
    if await session.scalar(
        select(Device.id).where(Device.domain_id == domain.id, Device.name == name)
    ):
        raise Conflict(f"Device {name} already exists in domain {domain.name}")
    if name != owner.user:
        taken = await extensions.kind_of(session, domain.id, name)
        if taken is not None:
            raise Conflict(
                f"device '{name}' is the extension of a {taken} in domain {domain.name}; "
                "choose another suffix"
            )


async def create(
    session: AsyncSession, caller: Caller, domain_name: str, user: str, body: DeviceCreate
) -> DeviceOut:
    """Adds a device; without a password one is generated. Answers with the password."""
    owner = await _owner(session, caller, domain_name, user, manage=True)
    domain = owner.domain
    name = body.device
    await _check_name(session, owner, name)
    limit = domains.limit_of(domain, "limits_max_devices")
    if limit is not None:
        existing = await session.scalar(
            select(func.count()).select_from(Device).where(Device.domain_id == domain.id)
        )
        if (existing or 0) >= limit:
            raise Conflict(f"Domain {domain.name} has reached its limit of {limit} devices")
    key = await secrets.load_key(session)
    device = Device(
        domain_id=domain.id,
        user_id=owner.id,
        user=owner,
        name=name,
        attributes={},
        mac="",
        model="",
        provisioning_secret="",
        reg_latency=[],
    )
    values = body
    if body.device_sip_registration_password is None:
        values = body.model_copy(
            update={"device_sip_registration_password": secrets.generate(names=(name, owner.user))}
        )
        values.model_fields_set.add("device_sip_registration_password")
    _apply(device, values, key, owner)
    try:
        async with session.begin_nested():
            session.add(device)
            await session.flush()
    except IntegrityError:
        raise Conflict(f"Device {name} already exists in domain {domain.name}") from None
    _emit(session, "create", device)
    _audit(session, caller, "create", device, after=_snapshot(device))
    return to_out(device, key=key)


async def update(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    user: str,
    name: str,
    body: DeviceUpdate,
) -> DeviceOut:
    owner = await _owner(session, caller, domain_name, user, manage=False)
    device = await _device(session, owner, name)
    if not manages(caller, owner):
        own = caller.user_id is not None and caller.user_id == owner.id
        beyond = sorted(body.model_fields_set - USER_EDITABLE)
        if not own:
            raise deny(f"A {caller.scope} cannot change devices of user {owner.user}")
        if beyond:
            names = ", ".join(DeviceUpdate.model_fields[n].alias or n for n in beyond)
            raise deny(f"A {caller.scope} cannot change {names} of its devices")
    key = await secrets.load_key(session)
    before = _snapshot(device)
    _apply(device, body, key, owner)
    await session.flush()
    _emit(session, "update", device)
    _audit(session, caller, "update", device, before=before, after=_snapshot(device))
    return (await render(session, caller, [device]))[0]


async def delete(
    session: AsyncSession, caller: Caller, domain_name: str, user: str, name: str
) -> DeviceOut:
    owner = await _owner(session, caller, domain_name, user, manage=True)
    device = await _device(session, owner, name)
    out = to_out(device)
    _emit(session, "delete", device)
    await session.delete(device)
    _audit(session, caller, "delete", device, before=_snapshot(device))
    return out


# ---------------------------------------------------------------------------------------------
# For other parts of the system (no HTTP face).


async def exists(session: AsyncSession, domain_id: int, name: str) -> bool:
    found = await session.scalar(
        select(Device.id).where(Device.domain_id == domain_id, Device.name == name)
    )
    return found is not None


async def names_of(session: AsyncSession, domain_id: int, user: str) -> list[str]:
    """The device names of user `user` (its extension) in a domain."""
    rows = await session.scalars(
        select(Device.name)
        .join(User, User.id == Device.user_id)
        .where(Device.domain_id == domain_id, User.user == user)
    )
    return list(rows.all())


async def delete_for_user(
    session: AsyncSession, user: User, *, caller: Caller | None = None
) -> list[str]:
    """Removes a user's devices (emitting `device` delete events); for the user-deletion flow."""
    who = caller or system_caller("system")
    rows = list((await session.scalars(select(Device).where(Device.user_id == user.id))).all())
    for device in rows:
        _emit(session, "delete", device)
        await session.delete(device)
        _audit(session, who, "delete", device, before=_snapshot(device))
    return [d.name for d in rows]


async def _by_uri(session: AsyncSession, domain: str, device: str) -> Device:
    found = await session.scalar(
        select(Device)
        .join(Domain, Domain.id == Device.domain_id)
        .where(Domain.name == domain.lower(), Device.name == device)
    )
    if found is None:
        raise NotFound(f"Device {device} does not exist in domain {domain}")
    return found


async def set_registration(
    session: AsyncSession, domain: str, device: str, state: Registration
) -> Device:
    """Records what the registrar saw for `sip:<device>@<domain>` (the telephony plane calls
    this). A `device` event with action `registration` is emitted when something a watcher
    cares about changed (registered or not, contact, address, user agent, server); a plain
    re-registration only moves the expiry, silently."""
    d = await _by_uri(session, domain, device)
    before = (is_registered(d), d.reg_contact, d.reg_ip, d.reg_user_agent, d.reg_core_server)
    d.reg_registered = state.registered
    if state.registered:
        d.reg_contact = state.contact[:512]
        d.reg_user_agent = state.user_agent[:255]
        d.reg_ip = state.ip_address[:64]
        d.reg_core_server = state.core_server[:128]
        d.reg_at = state.registered_at or utcnow()
        d.reg_expires_at = state.expires_at
        if state.latency_seconds is not None:
            d.reg_latency = [*(d.reg_latency or [])[-4:], float(state.latency_seconds)]
    else:
        d.reg_expires_at = state.expires_at or utcnow()
    after = (is_registered(d), d.reg_contact, d.reg_ip, d.reg_user_agent, d.reg_core_server)
    await session.flush()
    if after != before:
        _emit(session, "registration", d)
    return d


async def sip_password(session: AsyncSession, d: Device) -> str:
    """The clear SIP password, for the provisioning renderer (never log or return it)."""
    return secrets.unseal(await secrets.load_key(session), d.sip_secret, bound_to=_uri(d))


async def registrar_digests(session: AsyncSession, domain: str, device: str) -> RegistrarDigests:
    """HA1 digests of a device's password for the SIP registrar; the realm is the domain."""
    d = await _by_uri(session, domain, device)
    password = await sip_password(session, d)
    realm = d.user.domain.name
    return RegistrarDigests(
        username=d.name,
        realm=realm,
        ha1=secrets.ha1(d.name, realm, password),
        ha1b=secrets.ha1b(d.name, realm, realm, password),
        allowed_user_agent=str(d.attributes.get("device_sip_allowed_user_agent") or ""),
    )


async def routing_devices(session: AsyncSession, domain_id: int) -> list[RoutingDevice]:
    """Every device of the domain with its owner and live registration, for routing."""
    rows = await session.execute(
        select(Device, User.user)
        .join(User, User.id == Device.user_id)
        .where(Device.domain_id == domain_id)
    )
    now = utcnow()
    return [
        RoutingDevice(name=d.name, user=owner, registered=is_registered(d, now))
        for d, owner in rows.all()
    ]
