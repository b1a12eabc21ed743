from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base, utcnow


class AnswerRule(Base):
    """How a user's calls are answered during one time frame (`timeframe_id` None: the default
    rule `*`). `frame_key` is "*" or the time frame's id, unique per user; `position` is the
    priority (1 first)."""

    __tablename__ = "answerrules"
    __table_args__ = (UniqueConstraint("user_id", "frame_key", name="uq_answerrules_user_frame"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    timeframe_id: Mapped[int | None] = mapped_column(
        ForeignKey("timeframes.id", ondelete="CASCADE"), default=None, index=True
    )
    frame_key: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(default=1)
    enabled: Mapped[bool] = mapped_column(default=True)
    features: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
