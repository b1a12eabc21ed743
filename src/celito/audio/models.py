from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base, utcnow


class AudioFile(Base):
    """A greeting, music-on-hold track or hold message: the metadata of one stored file.

    `user_id` None = the domain's own (domain music on hold, domain hold messages). The file
    itself lives at AudioStore.prompts(...).path(domain_id, storage_name).
    """

    __tablename__ = "audio_files"
    __table_args__ = (
        Index(
            "uq_audio_files_user_kind_index",
            "user_id",
            "kind",
            "ordinal",
            unique=True,
            sqlite_where=text("user_id IS NOT NULL"),
            postgresql_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "uq_audio_files_domain_kind_index",
            "domain_id",
            "kind",
            "ordinal",
            unique=True,
            sqlite_where=text("user_id IS NULL"),
            postgresql_where=text("user_id IS NULL"),
        ),
        Index("ix_audio_files_domain_user", "domain_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    kind: Mapped[str] = mapped_column(String(16))  # greeting | moh | msg
    ordinal: Mapped[int]
    storage_name: Mapped[str] = mapped_column(String(40), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    codec: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int]
    duration_ms: Mapped[int]
    sample_rate: Mapped[int]
    channels: Mapped[int]
    bits_per_sample: Mapped[int | None] = mapped_column(default=None)
    sha256: Mapped[str] = mapped_column(String(64))
    script: Mapped[str] = mapped_column(String(2000), default="")
    source: Mapped[str] = mapped_column(String(16), default="upload")
    uploaded_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
