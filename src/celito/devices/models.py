from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from celito.db import Base, utcnow

if TYPE_CHECKING:
    from celito.users.models import User


class Device(Base):
    """A SIP device (registration identity) of a user: `sip:<name>@<domain>`.

    The SIP password is stored sealed (see devices.secrets); the registration columns are
    written by the telephony plane through `devices.service.set_registration` only.
    """

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("domain_id", "name", name="uq_devices_domain_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    sip_secret: Mapped[str] = mapped_column(String(255))
    provisioning_secret: Mapped[str] = mapped_column(String(255), default="")
    mac: Mapped[str] = mapped_column(String(12), default="", index=True)
    model: Mapped[str] = mapped_column(String(64), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reg_registered: Mapped[bool] = mapped_column(default=False)
    reg_contact: Mapped[str] = mapped_column(String(512), default="")
    reg_user_agent: Mapped[str] = mapped_column(String(255), default="")
    reg_ip: Mapped[str] = mapped_column(String(64), default="")
    reg_core_server: Mapped[str] = mapped_column(String(128), default="")
    reg_at: Mapped[datetime | None] = mapped_column(default=None)
    reg_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    reg_latency: Mapped[list[float]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
