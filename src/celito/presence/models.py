from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base, utcnow


class UserPresence(Base):
    """The last presence published for a user, and when it changed.

    Presence itself is always derived afresh (presence.service.derive); this row is what the
    last `presence` event said, so a change is noticed, and `last_update` reads can ask for
    the users whose presence changed since a moment.
    """

    __tablename__ = "user_presence"
    __table_args__ = (Index("ix_user_presence_domain_changed", "domain_id", "changed_at"),)

    domain_id: Mapped[int] = mapped_column(
        ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True
    )
    user: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
