"""Call detail records: bulk ingestion from the telephony plane, reads, counts and CSV export.

Who reads what (netsapiens.md §1.5):
- Super User: every CDR; Reseller: the CDRs of the domains it owns now (also at `/cdrs`).
- Office Manager and Call Center Supervisor: their domain's CDRs.
- Site Manager: the CDRs where either end is a user of its site.
- Basic/Simple/Advanced users and Call Center Agents: only CDRs where they are an end; the
  domain-level read answers just those, another user's read is a 403.
A domain outside the caller's tenancy is a 404, as everywhere.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from json.encoder import encode_basestring_ascii
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import Select, and_, func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from celito.auth.caller import Caller
from celito.auth.policy import deny
from celito.auth.scopes import Scope
from celito.cdrs import bulk_events
from celito.cdrs.fields import (
    ALIASES,
    CDR_FIELDS,
    COLUMNS,
    DATETIME_COLUMNS,
    DATETIME_FIELDS,
    EVENT_FIELDS,
    INT_FIELDS,
    KNOWN,
    ON_NET,
    billed_minutes,
    cdr_id_for,
    derive_direction,
    like_pattern,
    render_datetime,
    to_int,
    to_utc,
)
from celito.cdrs.models import Cdr
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import BadRequest
from celito.kit.paging import Page
from celito.resellers.models import Reseller
from celito.users import service as users

TABLE = Cdr.__table__
# Column lengths, checked before the insert so one bad row cannot abort a whole batch.
_LENGTHS = {
    c.name: c.type.length  # type: ignore[attr-defined]
    for c in TABLE.columns
    if getattr(c.type, "length", None)
}
SORTABLE = {
    "call-start-datetime": Cdr.start_time,
    "call-total-duration-seconds": Cdr.total_seconds,
    "call-talking-duration-seconds": Cdr.talking_seconds,
    "id": Cdr.cdr_id,
}
# The legacy per-user projection (spec schema CdrU), added to CdrD on user-level reads.
CDRU_FIELDS = (
    "uid",
    "cdr_id",
    "type",
    "time_start",
    "time_answer",
    "time_release",
    "duration",
    "orig_to_uri",
    "number",
    "name",
    "onnet",
    "hide",
    "tag",
    "expected_trace",
)


# --- ingestion --------------------------------------------------------------------------------


@dataclass
class IngestResult:
    """What became of a batch: rows stored, rows already stored (same id), rows refused."""

    received: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _DomainInfo:
    id: int
    name: str
    reseller: str


async def _domains_named(session: AsyncSession, names: set[str]) -> dict[str, _DomainInfo]:
    found: dict[str, _DomainInfo] = {}
    wanted = sorted(n for n in names if n)
    for i in range(0, len(wanted), 500):
        rows = await session.execute(
            select(Domain.id, Domain.name, Reseller.name)
            .join(Reseller, Reseller.id == Domain.reseller_id)
            .where(Domain.name.in_(wanted[i : i + 500]))
        )
        for pk, name, reseller in rows.all():
            found[name] = _DomainInfo(pk, name, reseller)
    return found


_ACCEPTED = KNOWN | ALIASES.keys()
_COLUMN_NAMES = frozenset(COLUMNS)
_DATA_DATETIMES = DATETIME_FIELDS - COLUMNS.keys()
_DATA_INTS = INT_FIELDS - COLUMNS.keys()
_DATA_CONVERTED = _DATA_DATETIMES | _DATA_INTS
# The duration columns are 32-bit integers.
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_PLAIN = frozenset({str, int, float, bool})
# (API name, column, max length) of the text columns a source row fills directly.
_TEXT_COLUMNS = tuple(
    (api, column, _LENGTHS[column])
    for api, column in COLUMNS.items()
    if column in _LENGTHS and column not in ("cdr_id", "domain", "reseller")
)


def _check_unicode(value: str, name: str) -> None:
    """Refuses a lone surrogate (what a JSON `\\ud800` decodes to): no database stores one,
    and it would fail the whole batch there."""
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ValueError(f"{name} holds a lone surrogate, not text") from None


def _text(value: Any, name: str, limit: int) -> str | None:
    if value is None or value == "":
        return None
    text: str = value if type(value) is str else str(value)
    if len(text) > limit or "\x00" in text:
        raise ValueError(f"{name} is longer than {limit} characters or holds a NUL")
    _check_unicode(text, name)
    return text


def zulu(value: datetime | None) -> str | None:
    """A UTC datetime as `2026-11-27T13:00:00Z` (the API's form), quickly."""
    return None if value is None else value.isoformat(timespec="seconds")[:19] + "Z"


class _Values(NamedTuple):
    """One CDR as the `cdrs` table stores it, in the order of the insert's columns."""

    cdr_id: str
    domain_id: int
    domain: str
    reseller: str
    start_time: datetime
    answer_time: datetime | None
    end_time: datetime | None
    direction: int
    total_seconds: int
    talking_seconds: int
    hold_seconds: int
    orig_callid: str | None
    orig_user: str | None
    orig_domain: str | None
    orig_site: str | None
    orig_department: str | None
    caller: str | None
    term_callid: str | None
    term_user: str | None
    term_domain: str | None
    term_site: str | None
    term_department: str | None
    dialled: str | None
    data: dict[str, Any]


def _data_value(key: str, value: Any) -> Any:
    """A `data` field's value as stored (None: leave the field out); ValueError if refused."""
    if key in _DATA_DATETIMES:
        return zulu(to_utc(value, key))
    if key in _DATA_INTS:
        return to_int(value, key)
    kind = type(value)
    if kind not in _PLAIN:
        raise ValueError(f"{key}: {kind.__name__} is not a plain value")
    if kind is float and not math.isfinite(value):
        raise ValueError(f"{key}: {value} is not a finite number")  # JSON has no NaN
    if kind is str:
        _check_unicode(value, key)
    return value


def _prepare(row: Mapping[str, Any], known_domains: Mapping[str, _DomainInfo]) -> _Values:
    """One source row (CdrD names) as a `cdrs` row; ValueError says why it is refused.

    Written for speed (it runs for every ingested CDR): plain lookups, no per-field calls
    where a set operation does.
    """
    if not _ACCEPTED.issuperset(row):
        unknown = sorted(str(k) for k in row if k not in _ACCEPTED)
        raise ValueError(f"unknown field(s): {', '.join(unknown)}")
    get = row.get
    info = known_domains.get(str(get("domain") or "").lower())
    if info is None:
        raise ValueError(f"domain '{get('domain') or ''}' does not exist")
    start = to_utc(get("call-start-datetime"), "call-start-datetime")
    if start is None:
        raise ValueError("call-start-datetime is required")
    answer = to_utc(get("call-answer-datetime"), "call-answer-datetime")
    end = to_utc(get("call-disconnect-datetime"), "call-disconnect-datetime")
    total = to_int(get("call-total-duration-seconds"), "call-total-duration-seconds")
    if total is None:
        total = max(0, int((end - start).total_seconds())) if end else 0
    talking = to_int(get("call-talking-duration-seconds"), "call-talking-duration-seconds")
    if talking is None:
        talking = max(0, int((end - answer).total_seconds())) if end and answer else 0
    direction = to_int(get("call-direction"), "call-direction")
    if direction is None:
        direction = derive_direction(row, info.name, answer is not None)
    elif direction not in (0, 1, 2, 3):
        raise ValueError(f"call-direction {direction} is not 0-3")
    hold = to_int(get("call-on-hold-duration-seconds"), "call-on-hold-duration-seconds") or 0
    if not (_INT_MIN <= total <= _INT_MAX and _INT_MIN <= talking <= _INT_MAX):
        raise ValueError("a call duration does not fit in the store")
    if not _INT_MIN <= hold <= _INT_MAX:
        raise ValueError("call-on-hold-duration-seconds does not fit in the store")
    text: dict[str, str | None] = {}
    for api, column, limit in _TEXT_COLUMNS:
        value = get(api)
        text[column] = None if value is None or value == "" else _text(value, api, limit)
    orig_user, term_user = text["orig_user"], text["term_user"]
    caller = get("call-orig-caller-id") or get("call-orig-from-user")
    dialled = get("call-orig-request-user") or get("call-orig-to-user")
    data: dict[str, Any] = {}
    for key, value in row.items():
        if key in _COLUMN_NAMES or value is None or value == "":
            continue
        key = ALIASES.get(key, key)
        if type(value) is not str or key in _DATA_CONVERTED or not value.isascii():
            value = _data_value(key, value)
            if value is None:
                continue
        data[key] = value
    return _Values(
        _text(get("id"), "id", 64) or cdr_id_for(info.name, row, start),
        info.id,
        info.name,
        info.reseller,
        start,
        answer,
        end,
        direction,
        total,
        talking,
        hold,
        text["orig_callid"],
        orig_user,
        # An end named without its domain is an end in this domain.
        text["orig_domain"] or (info.name if orig_user else None),
        text["orig_site"],
        text["orig_department"],
        _text(caller, "call-orig-caller-id", 64),
        text["term_callid"],
        term_user,
        text["term_domain"] or (info.name if term_user else None),
        text["term_site"],
        text["term_department"],
        _text(dialled, "call-orig-request-user", 64),
        data,
    )


_JSON_STR = encode_basestring_ascii  # what json.dumps does to a str (ensure_ascii), in C


def _compact_json() -> Callable[[Any], str]:
    """`json.dumps(value, separators=(",", ":"))` for flat values, without the encoder object
    json.dumps builds on every call (which costs twice the encoding of a CDR's `data`)."""
    compact = json.JSONEncoder(separators=(",", ":"))
    try:
        from _json import make_encoder
    except ImportError:  # not CPython: no C encoder to keep
        return compact.encode
    encode = make_encoder(
        None, compact.default, encode_basestring_ascii, None, ":", ",", False, False, True
    )
    return lambda value: "".join(encode(value, 0))


_dumps = _compact_json()
# The `cdr` event's payload: the EVENT_FIELDS in order, filled in by _event_json.
_EVENT_JSON = "{" + ",".join(f"{_JSON_STR(name)}:%s" for name in EVENT_FIELDS) + "}"


def _json(value: Any) -> str:
    if value is None:
        return "null"
    return _JSON_STR(value) if type(value) is str else _dumps(value)


def _json_stamp(stamp: str | None) -> str:
    """JSON of `2026-11-27T13:00:00Z` from the stored form `2026-11-27 13:00:00.000000…`."""
    return "null" if stamp is None else f'"{stamp[:10]}T{stamp[11:19]}Z"'


def _event_json(v: _Values, start: str, answer: str | None, end: str | None) -> str:
    """The `cdr` event of a stored row as JSON text, the same text `_dumps` gives for the
    EVENT_FIELDS dict, written out directly: a dict and its encoding per CDR cost 4x more."""
    data = v.data
    return _EVENT_JSON % (
        _JSON_STR(v.cdr_id),
        _JSON_STR(v.domain),
        _JSON_STR(v.reseller),
        v.direction,
        _json_stamp(start),
        _json_stamp(answer),
        _json_stamp(end),
        v.total_seconds,
        v.talking_seconds,
        _json(v.orig_callid),
        _json(v.orig_user),
        _json(v.orig_domain),
        _json(data.get("call-orig-caller-id")),
        _json(data.get("call-orig-request-user")),
        _json(v.term_callid),
        _json(v.term_user),
        _json(v.term_domain),
    )


def _event_user(v: _Values) -> str:
    """The user a `cdr` event is filed under: the caller if local, else the callee if local."""
    if v.orig_user and v.orig_domain == v.domain:
        return v.orig_user
    if v.term_user and v.term_domain == v.domain:
        return v.term_user
    return ""


# A row as the driver takes it (timestamps as text, `data` as JSON), with its event.
_Entry = tuple[tuple[Any, ...], bulk_events.Encoded]


def _entry(v: _Values, events: bulk_events.Encoder, postgres: bool) -> _Entry:
    """`v` made ready for the store, and its `cdr` event. Timestamps are written as text: the
    driver's own datetime adaptation costs more than the rest of the row together."""
    start = v.start_time.isoformat(" ", "microseconds")
    answer = None if v.answer_time is None else v.answer_time.isoformat(" ", "microseconds")
    end = None if v.end_time is None else v.end_time.isoformat(" ", "microseconds")
    event = events(_event_json(v, start, answer, end), v.reseller, v.domain, _event_user(v))
    if not postgres:
        # SQLite keeps what SQLAlchemy writes, `2026-11-27 13:00:00.000000` (UTC, no offset).
        start = start[:26]
        answer = None if answer is None else answer[:26]
        end = None if end is None else end[:26]
    return (v[0], v[1], v[2], v[3], start, answer, end, *v[7:23], _dumps(v.data)), event


# The statements below are built once, from the table's own column names (no input in them).
_INSERT_COLUMNS = _Values._fields
_COLUMN_LIST = ", ".join(_INSERT_COLUMNS)
# The fast path: the rows go straight in (PostgreSQL COPY; SQLite executemany of one prepared
# INSERT) inside a savepoint. A batch with a CDR stored before (a re-send) fails there as a
# whole, is rolled back to the savepoint, and takes the careful path instead, which skips the
# CDRs already stored and says which ones it inserted.
_PG_COPY = f"COPY cdrs ({_COLUMN_LIST}) FROM STDIN"
# Careful path, PostgreSQL: COPY into a session-local staging table (temporary: no WAL, no
# indexes), then one INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING.
_PG_STAGE = (
    f"CREATE TEMP TABLE IF NOT EXISTS cdrs_stage AS SELECT {_COLUMN_LIST} FROM cdrs "  # noqa: S608
    "WITH NO DATA"
)
_PG_STAGE_COPY = f"COPY cdrs_stage ({_COLUMN_LIST}) FROM STDIN"
_PG_MOVE = text(
    f"INSERT INTO cdrs ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM cdrs_stage "  # noqa: S608
    "ON CONFLICT (cdr_id) DO NOTHING RETURNING cdr_id"
)
_SQLITE_INSERT = (
    f"INSERT INTO cdrs ({_COLUMN_LIST}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in _INSERT_COLUMNS)})"
)
_DUPLICATE = (IntegrityError, psycopg.errors.UniqueViolation)


async def _copy(session: AsyncSession, statement: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """COPYs the rows as they come: the driver sends them every few dozen, so the database
    inserts them while the next ones are still being prepared."""
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    async with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            await copy.write_row(row)


async def _store_postgres(
    session: AsyncSession, entries: Iterator[_Entry]
) -> tuple[list[_Entry], set[str] | None]:
    """Stores the entries as they are prepared; returns them all, and which ids went in
    (None: every one)."""
    done: list[_Entry] = []

    def rows() -> Iterator[tuple[Any, ...]]:
        for entry in entries:
            done.append(entry)
            yield entry[0]

    try:
        async with session.begin_nested():
            await _copy(session, _PG_COPY, rows())
        return done, None
    except _DUPLICATE:
        done.extend(entries)  # the ones not prepared when the COPY failed
    connection = await session.connection()
    await connection.exec_driver_sql(_PG_STAGE)
    await _copy(session, _PG_STAGE_COPY, [row for row, _ in done])
    inserted = set((await session.execute(_PG_MOVE)).scalars().all())
    await connection.exec_driver_sql("TRUNCATE cdrs_stage")
    return done, inserted


async def _store_sqlite(
    session: AsyncSession, entries: Iterator[_Entry]
) -> tuple[list[_Entry], set[str] | None]:
    """Stores the entries with one executemany; returns them, and which ids went in (None:
    every one). The Python work is not overlapped with SQLite's here: the driver's thread
    needs the GIL back after every row, so it would crawl while this thread prepares."""
    done = list(entries)
    if not done:  # every row refused: an executemany of nothing is an error to the driver
        return done, None
    params = [row for row, _ in done]
    try:
        async with session.begin_nested():
            # The SAVEPOINT is only emitted when the session hands out its connection.
            connection = await session.connection()
            await connection.exec_driver_sql(_SQLITE_INSERT, params)
        return done, None
    except _DUPLICATE:
        pass
    # A SQLite writer holds the database lock for its whole transaction (BEGIN IMMEDIATE), so
    # an id absent now stays absent until the insert: look, then insert the rest.
    ids = [row[0] for row in params]
    present: set[str] = set()
    for i in range(0, len(ids), 500):
        found = await session.scalars(
            select(TABLE.c.cdr_id).where(TABLE.c.cdr_id.in_(ids[i : i + 500]))
        )
        present.update(found.all())
    fresh = [row for row in params if row[0] not in present]
    if fresh:
        await (await session.connection()).exec_driver_sql(_SQLITE_INSERT, fresh)
    return done, {row[0] for row in fresh}


async def ingest(session: AsyncSession, rows: Iterable[Mapping[str, Any]]) -> IngestResult:
    """Stores a batch of CDRs (CdrD field names) from the telephony plane or an import.

    A batch goes in with one COPY (PostgreSQL, streamed while the rows are prepared) or one
    executemany (SQLite), so it costs a few round trips whatever its size; a batch holding a
    CDR stored before takes a slower path that skips it, so re-sending is harmless (same
    `id`, never stored twice). A CDR without `id` gets a stable one from its domain, call ids,
    leg and start time. A row that cannot be stored (unknown domain or field, bad value) is
    reported in `rejected` with its index and reason; the rest of the batch is stored. Each
    stored CDR emits one `cdr` event (filed under its domain and its local caller, else its
    local callee), written in the same transaction. Nothing is committed here: the caller
    commits (a few thousand rows per transaction is the sweet spot).
    """
    batch = rows if isinstance(rows, Sequence) else list(rows)
    result = IngestResult(received=len(batch))
    if not batch:
        return result
    known = await _domains_named(session, {str(r.get("domain") or "").lower() for r in batch})
    postgres = session.get_bind().dialect.name == "postgresql"
    events = bulk_events.Encoder("cdr", "create", postgres=postgres)

    def entries() -> Iterator[_Entry]:
        seen: set[str] = set()
        for index, row in enumerate(batch):
            try:
                values = _prepare(row, known)
            except ValueError as exc:
                result.rejected.append((index, str(exc)))
                continue
            if values.cdr_id in seen:
                result.duplicates += 1
                continue
            seen.add(values.cdr_id)
            yield _entry(values, events, postgres)

    store = _store_postgres if postgres else _store_sqlite
    done, inserted = await store(session, entries())
    fresh = [e for _, e in done] if inserted is None else [e for r, e in done if r[0] in inserted]
    result.inserted = len(fresh)
    result.duplicates += len(done) - len(fresh)
    bulk_events.record_encoded(session, fresh)
    return result


# --- reads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The query of a read: the window (required) and the optional filters."""

    start: datetime
    end: datetime
    types: frozenset[int] | None = None
    user: str | None = None  # applied by scope_for (it checks the user exists and is visible)
    dialled: str | None = None
    caller: str | None = None
    site: str | None = None
    group: str | None = None
    orig_callid: str | None = None
    term_callid: str | None = None
    zone: ZoneInfo | None = None


@dataclass(frozen=True)
class Visible:
    """Which CDRs a read may see (`clauses`), and for a user-level read whose they are."""

    clauses: tuple[ColumnElement[bool], ...]
    domain: Domain | None = None
    user: str | None = None  # the user whose point of view the rows take (CdrU fields)


def user_clause(domain: str, user: str) -> ColumnElement[bool]:
    """CDRs where `user@domain` is either end."""
    return or_(
        and_(Cdr.orig_user == user, Cdr.orig_domain == domain),
        and_(Cdr.term_user == user, Cdr.term_domain == domain),
    )


def _check_reader(caller: Caller) -> None:
    if caller.scope is Scope.NDP:
        raise deny("The NDP scope cannot read call history")


async def scope_for(
    session: AsyncSession,
    caller: Caller,
    domain_name: str | None,
    user_name: str | None,
    *,
    user_view: bool = True,
) -> Visible:
    """The CDRs a caller may read at `/cdrs`, `/domains/{d}/cdrs` or `…/users/{u}/cdrs`.

    With `user_name` only that user's CDRs (404 for a user that does not exist, 403 for one
    the caller may not read); `user_view` adds the per-user (CdrU) fields to the rows.
    """
    if domain_name is None:
        if user_name is not None:
            raise BadRequest("The user filter needs a domain: use /domains/{domain}/cdrs?user=…")
        if caller.is_super:
            return Visible(())
        if caller.is_reseller and caller.reseller_id is not None:
            owned = select(Domain.id).where(Domain.reseller_id == caller.reseller_id)
            return Visible((Cdr.domain_id.in_(owned),))
        raise deny(
            f"A {caller.scope} reads call history under /domains/~/cdrs; "
            "/cdrs is for Super Users and Resellers"
        )
    _check_reader(caller)
    if user_name is not None:
        target = await users.get(session, caller, domain_name, user_name)
        d = target.domain
        return Visible(
            (Cdr.domain_id == d.id, user_clause(d.name, target.user)),
            d,
            target.user if user_view else None,
        )
    d = await domains.get(session, caller, domain_name)
    if caller.is_user_level:
        if caller.user is None or caller.domain_id != d.id:
            raise deny(f"A {caller.scope} reads only its own call history")
        return Visible((Cdr.domain_id == d.id, user_clause(d.name, caller.user)), d, caller.user)
    if caller.scope is Scope.SITE_MANAGER:
        return Visible(
            (
                Cdr.domain_id == d.id,
                or_(Cdr.orig_site == caller.site, Cdr.term_site == caller.site),
            ),
            d,
        )
    return Visible((Cdr.domain_id == d.id,), d)


async def _filter_clauses(
    session: AsyncSession, caller: Caller, scope: Visible, f: Filters
) -> list[ColumnElement[bool]]:
    if f.end <= f.start:
        raise BadRequest("datetime-end must be after datetime-start")
    clauses = [*scope.clauses, Cdr.start_time >= f.start, Cdr.start_time < f.end]
    if f.types is not None:
        clauses.append(
            Cdr.direction == next(iter(f.types))
            if len(f.types) == 1
            else Cdr.direction.in_(sorted(f.types))
        )
    if f.site:
        clauses.append(or_(Cdr.orig_site == f.site, Cdr.term_site == f.site))
    if f.group:
        clauses.append(or_(Cdr.orig_department == f.group, Cdr.term_department == f.group))
    if f.dialled:
        clauses.append(Cdr.dialled.like(like_pattern(f.dialled), escape="\\"))
    if f.caller:
        clauses.append(Cdr.caller.like(like_pattern(f.caller), escape="\\"))
    if f.orig_callid:
        clauses.append(Cdr.orig_callid == f.orig_callid)
    if f.term_callid:
        clauses.append(Cdr.term_callid == f.term_callid)
    return clauses


async def select_rows(
    session: AsyncSession,
    caller: Caller,
    scope: Visible,
    f: Filters,
    page: Page,
    *,
    paged: bool = True,
) -> Select[Any]:
    """The SELECT of a read: scope, window, filters, the page's order; its offset and limit
    unless `paged` is false (an export of the whole window)."""
    clauses = await _filter_clauses(session, caller, scope, f)
    stmt = page.apply(select(TABLE).where(*clauses), SORTABLE, "call-start-datetime")
    if not paged:
        stmt = stmt.limit(None).offset(None)
    return stmt.order_by(Cdr.id)


def render(row: Mapping[str, Any], zone: ZoneInfo | None, user: str | None) -> dict[str, Any]:
    """A stored CDR as the API shows it: every CdrD field (null when unknown), in spec order;
    on a user's read also the CdrU fields from that user's point of view."""
    out: dict[str, Any] = dict.fromkeys(CDR_FIELDS)
    data = row["data"]
    if data:
        out.update(data)
        if zone is not None:
            for key in DATETIME_FIELDS.intersection(data):
                stamp = to_utc(data[key], key)
                out[key] = render_datetime(stamp, zone)
    for api, column in COLUMNS.items():
        value = row[column]
        if column in DATETIME_COLUMNS:
            value = zulu(value) if zone is None else render_datetime(value, zone)
        out[api] = value
    if user is not None:
        out.update(_cdru(row, out, user))
    return out


def _epoch(value: datetime | None) -> int:
    return int(value.timestamp()) if value is not None else 0


def _cdru(row: Mapping[str, Any], out: Mapping[str, Any], user: str) -> dict[str, Any]:
    is_orig = row["orig_user"] == user and row["orig_domain"] == row["domain"]
    return {
        "uid": f"{user}@{row['domain']}",
        "cdr_id": row["cdr_id"],
        "type": row["direction"],
        "time_start": _epoch(row["start_time"]),
        "time_answer": _epoch(row["answer_time"]),
        "time_release": _epoch(row["end_time"]),
        "duration": row["total_seconds"],
        "orig_to_uri": out.get("call-orig-to-uri"),
        "number": row["dialled"] if is_orig else row["caller"],
        "name": (row["term_user"] if is_orig else out.get("call-orig-from-name")) or None,
        "onnet": 1 if row["direction"] == ON_NET else 0,
        "hide": int(out.get("hide-from-results") or 0),
        "tag": out.get("call-tag") or "",
        "expected_trace": bool(out.get("is-trace-expected") or False),
    }


def known_fields(scope: Visible) -> tuple[str, ...]:
    return CDR_FIELDS + CDRU_FIELDS if scope.user is not None else CDR_FIELDS


async def list_(
    session: AsyncSession, caller: Caller, scope: Visible, f: Filters, page: Page
) -> list[dict[str, Any]]:
    stmt = await select_rows(session, caller, scope, f, page)
    rows = (await session.execute(stmt)).mappings().all()
    return [render(r, f.zone, scope.user) for r in rows]


async def count(
    session: AsyncSession, caller: Caller, scope: Visible, f: Filters
) -> dict[str, int]:
    """`{total, minutes, seconds}`: how many CDRs, and their summed total duration."""
    clauses = await _filter_clauses(session, caller, scope, f)
    total, seconds = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Cdr.total_seconds), 0)).where(*clauses)
        )
    ).one()
    return {"total": int(total), "minutes": billed_minutes(int(seconds)), "seconds": int(seconds)}


async def export_csv(
    open_reader: Callable[[], AsyncSession],
    stmt: Select[Any],
    *,
    columns: Sequence[str],
    zone: ZoneInfo | None,
    user: str | None,
    chunk_rows: int = 500,
) -> AsyncIterator[bytes]:
    """The rows of `stmt` as CSV, a chunk at a time, from a session of its own.

    The query runs on a server-side cursor (PostgreSQL) or a stepped statement (SQLite) and
    rows are fetched `chunk_rows` at a time, so memory stays flat however many rows there are.
    The request's own session has already ended by the time the body streams, hence the
    separate reader session.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    yield buffer.getvalue().encode()
    async with open_reader() as session:
        result = await session.stream(stmt.execution_options(yield_per=chunk_rows))
        async for chunk in result.mappings().partitions(chunk_rows):
            buffer.seek(0)
            buffer.truncate()
            for row in chunk:
                shown = render(row, zone, user)
                # csv writes None as an empty cell; every CdrD value is a plain value.
                writer.writerow([shown[c] for c in columns])
            yield buffer.getvalue().encode()
