"""Presence: what a user's phone lamp shows to the rest of the domain.

A user's `user-presence-status` is derived, first rule that applies:

1. `busy`     — on an answered call, or placing a call (an unanswered leg where it is the caller)
2. `ringing`  — a call to it is ringing (an unanswered leg where it is the callee)
3. `dnd`      — do-not-disturb is on (presence.hooks: the answer-rules lookup)
4. `open`     — at least one of its devices is registered (presence.hooks: the devices lookup)
5. `inactive` — none of the above

Calls are read from the live-call table (calls.models.ActiveCall). The last published status
of each user is kept (presence.models.UserPresence); `refresh` recomputes, and when a status
changed stores it and emits a `presence` event in the same transaction. calls.service calls
`refresh` for both ends of every leg it adds, changes or removes; the registration and DND
owners call it when theirs change (see presence.hooks).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Insert, and_, bindparam, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auth.caller import Caller
from celito.calls.models import ActiveCall
from celito.db import utcnow
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import NotFound
from celito.events import outbox
from celito.kit.paging import Page
from celito.presence import hooks
from celito.presence.models import UserPresence
from celito.resellers.models import Reseller
from celito.sites import service as sites
from celito.users.models import User

STATUSES = ("open", "busy", "ringing", "dnd", "inactive")
SORTABLE = {
    "user": User.user,
    "name-first-name": User.first_name,
    "name-last-name": User.last_name,
    "department": User.department,
    "site": User.site,
}
FIELDS = (
    "user",
    "uid",
    "domain",
    "site",
    "email",
    "name-first-name",
    "name-last-name",
    "department",
    "user-presence-status",
    "status-message",
)


def derive(*, registered: bool, dnd: bool, legs: Iterable[tuple[bool, bool]]) -> str:
    """The status from the facts; `legs` holds (answered, user is the callee) per live leg."""
    ringing = False
    for answered, callee in legs:
        if answered or not callee:
            return "busy"
        ringing = True
    if ringing:
        return "ringing"
    if dnd:
        return "dnd"
    return "open" if registered else "inactive"


# The statements presence runs on every call leg and DND change, built once: constructing one
# cost more CPU than running it.
_DOMAIN_USERS = select(User.user).where(User.domain_id == bindparam("domain_id"))
_LEGS = select(
    ActiveCall.orig_user,
    ActiveCall.orig_domain,
    ActiveCall.term_user,
    ActiveCall.term_domain,
    ActiveCall.answer_time,
).where(
    or_(
        and_(
            ActiveCall.orig_domain == bindparam("domain"),
            ActiveCall.orig_user.in_(bindparam("users", expanding=True)),
        ),
        and_(
            ActiveCall.term_domain == bindparam("domain"),
            ActiveCall.term_user.in_(bindparam("users", expanding=True)),
        ),
    )
)


async def statuses(
    session: AsyncSession, domain_id: int, domain: str, users: Collection[str] | None
) -> dict[str, str]:
    """The derived status of `users` (extensions; None = all) of the domain."""
    if users is None:
        names = list(await session.scalars(_DOMAIN_USERS, {"domain_id": domain_id}))
    else:
        names = list(users)
    if not names:
        return {}
    registered = await hooks.registered(session, domain_id, users)
    dnd = await hooks.dnd(session, domain_id, users)
    wanted = set(names)
    rows = await session.execute(_LEGS, {"domain": domain, "users": names})
    legs: dict[str, list[tuple[bool, bool]]] = {}
    for orig_user, orig_domain, term_user, term_domain, answered in rows.all():
        if orig_domain == domain and orig_user in wanted:
            legs.setdefault(orig_user, []).append((answered is not None, False))
        if term_domain == domain and term_user in wanted:
            legs.setdefault(term_user, []).append((answered is not None, True))
    return {
        u: derive(registered=u in registered, dnd=u in dnd, legs=legs.get(u, ())) for u in names
    }


class Person(Protocol):
    """What a presence entry shows of a user: a `User`, or a row of `_PERSON` columns."""

    user: str
    site: str
    email: str
    first_name: str
    last_name: str
    department: str
    attributes: dict[str, Any]


_PERSON = (
    User.user,
    User.site,
    User.email,
    User.first_name,
    User.last_name,
    User.department,
    User.attributes,
)


def to_out(u: Person, domain: str, status: str) -> dict[str, Any]:
    return {
        "user": u.user,
        "uid": f"{u.user}@{domain}",
        "domain": domain,
        "site": u.site,
        "email": u.email,
        "name-first-name": u.first_name,
        "name-last-name": u.last_name,
        "department": u.department,
        "user-presence-status": status,
        "status-message": str(u.attributes.get("status_message") or ""),
    }


_PEOPLE = (
    select(
        User.domain_id,
        Domain.name.label("domain"),
        Reseller.name.label("reseller"),
        *_PERSON,
        UserPresence.status.label("published"),
    )
    .join(Domain, Domain.id == User.domain_id)
    .join(Reseller, Reseller.id == Domain.reseller_id)
    .outerjoin(
        UserPresence,
        and_(UserPresence.domain_id == User.domain_id, UserPresence.user == User.user),
    )
    .where(Domain.name == bindparam("domain"), User.user.in_(bindparam("users", expanding=True)))
)


async def refresh(session: AsyncSession, domain_name: str, users: Iterable[str]) -> dict[str, str]:
    """Recomputes the presence of some users of a domain; stores and announces the changes.

    For the telephony plane and the owners of registration and DND state: no caller, no
    tenancy. Names that are not users of the domain (outside numbers) are ignored. Returns
    the users whose presence changed, with their new status.
    """
    wanted = {u for u in users if u}
    if not wanted:
        return {}
    # Columns, not ORM objects: the telephony plane and phones' reports call this in their
    # hot paths, and loading a domain and its users as objects cost more than deriving.
    rows = await session.execute(_PEOPLE, {"domain": domain_name.lower(), "users": list(wanted)})
    found = {row.user: row for row in rows}
    if not found:
        return {}
    first = next(iter(found.values()))
    domain_id, name, reseller = first.domain_id, first.domain, first.reseller
    now = await statuses(session, domain_id, name, list(found))
    changed: dict[str, str] = {}
    # In name order: transactions publishing the same users then lock them in the same order.
    for user, status in sorted(now.items()):
        person = found[user]
        if (person.published or "inactive") == status:
            continue
        await _publish(session, domain_id, user, status)
        changed[user] = status
        outbox.record(
            session,
            "presence",
            "update",
            to_out(person, name, status),
            reseller=reseller,
            domain=name,
            user=user,
        )
    return changed


def _upsert(dialect: str) -> Insert:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(UserPresence)
    return stmt.on_conflict_do_update(
        index_elements=[UserPresence.domain_id, UserPresence.user],
        set_={"status": stmt.excluded.status, "changed_at": stmt.excluded.changed_at},
    )


_UPSERTS = {name: _upsert(name) for name in ("postgresql", "sqlite")}


async def _publish(session: AsyncSession, domain_id: int, user: str, status: str) -> None:
    """Stores the status published for a user: an upsert, so two transactions publishing a
    user's first status at once both succeed (the later one's status stays)."""
    values = {"domain_id": domain_id, "user": user, "status": status, "changed_at": utcnow()}
    await session.execute(_UPSERTS[session.get_bind().dialect.name], values)


async def list_(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    page: Page,
    *,
    department: str | None = None,
    last_update: datetime | None = None,
) -> list[dict[str, Any]]:
    """Every user of the domain (or of one department) with its presence; with `last_update`
    only those whose presence changed at or after it. Everyone in the domain may read it,
    as every phone's busy-lamp field does."""
    domain = await domains.get(session, caller, domain_name)
    stmt = select(User).where(User.domain_id == domain.id)
    if department is not None:
        known = {d.department for d in await sites.list_departments(session, caller, domain.name)}
        if department not in known:
            raise NotFound(f"Department {department} does not exist in domain {domain.name}")
        stmt = stmt.where(User.department == department)
    if last_update is not None:
        changed = select(UserPresence.user).where(
            UserPresence.domain_id == domain.id, UserPresence.changed_at >= last_update
        )
        stmt = stmt.where(User.user.in_(changed))
    rows = list((await session.scalars(page.apply(stmt, SORTABLE, "user"))).all())
    now = await statuses(session, domain.id, domain.name, [u.user for u in rows])
    return [to_out(u, domain.name, now.get(u.user, "inactive")) for u in rows]
