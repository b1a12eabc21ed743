from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base, utcnow


class Dialplan(Base):
    """A named set of dial rules: a domain's own (domain_id set) or system-wide (None, `*`)."""

    __tablename__ = "dialplans"
    __table_args__ = (
        UniqueConstraint("domain_id", "name", name="uq_dialplans_domain_name"),
        Index("ix_dialplans_name", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int | None] = mapped_column(
        ForeignKey("domains.id", ondelete="CASCADE"), default=None
    )
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Dialrule(Base):
    """One translation: what it matches (immutable; its id is derived from it) and where it
    sends the call. Applications are stored by their v2 name."""

    __tablename__ = "dialrules"
    __table_args__ = (UniqueConstraint("dialplan_id", "rule_key", name="uq_dialrules_plan_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dialplan_id: Mapped[int] = mapped_column(ForeignKey("dialplans.id", ondelete="CASCADE"))
    rule_key: Mapped[str] = mapped_column(String(600))
    match_to: Mapped[str] = mapped_column(String(160))
    match_from: Mapped[str] = mapped_column(String(160), default="*")
    day_of_week: Mapped[str] = mapped_column(String(32), default="*")
    start_date: Mapped[str] = mapped_column(String(10), default="*")
    end_date: Mapped[str] = mapped_column(String(10), default="*")
    start_time: Mapped[str] = mapped_column(String(5), default="*")
    end_time: Mapped[str] = mapped_column(String(5), default="*")
    enabled: Mapped[bool] = mapped_column(default=True)
    application: Mapped[str] = mapped_column(String(64))
    parameter: Mapped[str] = mapped_column(String(255), default="")
    dest_scheme: Mapped[str] = mapped_column(String(16), default="[*]")
    dest_user: Mapped[str] = mapped_column(String(128), default="[*]")
    dest_host: Mapped[str] = mapped_column(String(128), default="[*]")
    src_name: Mapped[str] = mapped_column(String(128), default="[*]")
    src_scheme: Mapped[str] = mapped_column(String(16), default="[*]")
    src_user: Mapped[str] = mapped_column(String(128), default="[*]")
    src_host: Mapped[str] = mapped_column(String(128), default="[*]")
    description: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
