from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base, utcnow


class ActiveCall(Base):
    """One leg of a live call, as the telephony plane reports it (calls.service.upsert_call).

    A leg is `orig_callid` (the calling side's SIP call id) plus `term_callid` (the called
    side's; empty until the engine has one). It belongs to the domain of its local caller, else
    of its local callee (`domain_id`), and is visible in both ends' domains. It is removed when
    the engine reports the leg ended (calls.service.end_call).
    """

    __tablename__ = "active_calls"
    __table_args__ = (
        UniqueConstraint("orig_callid", "term_callid", name="uq_active_calls_leg"),
        Index("ix_active_calls_orig", "orig_domain", "orig_user"),
        Index("ix_active_calls_term", "term_domain", "term_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    orig_callid: Mapped[str] = mapped_column(String(128))
    term_callid: Mapped[str] = mapped_column(String(128), default="")
    session_id: Mapped[str] = mapped_column(String(64), default="")
    hostname: Mapped[str] = mapped_column(String(128), default="")
    orig_user: Mapped[str] = mapped_column(String(64), default="")
    orig_domain: Mapped[str] = mapped_column(String(128), default="")
    orig_uri: Mapped[str] = mapped_column(String(255), default="")
    orig_name: Mapped[str] = mapped_column(String(128), default="")
    orig_match: Mapped[str] = mapped_column(String(255), default="")
    ani: Mapped[str] = mapped_column(String(64), default="")
    dnis: Mapped[str] = mapped_column(String(64), default="")
    by_action: Mapped[str] = mapped_column(String(64), default="")
    by_user: Mapped[str] = mapped_column(String(64), default="")
    by_domain: Mapped[str] = mapped_column(String(128), default="")
    by_callid: Mapped[str] = mapped_column(String(128), default="")
    term_user: Mapped[str] = mapped_column(String(64), default="")
    term_domain: Mapped[str] = mapped_column(String(128), default="")
    term_uri: Mapped[str] = mapped_column(String(255), default="")
    orig_info: Mapped[str] = mapped_column(String(32), default="")
    term_info: Mapped[str] = mapped_column(String(32), default="")
    codec: Mapped[str] = mapped_column(String(32), default="")
    start_time: Mapped[datetime] = mapped_column(default=utcnow)
    answer_time: Mapped[datetime | None] = mapped_column(default=None)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
