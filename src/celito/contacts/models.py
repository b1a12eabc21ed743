from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base, utcnow


class Contact(Base):
    """An address-book entry: a user's own (user_id set) or shared by the domain."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_domain_user", "domain_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unique_id: Mapped[str] = mapped_column(String(32), unique=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    first_name: Mapped[str] = mapped_column(String(100), default="")
    middle_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    company: Mapped[str] = mapped_column(String(255), default="")
    phone_work: Mapped[str] = mapped_column(String(32), default="")
    phone_cell: Mapped[str] = mapped_column(String(32), default="")
    phone_fax: Mapped[str] = mapped_column(String(32), default="")
    phone_home: Mapped[str] = mapped_column(String(32), default="")
    tags: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
