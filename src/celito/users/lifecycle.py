"""Whole-user flows that reach across resources: creating a usable user in one call, and
deleting a user with everything that hangs off it.

They sit apart from users.service because the other resources' services build on it; this
module is the one place that knows all of them, and only the user routes call it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from celito.answerrules import service as answerrules
from celito.audio import service as audio
from celito.audio.storage import AudioStore
from celito.auth.caller import Caller
from celito.auth.crypto import PasswordHasher
from celito.autoattendants.references import references_to
from celito.callqueues import service as callqueues
from celito.conferences import service as conferences
from celito.config import Settings
from celito.devices import service as devices
from celito.devices.schemas import DeviceCreate
from celito.domains import service as domains
from celito.errors import Conflict
from celito.phonenumbers import service as phonenumbers
from celito.users import service as users
from celito.users.models import User
from celito.users.schemas import UserCreate, UserUpdate
from celito.voicemail import service as voicemail
from celito.voicemail.schemas import BoxFields


async def create(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    body: UserCreate,
    *,
    hasher: PasswordHasher,
) -> tuple[User, dict[str, Any]]:
    """The user, its voicemail box, its default answer rule and, when asked, its devices and a
    phone number — all or nothing, in the caller's transaction."""
    domain = await domains.get(session, caller, domain_name)
    if await devices.exists(session, domain.id, body.user):
        raise Conflict(f"Extension {body.user} is already a device name in domain {domain.name}")
    user = await users.create(session, caller, domain_name, body, hasher=hasher)
    provisioned: dict[str, Any] = {
        "voicemail": "no",
        "answerrule": None,
        "devices": [],
        "phonenumber": None,
    }
    if body.voicemail_enabled is not False:
        box = (
            BoxFields(voicemail_login_pin=body.voicemail_login_pin)
            if (body.voicemail_login_pin)
            else None
        )
        await voicemail.create_box_for_user(
            session, user.domain_id, user.user, hasher=hasher, settings=box
        )
        provisioned["voicemail"] = "yes"
    rule = await answerrules.create_default_for_user(session, caller, user)
    provisioned["answerrule"] = rule.frame_key
    for name in body.devices or []:
        made = await devices.create(
            session, caller, domain.name, user.user, DeviceCreate(device=name)
        )
        provisioned["devices"].append(
            made.model_dump(
                by_alias=True,
                mode="json",
                include={
                    "device",
                    "device_sip_registration_uri",
                    "device_sip_registration_password",
                },
            )
        )
    if body.phonenumber:
        number = await phonenumbers.assign_to_user(
            session, caller, domain.name, body.phonenumber, user.user
        )
        provisioned["phonenumber"] = number.model_dump(by_alias=True, mode="json")
    return user, provisioned


async def update(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    user_name: str,
    body: UserUpdate,
    *,
    hasher: PasswordHasher,
) -> User:
    user = await users.update(session, caller, domain_name, user_name, body, hasher=hasher)
    if "voicemail_login_pin" in body.model_fields_set:
        # The PIN lives (hashed) in the voicemail box, never on the user.
        await voicemail.create_box_for_user(
            session,
            user.domain_id,
            user.user,
            hasher=hasher,
            settings=BoxFields(voicemail_login_pin=body.voicemail_login_pin or ""),
        )
    return user


async def delete(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    user_name: str,
    *,
    settings: Settings,
) -> User:
    """Deletes the user after releasing what hangs off it; the audit entry lists what went.
    Refused (409) while an attendant menu or a queue overflow still sends calls to it."""
    user = await users.deletable(session, caller, domain_name, user_name)
    routed_here = await references_to(session, user.domain_id, user.user)
    if routed_here:
        raise Conflict(
            f"User {user.user} still receives calls from: {', '.join(routed_here)}; "
            "change those first"
        )
    released: dict[str, Any] = {
        "devices": await devices.delete_for_user(session, user, caller=caller),
        "phonenumbers": await phonenumbers.release_for_user(
            session, user.domain_id, user, caller=caller
        ),
        "queues": await callqueues.remove_user_memberships(session, user.domain_id, user.user),
        "conferences": await conferences.release_owner(session, user.domain_id, user.user),
        "answerrules": await answerrules.delete_for_user(session, caller, user),
        "voicemail_messages": await voicemail.delete_for_user(
            session, user.domain_id, user.user, store=AudioStore.voicemail(settings)
        ),
        "audio_files": await audio.delete_for_user(
            session, user.domain_id, user.user, store=AudioStore.prompts(settings)
        ),
    }
    return await users.delete(session, caller, domain_name, user_name, released=released)
