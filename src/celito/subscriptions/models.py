from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base, utcnow
from celito.events.models import EventId


class Subscription(Base):
    """An integration's standing order: POST events of one model, within filters, to a URL.

    Delivery state lives here too: `cursor` is the last event id delivered (or skipped as not
    matching); a node holds `leased_by` until `leased_until` while it delivers, and
    `lease_token` tells its worker processes apart. `revision` grows with every change made
    through the API, so the holder notices one (a rewind, a new URL) and reloads.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_due", "enabled", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model: Mapped[str] = mapped_column(String(32))
    post_url: Mapped[str] = mapped_column(String(2048))
    reseller: Mapped[str] = mapped_column(String(64), default="*")
    domain: Mapped[str] = mapped_column(String(128), default="*")
    user: Mapped[str] = mapped_column(String(64), default="*")
    owner_reseller: Mapped[str] = mapped_column(String(64), default="", index=True)
    owner_domain: Mapped[str] = mapped_column(String(128), default="", index=True)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    user_scope: Mapped[str] = mapped_column(String(32), default="")
    secret: Mapped[str] = mapped_column(String(128))
    preferred_server: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    enabled: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    status_reason: Mapped[str] = mapped_column(String(255), default="")
    error_count: Mapped[int] = mapped_column(default=0)
    posts_count: Mapped[int] = mapped_column(default=0)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    retry_upto: Mapped[int | None] = mapped_column(BigInteger, default=None)
    attempt: Mapped[int] = mapped_column(default=0)
    failing_since: Mapped[datetime | None] = mapped_column(default=None)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    leased_by: Mapped[str | None] = mapped_column(String(128), default=None)
    leased_until: Mapped[datetime | None] = mapped_column(default=None)
    lease_token: Mapped[str | None] = mapped_column(String(32), default=None)
    revision: Mapped[int] = mapped_column(default=0, server_default="0")
    last_delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class DeliveryAttempt(Base):
    """One POST to a subscription's URL: what was sent, what came back, how long it took."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_sub_id", "subscription_id", "id"),)

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("subscriptions.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    node: Mapped[str] = mapped_column(String(128), default="")
    webhook_id: Mapped[str] = mapped_column(String(96))
    first_event_id: Mapped[int] = mapped_column(BigInteger)
    last_event_id: Mapped[int] = mapped_column(BigInteger)
    events_count: Mapped[int]
    succeeded: Mapped[bool]
    http_status: Mapped[int | None] = mapped_column(default=None)
    latency_ms: Mapped[int]
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(String(512), default="")
