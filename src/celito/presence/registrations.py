"""The registration lookup presence uses by default: the devices resource's registrations.

A user counts as registered when at least one of its devices is registered now
(`devices.service.is_registered`: registered and not lapsed) and that device is not marked
`device-sip-registration-ignore-for-presence-calculation`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.db import UTCDateTime, utcnow
from celito.devices import service as devices
from celito.devices.models import Device
from celito.users.models import User

IGNORED = "device_sip_registration_ignore_for_presence_calculation"


def _registered(users_asked: bool) -> Select[tuple[str, dict[str, Any]]]:
    stmt = (
        select(User.user, Device.attributes)
        .join(User, User.id == Device.user_id)
        .where(
            User.domain_id == bindparam("domain_id"),  # so the (domain, user) index finds the users
            Device.domain_id == bindparam("domain_id"),
            devices.registered_clause(bindparam("now", type_=UTCDateTime())),
        )
    )
    return stmt.where(User.user.in_(bindparam("users", expanding=True))) if users_asked else stmt


# Built once: constructing the statement cost more CPU than running it (presence asks on every
# phone's DND change and every call leg).
_OF_USERS = _registered(users_asked=True)
_OF_DOMAIN = _registered(users_asked=False)


async def registered_users(
    session: AsyncSession, domain_id: int, users: Collection[str] | None
) -> set[str]:
    params: dict[str, Any] = {"domain_id": domain_id, "now": utcnow()}
    if users is not None:
        params["users"] = list(users)
    rows = await session.execute(_OF_DOMAIN if users is None else _OF_USERS, params)
    return {user for user, attributes in rows if not attributes.get(IGNORED)}
