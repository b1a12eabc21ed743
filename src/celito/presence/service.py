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

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Insert, Select, and_, bindparam, exists, or_, select
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
from celito.kit.sqllists import among
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


# A user's live calls, as conditions on a `users` row: placing a call or on an answered one
# (busy), or called and not yet answered (ringing). `domain` is the domain's name, as calls
# record it.
_CALLING = exists().where(
    ActiveCall.orig_domain == bindparam("domain"), ActiveCall.orig_user == User.user
)
_ANSWERED = exists().where(
    ActiveCall.term_domain == bindparam("domain"),
    ActiveCall.term_user == User.user,
    ActiveCall.answer_time.is_not(None),
)
_CALLED = exists().where(
    ActiveCall.term_domain == bindparam("domain"),
    ActiveCall.term_user == User.user,
    ActiveCall.answer_time.is_(None),
)


@dataclass(frozen=True)
class _Built:
    registered: ColumnElement[bool]
    dnd: ColumnElement[bool]
    statement: Select[Any]


_built: dict[str, _Built] = {}


def _with_facts(
    session: AsyncSession, kind: str, base: Callable[[str], Select[Any]]
) -> Select[Any]:
    """`base(dialect)` with every fact presence derives from, per user, added as columns; built once
    for the lookups plugged in (constructing it cost more CPU than running it: presence is
    asked on every call leg and DND change)."""
    registered, dnd = hooks.registered(), hooks.dnd()
    dialect = session.get_bind().dialect.name
    kind = f"{kind}/{dialect}"
    found = _built.get(kind)
    if found is None or found.registered is not registered or found.dnd is not dnd:
        statement = base(dialect).add_columns(
            registered.label("registered"),
            dnd.label("dnd"),
            or_(_CALLING, _ANSWERED).label("busy"),
            _CALLED.label("ringing"),
        )
        found = _built[kind] = _Built(registered, dnd, statement)
    return found.statement


def _status(row: Any) -> str:
    legs = [(True, False)] if row.busy else [(False, True)] if row.ringing else []
    return derive(registered=bool(row.registered), dnd=bool(row.dnd), legs=legs)


def _of_domain(users_asked: bool) -> Callable[[str], Select[Any]]:
    def base(dialect: str) -> Select[Any]:
        stmt = select(User.user).where(User.domain_id == bindparam("domain_id"))
        return stmt.where(among(User.user, "users", dialect)) if users_asked else stmt

    return base


async def statuses(
    session: AsyncSession, domain_id: int, domain: str, users: Collection[str] | None
) -> dict[str, str]:
    """The derived status of `users` (extensions; None = all) of the domain."""
    params: dict[str, Any] = {"domain_id": domain_id, "domain": domain, "now": utcnow()}
    if users is None:
        statement = _with_facts(session, "domain", _of_domain(users_asked=False))
    else:
        if not users:
            return {}
        statement = _with_facts(session, "users", _of_domain(users_asked=True))
        params["users"] = list(users)
    return {row.user: _status(row) for row in await session.execute(statement, params)}


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


def _people(dialect: str) -> Select[Any]:
    """Users of a domain (by name) with what their presence entry shows and last published."""
    published = and_(UserPresence.domain_id == User.domain_id, UserPresence.user == User.user)
    return (
        select(
            User.domain_id,
            Domain.name.label("domain"),
            Reseller.name.label("reseller"),
            *_PERSON,
            UserPresence.status.label("published"),
        )
        .join(Domain, Domain.id == User.domain_id)
        .join(Reseller, Reseller.id == Domain.reseller_id)
        .outerjoin(UserPresence, published)
        .where(Domain.name == bindparam("domain"), among(User.user, "users", dialect))
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
    params = {"domain": domain_name.lower(), "users": list(wanted), "now": utcnow()}
    statement = _with_facts(session, "people", _people)
    found = {row.user: row for row in await session.execute(statement, params)}
    if not found:
        return {}
    first = next(iter(found.values()))
    domain_id, name, reseller = first.domain_id, first.domain, first.reseller
    now = {user: _status(row) for user, row in found.items()}
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
