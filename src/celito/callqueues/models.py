from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base, utcnow


class CallQueue(Base):
    """A call queue: an extension of the domain whose callers wait for agents."""

    __tablename__ = "call_queues"
    __table_args__ = (
        UniqueConstraint("domain_id", "callqueue", name="uq_call_queues_domain_callqueue"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    callqueue: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(255), default="")
    # Our strategy name (callqueues.rules.STRATEGIES); the NetSapiens dispatch type derives.
    strategy: Mapped[str] = mapped_column(String(32))
    # Where callers go when the queue will not take them or they waited too long ("" = none).
    overflow_application: Mapped[str] = mapped_column(String(64), default="")
    overflow_user: Mapped[str] = mapped_column(String(64), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CallQueueSupervisor(Base):
    """A Call Center Supervisor attached to a queue: it manages that queue's agents."""

    __tablename__ = "call_queue_supervisors"
    __table_args__ = (
        UniqueConstraint("queue_id", "user_id", name="uq_call_queue_supervisors_queue_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("call_queues.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class CallQueueAgent(Base):
    """One agent's membership of one queue, with its state there."""

    __tablename__ = "call_queue_agents"
    __table_args__ = (
        UniqueConstraint("queue_id", "agent_id", name="uq_call_queue_agents_queue_agent"),
        Index("ix_call_queue_agents_domain_user", "domain_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("call_queues.id", ondelete="CASCADE"))
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    # The user the agent is (or whose device it is); a deleted user leaves no membership.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # `1000@acme` (user entry) or `sip:1000a@acme` (device entry), domain lower-cased.
    agent_id: Mapped[str] = mapped_column(String(200))
    device: Mapped[str] = mapped_column(String(64), default="")
    availability_type: Mapped[str] = mapped_column(String(20), default="automatic")
    single_call: Mapped[bool] = mapped_column(default=False)
    # "available" or an offline status (offline, break, lunch, … cust1 … cust8).
    status: Mapped[str] = mapped_column(String(16), default="available")
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
