from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from celito.db import Base, utcnow

if TYPE_CHECKING:
    from celito.domains.models import Domain


class User(Base):
    """A subscriber: an extension in a domain, and the person who logs in as it."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("domain_id", "user", name="uq_users_domain_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    user: Mapped[str] = mapped_column(String(64))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    # Stored lower-cased: a login name is unique across the whole system.
    login_username: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    scope: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    site: Mapped[str] = mapped_column(String(100), default="")
    department: Mapped[str] = mapped_column(String(100), default="")
    time_zone: Mapped[str | None] = mapped_column(String(64), default=None)
    account_status: Mapped[str] = mapped_column(String(16), default="standard")
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # JWTs issued before this instant are refused (revoke-all by uid).
    jwt_not_before: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    domain: Mapped[Domain] = relationship(lazy="joined", innerjoin=True)

    @property
    def uid(self) -> str:
        return f"{self.user}@{self.domain.name}"

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.user
