from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from celito.db import Base

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
CdrPk = BigInteger().with_variant(Integer(), "sqlite")


class Cdr(Base):
    """One call detail record (a v2 CdrD) of a domain.

    The fields queries filter and sort on are columns, with indexes for the hot paths (domain +
    time window, domain + user + time window, time window alone for the top-level reads); every
    other CdrD field with a value is kept in `data` under its API name. `orig_user` and
    `term_user` are the extensions as the source gave them; they count as users of this domain
    only where `orig_domain` / `term_domain` is this domain.
    """

    __tablename__ = "cdrs"
    __table_args__ = (
        # The window indexes carry `direction` and `total_seconds` too, so a count (and its
        # sum of seconds, with or without a `type` filter) is answered from the index alone.
        Index("ix_cdrs_domain_start", "domain_id", "start_time", "direction", "total_seconds"),
        Index("ix_cdrs_domain_orig_user", "domain_id", "orig_user", "start_time"),
        Index("ix_cdrs_domain_term_user", "domain_id", "term_user", "start_time"),
        Index("ix_cdrs_start", "start_time", "domain_id", "direction", "total_seconds"),
    )

    id: Mapped[int] = mapped_column(CdrPk, primary_key=True, autoincrement=True)
    cdr_id: Mapped[str] = mapped_column(String(64), unique=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(128))
    reseller: Mapped[str] = mapped_column(String(64))
    start_time: Mapped[datetime]
    answer_time: Mapped[datetime | None] = mapped_column(default=None)
    end_time: Mapped[datetime | None] = mapped_column(default=None)
    direction: Mapped[int] = mapped_column(SmallInteger)
    total_seconds: Mapped[int] = mapped_column(Integer, default=0)
    talking_seconds: Mapped[int] = mapped_column(Integer, default=0)
    hold_seconds: Mapped[int] = mapped_column(Integer, default=0)
    orig_callid: Mapped[str | None] = mapped_column(String(128), default=None)
    orig_user: Mapped[str | None] = mapped_column(String(64), default=None)
    orig_domain: Mapped[str | None] = mapped_column(String(128), default=None)
    orig_site: Mapped[str | None] = mapped_column(String(100), default=None)
    orig_department: Mapped[str | None] = mapped_column(String(100), default=None)
    # The caller's number (call-orig-caller-id, else call-orig-from-user): the `caller` search.
    caller: Mapped[str | None] = mapped_column(String(64), default=None)
    term_callid: Mapped[str | None] = mapped_column(String(128), default=None)
    term_user: Mapped[str | None] = mapped_column(String(64), default=None)
    term_domain: Mapped[str | None] = mapped_column(String(128), default=None)
    term_site: Mapped[str | None] = mapped_column(String(100), default=None)
    term_department: Mapped[str | None] = mapped_column(String(100), default=None)
    # The dialled number (call-orig-request-user, else call-orig-to-user): the `dialled` search.
    dialled: Mapped[str | None] = mapped_column(String(64), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
