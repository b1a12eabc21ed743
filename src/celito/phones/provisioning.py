"""What a domain's phones download from `/cfg/`: the domain's provisioning profile (Digest
credentials, settings, overrides) and the gathering of everything a phone's file holds.

Files are rendered on every download from the data as it is then (phones.filedata reads it in
one statement; yealink.render is pure and cheap), so changing a user, a device, an override or
the profile changes the next download; whether a phone has the current file is known by
comparing the MD5 of a fresh rendering with the MD5 of what it last downloaded
(`resync_pending`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
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
from celito.phones import configuration, filedata, tokens
from celito.phones import service as phones
from celito.phones.models import Phone, ProvisioningProfile
from celito.phones.schemas import ProvisioningOut, ProvisioningUpdate
from celito.yealink import catalog, render

log = logging.getLogger("celito.provisioning")
NONCE_KEY = "provisioning_digest_nonce"

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
    return merged_settings(profile.settings, domain.name, domain.time_zone)


def merged_settings(settings: Mapping[str, Any], domain: str, time_zone: str) -> dict[str, Any]:
    """The profile's settings over the defaults; the domain fills the server and time zone."""
    merged = {**DEFAULTS, **settings}
    merged["sip_server"] = merged["sip_server"] or domain
    merged["time_zone"] = merged["time_zone"] or time_zone or "UTC"
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
            password = secrets.generate(names=(domain.name,))
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


def _control_ips(settings: Settings, url: str) -> tuple[str, ...]:
    if settings.phone_control_ips:
        return tuple(settings.phone_control_ips)
    return _host_ip(url)


@functools.lru_cache(maxsize=64)
def _host_ip(url: str) -> tuple[str, ...]:
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or "127.0.0.1"
    return (host,) if host.replace(".", "").isdigit() else ("127.0.0.1",)


@functools.lru_cache(maxsize=256)
def _blf_keys(
    people: tuple[filedata.Person, ...], own: frozenset[str], room: int
) -> tuple[render.Key, ...]:
    """BLF keys for the first colleagues by extension, in the line keys left: the same for
    most phones of a domain, so made once per distinct set of inputs."""
    colleagues = [p for p in people if p[0] not in own][: max(room, 0)]
    return tuple(
        render.Key("blf", user, f"{first} {last}".strip() or user, 1)
        for user, first, last in colleagues
    )


@dataclass(frozen=True)
class Keys:
    """The node-shared keys behind phones' files: the one sealing SIP and web passwords, the
    one deriving action-URL tokens, and the one signing Digest nonces. They never change, so
    a node reads them once."""

    secrets: bytes
    tokens: bytes
    nonce: bytes


async def keys(session: AsyncSession) -> Keys:
    return Keys(
        await tokens.cached_key(session, secrets.KEY_NAME),
        await tokens.key(session),
        await tokens.cached_key(session, NONCE_KEY),
    )


def spec_of(
    data: filedata.FileData,
    settings: Settings,
    url: str,
    keys: Keys,
    firmware: str = "",
) -> render.PhoneSpec:
    """Everything the phone's file says. `firmware` is what the phone says it runs, when it
    says so (it decides the key names); otherwise the last one known."""
    values = merged_settings(data.profile_settings, data.domain, data.time_zone)
    model = catalog.find(data.model)
    assert model is not None, f"phone {data.mac} has unknown model {data.model}"
    transport = data.settings.get("transport") or values["transport"]
    accounts = []
    for line in data.accounts:
        name = f"{line.first_name} {line.last_name}".strip() or line.user
        accounts.append(
            render.Account(
                position=line.position,
                enabled=line.enabled,
                label=line.user if line.position == 1 else f"{line.user} ({line.device})",
                display_name=name,
                user_name=line.device,
                password=secrets.unseal(
                    keys.secrets, line.sip_secret, bound_to=f"sip:{line.device}@{data.domain}"
                ),
                server=values["sip_server"],
                port=int(values["sip_port"]),
                transport=transport,
                outbound_proxy=values["outbound_proxy"] or settings.sip_proxy,
                voicemail_number=values["voicemail_number"],
                shared=line.shared,
            )
        )
    configured = configuration.keys_of(data.buttons)
    keys_ = list(configured or [render.Key("line", "", a.label, a.position) for a in accounts])
    if configured is None and values["blf_colleagues"]:
        # Only the phone's own users among those people change its keys (and the cache key).
        listed = {p[0] for p in data.people}
        own = frozenset(line.user for line in data.accounts if line.user in listed)
        keys_ += _blf_keys(data.people, own, model.line_keys - len(keys_))
    web = secrets.unseal(
        keys.secrets, data.web_password, bound_to=phones.web_password_bound(data.mac)
    )
    return render.PhoneSpec(
        mac=data.mac,
        model=model,
        generation=phones.generation_from(data.generation, firmware or data.firmware, model),
        domain=data.domain,
        accounts=tuple(accounts),
        keys=tuple(keys_),
        time_zone=values["time_zone"],
        action_url_base=(
            f"{url}/ns-api/hooks/yealink/{data.mac}/"
            f"{tokens.token(keys.tokens, data.mac, data.token_version)}"
        ),
        control_ips=_control_ips(settings, url),
        provisioning_url=f"{url}/cfg/",
        resync_minutes=int(values["resync_minutes"]),
        web_password=web,
        overrides=render.merged_overrides(data.profile_overrides, data.overrides),
    )


async def spec_for(
    session: AsyncSession, settings: Settings, phone: Phone, url: str
) -> render.PhoneSpec:
    """Everything the phone's file says, from the data as this session sees it."""
    await session.flush()
    data = await filedata.read_in(session, phone.mac)
    assert data is not None, f"phone {phone.mac} is not in the database"
    return spec_of(data, settings, url, await keys(session))


async def resync_pending(session: AsyncSession, settings: Settings, phone: Phone, url: str) -> bool:
    """Has the phone's file changed since the phone last downloaded it?"""
    if not phone.served_md5:
        return False
    text = render.phone_file(await spec_for(session, settings, phone, url))
    return render.md5(text) != phone.served_md5
