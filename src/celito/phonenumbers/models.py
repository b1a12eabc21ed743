from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base, utcnow


class PhoneNumber(Base):
    """A DID in +E.164, unique across the whole system, owned by one domain, and where calls
    to it go (a dial-rule application, by its v2 name, and its destination)."""

    __tablename__ = "phonenumbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    application: Mapped[str] = mapped_column(String(64), default="available-number")
    parameter: Mapped[str] = mapped_column(String(255), default="")
    dest_user: Mapped[str] = mapped_column(String(128), default="[*]", index=True)
    dest_host: Mapped[str] = mapped_column(String(128), default="[*]")
    src_name: Mapped[str] = mapped_column(String(128), default="[*]")
    description: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
