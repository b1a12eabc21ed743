"""What phones report through their action URLs, applied to the platform's state.

A report (one action-URL request) is authenticated by the phone's MAC and per-phone token,
updates what the platform knows about the phone (last seen, address, firmware, registration
per account, DND, forwarding, the current call), and becomes events in the same transaction:

- `phone` (always): the Yealink event with every variable the phone sent;
- `device` (registered / unregistered / register_failed): the device of the account;
- `call` (call events): the phone's view of its call (`source: phone`, the phone-local call id);
- `presence`: through presence.refresh when DND or an account's registration changed;
- and one queued URL call per matching phone hook (phones.hooks).

Reports are applied in batches (yealink.ingest): the batch shares one transaction and one read
of the phones, hooks and devices it touches.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.db import utcnow
from celito.devices import service as devices
from celito.devices.models import Device
from celito.devices.schemas import SECRET_FIELDS
from celito.events import outbox
from celito.kit.schema import format_datetime
from celito.phones import hooks, tokens
from celito.phones import service as phones
from celito.phones.models import Phone, PhoneLine
from celito.presence import service as presence
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


def _line_of(phone: Phone, report: Report) -> PhoneLine | None:
    """The account the event is about: by `$active_user`, else the first account."""
    who = report.variables.get("active_user", "")
    for line in phone.lines:
        if line.device.name == who:
            return line
    return phone.lines[0] if phone.lines and not who else None


def _payload(phone: Phone, report: Report, line: PhoneLine | None) -> dict[str, Any]:
    return {
        "mac": phone.mac,
        "model": phone.model,
        "domain": phone.domain.name,
        "user": line.device.user.user if line else "",
        "device": line.device.name if line else "",
        "event": report.event.name,
        "source-ip": report.source_ip,
        "received-datetime": format_datetime(report.at),
        "variables": dict(report.variables),
    }


async def apply(session: AsyncSession, reports: Sequence[Report]) -> list[Outcome]:
    """Applies a batch of reports in the session's transaction; one outcome per report."""
    macs = {r.mac for r in reports}
    found = {p.mac: p for p in (await session.scalars(phones._loaded().where(Phone.mac.in_(macs))))}
    key = await tokens.key(session)
    domain_hooks = await hooks.active_for(session, {p.domain_id for p in found.values()})
    outcomes: list[Outcome] = []
    refresh: dict[str, set[str]] = {}
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
        if changed_presence and line is not None:
            refresh.setdefault(phone.domain.name, set()).add(line.device.user.user)
        _emit(session, phone, report, line)
        hooks.queue_calls(session, domain_hooks.get(phone.domain_id, []), phone, report, line)
        outcomes.append("ok")
    await session.flush()
    for domain, users in refresh.items():
        await presence.refresh(session, domain, users)
    return outcomes


def _update_state(phone: Phone, report: Report, line: PhoneLine | None) -> bool:
    """Records what the report says; True when the phone's presence-relevant state changed."""
    v = report.variables
    name = report.event.name
    phone.last_seen_at = report.at
    phone.last_ip = report.source_ip
    phone.last_event = name
    phone.last_event_key = report.fingerprint
    if v.get("firmware"):
        phone.firmware = v["firmware"][:64]
    changed = False
    if name in ("registered", "unregistered", "register_failed") and line is not None:
        position = str(line.position)
        now = name == "registered"
        if bool(phone.registered.get(position)) != now:
            phone.registered = {**phone.registered, position: now}
            changed = True
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


def _emit(session: AsyncSession, phone: Phone, report: Report, line: PhoneLine | None) -> None:
    domain = phone.domain
    user = line.device.user.user if line else ""
    scope = {"reseller": domain.reseller.name, "domain": domain.name, "user": user}
    outbox.record(session, "phone", report.event.name, _payload(phone, report, line), **scope)
    name = report.event.name
    if name in ("registered", "unregistered", "register_failed") and line is not None:
        device = devices.to_out(line.device).model_dump(
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
                "domain": domain.name,
                "device": line.device.name if line else "",
                "time-datetime": format_datetime(report.at),
            },
            **scope,
        )


async def users_with_dnd(session: AsyncSession, domain_id: int, users: Any) -> set[str]:
    """The presence DND lookup: users with do-not-disturb on at one of their phones."""
    stmt = (
        select(User.user)
        .join(Device, Device.user_id == User.id)
        .join(PhoneLine, PhoneLine.device_id == Device.id)
        .join(Phone, Phone.id == PhoneLine.phone_id)
        .where(Phone.domain_id == domain_id, Phone.dnd.is_(True))
    )
    if users is not None:
        stmt = stmt.where(User.user.in_(list(users)))
    return set(await session.scalars(stmt))
