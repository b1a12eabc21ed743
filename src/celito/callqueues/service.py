"""Call queues and their agents, under the call-center roles (netsapiens.md §1.5).

Who may do what:

* Office Manager, Reseller, Super User: everything about the domain's queues: create, change
  and delete them, attach supervisors, add and remove agents, log agents in and out.
* Site Manager: reads queues and agents.
* Call Center Supervisor: is attached to queues through the queue's `callqueue-supervisors`
  (set by a manager). It reads those queues and manages their agents (add, change, remove,
  log in/out, status); it cannot change the queues themselves, nor see other queues (403).
* Call Center Agent: reads the queues it is an agent of, and of their agents only itself; it
  logs itself in and out, takes one call, and sets its own status. Nothing else (403).
* Other users: nothing (403); they reach queues by calling them.

Agent states: each membership has an availability type (`automatic` = logged in, `manual` =
logged out, `disabled` = paused by a manager or supervisor, `offnet-automatic`), a single-call
flag (`onecall`), and the agent's status (`available`, or an offline status: offline, break,
lunch, meeting, web, other, cust1…cust8). See callqueues.rules.apply_status.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy import delete as sql_delete
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.policy import deny
from celito.auth.scopes import DOMAIN_MANAGERS, Scope
from celito.autoattendants.destinations import HANGUP, check_destination
from celito.autoattendants.references import references_to
from celito.callqueues import rules
from celito.callqueues.models import CallQueue, CallQueueAgent, CallQueueSupervisor
from celito.callqueues.schemas import (
    AGENT_DEFAULTS,
    QUEUE_DEFAULTS,
    READ_ONLY_AGENT,
    READ_ONLY_QUEUE,
    AgentCreate,
    AgentOut,
    AgentUpdate,
    QueueCreate,
    QueueListItem,
    QueueOut,
    QueueUpdate,
)
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import Conflict, NotFound, Unprocessable
from celito.events import outbox
from celito.extensions import service as extensions
from celito.kit.names import check_extension
from celito.kit.paging import Page
from celito.users.models import User

Access = Literal["manage", "read", "supervise", "member"]
QUEUE_SORTABLE = {
    "callqueue": CallQueue.callqueue,
    "description": CallQueue.description,
    "created-datetime": CallQueue.created_at,
}
AGENT_SORTABLE = {
    "callqueue-agent-id": CallQueueAgent.agent_id,
    "callqueue": CallQueue.callqueue,
    "callqueue-agent-availability-type": CallQueueAgent.availability_type,
    "created-datetime": CallQueueAgent.created_at,
}


# Access ------------------------------------------------------------------------------------


def _require_manager(caller: Caller, what: str) -> None:
    if caller.scope not in DOMAIN_MANAGERS:
        raise deny(f"A {caller.scope} cannot {what}")


def _queue_scope(caller: Caller, domain: Domain) -> Any:
    """The queues the caller may read, as a clause on CallQueue (or a 403)."""
    mine = CallQueue.domain_id == domain.id
    if caller.scope in DOMAIN_MANAGERS or caller.scope is Scope.SITE_MANAGER:
        return mine
    if caller.scope is Scope.CALL_CENTER_SUPERVISOR:
        return mine & CallQueue.id.in_(
            select(CallQueueSupervisor.queue_id).where(
                CallQueueSupervisor.user_id == (caller.user_id or 0)
            )
        )
    if caller.scope is Scope.CALL_CENTER_AGENT:
        return mine & CallQueue.id.in_(
            select(CallQueueAgent.queue_id).where(CallQueueAgent.user_id == (caller.user_id or 0))
        )
    raise deny(f"A {caller.scope} has no access to call queues")


async def _access(session: AsyncSession, caller: Caller, queue: CallQueue) -> Access:
    if caller.scope in DOMAIN_MANAGERS:
        return "manage"
    if caller.scope is Scope.SITE_MANAGER:
        return "read"
    if caller.scope is Scope.CALL_CENTER_SUPERVISOR:
        attached = await session.scalar(
            select(CallQueueSupervisor.id).where(
                CallQueueSupervisor.queue_id == queue.id,
                CallQueueSupervisor.user_id == (caller.user_id or 0),
            )
        )
        if attached is None:
            raise deny(f"Call queue {queue.callqueue} is not one of the queues you supervise")
        return "supervise"
    if caller.scope is Scope.CALL_CENTER_AGENT:
        member = await session.scalar(
            select(CallQueueAgent.id).where(
                CallQueueAgent.queue_id == queue.id,
                CallQueueAgent.user_id == (caller.user_id or 0),
            )
        )
        if member is None:
            raise deny(f"You are not an agent of call queue {queue.callqueue}")
        return "member"
    raise deny(f"A {caller.scope} has no access to call queues")


def _require_agent_manager(caller: Caller, access: Access, queue: CallQueue) -> None:
    if access not in ("manage", "supervise"):
        raise deny(f"A {caller.scope} cannot manage the agents of call queue {queue.callqueue}")


# Queues ------------------------------------------------------------------------------------


async def _queue(session: AsyncSession, domain: Domain, name: str) -> CallQueue:
    found = await session.scalar(
        select(CallQueue).where(CallQueue.domain_id == domain.id, CallQueue.callqueue == name)
    )
    if found is None:
        raise NotFound(f"Call queue {name} does not exist in domain {domain.name}")
    return found


async def _render(
    session: AsyncSession, domain: Domain, queues: Sequence[CallQueue]
) -> list[QueueOut]:
    ids = [q.id for q in queues]
    totals: dict[int, int] = {}
    available: dict[int, int] = {}
    supervisors: dict[int, list[str]] = {}
    if ids:
        states = await session.execute(
            select(
                CallQueueAgent.queue_id,
                CallQueueAgent.availability_type,
                CallQueueAgent.single_call,
                CallQueueAgent.status,
            ).where(CallQueueAgent.queue_id.in_(ids))
        )
        for queue_id, kind, single, status in states.all():
            totals[queue_id] = totals.get(queue_id, 0) + 1
            if rules.availability_for_dispatch(kind, single, status) in (
                "available",
                "single-call",
            ):
                available[queue_id] = available.get(queue_id, 0) + 1
        names = await session.execute(
            select(CallQueueSupervisor.queue_id, User.user)
            .join(User, User.id == CallQueueSupervisor.user_id)
            .where(CallQueueSupervisor.queue_id.in_(ids))
            .order_by(User.user)
        )
        for queue_id, user in names.all():
            supervisors.setdefault(queue_id, []).append(user)
    return [
        QueueOut.model_validate(
            {
                **QUEUE_DEFAULTS,
                **q.attributes,
                "callqueue": q.callqueue,
                "domain": domain.name,
                "description": q.description,
                "callqueue_dispatch_type": rules.DISPATCH_OF[q.strategy],
                "callqueue_dispatch_strategy": q.strategy,
                "callqueue_overflow_destination_application": q.overflow_application or None,
                "callqueue_overflow_destination_user": q.overflow_user or None,
                "callqueue_supervisors": supervisors.get(q.id, []),
                "callqueue_count_agents_total": totals.get(q.id, 0),
                "callqueue_count_agents_available": available.get(q.id, 0),
                "created_datetime": q.created_at,
                "last_modified_datetime": q.updated_at,
            }
        )
        for q in queues
    ]


async def _visible_queues(
    session: AsyncSession, caller: Caller, domain: Domain, page: Page
) -> list[CallQueue]:
    stmt = page.apply(
        select(CallQueue).where(_queue_scope(caller, domain)), QUEUE_SORTABLE, "callqueue"
    )
    return list((await session.scalars(stmt)).all())


async def list_queues(
    session: AsyncSession, caller: Caller, domain_name: str, page: Page
) -> list[QueueOut]:
    domain = await domains.get(session, caller, domain_name)
    return await _render(session, domain, await _visible_queues(session, caller, domain, page))


async def list_queues_basic(
    session: AsyncSession, caller: Caller, domain_name: str, page: Page
) -> list[QueueListItem]:
    rows = await list_queues(session, caller, domain_name, page)
    return [QueueListItem.model_validate(r.model_dump()) for r in rows]


async def count_queues(session: AsyncSession, caller: Caller, domain_name: str) -> int:
    domain = await domains.get(session, caller, domain_name)
    stmt = select(func.count()).select_from(CallQueue).where(_queue_scope(caller, domain))
    return int(await session.scalar(stmt) or 0)


async def get_queue(session: AsyncSession, caller: Caller, domain_name: str, name: str) -> QueueOut:
    domain = await domains.get(session, caller, domain_name)
    queue = await _queue(session, domain, name)
    await _access(session, caller, queue)
    return (await _render(session, domain, [queue]))[0]


_UNSET: Any = object()


async def _apply_queue(
    session: AsyncSession,
    domain: Domain,
    queue: CallQueue,
    body: QueueCreate | QueueUpdate,
    *,
    creating: bool,
) -> list[str] | None:
    """Validates and applies a body; answers the supervisors to set (None: leave them)."""
    values = body.model_dump(
        exclude_unset=True, exclude={"synchronous", "callqueue", *READ_ONLY_QUEUE}
    )
    queue.strategy = rules.resolve_strategy(
        None if creating else queue.strategy,
        values.pop("callqueue_dispatch_type", None),
        values.pop("callqueue_dispatch_strategy", None),
    )
    if "description" in values:
        queue.description = values.pop("description") or ""
    app = values.pop("callqueue_overflow_destination_application", _UNSET)
    target = values.pop("callqueue_overflow_destination_user", _UNSET)
    if app is not _UNSET or target is not _UNSET:
        if app is _UNSET:
            app = queue.overflow_application
        if target is _UNSET:
            target = queue.overflow_user
        app, target = (app or "").strip(), (target or "").strip()
        if not app and not target:
            queue.overflow_application = queue.overflow_user = ""
        else:
            app = app or "to-user"
            checked = await check_destination(
                session, domain, app, target, field="callqueue-overflow"
            )
            if app != HANGUP and checked == queue.callqueue:
                raise Unprocessable(
                    f"callqueue-overflow: call queue {queue.callqueue} cannot overflow to itself"
                )
            queue.overflow_application, queue.overflow_user = app, checked
    supervisors = values.pop("callqueue_supervisors", None)
    attributes = dict(queue.attributes)
    for key, value in values.items():
        if value is None and QUEUE_DEFAULTS.get(key) is not None:
            attributes.pop(key, None)
        else:
            attributes[key] = value
    queue.attributes = attributes
    return supervisors if supervisors is not None or creating else None


async def _set_supervisors(
    session: AsyncSession, domain: Domain, queue: CallQueue, names: list[str]
) -> None:
    wanted = sorted({n.strip() for n in names if n.strip()})
    found = {
        u.user: u
        for u in (
            await session.scalars(
                select(User).where(User.domain_id == domain.id, User.user.in_(wanted))
            )
        ).all()
    }
    for name in wanted:
        user = found.get(name)
        if user is None:
            raise Unprocessable(
                f"callqueue-supervisors: user {name} does not exist in domain {domain.name}"
            )
        if user.scope != Scope.CALL_CENTER_SUPERVISOR.value:
            raise Unprocessable(
                f"callqueue-supervisors: user {name} is a {user.scope}, not a Call Center "
                "Supervisor"
            )
    await session.execute(
        sql_delete(CallQueueSupervisor).where(CallQueueSupervisor.queue_id == queue.id)
    )
    for name in wanted:
        session.add(CallQueueSupervisor(queue_id=queue.id, user_id=found[name].id))
    await session.flush()


def _queue_snapshot(out: QueueOut) -> dict[str, Any]:
    data = out.model_dump(by_alias=True, mode="json")
    for key in (
        "callqueue-count-agents-total",
        "callqueue-count-agents-available",
        "active-queued-calls-total-current",
        "created-datetime",
        "last-modified-datetime",
    ):
        data.pop(key, None)
    return data


async def create_queue(
    session: AsyncSession, caller: Caller, domain_name: str, body: QueueCreate
) -> QueueOut:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller, "create call queues")
    extension = check_extension(body.callqueue)
    if extension.lower() in rules.RESERVED_QUEUE_NAMES:
        raise Unprocessable(f"callqueue '{extension}' is reserved; use an extension number")
    limit = domains.limit_of(domain, "limits_max_call_queues")
    if limit is not None:
        existing = await session.scalar(
            select(func.count()).select_from(CallQueue).where(CallQueue.domain_id == domain.id)
        )
        if (existing or 0) >= limit:
            raise Conflict(f"Domain {domain.name} has reached its limit of {limit} call queues")
    queue = CallQueue(
        domain_id=domain.id,
        callqueue=extension,
        description="",
        strategy=rules.DEFAULT_STRATEGY,
        overflow_application="",
        overflow_user="",
        attributes={},
    )
    supervisors = await _apply_queue(session, domain, queue, body, creating=True)
    await extensions.claim(session, domain.id, domain.name, extension, "callqueue")
    session.add(queue)
    await session.flush()
    if supervisors:
        await _set_supervisors(session, domain, queue, supervisors)
    out = (await _render(session, domain, [queue]))[0]
    audit.record(
        session,
        caller,
        "create",
        "callqueue",
        extension,
        reseller=domain.reseller.name,
        domain=domain.name,
        after=_queue_snapshot(out),
    )
    return out


async def update_queue(
    session: AsyncSession, caller: Caller, domain_name: str, name: str, body: QueueUpdate
) -> QueueOut:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller, "change call queues")
    queue = await _queue(session, domain, name)
    if body.callqueue is not None and body.callqueue != queue.callqueue:
        raise Unprocessable(
            f"callqueue is the queue's extension ({queue.callqueue}) and cannot change"
        )
    before = _queue_snapshot((await _render(session, domain, [queue]))[0])
    supervisors = await _apply_queue(session, domain, queue, body, creating=False)
    await session.flush()
    if supervisors is not None:
        await _set_supervisors(session, domain, queue, supervisors)
    out = (await _render(session, domain, [queue]))[0]
    audit.record(
        session,
        caller,
        "update",
        "callqueue",
        queue.callqueue,
        reseller=domain.reseller.name,
        domain=domain.name,
        before=before,
        after=_queue_snapshot(out),
    )
    return out


async def delete_queue(
    session: AsyncSession, caller: Caller, domain_name: str, name: str
) -> QueueOut:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller, "delete call queues")
    queue = await _queue(session, domain, name)
    refs = await references_to(session, domain.id, queue.callqueue)
    refs = [r for r in refs if r != f"call queue {queue.callqueue} (overflow)"]
    if refs:
        raise Conflict(
            f"Call queue {queue.callqueue} still receives calls from {', '.join(refs)}; "
            "change those first"
        )
    out = (await _render(session, domain, [queue]))[0]
    members = await _agent_rows(
        session, _agents_of(domain).where(CallQueueAgent.queue_id == queue.id)
    )
    for agent, q, user in members:
        _emit(session, "delete", _agent_out(agent, q, user, domain), domain, user)
    await session.execute(sql_delete(CallQueueAgent).where(CallQueueAgent.queue_id == queue.id))
    await session.execute(
        sql_delete(CallQueueSupervisor).where(CallQueueSupervisor.queue_id == queue.id)
    )
    await session.delete(queue)
    await extensions.release(session, domain.id, queue.callqueue)
    audit.record(
        session,
        caller,
        "delete",
        "callqueue",
        queue.callqueue,
        reseller=domain.reseller.name,
        domain=domain.name,
        before=_queue_snapshot(out),
        details={"agents_removed": len(members)},
    )
    return out


# Agents ------------------------------------------------------------------------------------


def _agents_of(domain: Domain) -> Any:
    return (
        select(CallQueueAgent, CallQueue, User)
        .join(CallQueue, CallQueue.id == CallQueueAgent.queue_id)
        .join(User, User.id == CallQueueAgent.user_id)
        .where(CallQueueAgent.domain_id == domain.id)
    )


async def _agent_rows(
    session: AsyncSession, stmt: Select[Any]
) -> list[tuple[CallQueueAgent, CallQueue, User]]:
    return [(a, q, u) for a, q, u in (await session.execute(stmt)).unique().all()]


def _agent_out(a: CallQueueAgent, q: CallQueue, u: User, domain: Domain) -> AgentOut:
    attrs = {**AGENT_DEFAULTS, **a.attributes}
    return AgentOut(
        domain=domain.name,
        callqueue=q.callqueue,
        callqueue_agent_id=a.agent_id,
        callqueue_agent_entry_type="device" if a.device else "user",
        user=u.user,
        device=a.device or None,
        callqueue_agent_availability_type=a.availability_type,
        callqueue_agent_single_call=a.single_call,
        callqueue_agent_status=a.status,
        callqueue_agent_availability_for_dispatch=rules.availability_for_dispatch(
            a.availability_type, a.single_call, a.status
        ),
        callqueue_agent_wrap_up_allowance_seconds=int(
            attrs.get("callqueue_agent_wrap_up_allowance_seconds") or 0
        ),
        auto_answer_enabled=bool(attrs["auto_answer_enabled"]),
        callqueue_agent_dispatch_order_ordinal=int(attrs["callqueue_agent_dispatch_order_ordinal"]),
        callqueue_agent_dispatch_queue_priority_ordinal=int(
            attrs["callqueue_agent_dispatch_queue_priority_ordinal"]
        ),
        limits_max_active_calls_total=int(attrs["limits_max_active_calls_total"]),
        callqueue_agent_answer_confirmation_enabled=bool(
            attrs["callqueue_agent_answer_confirmation_enabled"]
        ),
        callqueue_agent_max_concurrent_sms_conversations=int(
            attrs["callqueue_agent_max_concurrent_sms_conversations"]
        ),
        login_username=u.login_username,
        name_full_name=u.display_name,
        agent_name_first_name=u.first_name,
        agent_name_last_name=u.last_name,
        agent_department=u.department,
        agent_site=u.site,
        agent_user_scope=u.scope,
        agent_status_message=u.attributes.get("status_message"),
        created_datetime=a.created_at,
        last_modified_datetime=a.updated_at,
    )


def _emit(session: AsyncSession, action: str, out: AgentOut, domain: Domain, user: User) -> None:
    """An `agent` event: the membership as the API shows it."""
    outbox.record(
        session,
        "agent",
        action,
        out.model_dump(by_alias=True, mode="json"),
        reseller=domain.reseller.name,
        domain=domain.name,
        user=user.user,
    )


def _agent_snapshot(a: CallQueueAgent) -> dict[str, Any]:
    return {
        "callqueue-agent-availability-type": a.availability_type,
        "callqueue-agent-single-call": a.single_call,
        "callqueue-agent-status": a.status,
        **a.attributes,
    }


async def _user_for(session: AsyncSession, domain: Domain, aid: rules.AgentId) -> User:
    """The user an agent id names (a device entry: the user who owns the device), or 422."""
    if aid.domain != domain.name:
        raise Unprocessable(
            f"callqueue-agent-id {aid.text}: agents must be users of domain {domain.name}"
        )
    candidates = [aid.name[:n] for n in range(1, len(aid.name) + 1)] if aid.device else [aid.name]
    names = (
        await session.scalars(
            select(User.user).where(User.domain_id == domain.id, User.user.in_(candidates))
        )
    ).all()
    owner = rules.device_owner(aid.name, names) if aid.device else (aid.name if names else None)
    if owner is None:
        what = (
            f"no user of domain {domain.name} owns device {aid.name}"
            if aid.device
            else (f"user {aid.name} does not exist in domain {domain.name}")
        )
        raise Unprocessable(f"callqueue-agent-id {aid.text}: {what}")
    user = await session.scalar(select(User).where(User.domain_id == domain.id, User.user == owner))
    assert user is not None
    return user


def _path_agent_id(caller: Caller, domain: Domain, raw: str) -> rules.AgentId:
    """An agent id from a path (`~` = the caller), or 404 when it cannot name an agent here."""
    if raw.strip() == "~":
        if caller.user is None or caller.domain_id != domain.id:
            raise NotFound("Your credentials do not belong to a user of this domain")
        return rules.AgentId(name=caller.user, domain=domain.name, device=False)
    try:
        aid = rules.parse_agent_id(raw, domain.name)
    except Unprocessable:
        raise NotFound(f"Agent {raw} does not exist in domain {domain.name}") from None
    if aid.domain != domain.name:
        raise NotFound(f"Agent {raw} does not exist in domain {domain.name}")
    return aid


async def _find_agent(
    session: AsyncSession, caller: Caller, domain: Domain, queue: CallQueue, raw: str
) -> tuple[CallQueueAgent, CallQueue, User]:
    aid = _path_agent_id(caller, domain, raw)
    rows = await _agent_rows(
        session,
        _agents_of(domain).where(
            CallQueueAgent.queue_id == queue.id, CallQueueAgent.agent_id == aid.text
        ),
    )
    if not rows:
        raise NotFound(f"Agent {aid.text} is not in call queue {queue.callqueue}")
    return rows[0]


async def list_queue_agents(
    session: AsyncSession, caller: Caller, domain_name: str, queue_name: str, page: Page
) -> list[AgentOut]:
    domain = await domains.get(session, caller, domain_name)
    queue = await _queue(session, domain, queue_name)
    access = await _access(session, caller, queue)
    stmt = _agents_of(domain).where(CallQueueAgent.queue_id == queue.id)
    if access == "member":
        stmt = stmt.where(CallQueueAgent.user_id == caller.user_id)
    rows = await _agent_rows(session, page.apply(stmt, AGENT_SORTABLE, "callqueue-agent-id"))
    return [_agent_out(a, q, u, domain) for a, q, u in rows]


async def count_queue_agents(
    session: AsyncSession, caller: Caller, domain_name: str, queue_name: str
) -> int:
    domain = await domains.get(session, caller, domain_name)
    queue = await _queue(session, domain, queue_name)
    access = await _access(session, caller, queue)
    stmt = (
        select(func.count()).select_from(CallQueueAgent).where(CallQueueAgent.queue_id == queue.id)
    )
    if access == "member":
        stmt = stmt.where(CallQueueAgent.user_id == caller.user_id)
    return int(await session.scalar(stmt) or 0)


def _agent_scope(caller: Caller, domain: Domain) -> Any:
    """The memberships of the domain the caller may read (or a 403)."""
    if caller.scope in DOMAIN_MANAGERS or caller.scope is Scope.SITE_MANAGER:
        return CallQueueAgent.domain_id == domain.id
    if caller.scope is Scope.CALL_CENTER_SUPERVISOR:
        return CallQueueAgent.queue_id.in_(
            select(CallQueueSupervisor.queue_id).where(
                CallQueueSupervisor.user_id == (caller.user_id or 0)
            )
        )
    if caller.scope is Scope.CALL_CENTER_AGENT:
        return CallQueueAgent.user_id == (caller.user_id or 0)
    raise deny(f"A {caller.scope} has no access to call queue agents")


async def list_domain_agents(
    session: AsyncSession, caller: Caller, domain_name: str, page: Page
) -> list[AgentOut]:
    domain = await domains.get(session, caller, domain_name)
    stmt = _agents_of(domain).where(_agent_scope(caller, domain))
    rows = await _agent_rows(session, page.apply(stmt, AGENT_SORTABLE, "callqueue-agent-id"))
    return [_agent_out(a, q, u, domain) for a, q, u in rows]


async def get_agent(
    session: AsyncSession, caller: Caller, domain_name: str, queue_name: str, agent: str
) -> AgentOut:
    domain = await domains.get(session, caller, domain_name)
    queue = await _queue(session, domain, queue_name)
    access = await _access(session, caller, queue)
    a, q, u = await _find_agent(session, caller, domain, queue, agent)
    if access == "member" and a.user_id != caller.user_id:
        raise deny("A Call Center Agent reads only its own agent entries")
    return _agent_out(a, q, u, domain)


def _check_echo(body: AgentCreate | AgentUpdate, domain: Domain, queue: CallQueue) -> None:
    if body.callqueue is not None and body.callqueue != queue.callqueue:
        raise Unprocessable(
            f"callqueue is {body.callqueue} in the body but {queue.callqueue} in the path"
        )
    if body.domain is not None and body.domain.lower() not in ("~", domain.name):
        raise Unprocessable(f"domain is {body.domain} in the body but {domain.name} in the path")


def _agent_values(body: AgentCreate | AgentUpdate) -> dict[str, Any]:
    values: dict[str, Any] = body.model_dump(
        exclude_unset=True, exclude={"synchronous", "callqueue_agent_id", *READ_ONLY_AGENT}
    )
    return values


async def add_agent(
    session: AsyncSession, caller: Caller, domain_name: str, queue_name: str, body: AgentCreate
) -> AgentOut:
    domain = await domains.get(session, caller, domain_name)
    queue = await _queue(session, domain, queue_name)
    _require_agent_manager(caller, await _access(session, caller, queue), queue)
    _check_echo(body, domain, queue)
    aid = rules.parse_agent_id(body.callqueue_agent_id, domain.name)
    user = await _user_for(session, domain, aid)
    taken = await session.scalar(
        select(CallQueueAgent.id).where(
            CallQueueAgent.queue_id == queue.id, CallQueueAgent.agent_id == aid.text
        )
    )
    if taken is not None:
        raise Conflict(f"Agent {aid.text} is already in call queue {queue.callqueue}")
    values = _agent_values(body)
    availability = values.pop("callqueue_agent_availability_type", None) or "automatic"
    attributes = {k: v for k, v in values.items() if v is not None}
    attributes.setdefault(
        "callqueue_agent_wrap_up_allowance_seconds",
        queue.attributes.get("callqueue_agent_wrap_up_allowance_seconds", 0),
    )
    agent = CallQueueAgent(
        queue_id=queue.id,
        domain_id=domain.id,
        user_id=user.id,
        agent_id=aid.text,
        device=aid.name if aid.device else "",
        availability_type=availability,
        single_call=False,
        status="available",
        attributes=attributes,
    )
    session.add(agent)
    await session.flush()
    out = _agent_out(agent, queue, user, domain)
    _emit(session, "create", out, domain, user)
    audit.record(
        session,
        caller,
        "create",
        "agent",
        f"{queue.callqueue}/{agent.agent_id}",
        reseller=domain.reseller.name,
        domain=domain.name,
        user=user.user,
        after=_agent_snapshot(agent),
    )
    return out


async def update_agent(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    queue_name: str,
    agent_raw: str,
    body: AgentUpdate,
) -> AgentOut:
    domain = await domains.get(session, caller, domain_name)
    queue = await _queue(session, domain, queue_name)
    _require_agent_manager(caller, await _access(session, caller, queue), queue)
    agent, q, user = await _find_agent(session, caller, domain, queue, agent_raw)
    _check_echo(body, domain, queue)
    if (
        body.callqueue_agent_id is not None
        and rules.parse_agent_id(body.callqueue_agent_id, domain.name).text != agent.agent_id
    ):
        raise Unprocessable(
            f"callqueue-agent-id is {agent.agent_id} and cannot change; add a new agent"
        )
    before = _agent_snapshot(agent)
    values = _agent_values(body)
    availability = values.pop("callqueue_agent_availability_type", None)
    if availability is not None and availability != agent.availability_type:
        agent.availability_type = availability
        agent.single_call = False
    attributes = dict(agent.attributes)
    for key, value in values.items():
        if value is None:
            attributes.pop(key, None)
        else:
            attributes[key] = value
    agent.attributes = attributes
    await session.flush()
    out = _agent_out(agent, q, user, domain)
    _emit(session, "update", out, domain, user)
    audit.record(
        session,
        caller,
        "update",
        "agent",
        f"{queue.callqueue}/{agent.agent_id}",
        reseller=domain.reseller.name,
        domain=domain.name,
        user=user.user,
        before=before,
        after=_agent_snapshot(agent),
    )
    return out


async def remove_agent(
    session: AsyncSession, caller: Caller, domain_name: str, queue_name: str, agent_raw: str
) -> AgentOut:
    domain = await domains.get(session, caller, domain_name)
    queue = await _queue(session, domain, queue_name)
    _require_agent_manager(caller, await _access(session, caller, queue), queue)
    agent, q, user = await _find_agent(session, caller, domain, queue, agent_raw)
    out = _agent_out(agent, q, user, domain)
    _emit(session, "delete", out, domain, user)
    await session.delete(agent)
    audit.record(
        session,
        caller,
        "delete",
        "agent",
        f"{queue.callqueue}/{agent.agent_id}",
        reseller=domain.reseller.name,
        domain=domain.name,
        user=user.user,
        before=_agent_snapshot(agent),
    )
    return out


def _change_state(agent: CallQueueAgent, word: str) -> bool:
    state = rules.AgentState(agent.availability_type, agent.single_call, agent.status)
    after = rules.apply_status(state, word)
    if after == state:
        return False
    agent.availability_type = after.availability_type
    agent.single_call = after.single_call
    agent.status = after.status
    return True


def _record_action(
    session: AsyncSession,
    caller: Caller,
    domain: Domain,
    word: str,
    changed: list[tuple[CallQueueAgent, CallQueue, User]],
    target: str,
    user: User,
) -> None:
    for agent, q, u in changed:
        _emit(session, word, _agent_out(agent, q, u, domain), domain, u)
    audit.record(
        session,
        caller,
        "update",
        "agent",
        target,
        reseller=domain.reseller.name,
        domain=domain.name,
        user=user.user,
        details={"action": word, "callqueues": sorted(q.callqueue for _, q, _ in changed)},
    )


async def agent_action(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    queue_name: str,
    agent_raw: str,
    word: Literal["login", "logout", "onecall"],
) -> AgentOut:
    """Logs one agent in or out of one queue, or lets it take one call."""
    domain = await domains.get(session, caller, domain_name)
    queue = await _queue(session, domain, queue_name)
    access = await _access(session, caller, queue)
    agent, q, user = await _find_agent(session, caller, domain, queue, agent_raw)
    if access == "read" or (access == "member" and agent.user_id != caller.user_id):
        raise deny(f"A {caller.scope} may only change its own agent status")
    if agent.availability_type == "disabled":
        raise Conflict(
            f"Agent {agent.agent_id} is disabled in call queue {queue.callqueue}; a manager or "
            "supervisor must enable it first"
        )
    if _change_state(agent, word):
        await session.flush()
        _record_action(
            session,
            caller,
            domain,
            word,
            [(agent, q, user)],
            f"{q.callqueue}/{agent.agent_id}",
            user,
        )
    return _agent_out(agent, q, user, domain)


async def set_status_everywhere(
    session: AsyncSession, caller: Caller, domain_name: str, agent_raw: str, status: str
) -> list[AgentOut]:
    """`callqueues/all/agents/{agent}/{status}`: one action or status for every queue the
    agent is in (a user id covers its device entries too). Disabled memberships stay as they
    are; a supervisor reaches only the queues it supervises."""
    domain = await domains.get(session, caller, domain_name)
    word = rules.check_status_word(status)
    aid = _path_agent_id(caller, domain, agent_raw)
    stmt = _agents_of(domain)
    if aid.device:
        stmt = stmt.where(CallQueueAgent.agent_id == aid.text)
    else:
        stmt = stmt.where(User.user == aid.name)
    rows = await _agent_rows(session, stmt.order_by(CallQueue.callqueue))
    if not rows:
        raise NotFound(f"Agent {aid.text} is in no call queue of domain {domain.name}")
    if caller.scope in DOMAIN_MANAGERS:
        pass
    elif caller.scope is Scope.CALL_CENTER_SUPERVISOR:
        supervised = set(
            (
                await session.scalars(
                    select(CallQueueSupervisor.queue_id).where(
                        CallQueueSupervisor.user_id == (caller.user_id or 0)
                    )
                )
            ).all()
        )
        rows = [r for r in rows if r[1].id in supervised]
        if not rows:
            raise deny(f"Agent {aid.text} is in none of the queues you supervise")
    elif caller.scope is Scope.CALL_CENTER_AGENT:
        if any(a.user_id != caller.user_id for a, _, _ in rows):
            raise deny("A Call Center Agent may only change its own agent status")
    else:
        raise deny(f"A {caller.scope} cannot change agent status")
    changed = [r for r in rows if _change_state(r[0], word)]
    if changed:
        await session.flush()
        _record_action(session, caller, domain, word, changed, aid.text, rows[0][2])
    return [_agent_out(a, q, u, domain) for a, q, u in rows]


async def remove_user_memberships(session: AsyncSession, domain_id: int, user: str) -> list[str]:
    """For the deletion of a user: removes its agent entries (emitting `agent` delete events)
    and its supervisor attachments. Answers what was removed (`<queue>/<agent-id>` and
    `supervisor of <queue>`), for the caller's audit entry. Does not commit."""
    domain = await session.scalar(select(Domain).where(Domain.id == domain_id))
    found = await session.scalar(select(User).where(User.domain_id == domain_id, User.user == user))
    if domain is None or found is None:
        return []
    removed: list[str] = []
    for agent, q, u in await _agent_rows(
        session, _agents_of(domain).where(CallQueueAgent.user_id == found.id)
    ):
        _emit(session, "delete", _agent_out(agent, q, u, domain), domain, u)
        removed.append(f"{q.callqueue}/{agent.agent_id}")
    queues = await session.scalars(
        select(CallQueue.callqueue)
        .join(CallQueueSupervisor, CallQueueSupervisor.queue_id == CallQueue.id)
        .where(CallQueueSupervisor.user_id == found.id)
    )
    removed += [f"supervisor of {q}" for q in queues.all()]
    await session.execute(sql_delete(CallQueueAgent).where(CallQueueAgent.user_id == found.id))
    await session.execute(
        sql_delete(CallQueueSupervisor).where(CallQueueSupervisor.user_id == found.id)
    )
    return removed
