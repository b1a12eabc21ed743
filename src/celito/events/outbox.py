"""Recording events inside the caller's transaction.

`record` only queues the event on the session; the rows are written by the commit hook in
events.hooks, at the very end of the transaction and under a lock, so ids follow commit order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from celito.events.hooks import PENDING
from celito.events.models import Event

MODELS = (
    "subscriber",
    "device",
    "call",
    "call_origid",
    "cdr",
    "presence",
    "voicemail",
    "agent",
    "auditlog",
    "message",
    "phone",
)


def record(
    session: AsyncSession,
    model: str,
    action: str,
    payload: Mapping[str, Any],
    *,
    reseller: str = "",
    domain: str = "",
    user: str = "",
    node: str = "",
) -> Event:
    """Adds an event to the outbox as part of the session's transaction."""
    if model not in MODELS:
        raise ValueError(f"unknown event model {model}")
    row = Event(
        model=model,
        action=action,
        reseller=reseller,
        domain=domain,
        user=user,
        node=node,
        payload=dict(payload),
    )
    session.info.setdefault(PENDING, []).append(row)
    return row
