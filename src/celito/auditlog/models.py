from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base, utcnow


class AuditEntry(Base):
    """One write: who did it, through which client and address, to what, and what changed."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_domain_at", "target_domain", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    by_user: Mapped[str] = mapped_column(String(200), default="")
    by_domain: Mapped[str] = mapped_column(String(128), default="")
    by_reseller: Mapped[str] = mapped_column(String(64), default="")
    by_client: Mapped[str] = mapped_column(String(128), default="")
    by_ip: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32))
    target_object: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(255), default="")
    target_reseller: Mapped[str] = mapped_column(String(64), default="")
    target_domain: Mapped[str] = mapped_column(String(128), default="")
    target_user: Mapped[str] = mapped_column(String(64), default="")
    target_host: Mapped[str] = mapped_column(String(128), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
