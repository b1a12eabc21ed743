"""Where presence learns what it cannot see itself: device registrations and do-not-disturb.

Presence is derived (see presence.service.derive) from a user's live calls, which this package
reads itself, and from two facts owned elsewhere:

- **registration** — which users have at least one registered device. The devices resource
  owns registration state (the telephony plane writes it through
  `devices.service.set_registration`); by default presence reads it there
  (presence.registrations). Another source can be plugged in with
  `set_registration_lookup(fn)`, where `fn(session, domain_id, users)` answers the subset of
  `users` (extensions; None = every user of the domain) with a registered device.
- **do-not-disturb** — which users have do-not-disturb switched on right now (answer rules);
  plugged in with `set_dnd_lookup(fn)`, same signature.

Until a DND lookup is plugged in, nobody counts as do-not-disturb. Whoever changes one of these
facts calls `presence.service.refresh(session, domain, users)` in the same transaction, so
`presence` events go out when a user's presence changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from sqlalchemy.ext.asyncio import AsyncSession

Lookup = Callable[[AsyncSession, int, Collection[str] | None], Awaitable[set[str]]]

_lookups: dict[str, Lookup | None] = {"registration": None, "dnd": None}


def set_registration_lookup(fn: Lookup | None) -> None:
    _lookups["registration"] = fn


def set_dnd_lookup(fn: Lookup | None) -> None:
    _lookups["dnd"] = fn


async def registered(
    session: AsyncSession, domain_id: int, users: Collection[str] | None
) -> set[str]:
    fn = _lookups["registration"]
    if fn is None:
        from celito.presence.registrations import registered_users

        fn = registered_users
    return await fn(session, domain_id, users)


async def dnd(session: AsyncSession, domain_id: int, users: Collection[str] | None) -> set[str]:
    fn = _lookups["dnd"]
    return await fn(session, domain_id, users) if fn is not None else set()
