"""Live calls: the table the telephony plane keeps current, reads over it, and call control.

The telephony plane reports legs with `upsert_call` and `end_call` (no caller: it is the
system). Each emits a `call` event per local end (NetSapiens `call` payload names,
netsapiens.md §4.2, `remove: "yes"` when the leg ended), one `call_origid` event per leg, and
refreshes both ends' presence.

Reads: a domain's calls are those with an end in it. Super Users, Resellers, Office Managers
and Call Center Supervisors read every call of their domains; a Site Manager those with an
end among its site's users; every other user only its own. Control (click-to-call, answer,
hold, transfer, hang up, reject) is for the user itself and for those who may manage it
(Office Manager, Site Manager of its site, Reseller, Super User): a Call Center Supervisor
only watches. Control goes to the telephony adapter (`runtime.telephony`); without one the
answer is 503, never a pretended success.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.policy import check_manage_user, deny
from celito.auth.scopes import Scope
from celito.calls.models import ActiveCall
from celito.calls.schemas import ActiveCallOut, CallRequest, CallRequestOut
from celito.db import utcnow
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import CelitoError, NotFound, ServiceUnavailable, Unprocessable
from celito.events import outbox
from celito.kit.paging import Page
from celito.presence import service as presence
from celito.telephony.adapter import (
    CallControl,
    ControlAction,
    OriginateRequest,
    TelephonyAdapter,
    TelephonyError,
)
from celito.users import service as users
from celito.users.models import User

NO_ENGINE = (
    "No telephony engine is configured on this server, so calls cannot be placed or "
    "controlled through the API; the request was not carried out. Ask the operator to "
    "configure one."
)
SORTABLE = {
    "call-start-datetime": ActiveCall.start_time,
    "call-answer-datetime": ActiveCall.answer_time,
    "call-orig-call-id": ActiveCall.orig_callid,
}


class EngineFailed(CelitoError):
    """The telephony engine refused the request or could not be reached."""

    status = 502


# --- the telephony plane's side ------------------------------------------------------------


@dataclass
class CallLeg:
    """One leg as the engine sees it. Ends are `user`@`domain` (a user of a domain here, or
    an outside number with an empty or foreign domain)."""

    orig_callid: str
    term_callid: str = ""
    orig_user: str = ""
    orig_domain: str = ""
    orig_uri: str = ""
    orig_name: str = ""
    orig_match: str = ""
    caller_id_number: str = ""
    dialed_number: str = ""
    by_action: str = ""
    by_user: str = ""
    by_domain: str = ""
    by_callid: str = ""
    term_user: str = ""
    term_domain: str = ""
    term_uri: str = ""
    orig_info: str = ""  # e.g. progressing, active, held
    term_info: str = ""
    codec: str = ""
    hostname: str = ""
    session_id: str = ""
    started_at: datetime | None = None
    answered_at: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # more NetSapiens `call` fields


_COPIED = (
    "orig_user",
    "orig_domain",
    "orig_uri",
    "orig_name",
    "orig_match",
    "by_action",
    "by_user",
    "by_domain",
    "by_callid",
    "term_user",
    "term_domain",
    "term_uri",
    "orig_info",
    "term_info",
    "codec",
    "hostname",
    "session_id",
)


def state_of(c: ActiveCall) -> str:
    if c.answer_time is None:
        return "ringing"
    if "held" in (c.orig_info, c.term_info) or "hold" in (c.orig_info, c.term_info):
        return "held"
    return "active"


def _stamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "0000-00-00 00:00:00"


def call_event(c: ActiveCall, removed: bool) -> dict[str, Any]:
    """The NetSapiens `call` event payload of a leg (netsapiens.md §4.2)."""
    return {
        **c.extra,
        "hostname": c.hostname,
        "sessionId": c.session_id,
        "orig_callid": c.orig_callid,
        "orig_match": c.orig_match,
        "orig_sub": c.orig_user,
        "orig_domain": c.orig_domain,
        "orig_from_uri": c.orig_uri,
        "orig_from_name": c.orig_name,
        "orig_from_user": c.ani,
        "orig_to_user": c.dnis,
        "orig_user": c.orig_user,
        "orig_name": c.orig_name,
        "by_action": c.by_action,
        "by_sub": c.by_user,
        "by_domain": c.by_domain,
        "by_callid": c.by_callid,
        "term_callid": c.term_callid,
        "term_sub": c.term_user,
        "term_user": c.term_user,
        "term_domain": c.term_domain,
        "term_to_uri": c.term_uri,
        "term_uri": c.term_uri,
        "time_start": _stamp(c.start_time),
        "time_begin": _stamp(c.start_time),
        "time_answer": _stamp(c.answer_time),
        "orig_call_info": c.orig_info,
        "term_call_info": c.term_info,
        "media": c.codec,
        "dnis": c.dnis,
        "ani": c.ani,
        "remove": "yes" if removed else "no",
    }


def origid_event(c: ActiveCall, removed: bool) -> dict[str, Any]:
    """The reduced `call_origid` payload, keyed on the originating call."""
    return {
        "orig_callid": c.orig_callid,
        "orig_from_uri": c.orig_uri,
        "orig_from_name": c.orig_name,
        "orig_to_user": c.dnis,
        "orig_user": c.orig_user,
        "orig_domain": c.orig_domain,
        "by_user": c.by_user,
        "by_domain": c.by_domain,
        "term_user": c.term_user,
        "term_domain": c.term_domain,
        "term_to_uri": c.term_uri,
        "orig_call_info": c.orig_info,
        "term_call_info": c.term_info,
        "time_answer": _stamp(c.answer_time),
        "time_start": _stamp(c.start_time),
        "remove": "yes" if removed else "no",
    }


async def _domains_of(session: AsyncSession, names: set[str]) -> dict[str, Domain]:
    wanted = {n.lower() for n in names if n}
    if not wanted:
        return {}
    rows = await session.scalars(select(Domain).where(Domain.name.in_(wanted)))
    return {d.name: d for d in rows}


async def _local_ends(
    session: AsyncSession, c: ActiveCall, known: Mapping[str, Domain]
) -> list[tuple[Domain, str]]:
    """The ends of a leg that are users of a domain here."""
    ends: list[tuple[Domain, str]] = []
    for domain_name, user in ((c.orig_domain, c.orig_user), (c.term_domain, c.term_user)):
        d = known.get(domain_name)
        if d is None or not user or (d, user) in ends:
            continue
        exists = await session.scalar(
            select(User.id).where(User.domain_id == d.id, User.user == user)
        )
        if exists is not None:
            ends.append((d, user))
    return ends


async def _announce(session: AsyncSession, c: ActiveCall, action: str, removed: bool) -> None:
    known = await _domains_of(session, {c.orig_domain, c.term_domain})
    ends = await _local_ends(session, c, known)
    payload = call_event(c, removed)
    for d, user in ends:
        outbox.record(
            session, "call", action, payload, reseller=d.reseller.name, domain=d.name, user=user
        )
    owner = ends[0] if ends else None
    outbox.record(
        session,
        "call_origid",
        action,
        origid_event(c, removed),
        reseller=owner[0].reseller.name if owner else "",
        domain=owner[0].name if owner else c.orig_domain or c.term_domain,
        user=owner[1] if owner else "",
    )
    for d, user in ends:
        await presence.refresh(session, d.name, [user])


async def upsert_call(session: AsyncSession, leg: CallLeg) -> ActiveCall:
    """Adds or updates a live leg (the telephony plane calls this on every state change).

    A leg reported first without its term call id and later with it is the same leg; an
    update only needs what changed (empty fields keep their value). The leg belongs to its
    caller's domain if that is a domain here, else its callee's; if neither is, NotFound.
    Emits `call`/`call_origid` events and refreshes presence.
    """
    if not leg.orig_callid:
        raise ValueError("a call leg needs its orig call id")
    found = await session.scalar(
        select(ActiveCall)
        .where(
            ActiveCall.orig_callid == leg.orig_callid,
            ActiveCall.term_callid.in_({leg.term_callid, ""}),
        )
        # Prefer the exact leg over the one still waiting for its term call id.
        .order_by(ActiveCall.term_callid.desc())
    )
    # An update may leave out what the engine said before (the ends, typically).
    orig_domain = (leg.orig_domain or (found.orig_domain if found else "")).lower()
    term_domain = (leg.term_domain or (found.term_domain if found else "")).lower()
    known = await _domains_of(session, {orig_domain, term_domain})
    owner = known.get(orig_domain) or known.get(term_domain)
    if owner is None:
        raise NotFound(
            f"Neither end of call {leg.orig_callid} is in a domain here "
            f"({orig_domain or '-'}, {term_domain or '-'})"
        )
    action = "update"
    if found is None:
        found = ActiveCall(
            orig_callid=leg.orig_callid,
            term_callid=leg.term_callid,
            start_time=leg.started_at or utcnow(),
            extra={},
        )
        session.add(found)
        action = "create"
    found.domain_id = owner.id
    found.term_callid = leg.term_callid or found.term_callid
    for name in _COPIED:
        value = getattr(leg, name)
        if value or not getattr(found, name, ""):
            setattr(found, name, value)
    found.orig_domain = found.orig_domain.lower()
    found.term_domain = found.term_domain.lower()
    found.ani = leg.caller_id_number or found.ani or ""
    found.dnis = leg.dialed_number or found.dnis or ""
    if leg.answered_at is not None and found.answer_time is None:
        found.answer_time = leg.answered_at
    if leg.extra:
        found.extra = {**found.extra, **leg.extra}
    await session.flush()
    await _announce(session, found, action, removed=False)
    return found


async def end_call(
    session: AsyncSession, orig_callid: str, term_callid: str | None = None
) -> list[ActiveCall]:
    """Removes a leg (or, without `term_callid`, every leg of the call) that ended; emits
    `call` events with `remove: "yes"` and refreshes presence. Unknown ids are a no-op."""
    stmt = select(ActiveCall).where(ActiveCall.orig_callid == orig_callid)
    if term_callid is not None:
        stmt = stmt.where(ActiveCall.term_callid == term_callid)
    gone = list((await session.scalars(stmt)).all())
    for c in gone:
        await session.delete(c)
    await session.flush()
    for c in gone:
        await _announce(session, c, "delete", removed=True)
    return gone


# --- reads ---------------------------------------------------------------------------------


def to_out(c: ActiveCall) -> ActiveCallOut:
    return ActiveCallOut(
        core_server=c.hostname,
        call_session_id=c.session_id,
        call_orig_call_id=c.orig_callid,
        call_orig_match_uri=c.orig_match,
        call_orig_user=c.orig_user,
        call_orig_domain=c.orig_domain,
        call_orig_uri=c.orig_uri,
        call_orig_name=c.orig_name,
        caller_id_number=c.ani,
        call_dialed_number=c.dnis,
        call_by_action=c.by_action,
        call_by_user=c.by_user,
        call_by_domain=c.by_domain,
        call_by_call_id=c.by_callid,
        call_term_call_id=c.term_callid,
        call_term_user=c.term_user,
        call_term_domain=c.term_domain,
        call_term_uri=c.term_uri,
        call_start_datetime=c.start_time,
        call_answer_datetime=c.answer_time,
        call_orig_info=c.orig_info,
        term_orig_info=c.term_info,
        call_audio_codec=c.codec,
        call_state=state_of(c),
    )


def _in_domain(d: Domain) -> ColumnElement[bool]:
    return or_(ActiveCall.orig_domain == d.name, ActiveCall.term_domain == d.name)


def _of_users(d: Domain, users_: Any) -> ColumnElement[bool]:
    return or_(
        and_(ActiveCall.orig_domain == d.name, ActiveCall.orig_user.in_(users_)),
        and_(ActiveCall.term_domain == d.name, ActiveCall.term_user.in_(users_)),
    )


async def visible(
    session: AsyncSession, caller: Caller, domain_name: str, user_name: str | None
) -> tuple[Domain, ColumnElement[bool]]:
    """The domain and the clause selecting the legs the caller may see there."""
    if caller.scope is Scope.NDP:
        raise deny("The NDP scope cannot read calls")
    if user_name is not None:
        target = await users.get(session, caller, domain_name, user_name)
        return target.domain, _of_users(target.domain, [target.user])
    d = await domains.get(session, caller, domain_name)
    if caller.is_user_level:
        if caller.user is None or caller.domain_id != d.id:
            raise deny(f"A {caller.scope} reads only its own calls")
        return d, _of_users(d, [caller.user])
    if caller.scope is Scope.SITE_MANAGER:
        site_users = select(User.user).where(User.domain_id == d.id, User.site == caller.site)
        return d, _of_users(d, site_users)
    return d, _in_domain(d)


async def list_(
    session: AsyncSession, caller: Caller, domain_name: str, user_name: str | None, page: Page
) -> list[ActiveCall]:
    _, clause = await visible(session, caller, domain_name, user_name)
    stmt = page.apply(select(ActiveCall).where(clause), SORTABLE, "call-start-datetime")
    return list((await session.scalars(stmt.order_by(ActiveCall.id))).all())


async def count(session: AsyncSession, caller: Caller, domain_name: str) -> int:
    """How many calls (distinct orig call ids) the caller can see in the domain."""
    _, clause = await visible(session, caller, domain_name, None)
    total = await session.scalar(
        select(func.count(func.distinct(ActiveCall.orig_callid))).where(clause)
    )
    return int(total or 0)


async def _legs_of(
    session: AsyncSession, clause: ColumnElement[bool], call_id: str
) -> list[ActiveCall]:
    found = await session.scalars(
        select(ActiveCall)
        .where(
            clause,
            or_(
                ActiveCall.orig_callid == call_id,
                ActiveCall.term_callid == call_id,
                ActiveCall.by_callid == call_id,
            ),
        )
        .order_by(ActiveCall.id)
    )
    return list(found.all())


async def get(
    session: AsyncSession, caller: Caller, domain_name: str, user_name: str, call_id: str
) -> ActiveCall:
    """A user's live call by its orig (or term, or click-to-call) call id."""
    _, clause = await visible(session, caller, domain_name, user_name)
    legs = await _legs_of(session, clause, call_id)
    if not legs:
        raise NotFound(f"Call {call_id} is not an active call of user {user_name}")
    return legs[0]


# --- control -------------------------------------------------------------------------------


def _check_control(caller: Caller, target: User) -> None:
    if caller.scope is Scope.CALL_CENTER_SUPERVISOR and caller.user_id != target.id:
        raise deny("A Call Center Supervisor watches calls; it cannot control another's calls")
    check_manage_user(caller, target)


def _engine(adapter: TelephonyAdapter | None) -> TelephonyAdapter:
    if adapter is None:
        raise ServiceUnavailable(NO_ENGINE)
    return adapter


async def originate(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    user_name: str,
    body: CallRequest,
    *,
    adapter: TelephonyAdapter | None,
) -> CallRequestOut:
    """Click-to-call for a user: ring `call-orig-user` (default the user), then connect
    `call-term-user`. Handed to the telephony engine; audited."""
    target = await users.get(session, caller, domain_name, user_name)
    _check_control(caller, target)
    engine = _engine(adapter)
    domain = target.domain
    request = OriginateRequest(
        domain=domain.name,
        user=target.user,
        call_id=body.call_id or secrets.token_hex(8),
        origin=body.call_orig_user or f"{target.user}@{domain.name}",
        destination=body.call_term_user,
        application=body.dial_rule_application,
        auto_answer=body.auto_answer_enabled,
        caller_id_number=body.caller_id_number or "",
        callback_caller_id_number=body.callback_caller_id_number or "",
        term_sip_header=body.call_term_added_sip_header or "",
    )
    out = CallRequestOut(
        call_id=request.call_id,
        domain=domain.name,
        user=target.user,
        call_orig_user=request.origin,
        call_term_user=request.destination,
        dial_rule_application=request.application,
        auto_answer_enabled=request.auto_answer,
        caller_id_number=request.caller_id_number,
        callback_caller_id_number=request.callback_caller_id_number,
        call_term_added_sip_header=request.term_sip_header,
        telephony_engine=engine.name,
    )
    audit.record(
        session,
        caller,
        "create",
        "call",
        request.call_id,
        reseller=domain.reseller.name,
        domain=domain.name,
        user=target.user,
        after=out.model_dump(by_alias=True, mode="json"),
    )
    try:
        await engine.originate(request)
    except TelephonyError as exc:
        raise EngineFailed(f"The telephony engine did not place the call: {exc}") from None
    return out


async def control(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    user_name: str,
    call_id: str,
    action: ControlAction,
    *,
    adapter: TelephonyAdapter | None,
    destination: str = "",
    hostname: str = "",
    destination_session_id: str = "",
    park_extensions: str = "",
    park_prefix: str = "",
) -> ActiveCall:
    """Answer, hold, unhold, transfer, transfer-peer, hang up or reject a user's live call.

    The leg is answered as it was when the engine accepted the action; the engine reports
    the outcome through upsert_call / end_call (and their events).
    """
    target = await users.get(session, caller, domain_name, user_name)
    _check_control(caller, target)
    engine = _engine(adapter)
    if action in ("transfer", "transfer-peer") and not (destination or park_extensions):
        raise Unprocessable(f"A {action} needs a destination ('call-term-user' or 'destination')")
    legs = await _legs_of(session, _of_users(target.domain, [target.user]), call_id)
    if not legs:
        raise NotFound(f"Call {call_id} is not an active call of user {target.user}")
    leg = legs[0]
    audit.record(
        session,
        caller,
        action,
        "call",
        leg.orig_callid,
        reseller=target.domain.reseller.name,
        domain=target.domain.name,
        user=target.user,
        details={
            k: v
            for k, v in {
                "destination": destination,
                "hostname": hostname,
                "call-destination-session-id": destination_session_id,
                "valid": park_extensions,
                "prefix": park_prefix,
            }.items()
            if v
        },
    )
    try:
        await engine.control(
            CallControl(
                domain=target.domain.name,
                user=target.user,
                call_id=leg.orig_callid,
                action=action,
                destination=destination,
                hostname=hostname,
                destination_session_id=destination_session_id,
                park_extensions=park_extensions,
                park_prefix=park_prefix,
            )
        )
    except TelephonyError as exc:
        raise EngineFailed(f"The telephony engine did not {action} the call: {exc}") from None
    return leg


def out_list(rows: Sequence[ActiveCall]) -> list[ActiveCallOut]:
    return [to_out(c) for c in rows]
