from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base, utcnow


class VoicemailBox(Base):
    """A user's voicemail settings. Messages refer to the user, not to this row."""

    __tablename__ = "voicemail_boxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    pin_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    enabled: Mapped[bool] = mapped_column(default=True)
    greeting_index: Mapped[int] = mapped_column(default=0)
    user_control_enabled: Mapped[bool] = mapped_column(default=True)
    receive_broadcast_enabled: Mapped[bool] = mapped_column(default=True)
    announce_datetime_received: Mapped[bool] = mapped_column(default=False)
    announce_caller_id: Mapped[bool] = mapped_column(default=False)
    sort_newest_first: Mapped[bool] = mapped_column(default=True)
    transcription: Mapped[str] = mapped_column(String(16), default="no")
    email_alert_enabled: Mapped[bool] = mapped_column(default=False)
    email_alert_behavior: Mapped[str] = mapped_column(String(16), default="no")
    email_alert_cc_csv: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class VoicemailMessage(Base):
    """One message in a user's box; its audio is AudioStore.voicemail(...).path(domain_id,
    storage_name). `filename` is its public name (random, never a path)."""

    __tablename__ = "voicemail_messages"
    __table_args__ = (Index("ix_voicemail_messages_user_folder", "user_id", "folder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    folder: Mapped[str] = mapped_column(String(8))  # new | save | trash
    filename: Mapped[str] = mapped_column(String(80), unique=True)
    storage_name: Mapped[str] = mapped_column(String(40), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    codec: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int]
    duration_ms: Mapped[int]
    sample_rate: Mapped[int]
    channels: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    caller_id_number: Mapped[str] = mapped_column(String(64), default="")
    caller_id_name: Mapped[str] = mapped_column(String(100), default="")
    from_host: Mapped[str] = mapped_column(String(255), default="")
    forwarded_from: Mapped[str] = mapped_column(String(255), default="")
    transcription: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    folder_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
