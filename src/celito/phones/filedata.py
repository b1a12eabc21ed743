"""Everything a phone's file is made of, read in one statement.

A download must show what was committed before it (a changed user, device, override or profile
changes the next download), on whichever node or worker serves it, so none of it is kept
between requests. What is saved is the cost of reading it: one statement (the phone, its
domain and provisioning profile, its accounts' devices and users, the domain's first users by
extension for BLF keys as one JSON value, and the recent failed logins that throttle the
credentials offered), run on the driver's connection rather than through an ORM session. That
is one round trip on PostgreSQL and one hop to SQLite's thread, where a session costs a dozen.

The statement is written with SQLAlchemy Core and run through phones.rawsql.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import JSON, Dialect, Select, bindparam, func, select, type_coerce
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from celito.auth.models import LoginFailure
from celito.db import Database, utcnow
from celito.devices.models import Device
from celito.domains.models import Domain
from celito.phones import rawsql
from celito.phones.models import Phone, PhoneLine, ProvisioningProfile
from celito.phones.schemas import MAX_LINES
from celito.users.models import User
from celito.yealink import catalog

log = logging.getLogger("celito.provisioning")
# The first users of the domain by extension, enough for the BLF keys of any model after
# leaving out the phone's own users.
PEOPLE = max(m.line_keys for m in catalog.MODELS.values()) + MAX_LINES


class Account(NamedTuple):
    position: int
    enabled: bool
    shared: bool
    device: str
    sip_secret: str  # sealed
    user: str
    first_name: str
    last_name: str


# A user as BLF keys show one: (extension, first name, last name).
Person = tuple[str, str, str]


@dataclass(frozen=True)
class FileData:
    mac: str
    model: str
    generation: str
    firmware: str
    settings: Mapping[str, Any]
    overrides: Mapping[str, Any]
    buttons: list[dict[str, Any]] | None
    web_password: str  # sealed
    prov_username: str
    prov_password: str  # sealed, "" when the phone has no credentials of its own
    token_version: int
    domain_id: int
    domain: str
    time_zone: str
    # The domain's provisioning profile; None until someone reads or sets it.
    profile_username: str | None
    profile_password: str | None  # sealed
    profile_settings: Mapping[str, Any]
    profile_overrides: Mapping[str, Any]
    # Failed credential checks within the throttle window (auth.throttle keeps the rule).
    failures_by_name: int
    failures_by_ip: int
    people: tuple[Person, ...]  # the domain's first PEOPLE users, by extension
    accounts: tuple[Account, ...]


def _people(dialect: Dialect) -> Any:
    """The domain's first PEOPLE users as one JSON array of [user, first, last]: one value
    instead of dozens of rows. PostgreSQL orders them by its collation; SQLite's order (BINARY,
    that of Python's sort) is restored after reading."""
    domain_of = select(Phone.domain_id).where(Phone.mac == bindparam("mac")).scalar_subquery()
    people = (
        select(User.user, User.first_name, User.last_name)
        .where(User.domain_id == domain_of)
        .order_by(User.user)
        .limit(PEOPLE)
        .subquery()
    )
    if dialect.name == "postgresql":
        item = func.json_build_array(people.c.user, people.c.first_name, people.c.last_name)
        array = func.json_agg(aggregate_order_by(item, people.c.user))
    else:
        item = func.json_array(people.c.user, people.c.first_name, people.c.last_name)
        array = func.json_group_array(item)
    return type_coerce(select(array).scalar_subquery(), JSON)


def _statement(dialect: Dialect) -> Select[Any]:
    since = bindparam("since", type_=LoginFailure.at.type)
    by_name = (
        select(func.count())
        .where(LoginFailure.username == bindparam("failed_name"), LoginFailure.at >= since)
        .scalar_subquery()
    )
    by_ip = (
        select(func.count())
        .where(LoginFailure.ip == bindparam("failed_ip"), LoginFailure.at >= since)
        .scalar_subquery()
    )
    columns: list[Any] = [
        # The phone (FileData's fields, in order) …
        Phone.mac,
        Phone.model,
        Phone.generation,
        Phone.firmware,
        Phone.settings,
        Phone.overrides,
        Phone.buttons,
        Phone.web_password,
        Phone.prov_username,
        Phone.prov_password,
        Phone.token_version,
        Phone.domain_id,
        Domain.name,
        Domain.time_zone,
        ProvisioningProfile.username,
        ProvisioningProfile.password,
        ProvisioningProfile.settings,
        ProvisioningProfile.overrides,
        by_name,
        by_ip,
        _people(dialect),
        # … then one of its accounts (Account's fields, in order; NULL without accounts).
        PhoneLine.position,
        PhoneLine.enabled,
        PhoneLine.shared,
        Device.name,
        Device.sip_secret,
        User.user,
        User.first_name,
        User.last_name,
    ]
    return (
        select(*columns)
        .join(Domain, Domain.id == Phone.domain_id)
        .outerjoin(ProvisioningProfile, ProvisioningProfile.domain_id == Phone.domain_id)
        .outerjoin(PhoneLine, PhoneLine.phone_id == Phone.id)
        .outerjoin(Device, Device.id == PhoneLine.device_id)
        .outerjoin(User, User.id == Device.user_id)
        .where(Phone.mac == bindparam("mac"))
        .order_by(PhoneLine.position)
    )


_ACCOUNT = 21  # where an account's columns start in a row
_PARAMS = ("mac", "failed_name", "failed_ip", "since")
_prepared: dict[str, rawsql.Prepared] = {}


def _prepared_for(dialect: Dialect) -> rawsql.Prepared:
    prepared = _prepared.get(dialect.name)
    if prepared is None:
        prepared = _prepared[dialect.name] = rawsql.Prepared.of(
            _statement(dialect), dialect, _PARAMS
        )
    return prepared


def _sqlite_file(db: Database) -> str | None:
    """The database file when it is one SQLite file a second connection can open."""
    url = db.engine.url
    if not db.is_sqlite or not url.database or url.database == ":memory:":
        return None
    if url.query.get("uri") or url.database.startswith("file:"):
        return None
    return url.database


async def _run(driver: Any, dialect: Dialect, values: Mapping[str, Any]) -> FileData | None:
    prepared = _prepared_for(dialect)
    # PostgreSQL orders the people by its collation; SQLite's order (BINARY) is Python's.
    return _parse(await prepared.fetch(driver, values), sort_people=prepared.sqlite)


def _values(mac: str, failed_name: str, failed_ip: str, window: timedelta) -> dict[str, Any]:
    return {
        "mac": mac,
        "failed_name": failed_name,
        "failed_ip": failed_ip,
        "since": utcnow() - window,
    }


def _parse(rows: list[list[Any]], *, sort_people: bool) -> FileData | None:
    if not rows:
        return None
    p = rows[0]
    people = [(str(u), str(f), str(la)) for u, f, la in p[20] or ()]
    if sort_people:
        people.sort()
    return FileData(
        mac=p[0],
        model=p[1],
        generation=p[2],
        firmware=p[3],
        settings=p[4],
        overrides=p[5],
        buttons=p[6],
        web_password=p[7],
        prov_username=p[8],
        prov_password=p[9],
        token_version=p[10],
        domain_id=p[11],
        domain=p[12],
        time_zone=p[13],
        profile_username=p[14],
        profile_password=p[15],
        profile_settings=p[16] or {},
        profile_overrides=p[17] or {},
        failures_by_name=int(p[18] or 0),
        failures_by_ip=int(p[19] or 0),
        people=tuple(people),
        accounts=tuple(
            Account(r[_ACCOUNT], bool(r[_ACCOUNT + 1]), bool(r[_ACCOUNT + 2]), *r[_ACCOUNT + 3 :])
            for r in rows
            if r[_ACCOUNT] is not None
        ),
    )


class Reader:
    """A few connections of the engine's pool, kept for reading phones' data.

    Taken once and kept: checking a connection out per download (and on PostgreSQL pinging
    it) would cost as much as the read, and a burst of downloads would open and close the
    pool's overflow connections. Each runs one statement at a time in autocommit mode (its own
    consistent snapshot, never a transaction left open); downloads queue for a free one. A
    connection that fails is dropped and the read tried once more on a new one.

    On a SQLite file the read runs right here, on a read-only connection of the event loop's
    own thread: the statement takes ~50 µs, while handing it to the driver's thread and back
    costs several times that in CPU and, when the loop is busy, waits for the GIL. A WAL
    reader does not wait for writers, so the loop is not held up behind a commit.
    """

    def __init__(self, db: Database, size: int) -> None:
        self.db = db
        self.size = size
        self._free: asyncio.Queue[PoolProxiedConnection] = asyncio.Queue()
        self._opened = 0
        self._local_path = _sqlite_file(db)
        self._local: sqlite3.Connection | None = None

    async def read(
        self, mac: str, *, failed_name: str, failed_ip: str, window: timedelta
    ) -> FileData | None:
        """The phone's data, with the failures of `failed_name` and `failed_ip` since `window`."""
        values = _values(mac, failed_name, failed_ip, window)
        dialect = self.db.engine.dialect
        if self._local_path is not None:
            try:
                return self._read_local(self._local_path, dialect, values)
            except sqlite3.Error:
                # Busy (a checkpoint restarting the WAL) or the schema changed: this read goes
                # through the driver's thread, and the next one opens a fresh connection.
                log.warning("local phone data read failed; using the driver", exc_info=True)
                self._close_local()
        for attempt in (1, 2):
            connection = await self._take()
            try:
                found = await _run(rawsql.driver_of(connection), dialect, values)
            except BaseException as exc:
                # Failed or interrupted mid-statement: the connection's state is unknown, so it
                # is dropped (a cancelled read must not leave it out of the queue for good).
                self._opened -= 1
                await greenlet_spawn(connection.invalidate)
                if attempt == 2 or not isinstance(exc, Exception):
                    raise
                log.warning("phone data read failed; retrying on a new connection", exc_info=True)
                continue
            self._free.put_nowait(connection)
            return found
        raise AssertionError("unreachable")

    def _read_local(
        self, path: str, dialect: Dialect, values: Mapping[str, Any]
    ) -> FileData | None:
        if self._local is None:
            # Blocking the loop for a busy database would stall every request: give up fast
            # and let the driver's thread wait instead.
            self._local = sqlite3.connect(
                path, timeout=0.05, isolation_level=None, check_same_thread=False
            )
            self._local.execute("PRAGMA query_only=1")
        prepared = _prepared_for(dialect)
        return _parse(prepared.fetch_now(self._local, values), sort_people=True)

    def _close_local(self) -> None:
        if self._local is not None:
            self._local.close()
            self._local = None

    async def _take(self) -> PoolProxiedConnection:
        if self._free.empty() and self._opened < self.size:
            self._opened += 1
            try:
                connection = await self.db.engine.raw_connection()
                if self.db.engine.dialect.name != "sqlite":
                    # The pool's SQLite connections are in autocommit mode already (db.py
                    # begins transactions itself); PostgreSQL's need it: one statement needs
                    # no BEGIN/ROLLBACK round trips.
                    await rawsql.driver_of(connection).set_autocommit(True)
            except BaseException:
                self._opened -= 1
                raise
            return connection
        return await self._free.get()

    async def close(self) -> None:
        self._close_local()
        while not self._free.empty():
            connection = self._free.get_nowait()
            self._opened -= 1
            if self.db.engine.dialect.name != "sqlite":
                await rawsql.driver_of(connection).set_autocommit(False)
            await greenlet_spawn(connection.close)


async def read_in(session: AsyncSession, mac: str) -> FileData | None:
    """The phone's data inside the session's transaction."""
    driver, dialect = await rawsql.in_session(session)
    return await _run(driver, dialect, _values(mac, "", "", timedelta()))
