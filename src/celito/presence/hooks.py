"""Where presence learns what it cannot see itself: device registrations and do-not-disturb.

Presence is derived (see presence.service.derive) from a user's live calls, which this package
reads itself, and from two facts owned elsewhere:

- **registration** — which users have at least one registered device. The devices resource
  owns registration state (the telephony plane writes it through
  `devices.service.set_registration`); by default presence reads it there
  (presence.registrations).
- **do-not-disturb** — which users have do-not-disturb switched on right now (phones' DND
  keys, see yealink.node).

Each is plugged in as a condition on a row of `users` (celito.users.models.User), true when
that user has the fact, which may use the bound parameter `now` (the current time):
`set_registration_lookup(fn)` and `set_dnd_lookup(fn)`, where `fn()` gives the condition.
Presence puts them into its own statement, so a status costs one read however many facts it
depends on (a phone's DND change is several a second in a busy office). Until a DND lookup
is plugged in, nobody counts as do-not-disturb. Whoever changes one of these facts calls
`presence.service.refresh(session, domain, users)` in the same transaction, so `presence`
events go out when a user's presence changes.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, false

Lookup = Callable[[], ColumnElement[bool]]

_lookups: dict[str, Lookup | None] = {"registration": None, "dnd": None}


def set_registration_lookup(fn: Lookup | None) -> None:
    _lookups["registration"] = fn


def set_dnd_lookup(fn: Lookup | None) -> None:
    _lookups["dnd"] = fn


def registered() -> ColumnElement[bool]:
    fn = _lookups["registration"]
    if fn is None:
        from celito.presence.registrations import registered_users

        fn = registered_users
    return fn()


def dnd() -> ColumnElement[bool]:
    fn = _lookups["dnd"]
    return fn() if fn is not None else false()
