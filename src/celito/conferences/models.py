from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base, utcnow


class Conference(Base):
    """A conference bridge on an extension of the domain."""

    __tablename__ = "conferences"
    __table_args__ = (
        UniqueConstraint("domain_id", "conference", name="uq_conferences_domain_conference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    conference: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128), default="")
    # The user (extension) who owns the bridge, "" for the domain's own.
    owner: Mapped[str] = mapped_column(String(64), default="")
    # Digits, "" for none. Shown to managers and the owner only.
    leader_pin: Mapped[str] = mapped_column(String(12), default="")
    participants_pin: Mapped[str] = mapped_column(String(12), default="")
    speaker_pin: Mapped[str] = mapped_column(String(12), default="")
    max_participants: Mapped[int] = mapped_column(default=10)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
