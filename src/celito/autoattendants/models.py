from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base, utcnow


class AutoAttendant(Base):
    """One variant of an attendant: the menu its extension plays during one time frame.

    The extension is held in the domain's plan while it has at least one variant; its
    `starting-prompt` (`Prompt_<extension><nn>`) is unique in the domain."""

    __tablename__ = "auto_attendants"
    __table_args__ = (
        UniqueConstraint("domain_id", "prompt", name="uq_auto_attendants_domain_prompt"),
        UniqueConstraint(
            "domain_id", "extension", "time_frame", name="uq_auto_attendants_domain_ext_tf"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    extension: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(255))
    time_frame: Mapped[str] = mapped_column(String(64), default="*")
    menu: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
