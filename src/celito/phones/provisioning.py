"""What a domain's phones download from `/cfg/`: the domain's provisioning profile (Digest
credentials, settings, overrides) and the gathering of everything a phone's file holds.

Files are rendered on every download from the current data (yealink.render is pure and cheap),
so changing a user, a device, an override or the profile changes the next download; whether a
phone has the current file is known by comparing the MD5 of a fresh rendering with the MD5 of
what it last downloaded (`resync_pending`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.policy import deny
from celito.auth.scopes import DOMAIN_MANAGERS
from celito.config import Settings
from celito.devices import secrets
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import Unprocessable
from celito.kit.names import check_time_zone
from celito.phones import configuration, tokens
from celito.phones import service as phones
from celito.phones.models import Phone, ProvisioningProfile
from celito.phones.schemas import ProvisioningOut, ProvisioningUpdate
from celito.users.models import User
from celito.yealink import render

log = logging.getLogger("celito.provisioning")

DEFAULTS: dict[str, Any] = {
    "transport": "udp",
    "sip_server": "",
    "sip_port": 5060,
    "outbound_proxy": "",
    "time_zone": "",
    "resync_minutes": 1440,
    "blf_colleagues": True,
    "voicemail_number": "",
}


def password_bound(domain: str) -> str:
    return f"provisioning:{domain}"


async def profile_for(session: AsyncSession, domain: Domain) -> ProvisioningProfile:
    """The domain's profile, created with a random password the first time it is needed."""
    found = await session.get(ProvisioningProfile, domain.id)
    if found is None:
        key = await secrets.load_key(session)
        found = ProvisioningProfile(
            domain_id=domain.id,
            domain=domain,
            username=domain.name,
            password=secrets.seal(key, secrets.generate(), bound_to=password_bound(domain.name)),
            settings={},
            overrides={},
        )
        session.add(found)
        await session.flush()
    return found


def settings_of(profile: ProvisioningProfile, domain: Domain) -> dict[str, Any]:
    merged = {**DEFAULTS, **profile.settings}
    merged["sip_server"] = merged["sip_server"] or domain.name
    merged["time_zone"] = merged["time_zone"] or domain.time_zone or "UTC"
    return merged


def base_url(settings: Settings, request_base: str) -> str:
    return (settings.public_url or request_base).rstrip("/")


async def _out(
    session: AsyncSession, profile: ProvisioningProfile, domain: Domain, url: str
) -> ProvisioningOut:
    key = await secrets.load_key(session)
    values = settings_of(profile, domain)
    total = await session.scalar(select(func.count()).where(Phone.domain_id == domain.id))
    return ProvisioningOut.model_validate(
        {
            **values,
            "domain": domain.name,
            "url": f"{url}/cfg/",
            "username": profile.username,
            "password": secrets.unseal(key, profile.password, bound_to=password_bound(domain.name)),
            "overrides": profile.overrides,
            "phones_total": int(total or 0),
            "last_modified_datetime": profile.updated_at,
        }
    )


def _require_manager(caller: Caller) -> None:
    if caller.scope not in DOMAIN_MANAGERS:
        raise deny(f"A {caller.scope} cannot read or change the domain's provisioning")


async def get_profile(
    session: AsyncSession, caller: Caller, domain_name: str, url: str
) -> ProvisioningOut:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller)
    return await _out(session, await profile_for(session, domain), domain, url)


async def update_profile(
    session: AsyncSession, caller: Caller, domain_name: str, body: ProvisioningUpdate, url: str
) -> ProvisioningOut:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller)
    profile = await profile_for(session, domain)
    values = body.model_dump(exclude_unset=True)
    before = {**profile.settings, "overrides": profile.overrides}
    if "password" in values:
        password = values.pop("password") or "generate"
        if password == "generate":
            password = secrets.generate()
        problem = secrets.problem_with(password, names=(domain.name,))
        if problem:
            raise Unprocessable(f"password {problem}")
        key = await secrets.load_key(session)
        profile.password = secrets.seal(key, password, bound_to=password_bound(domain.name))
    if "overrides" in values:
        overrides = values.pop("overrides") or {}
        for k, v in overrides.items():
            phones.check_override(k, str(v), where="overrides")
        profile.overrides = {k: str(v) for k, v in overrides.items()}
    if values.get("time_zone"):
        check_time_zone(values["time_zone"])
    settings = dict(profile.settings)
    for name, value in values.items():
        if value is None:
            settings.pop(name, None)
        else:
            settings[name] = value
    profile.settings = settings
    await session.flush()
    audit.record(
        session,
        caller,
        "update",
        "provisioning",
        domain.name,
        reseller=domain.reseller.name,
        domain=domain.name,
        before=before,
        after={**profile.settings, "overrides": profile.overrides},
        details={"password-changed": "password" in body.model_fields_set},
    )
    return await _out(session, profile, domain, url)


@dataclass(frozen=True)
class Door:
    """Who may download a phone's files: the domain's credentials, or the phone's own."""

    username: str
    password: str
    domain_id: int
    phone_mac: str | None = None


async def door_for(session: AsyncSession, username: str) -> list[Door]:
    """Every credential set that `username` could be (a domain's, a phone's, or both)."""
    key = await secrets.load_key(session)
    found: list[Door] = []
    profile = await session.scalar(
        select(ProvisioningProfile).where(ProvisioningProfile.username == username)
    )
    if profile is not None:
        password = secrets.unseal(key, profile.password, bound_to=password_bound(username))
        found.append(Door(username, password, profile.domain_id))
    for phone in await session.scalars(
        select(Phone).where(Phone.prov_username == username, Phone.prov_password != "")
    ):
        password = secrets.unseal(
            key, phone.prov_password, bound_to=phones.prov_password_bound(phone.mac)
        )
        found.append(Door(username, password, phone.domain_id, phone.mac))
    return found


async def _colleagues(session: AsyncSession, domain: Domain, own: set[str], n: int) -> list[User]:
    if n <= 0:
        return []
    stmt = select(User).where(User.domain_id == domain.id).order_by(User.user).limit(n)
    if own:
        stmt = stmt.where(User.user.not_in(own))
    return list(await session.scalars(stmt))


def _control_ips(settings: Settings, url: str) -> tuple[str, ...]:
    if settings.phone_control_ips:
        return tuple(settings.phone_control_ips)
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or "127.0.0.1"
    return (host,) if host.replace(".", "").isdigit() else ("127.0.0.1",)


async def spec_for(
    session: AsyncSession, settings: Settings, phone: Phone, url: str
) -> render.PhoneSpec:
    """Everything the phone's file says, gathered from the current data."""
    domain = phone.domain
    profile = await profile_for(session, domain)
    values = settings_of(profile, domain)
    model = phones.model_of(phone)
    key = await secrets.load_key(session)
    transport = phone.settings.get("transport") or values["transport"]
    accounts = []
    for line in phone.lines:
        device = line.device
        owner = device.user
        name = f"{owner.first_name} {owner.last_name}".strip() or owner.user
        accounts.append(
            render.Account(
                position=line.position,
                enabled=line.enabled,
                label=owner.user if line.position == 1 else f"{owner.user} ({device.name})",
                display_name=name,
                user_name=device.name,
                password=secrets.unseal(
                    key, device.sip_secret, bound_to=f"sip:{device.name}@{domain.name}"
                ),
                server=values["sip_server"],
                port=int(values["sip_port"]),
                transport=transport,
                outbound_proxy=values["outbound_proxy"] or settings.sip_proxy,
                voicemail_number=values["voicemail_number"],
                shared=line.shared,
            )
        )
    configured = configuration.keys_of(phone)
    keys = list(configured or [render.Key("line", "", a.label, a.position) for a in accounts])
    if configured is None and values["blf_colleagues"]:
        own = {line.device.user.user for line in phone.lines}
        for colleague in await _colleagues(session, domain, own, model.line_keys - len(keys)):
            label = f"{colleague.first_name} {colleague.last_name}".strip() or colleague.user
            keys.append(render.Key("blf", colleague.user, label, 1))
    token_key = await tokens.key(session)
    web = secrets.unseal(key, phone.web_password, bound_to=phones.web_password_bound(phone.mac))
    return render.PhoneSpec(
        mac=phone.mac,
        model=model,
        generation=phones.generation_of(phone),
        domain=domain.name,
        accounts=tuple(accounts),
        keys=tuple(keys),
        time_zone=values["time_zone"],
        action_url_base=(
            f"{url}/ns-api/hooks/yealink/{phone.mac}/"
            f"{tokens.token(token_key, phone.mac, phone.token_version)}"
        ),
        control_ips=_control_ips(settings, url),
        provisioning_url=f"{url}/cfg/",
        resync_minutes=int(values["resync_minutes"]),
        web_password=web,
        overrides=render.merged_overrides(profile.overrides, phone.overrides),
    )


async def phone_file(session: AsyncSession, settings: Settings, phone: Phone, url: str) -> str:
    return render.phone_file(await spec_for(session, settings, phone, url))


async def resync_pending(session: AsyncSession, settings: Settings, phone: Phone, url: str) -> bool:
    """Has the phone's file changed since the phone last downloaded it?"""
    if not phone.served_md5:
        return False
    return render.md5(await phone_file(session, settings, phone, url)) != phone.served_md5
