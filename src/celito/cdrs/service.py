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

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
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
T = TypeVar("T")
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
_PLAIN = frozenset({str, int, float, bool})
# (API name, column, max length) of the text columns a source row fills directly.
_TEXT_COLUMNS = tuple(
    (api, column, _LENGTHS[column])
    for api, column in COLUMNS.items()
    if column in _LENGTHS and column not in ("cdr_id", "domain", "reseller")
)


def _text(value: Any, name: str, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if type(value) is not str:
        value = str(value)
    if len(value) > limit or "\x00" in value:
        raise ValueError(f"{name} is longer than {limit} characters or holds a NUL")
    return str(value)


def zulu(value: datetime | None) -> str | None:
    """A UTC datetime as `2026-11-27T13:00:00Z` (the API's form), quickly."""
    return None if value is None else value.isoformat(timespec="seconds")[:19] + "Z"


def _prepare(row: Mapping[str, Any], known_domains: Mapping[str, _DomainInfo]) -> dict[str, Any]:
    """One source row (CdrD names) as a `cdrs` insert; ValueError says why it is refused.

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
    hold = to_int(get("call-on-hold-duration-seconds"), "call-on-hold-duration-seconds")
    out: dict[str, Any] = {
        "domain_id": info.id,
        "domain": info.name,
        "reseller": info.reseller,
        "start_time": start,
        "answer_time": answer,
        "end_time": end,
        "direction": direction,
        "total_seconds": total,
        "talking_seconds": talking,
        "hold_seconds": hold or 0,
    }
    for api, column, limit in _TEXT_COLUMNS:
        value = get(api)
        out[column] = None if value is None or value == "" else _text(value, api, limit)
    # An end named without its domain is an end in this domain.
    if out["orig_user"] and not out["orig_domain"]:
        out["orig_domain"] = info.name
    if out["term_user"] and not out["term_domain"]:
        out["term_domain"] = info.name
    out["caller"] = _text(
        get("call-orig-caller-id") or get("call-orig-from-user"), "call-orig-caller-id", 64
    )
    out["dialled"] = _text(
        get("call-orig-request-user") or get("call-orig-to-user"), "call-orig-request-user", 64
    )
    out["cdr_id"] = _text(get("id"), "id", 64) or cdr_id_for(info.name, row, start)
    data = {k: row[k] for k in row.keys() - _COLUMN_NAMES}
    for key in [k for k, v in data.items() if v is None or v == ""]:
        del data[key]
    for alias in ALIASES.keys() & data.keys():
        data[ALIASES[alias]] = data.pop(alias)
    for key in _DATA_DATETIMES.intersection(data):
        data[key] = zulu(to_utc(data[key], key))
    for key in _DATA_INTS.intersection(data):
        data[key] = to_int(data[key], key)
    for key, value in data.items():
        if type(value) not in _PLAIN:
            raise ValueError(f"{key}: {type(value).__name__} is not a plain value")
    out["data"] = data
    return out


# The statements below are built once, from the table's own column names (no input in them).
_INSERT_COLUMNS = tuple(c.name for c in TABLE.columns if c.name != "id")
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
# A UTC datetime is stored in SQLite as SQLAlchemy writes it: `2026-11-27 13:00:00.000000`.
_STAMPS = ("start_time", "answer_time", "end_time")
_STAMP_POSITIONS = tuple(_INSERT_COLUMNS.index(c) for c in _STAMPS)
_DATA_POSITION = _INSERT_COLUMNS.index("data")
_dumps = json.JSONEncoder(separators=(",", ":")).encode
_DUPLICATE = (IntegrityError, psycopg.errors.UniqueViolation)


async def _copy(
    session: AsyncSession,
    statement: str,
    rows: list[dict[str, Any]],
    meanwhile: Callable[[], T] | None = None,
) -> T | None:
    """COPYs the rows; `meanwhile` runs after the last row is sent and before the COPY is
    closed, so its Python work overlaps the database's work on the rows."""
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    data = _DATA_POSITION
    side: T | None = None
    async with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for r in rows:
            values = [r[c] for c in _INSERT_COLUMNS]
            values[data] = _dumps(values[data])
            await copy.write_row(values)
        if meanwhile is not None:
            side = meanwhile()
    return side


async def _store_postgres(
    session: AsyncSession, rows: list[dict[str, Any]], meanwhile: Callable[[], T]
) -> tuple[set[str], T]:
    side: T | None = None
    try:
        async with session.begin_nested():
            side = await _copy(session, _PG_COPY, rows, meanwhile)
        assert side is not None
        return {r["cdr_id"] for r in rows}, side
    except _DUPLICATE:
        pass
    connection = await session.connection()
    await connection.exec_driver_sql(_PG_STAGE)
    await _copy(session, _PG_STAGE_COPY, rows)
    inserted = set((await session.execute(_PG_MOVE)).scalars().all())
    await connection.exec_driver_sql("TRUNCATE cdrs_stage")
    return inserted, side if side is not None else meanwhile()


def _sqlite_params(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    params = []
    for r in rows:
        values = [r[c] for c in _INSERT_COLUMNS]
        for k in _STAMP_POSITIONS:
            if values[k] is not None:
                values[k] = values[k].isoformat(" ", "microseconds")[:26]
        values[_DATA_POSITION] = _dumps(values[_DATA_POSITION])
        params.append(tuple(values))
    return params


async def _store_sqlite(
    session: AsyncSession, rows: list[dict[str, Any]], meanwhile: Callable[[], T]
) -> tuple[set[str], T]:
    connection = await session.connection()
    params = _sqlite_params(rows)
    try:
        async with session.begin_nested():
            # The driver runs the insert in its own thread, mostly without the GIL: start it,
            # do `meanwhile`'s Python work alongside, then wait for it.
            running = asyncio.ensure_future(connection.exec_driver_sql(_SQLITE_INSERT, params))
            await asyncio.sleep(0)
            try:
                side = meanwhile()
            finally:
                await running
        return {r["cdr_id"] for r in rows}, side
    except _DUPLICATE:
        pass
    # A SQLite writer holds the database lock for its whole transaction (BEGIN IMMEDIATE), so
    # an id absent now stays absent until the insert: look, then insert the rest.
    ids = [r["cdr_id"] for r in rows]
    present: set[str] = set()
    for i in range(0, len(ids), 500):
        found = await session.scalars(
            select(TABLE.c.cdr_id).where(TABLE.c.cdr_id.in_(ids[i : i + 500]))
        )
        present.update(found.all())
    fresh = [p for p, r in zip(params, rows, strict=True) if r["cdr_id"] not in present]
    if fresh:
        await connection.exec_driver_sql(_SQLITE_INSERT, fresh)
    return {r["cdr_id"] for r in rows if r["cdr_id"] not in present}, meanwhile()


def _event_payload(v: Mapping[str, Any]) -> dict[str, Any]:
    """The `cdr` event of a stored row: the EVENT_FIELDS, built directly (runs per CDR)."""
    data = v["data"]
    return {
        "id": v["cdr_id"],
        "domain": v["domain"],
        "reseller": v["reseller"],
        "call-direction": v["direction"],
        "call-start-datetime": zulu(v["start_time"]),
        "call-answer-datetime": zulu(v["answer_time"]),
        "call-disconnect-datetime": zulu(v["end_time"]),
        "call-total-duration-seconds": v["total_seconds"],
        "call-talking-duration-seconds": v["talking_seconds"],
        "call-orig-call-id": v["orig_callid"],
        "call-orig-user": v["orig_user"],
        "call-orig-domain": v["orig_domain"],
        "call-orig-caller-id": data.get("call-orig-caller-id"),
        "call-orig-request-user": data.get("call-orig-request-user"),
        "call-term-call-id": v["term_callid"],
        "call-term-user": v["term_user"],
        "call-term-domain": v["term_domain"],
    }


def _event_user(values: Mapping[str, Any]) -> str:
    """The user a `cdr` event is filed under: the caller if local, else the callee if local."""
    if values["orig_user"] and values["orig_domain"] == values["domain"]:
        return str(values["orig_user"])
    if values["term_user"] and values["term_domain"] == values["domain"]:
        return str(values["term_user"])
    return ""


async def ingest(session: AsyncSession, rows: Iterable[Mapping[str, Any]]) -> IngestResult:
    """Stores a batch of CDRs (CdrD field names) from the telephony plane or an import.

    A batch goes in with one COPY (PostgreSQL) or one executemany (SQLite), so it costs a few
    round trips whatever its size; a batch holding a CDR stored before takes a slower path
    that skips it, so re-sending is harmless (same `id`, never stored twice). A CDR without
    `id` gets a stable one from its domain, call ids, leg and start time. A row that cannot be
    stored (unknown domain or field, bad value) is reported in `rejected` with its index and
    reason; the rest of the batch is stored. Each stored CDR emits one `cdr` event (filed under
    its domain and its local caller, else its local callee), written in the same transaction.
    Nothing is committed here: the caller commits (a few thousand rows per transaction is the
    sweet spot).
    """
    batch = rows if isinstance(rows, Sequence) else list(rows)
    result = IngestResult(received=len(batch))
    if not batch:
        return result
    known = await _domains_named(session, {str(r.get("domain") or "").lower() for r in batch})
    prepared: dict[str, dict[str, Any]] = {}
    for index, row in enumerate(batch):
        try:
            values = _prepare(row, known)
        except ValueError as exc:
            result.rejected.append((index, str(exc)))
            continue
        if values["cdr_id"] in prepared:
            result.duplicates += 1
            continue
        prepared[values["cdr_id"]] = values
    if not prepared:
        return result
    fresh = list(prepared.values())

    def encode_events() -> list[bulk_events.Encoded]:
        return bulk_events.encode(
            session,
            "cdr",
            "create",
            ((_event_payload(v), v["reseller"], v["domain"], _event_user(v)) for v in fresh),
        )

    store = _store_postgres if session.get_bind().dialect.name == "postgresql" else _store_sqlite
    inserted, events = await store(session, fresh, encode_events)
    result.inserted = len(inserted)
    result.duplicates += len(fresh) - len(inserted)
    bulk_events.record_encoded(
        session,
        events
        if len(inserted) == len(fresh)
        else [e for e, v in zip(events, fresh, strict=True) if v["cdr_id"] in inserted],
    )
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
