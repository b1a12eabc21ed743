from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base, utcnow


class Timeframe(Base):
    """A named schedule: shared by a domain (user_id None) or a user's own.

    `owner_key` is the user's id, or 0 for the domain, so that names are unique per owner in
    the database itself. `entries` holds the normalized API arrays, by their API names."""

    __tablename__ = "timeframes"
    __table_args__ = (
        UniqueConstraint("domain_id", "owner_key", "name", name="uq_timeframes_owner_name"),
        Index("ix_timeframes_domain_user", "domain_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unique_id: Mapped[str] = mapped_column(String(32), unique=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    owner_key: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    time_zone: Mapped[str | None] = mapped_column(String(64), default=None)
    entries: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
