"""Many outbox events in one go, for CDR ingestion at tens of thousands a second.

`celito.events.outbox.record` queues one ORM `Event` per call; the ORM then inserts them one
row per statement on SQLite (it needs each id back, in order) and re-parses a huge multi-row
statement on PostgreSQL, which caps a batch at a few thousand events a second. Here events are
queued as plain rows and written at commit in one go (PostgreSQL COPY, SQLite executemany),
following the outbox's rules exactly (events.hooks): they are inserted last, in
`before_commit`, under the outbox's transaction-level advisory lock on PostgreSQL (so ids
follow commit order) with a NOTIFY to wake the other nodes, and the node's own wake-up runs
after the commit. A rollback drops them.

This belongs in `celito.events.outbox`; it lives here until it moves there. Rows must keep the
columns and values `outbox.record` gives (`node` is empty, `at` is the commit's time).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import await_

from celito.db import utcnow
from celito.events.hooks import NOTIFY_CHANNEL, ON_COMMIT_KEY, OUTBOX_LOCK
from celito.events.outbox import MODELS, SQLITE_INSERT, sqlite_stamp

QUEUED = "celito_bulk_events"
WRITTEN = "celito_bulk_events_written"
# PostgreSQL: COPY, the fastest way in. SQLite: executemany of the outbox's INSERT.
_PG_COPY = 'COPY events (at, model, action, reseller, domain, "user", node, payload) FROM STDIN'
# COPY's text format: backslash, tab, newline and carriage return are escaped in a field.
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


async def copy_in(connection: Any, statement: str, data: bytes) -> None:
    """Runs a COPY … FROM STDIN of `data` on the driver's (psycopg's) connection."""
    async with connection.cursor() as cursor, cursor.copy(statement) as copy:
        await copy.write(data)


# PostgreSQL: a COPY text line without its leading `at` (known only at commit). SQLite: the
# row's values after `at`.
Encoded = str | tuple[str, ...]


class Encoder:
    """Makes events of one model and action ready for the session's database, from payloads
    already in JSON: the costly part, which the caller does row by row while the database is
    busy with something else, before handing the lot to `record_encoded`."""

    def __init__(self, model: str, action: str, *, postgres: bool) -> None:
        if model not in MODELS:
            raise ValueError(f"unknown event model {model}")
        self.model = model
        self.action = action
        self.postgres = postgres
        # (reseller, domain) -> the escaped start of a COPY line; a batch has few of them.
        self._heads: dict[tuple[str, str], str] = {}

    def __call__(self, payload: str, reseller: str, domain: str, user: str) -> Encoded:
        """One event; `payload` is its JSON text, compact (no raw tab or newline: what
        json.dumps writes)."""
        if not self.postgres:
            return (self.model, self.action, reseller, domain, user, "", payload)
        head = self._heads.get((reseller, domain))
        if head is None:
            fields = (self.model, self.action, reseller, domain)
            head = "".join(f"\t{f.translate(COPY_ESCAPES)}" for f in fields)
            self._heads[(reseller, domain)] = head
        # JSON text holds no raw control characters: only its backslashes need escaping.
        escaped = payload.replace("\\", "\\\\")
        return f"{head}\t{user.translate(COPY_ESCAPES)}\t\t{escaped}\n"


def record_encoded(session: AsyncSession, events: Iterable[Encoded]) -> int:
    """Queues encoded events (see `Encoder`) to be written at commit; returns how many."""
    _install()
    queued: list[Encoded] = session.info.setdefault(QUEUED, [])
    before = len(queued)
    queued.extend(events)
    return len(queued) - before


_installed: list[bool] = []


def _install() -> None:
    if _installed:
        return
    _installed.append(True)

    @sa_event.listens_for(Session, "before_commit")
    def _write(session: Session) -> None:
        rows = session.info.pop(QUEUED, None)
        if not rows:
            return
        at = utcnow()
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": OUTBOX_LOCK})
            session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
            # Every line starts with a tab where its `at` goes: the stamp joins them.
            stamp = at.isoformat()
            data = (stamp + stamp.join(rows)).encode()
            # Commit runs this listener inside SQLAlchemy's greenlet: await_ drives the async
            # driver's COPY from here, as SQLAlchemy does for its own statements.
            await_(copy_in(connection.connection.driver_connection, _PG_COPY, data))
        else:
            # SQLite writers are serialised (BEGIN IMMEDIATE): ids follow commit order already.
            stamp = sqlite_stamp(at)
            connection.exec_driver_sql(SQLITE_INSERT, [(stamp, *r) for r in rows])
        session.info[WRITTEN] = True

    @sa_event.listens_for(Session, "after_commit")
    def _wake(session: Session) -> None:
        if session.info.pop(WRITTEN, None):
            hook = session.info.get(ON_COMMIT_KEY)
            if hook is not None:
                hook(None)

    @sa_event.listens_for(Session, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(QUEUED, None)
        session.info.pop(WRITTEN, None)
