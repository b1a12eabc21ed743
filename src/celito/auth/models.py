from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from celito.db import Base, utcnow

if TYPE_CHECKING:
    from celito.domains.models import Domain
    from celito.resellers.models import Reseller
    from celito.users.models import User


class OAuthClient(Base):
    """An integration's OAuth client. It may not obtain tokens until its owner accepts the ToS."""

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128), default="")
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id"), index=True)
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domains.id"), default=None)
    enabled: Mapped[bool] = mapped_column(default=True)
    tos_version: Mapped[str | None] = mapped_column(String(32), default=None)
    tos_accepted_by: Mapped[str | None] = mapped_column(String(255), default=None)
    tos_accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    tos_accepted_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    reseller: Mapped[Reseller] = relationship(lazy="joined", innerjoin=True)
    domain: Mapped[Domain | None] = relationship(lazy="joined")


class OAuthToken(Base):
    """An access + refresh pair. Refreshing spends the row and adds one to the same family."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    family: Mapped[str] = mapped_column(String(32), index=True)
    access_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    access_expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime]
    spent_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    client: Mapped[OAuthClient] = relationship(lazy="joined", innerjoin=True)


class RevokedJwt(Base):
    """A JWT id that must no longer be accepted (revoked, or a spent refresh JWT)."""

    __tablename__ = "revoked_jwts"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ApiKey(Base):
    """A server-to-server key: scoped to a reseller, domain or user, optionally read-only."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(255))
    scope: Mapped[str] = mapped_column(String(32))
    reseller_id: Mapped[int | None] = mapped_column(ForeignKey("resellers.id"), default=None)
    domain_id: Mapped[int | None] = mapped_column(
        ForeignKey("domains.id", ondelete="CASCADE"), default=None, index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    ip_address: Mapped[str] = mapped_column(String(1000), default="")
    readonly: Mapped[bool] = mapped_column(default=False)
    can_create_keys: Mapped[bool] = mapped_column(default=False)
    allowed_models: Mapped[list[str] | None] = mapped_column(default=None)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)

    reseller: Mapped[Reseller | None] = relationship(lazy="joined")
    domain: Mapped[Domain | None] = relationship(lazy="joined")
    user: Mapped[User | None] = relationship(lazy="joined")


class LoginFailure(Base):
    """A failed credential check, kept for throttling by username and by address."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "at"),
        Index("ix_login_failures_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    username: Mapped[str] = mapped_column(String(255))
    ip: Mapped[str] = mapped_column(String(64))


class SystemSecret(Base):
    """Secrets every node must share (the JWT signing key), created once in the database."""

    __tablename__ = "system_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
