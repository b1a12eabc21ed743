from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from celito.db import Base, utcnow

if TYPE_CHECKING:
    from celito.resellers.models import Reseller


class Domain(Base):
    """A customer organisation (tenant) under a reseller."""

    __tablename__ = "domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id"), index=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    api_access: Mapped[bool] = mapped_column(default=False)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    # The remaining spec fields (caller id, limits, music on hold, …) carry no rule of ours yet.
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    reseller: Mapped[Reseller] = relationship(lazy="joined", innerjoin=True)
