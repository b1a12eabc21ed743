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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    ColumnElement,
    Dialect,
    FromClause,
    Select,
    bindparam,
    column,
    func,
    literal,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
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


def _people(dialect: Dialect) -> tuple[Any, FromClause | None]:
    """The phone's domain's first PEOPLE users as one JSON array of [user, first, last]: one
    value instead of dozens of rows. PostgreSQL orders them by its collation; SQLite's order
    (BINARY, that of Python's sort) is restored after reading.

    Returns the column and, on PostgreSQL, the lateral subquery to join for it: joined, it is
    computed once per domain of a batch (PostgreSQL memoizes it by domain), where a scalar
    subquery would be computed again for every row."""
    colleague = aliased(User, name="colleague")
    people = (
        select(colleague.user, colleague.first_name, colleague.last_name)
        .where(colleague.domain_id == Phone.domain_id)
        .order_by(colleague.user)
        .limit(PEOPLE)
        .correlate(Phone)
        .subquery()
    )
    if dialect.name == "postgresql":
        item = func.json_build_array(people.c.user, people.c.first_name, people.c.last_name)
        array = func.json_agg(aggregate_order_by(item, people.c.user))
        joined = select(array.label("list")).lateral("people")
        return type_coerce(joined.c.list, JSON), joined
    item = func.json_array(people.c.user, people.c.first_name, people.c.last_name)
    array = func.json_group_array(item)
    return type_coerce(select(array).scalar_subquery(), JSON), None


class _Requests(NamedTuple):
    """The downloads a run answers: their rows (None: the parameters stand for one) and the
    columns that number them and give the MAC, the username offered and the address."""

    rows: FromClause | None
    n: ColumnElement[int]
    mac: ColumnElement[str]
    name: ColumnElement[str]
    ip: ColumnElement[str]


def _requests(dialect: Dialect) -> _Requests:
    """On PostgreSQL any number of downloads, from three arrays; on SQLite one, from plain
    parameters (a derived table of them costs SQLite more than the rest of the read)."""
    if dialect.name == "postgresql":
        rows = (
            func.unnest(
                bindparam("macs", type_=ARRAY(Phone.mac.type)),
                bindparam("names", type_=ARRAY(LoginFailure.username.type)),
                bindparam("ips", type_=ARRAY(LoginFailure.ip.type)),
            )
            .table_valued(
                column("mac", Phone.mac.type),
                column("name", LoginFailure.username.type),
                column("ip", LoginFailure.ip.type),
                with_ordinality="n",
            )
            .render_derived(name="request")
        )
        return _Requests(rows, rows.c.n, rows.c.mac, rows.c.name, rows.c.ip)
    return _Requests(
        None,
        literal(1),
        bindparam("mac", type_=Phone.mac.type),
        bindparam("name", type_=LoginFailure.username.type),
        bindparam("ip", type_=LoginFailure.ip.type),
    )


def _statement(dialect: Dialect) -> Select[Any]:
    request = _requests(dialect)
    people, people_from = _people(dialect)
    since = bindparam("since", type_=LoginFailure.at.type)
    by_name = (
        select(func.count())
        .where(LoginFailure.username == request.name, LoginFailure.at >= since)
        .scalar_subquery()
    )
    by_ip = (
        select(func.count())
        .where(LoginFailure.ip == request.ip, LoginFailure.at >= since)
        .scalar_subquery()
    )
    columns: list[Any] = [
        # Which download the row answers, then the phone (FileData's fields, in order) …
        request.n,
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
        people,
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
    statement = select(*columns)
    if request.rows is not None:
        statement = statement.select_from(request.rows).join(Phone, Phone.mac == request.mac)
    else:
        statement = statement.select_from(Phone).where(Phone.mac == request.mac)
    statement = statement.join(Domain, Domain.id == Phone.domain_id)
    if people_from is not None:
        statement = statement.outerjoin(people_from, true())
    return (
        statement.outerjoin(ProvisioningProfile, ProvisioningProfile.domain_id == Phone.domain_id)
        .outerjoin(PhoneLine, PhoneLine.phone_id == Phone.id)
        .outerjoin(Device, Device.id == PhoneLine.device_id)
        .outerjoin(User, User.id == Device.user_id)
        .order_by(request.n, PhoneLine.position)
    )


_ACCOUNT = 22  # where an account's columns start in a row
_PARAMS = {
    "postgresql": ("macs", "names", "ips", "since"),
    "sqlite": ("mac", "name", "ip", "since"),
}
# Downloads answered by one run: PostgreSQL takes them as arrays, SQLite one at a time.
_MOST = {"postgresql": 64, "sqlite": 1}
_prepared: dict[str, rawsql.Prepared] = {}


class Request(NamedTuple):
    mac: str
    failed_name: str  # the failures of this name and address since `since` are counted
    failed_ip: str
    since: datetime


def _prepared_for(dialect: Dialect) -> rawsql.Prepared:
    prepared = _prepared.get(dialect.name)
    if prepared is None:
        prepared = _prepared[dialect.name] = rawsql.Prepared.of(
            _statement(dialect), dialect, _PARAMS[dialect.name]
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


def _values(prepared: rawsql.Prepared, requests: Sequence[Request]) -> dict[str, Any]:
    # A batch shares the widest window: its requests were made microseconds apart.
    since = min(r.since for r in requests)
    if prepared.sqlite:
        (only,) = requests
        return {"mac": only.mac, "name": only.failed_name, "ip": only.failed_ip, "since": since}
    return {
        "macs": [r.mac for r in requests],
        "names": [r.failed_name for r in requests],
        "ips": [r.failed_ip for r in requests],
        "since": since,
    }


async def _run(driver: Any, dialect: Dialect, requests: Sequence[Request]) -> list[FileData | None]:
    prepared = _prepared_for(dialect)
    rows = await prepared.fetch(driver, _values(prepared, requests))
    # PostgreSQL orders the people by its collation; SQLite's order (BINARY) is Python's.
    return _parse(rows, len(requests), sort_people=prepared.sqlite)


def _parse(rows: list[list[Any]], count: int, *, sort_people: bool) -> list[FileData | None]:
    """One FileData per request (None for an unknown MAC) from rows ordered by request."""
    found: list[FileData | None] = [None] * count
    start = 0
    while start < len(rows):
        n = rows[start][0]
        end = start + 1
        while end < len(rows) and rows[end][0] == n:
            end += 1
        found[n - 1] = _file_data(rows[start:end], sort_people=sort_people)
        start = end
    return found


def _file_data(rows: list[list[Any]], *, sort_people: bool) -> FileData:
    p = rows[0]
    people = [(str(u), str(f), str(la)) for u, f, la in p[21] or ()]
    if sort_people:
        people.sort()
    return FileData(
        mac=p[1],
        model=p[2],
        generation=p[3],
        firmware=p[4],
        settings=p[5],
        overrides=p[6],
        buttons=p[7],
        web_password=p[8],
        prov_username=p[9],
        prov_password=p[10],
        token_version=p[11],
        domain_id=p[12],
        domain=p[13],
        time_zone=p[14],
        profile_username=p[15],
        profile_password=p[16],
        profile_settings=p[17] or {},
        profile_overrides=p[18] or {},
        failures_by_name=int(p[19] or 0),
        failures_by_ip=int(p[20] or 0),
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
    consistent snapshot, never a transaction left open). A connection that fails is dropped
    and the read tried once more on a new one.

    On PostgreSQL the downloads that arrive while the connections are busy, or in the same turn
    of the event loop, are answered by one statement: a morning when every phone reboots is
    thousands of downloads a second, and each statement's round trip costs more of the
    server's CPU (psycopg's side of it) than reading one more phone in it does. A lone download
    is read at once.

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
        self._most = _MOST[db.engine.dialect.name]
        self._waiting: list[tuple[Request, asyncio.Future[FileData | None]]] = []
        self._runners: set[asyncio.Task[None]] = set()
        self._runner_due = False  # a runner is started but has not taken its batch yet

    async def read(
        self, mac: str, *, failed_name: str, failed_ip: str, window: timedelta
    ) -> FileData | None:
        """The phone's data, with the failures of `failed_name` and `failed_ip` since `window`."""
        request = Request(mac, failed_name, failed_ip, utcnow() - window)
        if self._local_path is not None:
            try:
                return self._read_local(self._local_path, request)
            except sqlite3.Error:
                # Busy (a checkpoint restarting the WAL) or the schema changed: this read goes
                # through the driver's thread, and the next one opens a fresh connection.
                log.warning("local phone data read failed; using the driver", exc_info=True)
                self._close_local()
        future: asyncio.Future[FileData | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if not self._runner_due and len(self._runners) < self.size:
            # Started now, it runs after this turn of the loop: downloads arriving until then
            # join its batch.
            self._runner_due = True
            runner = asyncio.create_task(self._run_batches(), name="celito-phone-data-read")
            self._runners.add(runner)
            runner.add_done_callback(self._runners.discard)
        return await future

    async def _run_batches(self) -> None:
        """Answers what is waiting, a batch at a time, until nothing is."""
        self._runner_due = False
        while self._waiting:
            batch = self._waiting[: self._most]
            del self._waiting[: self._most]
            try:
                found = await self._read_batch([request for request, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:
                # The server is stopping (close() cancels the runners).
                for _, future in batch:
                    future.cancel()
                raise
            for (_, future), data in zip(batch, found, strict=True):
                if not future.done():
                    future.set_result(data)

    async def _read_batch(self, requests: list[Request]) -> list[FileData | None]:
        dialect = self.db.engine.dialect
        for attempt in (1, 2):
            connection = await self._take()
            try:
                found = await _run(rawsql.driver_of(connection), dialect, requests)
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

    def _read_local(self, path: str, request: Request) -> FileData | None:
        if self._local is None:
            # Blocking the loop for a busy database would stall every request: give up fast
            # and let the driver's thread wait instead.
            self._local = sqlite3.connect(
                path, timeout=0.05, isolation_level=None, check_same_thread=False
            )
            self._local.execute("PRAGMA query_only=1")
        prepared = _prepared_for(self.db.engine.dialect)
        rows = prepared.fetch_now(self._local, _values(prepared, [request]))
        return _parse(rows, 1, sort_people=True)[0]

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
        for runner in list(self._runners):
            runner.cancel()
        await asyncio.gather(*self._runners, return_exceptions=True)
        for _, future in self._waiting:
            if not future.done():
                future.set_exception(RuntimeError("the server is stopping"))
        self._waiting.clear()
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
    (found,) = await _run(driver, dialect, [Request(mac, "", "", utcnow())])
    return found
