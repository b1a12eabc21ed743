"""Phone hooks: "on this phone event, call this URL", for a domain or for one user's phones.

The URL is a template with the Yealink variable names (`$active_user`, `$display_local`, …,
yealink.events.HOOK_VARIABLES). When a phone reports the event, each matching hook's URL is
filled in with the reported values, each URL-encoded for where it stands, and queued as a
HookCall in the same transaction as the report; yealink.hookcalls calls it after commit with
the webhook engine's rules (http(s) only, private targets refused unless allowed, short
timeouts, exponential backoff with jitter for up to 24 hours, 410 Gone disables the hook).

Who may do what: the domain's managers manage domain hooks and every user's hooks; a user
manages its own user hooks. Every write is audited.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from pydantic import Field, field_validator
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.policy import check_manage_user, deny
from celito.auth.scopes import DOMAIN_MANAGERS
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import NotFound, Unprocessable
from celito.events.targets import check_target
from celito.kit.schema import ApiDatetime, ApiModel, ApiOut, YesNo
from celito.phones.models import HookCall, PhoneHook
from celito.users import service as users
from celito.users.models import User
from celito.yealink import events as yealink_events

if TYPE_CHECKING:
    from celito.phones.reports import Report

# `$name`, or `${name}` where letters follow it (`${user}abc`).
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
# A `%` must start a percent-encoded byte: the receiver would otherwise get an invalid URL.
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_QUEUED = "celito_hook_calls_queued"
MAX_HOOKS_PER_DOMAIN = 200


class HookCreate(ApiModel):
    event: str = Field(max_length=48, description="a Yealink event, e.g. `call_established`")
    url: str = Field(
        max_length=2048,
        description="http(s) URL template: `$variable` or `${variable}` (Yealink names, e.g. "
        "`$active_user`, `$display_local`) in its path and query, each filled in "
        "percent-encoded; a literal `%` is written `%25`",
    )
    enabled: YesNo = True

    @field_validator("event")
    @classmethod
    def _event(cls, value: str) -> str:
        found = yealink_events.find(value)
        if found is None:
            known = ", ".join(sorted(yealink_events.EVENTS))
            raise ValueError(f"'{value}' is not a phone event; one of: {known}")
        return found.name


class HookUpdate(ApiModel):
    event: str | None = Field(None, max_length=48)
    url: str | None = Field(None, max_length=2048)
    enabled: YesNo | None = None

    @field_validator("event")
    @classmethod
    def _event(cls, value: str | None) -> str | None:
        return HookCreate._event(value) if value is not None else None


class HookOut(ApiOut):
    id: str
    domain: str
    user: str | None
    event: str
    url: str
    enabled: YesNo
    status: str
    status_reason: str
    calls_count: int
    error_count: int
    pending_calls: int = 0
    created_by: str
    created_datetime: ApiDatetime = None
    last_modified_datetime: ApiDatetime = None


def variables_in(template: str) -> list[str]:
    return [braced or bare for braced, bare in _VARIABLE.findall(template)]


async def check_template(template: str, *, allow_private: bool) -> None:
    unknown = sorted({v for v in variables_in(template) if v not in yealink_events.HOOK_VARIABLES})
    if unknown:
        known = ", ".join(f"${v}" for v in sorted(yealink_events.HOOK_VARIABLES))
        raise Unprocessable(
            f"url uses unknown variable(s) {', '.join('$' + u for u in unknown)}; known: {known}"
        )
    if _STRAY_PERCENT.search(template):
        raise Unprocessable(
            "url has a '%' that does not start a percent-encoded byte; write %25 for a '%'"
        )
    # The host must be fixed: a variable there would let a phone's report choose the target.
    host = urlsplit(template).netloc
    if "$" in host:
        raise Unprocessable("url may use variables in its path and query, not in its host")
    await check_target(
        _VARIABLE.sub("x", template), allow_private=allow_private, field="url", saving=True
    )


def fill(template: str, values: dict[str, str]) -> str:
    """The template with every `$variable` replaced by its value, percent-encoded (nothing
    is left unescaped: a value can never add a parameter or change the path)."""
    return _VARIABLE.sub(
        lambda m: quote(values.get(m.group(1) or m.group(2), ""), safe=""), template
    )


@dataclass(frozen=True)
class Source:
    """The phone and account a report came from, as hook templates name them."""

    mac: str
    model: str
    domain: str
    user: str  # the account's user, "" when the report names no account of the phone
    user_id: int | None


def values_for(source: Source, report: Report) -> dict[str, str]:
    v = dict(report.variables)
    v.setdefault("mac", source.mac)
    v.setdefault("model", source.model)
    v["callerID"] = v.get("display_remote", "")
    v["callNumber"] = v.get("calledNumber", "")
    if "active_url" not in v and v.get("active_user"):
        v["active_url"] = f"sip:{v['active_user']}@{v.get('active_host', '')}"
    v["event"] = report.event.name
    v["domain"] = source.domain
    v["user"] = source.user
    return v


# The hooks that are called: enabled, and not put in error by failures.
ACTIVE = and_(PhoneHook.enabled.is_(True), PhoneHook.status == "active")


async def active_for(
    session: AsyncSession, domain_ids: Iterable[int]
) -> dict[int, list[PhoneHook]]:
    ids = list(set(domain_ids))
    if not ids:
        return {}
    found: dict[int, list[PhoneHook]] = {}
    stmt = select(PhoneHook).where(PhoneHook.domain_id.in_(ids), ACTIVE)
    for hook in await session.scalars(stmt):
        found.setdefault(hook.domain_id, []).append(hook)
    return found


def queued(session: AsyncSession) -> bool:
    """Whether the session's transaction queued hook calls (the caller is poked after commit)."""
    return bool(session.info.get(_QUEUED))


def queue_calls(
    session: AsyncSession, hooks: list[PhoneHook], source: Source, report: Report
) -> int:
    wanted = [
        h
        for h in hooks
        if h.event == report.event.name and (h.user_id is None or h.user_id == source.user_id)
    ]
    if not wanted:
        return 0
    values = values_for(source, report)
    session.info[_QUEUED] = True
    for hook in wanted:
        session.add(
            HookCall(
                hook_id=hook.id,
                url=fill(hook.url, values),
                event=report.event.name,
                mac=source.mac,
                due_at=report.at,
            )
        )
    return len(wanted)


def _to_out(h: PhoneHook, domain: Domain, user: str | None, pending: int = 0) -> HookOut:
    return HookOut.model_validate(
        {
            "id": h.id,
            "domain": domain.name,
            "user": user,
            "event": h.event,
            "url": h.url,
            "enabled": h.enabled,
            "status": h.status,
            "status_reason": h.status_reason,
            "calls_count": h.calls_count,
            "error_count": h.error_count,
            "pending_calls": pending,
            "created_by": h.created_by,
            "created_datetime": h.created_at,
            "last_modified_datetime": h.updated_at,
        }
    )


async def _scope(
    session: AsyncSession, caller: Caller, domain_name: str, user: str | None, *, write: bool
) -> tuple[Domain, User | None]:
    domain = await domains.get(session, caller, domain_name)
    if user is None:
        if caller.scope not in DOMAIN_MANAGERS:
            raise deny(f"A {caller.scope} cannot manage the domain's phone hooks")
        return domain, None
    owner = await users.get(session, caller, domain_name, user)
    if write:
        check_manage_user(caller, owner)
    return domain, owner


def _where(domain: Domain, owner: User | None) -> Any:
    stmt = select(PhoneHook).where(PhoneHook.domain_id == domain.id)
    return stmt.where(
        PhoneHook.user_id == owner.id if owner is not None else PhoneHook.user_id.is_(None)
    )


async def _pending(session: AsyncSession, ids: list[str]) -> dict[str, int]:
    if not ids:
        return {}
    rows = await session.execute(
        select(HookCall.hook_id, func.count())
        .where(HookCall.hook_id.in_(ids), HookCall.state == "pending")
        .group_by(HookCall.hook_id)
    )
    return {str(i): int(n) for i, n in rows.all()}


async def list_(
    session: AsyncSession, caller: Caller, domain_name: str, user: str | None
) -> list[HookOut]:
    domain, owner = await _scope(session, caller, domain_name, user, write=False)
    rows = list(await session.scalars(_where(domain, owner).order_by(PhoneHook.created_at)))
    pending = await _pending(session, [h.id for h in rows])
    return [_to_out(h, domain, owner.user if owner else None, pending.get(h.id, 0)) for h in rows]


async def _one(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    user: str | None,
    hook_id: str,
    *,
    write: bool,
) -> tuple[PhoneHook, Domain, User | None]:
    domain, owner = await _scope(session, caller, domain_name, user, write=write)
    found = await session.scalar(_where(domain, owner).where(PhoneHook.id == hook_id))
    if found is None:
        raise NotFound(f"Phone hook {hook_id} does not exist")
    return found, domain, owner


async def get(
    session: AsyncSession, caller: Caller, domain_name: str, user: str | None, hook_id: str
) -> HookOut:
    hook, domain, owner = await _one(session, caller, domain_name, user, hook_id, write=False)
    pending = await _pending(session, [hook.id])
    return _to_out(hook, domain, owner.user if owner else None, pending.get(hook.id, 0))


def _audit(
    session: AsyncSession,
    caller: Caller,
    action: str,
    hook: PhoneHook,
    domain: Domain,
    owner: User | None,
    **kw: Any,
) -> None:
    audit.record(
        session,
        caller,
        action,
        "phone-hook",
        hook.id,
        reseller=domain.reseller.name,
        domain=domain.name,
        user=owner.user if owner else "",
        **kw,
    )


def _snapshot(h: PhoneHook) -> dict[str, Any]:
    return {"event": h.event, "url": h.url, "enabled": h.enabled, "status": h.status}


async def create(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    user: str | None,
    body: HookCreate,
    *,
    allow_private: bool,
) -> HookOut:
    domain, owner = await _scope(session, caller, domain_name, user, write=True)
    await check_template(body.url, allow_private=allow_private)
    total = await session.scalar(
        select(func.count()).select_from(PhoneHook).where(PhoneHook.domain_id == domain.id)
    )
    if int(total or 0) >= MAX_HOOKS_PER_DOMAIN:
        raise Unprocessable(f"a domain may have at most {MAX_HOOKS_PER_DOMAIN} phone hooks")
    hook = PhoneHook(
        id=secrets.token_hex(8),
        domain_id=domain.id,
        user_id=owner.id if owner else None,
        event=body.event,
        url=body.url,
        enabled=body.enabled,
        created_by=caller.uid or caller.scope,
    )
    session.add(hook)
    await session.flush()
    _audit(session, caller, "create", hook, domain, owner, after=_snapshot(hook))
    return _to_out(hook, domain, owner.user if owner else None)


async def update(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    user: str | None,
    hook_id: str,
    body: HookUpdate,
    *,
    allow_private: bool,
) -> HookOut:
    hook, domain, owner = await _one(session, caller, domain_name, user, hook_id, write=True)
    before = _snapshot(hook)
    values = body.model_dump(exclude_unset=True)
    if values.get("url") is not None:
        await check_template(values["url"], allow_private=allow_private)
        hook.url = values["url"]
    if values.get("event") is not None:
        hook.event = values["event"]
    if values.get("enabled") is not None:
        hook.enabled = values["enabled"]
        if hook.enabled and hook.status != "active":
            hook.status, hook.status_reason, hook.error_count = "active", "", 0
    await session.flush()
    _audit(session, caller, "update", hook, domain, owner, before=before, after=_snapshot(hook))
    return _to_out(hook, domain, owner.user if owner else None)


async def delete(
    session: AsyncSession, caller: Caller, domain_name: str, user: str | None, hook_id: str
) -> HookOut:
    hook, domain, owner = await _one(session, caller, domain_name, user, hook_id, write=True)
    out = _to_out(hook, domain, owner.user if owner else None)
    _audit(session, caller, "delete", hook, domain, owner, before=_snapshot(hook))
    await session.delete(hook)
    await session.flush()
    return out
