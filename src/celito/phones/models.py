from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from celito.db import Base, utcnow
from celito.devices.models import Device
from celito.domains.models import Domain
from celito.events.models import EventId


class ProvisioningProfile(Base):
    """A domain's provisioning settings: the HTTP Digest credentials its phones use to fetch
    their files, and the settings and overrides every phone of the domain gets.

    The username is unique across the platform because a phone asking for a common file
    (`y0000000000XX.cfg`) names no MAC a domain could be found by: the credentials do.
    """

    __tablename__ = "provisioning_profiles"

    domain_id: Mapped[int] = mapped_column(
        ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password: Mapped[str] = mapped_column(String(255))  # sealed, see devices.secrets
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    domain: Mapped[Domain] = relationship(lazy="joined", innerjoin=True)


class Phone(Base):
    """A physical phone, known by its MAC, owned by one domain, its accounts mapped to devices.

    The state columns are what the phone itself last reported through its action URLs.
    `token_version` feeds the per-phone action-URL secret (phones.tokens); bumping it revokes
    the URLs in every file served so far. `resync_pending` is set when something in the
    phone's file changed since it last downloaded it.
    """

    __tablename__ = "phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    mac: Mapped[str] = mapped_column(String(12), unique=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(32))
    generation: Mapped[str] = mapped_column(String(8), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    buttons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    web_password: Mapped[str] = mapped_column(String(255))  # sealed
    prov_username: Mapped[str] = mapped_column(String(64), default="")
    prov_password: Mapped[str] = mapped_column(String(255), default="")  # sealed
    token_version: Mapped[int] = mapped_column(default=1)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    last_ip: Mapped[str] = mapped_column(String(64), default="")
    firmware: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    last_event: Mapped[str] = mapped_column(String(48), default="")
    last_event_key: Mapped[str] = mapped_column(String(64), default="")
    registered: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dnd: Mapped[bool] = mapped_column(default=False)
    forwarding: Mapped[dict[str, Any]] = mapped_column(default=dict)
    call: Mapped[dict[str, Any]] = mapped_column(default=dict)
    provisioned_at: Mapped[datetime | None] = mapped_column(default=None)
    served_md5: Mapped[str] = mapped_column(String(32), default="")
    resync_pending: Mapped[bool] = mapped_column(default=False)
    resync_requested_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    domain: Mapped[Domain] = relationship(lazy="joined", innerjoin=True)
    lines: Mapped[list[PhoneLine]] = relationship(
        lazy="selectin", order_by="PhoneLine.position", cascade="all, delete-orphan"
    )


class PhoneLine(Base):
    """Account N of a phone, registering as one device of a user."""

    __tablename__ = "phone_lines"
    __table_args__ = (UniqueConstraint("phone_id", "position", name="uq_phone_lines_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_id: Mapped[int] = mapped_column(ForeignKey("phones.id", ondelete="CASCADE"))
    position: Mapped[int]
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    shared: Mapped[bool] = mapped_column(default=False)

    device: Mapped[Device] = relationship(lazy="joined", innerjoin=True)


class PhoneHook(Base):
    """ "On this phone event, call this URL": a URL template with Yealink variable names, for a
    whole domain (user_id None) or for the phones of one user."""

    __tablename__ = "phone_hooks"
    __table_args__ = (Index("ix_phone_hooks_domain_event", "domain_id", "event"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None, index=True
    )
    event: Mapped[str] = mapped_column(String(48))
    url: Mapped[str] = mapped_column(String(2048))
    enabled: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_reason: Mapped[str] = mapped_column(String(255), default="")
    calls_count: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HookCall(Base):
    """One URL a phone hook must call: the template already filled in, queued in the same
    transaction as the phone event, called after commit by whichever node leases it."""

    __tablename__ = "hook_calls"
    __table_args__ = (Index("ix_hook_calls_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    hook_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("phone_hooks.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    event: Mapped[str] = mapped_column(String(48))
    mac: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    leased_by: Mapped[str | None] = mapped_column(String(128), default=None)
    leased_until: Mapped[datetime | None] = mapped_column(default=None)
    last_status: Mapped[int | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(String(512), default="")
    last_latency_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
