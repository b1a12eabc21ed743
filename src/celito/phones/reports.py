"""What phones report through their action URLs, applied to the platform's state.

A report (one action-URL request) is authenticated by the phone's MAC and per-phone token,
updates what the platform knows about the phone (last seen, address, firmware, registration
per account, DND, forwarding, the current call), and becomes events in the same transaction:

- `phone` (always): the Yealink event with every variable the phone sent;
- `device` (registered / unregistered / register_failed): the device of the account;
- `call` (call events): the phone's view of its call (`source: phone`, the phone-local call id);
- `presence`: through presence.refresh when the phone's DND changed (presence reads
  registrations from the devices, which the telephony plane updates, not from phones' reports);
- and one queued URL call per matching phone hook (phones.hooks).

Reports are applied in batches (yealink.ingest): the batch shares one transaction and one read
of the phones, hooks and devices it touches.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    Dialect,
    Integer,
    Select,
    Table,
    Text,
    Update,
    bindparam,
    column,
    exists,
    func,
    select,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.ext.asyncio import AsyncSession

from celito.db import utcnow
from celito.devices import service as devices
from celito.devices.models import Device
from celito.devices.schemas import SECRET_FIELDS
from celito.domains.models import Domain
from celito.events import outbox
from celito.kit.schema import format_datetime
from celito.kit.sqllists import among
from celito.phones import hooks, rawsql, tokens
from celito.phones.models import Phone, PhoneHook, PhoneLine
from celito.presence import service as presence
from celito.resellers.models import Reseller
from celito.users.models import User
from celito.yealink import events as yealink_events

log = logging.getLogger("celito.phones")
Outcome = Literal["ok", "duplicate", "forbidden"]
DUPLICATE_WINDOW = timedelta(seconds=2)
CALL_STATES = {
    "incoming_call": "ringing",
    "outgoing_call": "dialing",
    "call_established": "talking",
    "answer_new_incoming_call": "talking",
    "hold": "held",
    "unhold": "talking",
    "held": "held-by-remote",
    "unheld": "talking",
    "call_terminated": "ended",
    "missed_call": "ended",
    "reject_incoming_call": "ended",
    "cancel_callout": "ended",
    "remote_busy": "ended",
    "call_remote_canceled": "ended",
    "forward_incoming_call": "ended",
    "transfer_finished": "ended",
}
FORWARDS = {
    "always_fwd_on": ("always", True),
    "always_fwd_off": ("always", False),
    "busy_fwd_on": ("busy", True),
    "busy_fwd_off": ("busy", False),
    "no_answer_fwd_on": ("no-answer", True),
    "no_answer_fwd_off": ("no-answer", False),
}


@dataclass
class Report:
    mac: str
    token: str
    event: yealink_events.PhoneEvent
    variables: dict[str, str]
    source_ip: str
    raw_query: str
    at: datetime = field(default_factory=utcnow)

    @property
    def fingerprint(self) -> str:
        text = f"{self.event.name}?{self.raw_query}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class _Line:
    position: int
    device_id: int
    device: str
    user_id: int
    user: str


@dataclass
class _Phone:
    """What a report reads and writes of a phone: its row, its domain and its accounts."""

    id: int
    mac: str
    model: str
    domain_id: int
    domain: str
    reseller: str
    token_version: int
    last_seen_at: datetime | None
    last_ip: str
    last_event: str
    last_event_key: str
    firmware: str
    registered: dict[str, Any]
    dnd: bool
    forwarding: dict[str, Any]
    call: dict[str, Any]
    domain_has_hooks: bool
    lines: list[_Line] = field(default_factory=list)
    updated_at: datetime | None = None


def _load_statement(dialect: Dialect) -> Select[Any]:
    """One read for the whole batch: columns, not ORM objects."""
    columns: list[Any] = [
        Phone.id,
        Phone.mac,
        Phone.model,
        Phone.domain_id,
        Domain.name,
        Reseller.name,
        Phone.token_version,
        Phone.last_seen_at,
        Phone.last_ip,
        Phone.last_event,
        Phone.last_event_key,
        Phone.firmware,
        Phone.registered,
        Phone.dnd,
        Phone.forwarding,
        Phone.call,
        exists().where(PhoneHook.domain_id == Phone.domain_id, hooks.ACTIVE),
        PhoneLine.position,
        PhoneLine.device_id,
        Device.name,
        Device.user_id,
        User.user,
    ]
    return (
        select(*columns)
        .join(Domain, Domain.id == Phone.domain_id)
        .join(Reseller, Reseller.id == Domain.reseller_id)
        .outerjoin(PhoneLine, PhoneLine.phone_id == Phone.id)
        .outerjoin(Device, Device.id == PhoneLine.device_id)
        .outerjoin(User, User.id == Device.user_id)
        .where(among(Phone.mac, "macs", dialect.name))
        .order_by(Phone.id, PhoneLine.position)
    )


_PHONES = cast(Table, Phone.__table__)
# What a report changes of a phone, `updated_at` included (as the column's onupdate would).
_SAVED = (
    "last_seen_at",
    "last_ip",
    "last_event",
    "last_event_key",
    "firmware",
    "registered",
    "dnd",
    "forwarding",
    "call",
    "updated_at",
)
_SAVE = (
    update(_PHONES)
    .where(_PHONES.c.id == bindparam("p_id"))
    .values({name: bindparam(f"p_{name}") for name in _SAVED})
)


def _save_all_statement() -> Update:
    """PostgreSQL: the batch's phones in one UPDATE from one JSON array of rows. Run as one
    statement per phone (psycopg pipelines them), every row's values passed through a dumper
    each cost more client CPU than the rest of the batch's write."""
    columns = [column("id", Integer), *(column(n, _PHONES.c[n].type) for n in _SAVED)]
    rows = (
        func.json_to_recordset(cast_(bindparam("rows", type_=Text), JSON))
        .table_valued(*columns)
        .render_derived(name="reported", with_types=True)
    )
    return (
        update(_PHONES)
        .where(_PHONES.c.id == rows.c.id)
        .values({name: rows.c[name] for name in _SAVED})
    )


_statements: dict[str, tuple[rawsql.Prepared, rawsql.Prepared]] = {}


def _prepared(dialect: Dialect) -> tuple[rawsql.Prepared, rawsql.Prepared]:
    """(the batch's read, its write) for the dialect, compiled once."""
    found = _statements.get(dialect.name)
    if found is None:
        save = (
            rawsql.Prepared.of(_save_all_statement(), dialect, ("rows",))
            if dialect.name == "postgresql"
            else rawsql.Prepared.of(_SAVE, dialect, ("p_id", *(f"p_{n}" for n in _SAVED)))
        )
        found = _statements[dialect.name] = (
            rawsql.Prepared.of(_load_statement(dialect), dialect, ("macs",)),
            save,
        )
    return found


async def _save(driver: Any, save: rawsql.Prepared, phones: Sequence[_Phone]) -> None:
    now = utcnow()
    for p in phones:
        p.updated_at = now
    if save.sqlite:
        await save.execute_many(
            driver,
            [{"p_id": p.id, **{f"p_{name}": getattr(p, name) for name in _SAVED}} for p in phones],
        )
        return
    # In id order: two batches updating phones at once then lock them in the same order.
    rows = [
        {"id": p.id, **{name: getattr(p, name) for name in _SAVED}}
        for p in sorted(phones, key=lambda p: p.id)
    ]
    await save.execute(driver, {"rows": json.dumps(rows, default=_json_time)})


def _json_time(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


async def _load(driver: Any, load: rawsql.Prepared, macs: set[str]) -> dict[str, _Phone]:
    found: dict[str, _Phone] = {}
    for values in await load.fetch(driver, {"macs": sorted(macs)}):
        phone = found.get(values[1])
        if phone is None:
            phone = found[values[1]] = _Phone(*values[:17])
        if values[17] is not None:
            phone.lines.append(_Line(*values[17:]))
    return found


def _line_of(phone: _Phone, report: Report) -> _Line | None:
    """The account the event is about: by `$active_user`, else the first account."""
    who = report.variables.get("active_user", "")
    for line in phone.lines:
        if line.device == who:
            return line
    return phone.lines[0] if phone.lines and not who else None


def _payload(phone: _Phone, report: Report, line: _Line | None) -> dict[str, Any]:
    return {
        "mac": phone.mac,
        "model": phone.model,
        "domain": phone.domain,
        "user": line.user if line else "",
        "device": line.device if line else "",
        "event": report.event.name,
        "source-ip": report.source_ip,
        "received-datetime": format_datetime(report.at),
        "variables": dict(report.variables),
    }


async def apply(session: AsyncSession, reports: Sequence[Report]) -> list[Outcome]:
    """Applies a batch of reports in the session's transaction; one outcome per report."""
    driver, dialect = await rawsql.in_session(session)
    load, save = _prepared(dialect)
    found = await _load(driver, load, {r.mac for r in reports})
    key = await tokens.key(session)
    domain_hooks = await hooks.active_for(
        session, {p.domain_id for p in found.values() if p.domain_has_hooks}
    )
    outcomes: list[Outcome] = []
    refresh: dict[str, set[str]] = {}
    changed: dict[int, _Phone] = {}
    devices_by_id = await _devices_reported(session, found, reports)
    for report in reports:
        phone = found.get(report.mac)
        if phone is None or not tokens.valid(key, phone.mac, phone.token_version, report.token):
            # Same answer for an unknown MAC and a wrong secret; a token check still runs so
            # the time taken does not tell them apart.
            if phone is None:
                tokens.valid(key, report.mac, 1, report.token)
            log.warning(
                "action URL refused: mac=%s event=%s from %s",
                report.mac,
                report.event.name,
                report.source_ip,
            )
            outcomes.append("forbidden")
            continue
        if (
            phone.last_event_key == report.fingerprint
            and phone.last_seen_at is not None
            and report.at - phone.last_seen_at < DUPLICATE_WINDOW
        ):
            log.info(
                "action URL repeated within 2 s, ignored: mac=%s %s", phone.mac, report.event.name
            )
            outcomes.append("duplicate")
            continue
        line = _line_of(phone, report)
        changed_presence = _update_state(phone, report, line)
        changed[phone.id] = phone
        if changed_presence and line is not None:
            refresh.setdefault(phone.domain, set()).add(line.user)
        _emit(session, phone, report, line, devices_by_id)
        source = hooks.Source(
            phone.mac,
            phone.model,
            phone.domain,
            line.user if line else "",
            line.user_id if line else None,
        )
        hooks.queue_calls(session, domain_hooks.get(phone.domain_id, []), source, report)
        outcomes.append("ok")
    if changed:
        await _save(driver, save, list(changed.values()))
    await session.flush()
    for domain, users in refresh.items():
        await presence.refresh(session, domain, users)
    return outcomes


_REGISTRATION = ("registered", "unregistered", "register_failed")


def _update_state(phone: _Phone, report: Report, line: _Line | None) -> bool:
    """Records what the report says; True when it changed what presence reads (DND)."""
    v = report.variables
    name = report.event.name
    phone.last_seen_at = report.at
    phone.last_ip = report.source_ip
    phone.last_event = name
    phone.last_event_key = report.fingerprint
    if v.get("firmware"):
        phone.firmware = v["firmware"][:64]
    changed = False
    if name in _REGISTRATION and line is not None:
        position = str(line.position)
        now = name == "registered"
        if bool(phone.registered.get(position)) != now:
            phone.registered = {**phone.registered, position: now}
    elif name in ("dnd_on", "dnd_off"):
        now = name == "dnd_on"
        changed = phone.dnd != now
        phone.dnd = now
    elif name in FORWARDS:
        kind, on = FORWARDS[name]
        forwarding = dict(phone.forwarding)
        if on:
            forwarding[kind] = {"target": v.get("target", ""), "seconds": v.get("fwd_time", "")}
        else:
            forwarding.pop(kind, None)
        phone.forwarding = forwarding
    elif name in CALL_STATES:
        state = CALL_STATES[name]
        if state == "ended":
            phone.call = {}
        else:
            phone.call = {
                "state": state,
                "call-id": v.get("call_id", ""),
                "direction": v.get("callDirection", ""),
                "remote": v.get("remote", ""),
                "remote-number": v.get("calledNumber", ""),
                "remote-name": v.get("display_remote", ""),
                "since": format_datetime(report.at),
            }
    return changed


def _emit(
    session: AsyncSession,
    phone: _Phone,
    report: Report,
    line: _Line | None,
    devices_by_id: dict[int, Device],
) -> None:
    user = line.user if line else ""
    scope = {"reseller": phone.reseller, "domain": phone.domain, "user": user}
    outbox.record(session, "phone", report.event.name, _payload(phone, report, line), **scope)
    name = report.event.name
    if name in _REGISTRATION and line is not None:
        device = devices.to_out(devices_by_id[line.device_id]).model_dump(
            by_alias=True, mode="json", exclude=set(SECRET_FIELDS)
        )
        device["phone-reported-registration"] = name
        device["device-provisioning-mac-address"] = phone.mac
        outbox.record(session, "device", "phone-registration", device, **scope)
    if name in CALL_STATES:
        v = report.variables
        outbox.record(
            session,
            "call",
            CALL_STATES[name],
            {
                "source": "phone",
                "mac": phone.mac,
                "event": name,
                "state": CALL_STATES[name],
                "call-id": v.get("call_id", ""),
                "direction": v.get("callDirection", ""),
                "duration": v.get("duration", ""),
                "local": v.get("local", ""),
                "remote": v.get("remote", ""),
                "remote-number": v.get("calledNumber", ""),
                "remote-name": v.get("display_remote", ""),
                "user": user,
                "domain": phone.domain,
                "device": line.device if line else "",
                "time-datetime": format_datetime(report.at),
            },
            **scope,
        )


async def _devices_reported(
    session: AsyncSession, found: dict[str, _Phone], reports: Sequence[Report]
) -> dict[int, Device]:
    """The devices whose registration the batch reports, read once: their `device` events
    show them as the API does."""
    ids = {
        line.device_id
        for r in reports
        if r.event.name in _REGISTRATION and r.mac in found
        for line in found[r.mac].lines
    }
    if not ids:
        return {}
    dialect = session.get_bind().dialect.name
    devices_read = await session.scalars(_DEVICES[dialect], {"ids": sorted(ids)})
    return {d.id: d for d in devices_read}


_DEVICES = {
    dialect: select(Device).where(among(Device.id, "ids", dialect, Integer))
    for dialect in ("postgresql", "sqlite")
}


_WITH_DND = exists().where(
    Device.user_id == User.id,
    PhoneLine.device_id == Device.id,
    Phone.id == PhoneLine.phone_id,
    Phone.dnd.is_(True),
)


def users_with_dnd() -> ColumnElement[bool]:
    """The presence DND lookup (presence.hooks): a user with do-not-disturb on at one of
    their phones."""
    return _WITH_DND
