"""Every write leaves a row here, in the same transaction as the write itself."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog.models import AuditEntry
from celito.auth.caller import Caller
from celito.auth.policy import deny
from celito.auth.scopes import Scope
from celito.db import utcnow
from celito.errors import BadRequest
from celito.events import outbox
from celito.kit.schema import format_datetime, hyphenate

_SECRET_WORDS = ("password", "secret", "pin", "key", "token", "hash")
# Names that contain one of the words above but hold nothing secret.
_NOT_SECRET = frozenset({"key-id", "language-token"})
_NODE = {"name": ""}


def set_node_name(name: str) -> None:
    _NODE["name"] = name


def _redact(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """API (hyphenated) names, with the value of anything secret replaced by '[redacted]'."""
    if values is None:
        return None
    clean: dict[str, Any] = {}
    for k, v in values.items():
        name = hyphenate(k)
        secret = name not in _NOT_SECRET and any(w in name.lower() for w in _SECRET_WORDS)
        clean[name] = "[redacted]" if secret and v not in (None, "") else v
    return clean


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Before/after of just the fields that differ, secrets redacted."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {
        "before": _redact({k: before.get(k) for k in keys}),
        "after": _redact({k: after.get(k) for k in keys}),
    }


def record(
    session: AsyncSession,
    caller: Caller,
    action: str,
    target_object: str,
    target_id: str,
    *,
    reseller: str = "",
    domain: str = "",
    user: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    body: dict[str, Any] = dict(details or {})
    if before is not None and after is not None:
        body.update(changed(before, after))
    else:
        if before is not None:
            body["before"] = _redact(before)
        if after is not None:
            body["after"] = _redact(after)
    entry = AuditEntry(
        by_user=caller.uid,
        by_domain=caller.domain or "",
        by_reseller=caller.reseller or "",
        by_client=caller.client_id,
        by_ip=caller.ip,
        action=action,
        target_object=target_object,
        target_id=target_id,
        target_reseller=reseller,
        target_domain=domain,
        target_user=user,
        target_host=_NODE["name"],
        details=body,
        at=utcnow(),
    )
    session.add(entry)
    outbox.record(
        session,
        "auditlog",
        action,
        entry_json(entry),
        reseller=reseller,
        domain=domain,
        user=user,
        node=_NODE["name"],
    )
    return entry


def entry_json(e: AuditEntry) -> dict[str, Any]:
    """The NetSapiens Auditlog shape, for the API and for `auditlog` events."""
    return {
        "id": e.id,
        "timestamp-datetime": format_datetime(e.at),
        "by-user": e.by_user,
        "by-domain": e.by_domain,
        "by-client": e.by_client,
        "by-ip": e.by_ip,
        "action-type": e.action,
        "target-object": e.target_object,
        "target-id": e.target_id,
        "target-reseller": e.target_reseller,
        "target-domain": e.target_domain,
        "target-user": e.target_user,
        "target-host": e.target_host,
        "auditlog-details": e.details,
    }


def _visible(caller: Caller) -> Any:
    if caller.is_super:
        return None
    if caller.is_reseller and caller.reseller:
        return AuditEntry.target_reseller == caller.reseller
    if caller.scope is Scope.OFFICE_MANAGER and caller.domain:
        return AuditEntry.target_domain == caller.domain
    raise deny(f"A {caller.scope} cannot read the audit log")


async def search(
    session: AsyncSession,
    caller: Caller,
    *,
    start: datetime,
    end: datetime,
    filters: Mapping[str, str | None],
    offset: int,
    limit: int,
) -> list[AuditEntry]:
    if end <= start:
        raise BadRequest("datetime-end must be after datetime-start")
    columns = {
        "by-ip": AuditEntry.by_ip,
        "by-user": AuditEntry.by_user,
        "by-domain": AuditEntry.by_domain,
        "by-client": AuditEntry.by_client,
        "action-type": AuditEntry.action,
        "target-object": AuditEntry.target_object,
        "target-domain": AuditEntry.target_domain,
        "target-user": AuditEntry.target_user,
        "target-host": AuditEntry.target_host,
    }
    clauses = [AuditEntry.at >= start, AuditEntry.at < end]
    scope = _visible(caller)
    if scope is not None:
        clauses.append(scope)
    for name, value in filters.items():
        if value:
            clauses.append(columns[name] == value)
    stmt: Select[Any] = (
        select(AuditEntry)
        .where(and_(*clauses))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())
