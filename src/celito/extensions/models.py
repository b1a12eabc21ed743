from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base, utcnow


class Extension(Base):
    """Who answers a number inside a domain: a user, a call queue, an auto attendant or a
    conference. One table, so two of them can never share an extension, and routing (phone
    numbers, dial rules, attendant menus) can check a target in one place."""

    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("domain_id", "extension", name="uq_extensions_domain_ext"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    extension: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
