"""The registration lookup presence uses by default: the devices resource's registrations.

A user counts as registered when at least one of its devices is registered now
(`devices.service.is_registered`: registered and not lapsed) and that device is not marked
`device-sip-registration-ignore-for-presence-calculation`.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.db import utcnow
from celito.devices import service as devices
from celito.devices.models import Device
from celito.users.models import User

IGNORED = "device_sip_registration_ignore_for_presence_calculation"


async def registered_users(
    session: AsyncSession, domain_id: int, users: Collection[str] | None
) -> set[str]:
    stmt = (
        select(User.user, Device.attributes)
        .join(User, User.id == Device.user_id)
        .where(
            User.domain_id == domain_id,  # so the (domain, user) index finds the users asked for
            Device.domain_id == domain_id,
            devices.registered_clause(utcnow()),
        )
    )
    if users is not None:
        stmt = stmt.where(User.user.in_(list(users)))
    return {user for user, attributes in await session.execute(stmt) if not attributes.get(IGNORED)}
