from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base, utcnow

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class Event(Base):
    """The outbox: one row per platform event, written in the transaction of the change.

    Ids grow in commit order (see events.hooks), so a reader that has seen id N has seen
    every committed event below N. Webhook cursors and stream resumption rely on that.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_model_id", "model", "id"),
        Index("ix_events_domain_id", "domain", "id"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    # No index: retention finds its boundary by id (events.node.last_event_before).
    at: Mapped[datetime] = mapped_column(default=utcnow)
    model: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    reseller: Mapped[str] = mapped_column(String(64), default="")
    domain: Mapped[str] = mapped_column(String(128), default="")
    user: Mapped[str] = mapped_column(String(64), default="")
    node: Mapped[str] = mapped_column(String(128), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class QueuedEvent(Base):
    """PostgreSQL: an event committed with its change but not yet numbered.

    Transactions write here without any lock; the sequencer (events.sequencer) moves committed
    rows into `events` in one serialised step, which hands out commit-ordered ids.
    """

    __tablename__ = "event_queue"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    model: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    reseller: Mapped[str] = mapped_column(String(64), default="")
    domain: Mapped[str] = mapped_column(String(128), default="")
    user: Mapped[str] = mapped_column(String(64), default="")
    node: Mapped[str] = mapped_column(String(128), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Node(Base):
    """A running server, with a heartbeat: lets nodes honour a subscription's preferred server."""

    __tablename__ = "nodes"

    node_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
