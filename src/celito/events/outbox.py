"""Recording events inside the caller's transaction.

`record` only queues the event on the session; the rows are written by the commit hook in
events.hooks, at the very end of the transaction, and numbered in commit order (directly on
SQLite, by events.sequencer on PostgreSQL).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import await_

from celito.db import utcnow
from celito.events.hooks import NUMBER_LATER, PENDING, SEQUENCER
from celito.events.sequencer import sequencer_for

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

# SQLite: rows handed to the driver as they are stored (one stamp for the lot, the payload as
# the JSON column writes it), without SQLAlchemy's processing of every parameter of every row,
# which cost more than the INSERT (a batch of phone reports writes dozens of events).
SQLITE_INSERT = (
    'INSERT INTO events (at, model, action, reseller, domain, "user", node, payload) '
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


# PostgreSQL: the rows go to the queue (events.sequencer numbers them) as one JSON array in one
# statement, kept in their order (the sequencer numbers by the queue's ids): passing every
# value of every row through the driver cost more than the INSERT, and COPY takes two round
# trips where this takes one.
_COLUMNS = 'at, model, action, reseller, domain, "user", node, payload'
_PG_INSERT = (
    f"INSERT INTO event_queue ({_COLUMNS}) SELECT {_COLUMNS} FROM ROWS FROM ("  # noqa: S608
    "json_to_recordset(%(rows)s::json) AS (at timestamptz, model text, action text, "
    'reseller text, domain text, "user" text, node text, payload json)) WITH ORDINALITY '
    f"AS e({_COLUMNS}, position) ORDER BY position"
)


def sqlite_stamp(at: datetime) -> str:
    """A UTC time as the `at` column holds it on SQLite."""
    return at.astimezone(UTC).isoformat(" ", "microseconds")[:26]


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
) -> None:
    """Adds an event to the outbox as part of the session's transaction.

    Its id is known only once it is numbered after the commit (see events.sequencer)."""
    if model not in MODELS:
        raise ValueError(f"unknown event model {model}")
    pending: list[dict[str, Any]] | None = session.info.get(PENDING)
    if pending is None:
        pending = session.info[PENDING] = []
        if SEQUENCER not in session.info:
            bind = session.bind
            engine = bind if isinstance(bind, AsyncEngine) else getattr(bind, "engine", None)
            if not isinstance(engine, AsyncEngine):
                raise RuntimeError("events are recorded in sessions bound to one database")
            postgres = engine.dialect.name == "postgresql"
            session.info[SEQUENCER] = sequencer_for(engine) if postgres else None
    pending.append(
        {
            "model": model,
            "action": action,
            "reseller": reseller,
            "domain": domain,
            "user": user,
            "node": node,
            "payload": dict(payload),
        }
    )


def number_later(session: AsyncSession) -> None:
    """The session's commit need not wait for its events to be numbered: its caller does not
    read them back (phones' reports). On PostgreSQL they are numbered right after the commit
    returns (events.sequencer), or by a node's sweep if this process dies first; they are
    in the outbox either way once the commit returns."""
    session.info[NUMBER_LATER] = True


def _sqlite_row(stamp: str, e: dict[str, Any]) -> tuple[str, ...]:
    payload = json.dumps(e["payload"])
    return (
        stamp,
        e["model"],
        e["action"],
        e["reseller"],
        e["domain"],
        e["user"],
        e["node"],
        payload,
    )


def write_pending(session: Session, pending: list[dict[str, Any]]) -> None:
    """The commit hook's half: the transaction's events, stamped with the commit's time, go
    straight into `events` on SQLite (its writers are serialised, so ids follow commit order)
    and into `event_queue` on PostgreSQL, to be numbered by events.sequencer."""
    at = utcnow()
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        stamp = sqlite_stamp(at)
        rows = [_sqlite_row(stamp, event) for event in pending]
        connection.exec_driver_sql(SQLITE_INSERT, rows)
        return
    queued = json.dumps([{**event, "at": at.isoformat()} for event in pending])
    # The commit runs this hook inside SQLAlchemy's greenlet: await_ drives the async driver
    # from here, as SQLAlchemy does for its own statements.
    await_(_insert_queued(connection.connection.driver_connection, queued))


async def _insert_queued(connection: Any, rows: str) -> None:
    async with connection.cursor() as cursor:
        await cursor.execute(_PG_INSERT, {"rows": rows}, prepare=True)
