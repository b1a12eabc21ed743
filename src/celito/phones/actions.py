"""Driving a phone through the API: dial, answer, hang up, hold, resume, DND, reboot, resync,
keys (Action URI, yealink.actionuri).

The phone is called at the address it last reported from (its action URLs), on its web port
(`static.network.port.http` / `network.port.http` in the overrides, else 80), with its web
credentials. A phone that does not answer is a 504, a refusal (wrong credentials, the
platform's address not in its allow-list) or an error a 502, each with the reason. Every
attempt is audited, successful or not.

Who may: the domain's managers, on any of its phones; a user, on the phones where one of its
own devices is an account (click-to-dial from a CRM).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.policy import deny
from celito.db import utcnow
from celito.devices import secrets
from celito.domains import service as domains
from celito.errors import BadGateway, Conflict, GatewayTimeout, Unprocessable
from celito.kit.schema import ApiModel, ApiOut
from celito.phones import service as phones
from celito.phones.models import Phone
from celito.yealink import actionuri

Action = Literal[
    "dial",
    "answer",
    "hangup",
    "hold",
    "resume",
    "dnd-on",
    "dnd-off",
    "reboot",
    "resync",
    "mute",
    "key",
]
WEB_PORT_KEYS = ("static.network.port.http", "network.port.http")


class ActionRequest(ApiModel):
    action: Action
    number: str | None = Field(None, max_length=32, description="dial: the number to call")
    line: int | None = Field(None, ge=1, le=16, description="dial: the account to call from")
    call_id: str | None = Field(
        None, max_length=16, description="answer/hangup/hold/resume: the phone's call id"
    )
    key: str | None = Field(
        None, max_length=200, description="key: a key name or a `;`-separated sequence"
    )


class ActionOut(ApiOut):
    mac: str
    action: str
    sent: str
    phone_address: str
    phone_status: int


@dataclass
class Plan:
    phone_mac: str
    domain: str
    reseller: str
    action: str
    query: str
    target: actionuri.Target
    details: dict[str, Any] = field(default_factory=dict)


def _query(phone: Phone, body: ActionRequest) -> str:
    a = body.action
    call_id = body.call_id or str(phone.call.get("call-id") or "")
    if call_id and not call_id.isdigit():
        raise Unprocessable("call-id is the phone's numeric call id (from $call_id)")
    if a == "dial":
        if not body.number or not actionuri.DIGITS.fullmatch(body.number):
            raise Unprocessable("dial needs number: digits, *, # or + (up to 32)")
        if body.line is None:
            return actionuri.query(f"number={body.number}")
        line = next((ln for ln in phone.lines if ln.position == body.line), None)
        if line is None:
            raise Unprocessable(f"the phone has no account {body.line}")
        return actionuri.query(
            f"number={body.number}", outgoing_uri=f"{line.device.name}@{phone.domain.name}"
        )
    if a == "answer":
        return actionuri.query(f"ASW:{call_id}" if body.call_id else "OK")
    if a == "hangup":
        return actionuri.query(f"CANCEL:{call_id}" if body.call_id else "CALLEND")
    if a == "hold":
        return actionuri.query(f"HOLD:{call_id}" if call_id else "F_HOLD")
    if a == "resume":
        if not call_id:
            raise Unprocessable("resume needs call-id (the phone reported no held call)")
        return actionuri.query(f"UNHOLD:{call_id}")
    if a == "key":
        keys = [k.strip() for k in (body.key or "").split(";") if k.strip()]
        if not keys:
            raise Unprocessable("key needs key: a key name such as F1, OK, L2 or 5")
        unknown = [k for k in keys if k not in actionuri.KEYS]
        if unknown:
            raise Unprocessable(f"unknown key(s) {', '.join(unknown)}")
        if len(keys) > 1 and phones.model_of(phone).touch:
            raise Unprocessable(f"a {phone.model} (touch screen) takes one key at a time")
        return actionuri.query(";".join(keys))
    fixed = {
        "dnd-on": "DNDOn",
        "dnd-off": "DNDOff",
        "reboot": "Reboot",
        "resync": "AutoP",
        "mute": "MUTE",
    }
    return actionuri.query(fixed[a])


def _web_port(phone: Phone, domain_overrides: dict[str, Any]) -> int:
    for layer in (phone.overrides, domain_overrides):
        for key in WEB_PORT_KEYS:
            if str(layer.get(key, "")).isdigit():
                return int(layer[key])
    return 80


async def plan(
    session: AsyncSession, caller: Caller, domain_name: str, mac: str, body: ActionRequest
) -> Plan:
    domain = await domains.get(session, caller, domain_name)
    phone = await _phone_for(session, caller, domain_name, mac)
    if not phone.last_ip:
        raise Conflict(
            f"Phone {phone.mac} has not reported its address yet; it does when it boots or "
            "registers (its action URLs)"
        )
    query = _query(phone, body)
    from celito.phones.provisioning import profile_for

    profile = await profile_for(session, domain)
    key = await secrets.load_key(session)
    password = secrets.unseal(
        key, phone.web_password, bound_to=phones.web_password_bound(phone.mac)
    )
    return Plan(
        phone_mac=phone.mac,
        domain=domain.name,
        reseller=domain.reseller.name,
        action=body.action,
        query=query,
        target=actionuri.Target(phone.last_ip, _web_port(phone, profile.overrides), password),
    )


async def _phone_for(session: AsyncSession, caller: Caller, domain_name: str, mac: str) -> Phone:
    if phones.is_manager(caller):
        return await phones.get(session, caller, domain_name, mac)
    domain = await domains.get(session, caller, domain_name)
    phone = await phones._find(session, domain, mac)
    if caller.user_id is None or all(ln.device.user_id != caller.user_id for ln in phone.lines):
        raise deny(
            f"A {caller.scope} may only control phones where one of its devices is an account"
        )
    return phone


def record(session: AsyncSession, caller: Caller, p: Plan, answer: actionuri.Answer) -> ActionOut:
    """Audits the attempt; raises 504/502 for a phone that did not answer or refused."""
    audit.record(
        session,
        caller,
        "action",
        "phone",
        p.phone_mac,
        reseller=p.reseller,
        domain=p.domain,
        details={
            "action": p.action,
            "sent": p.query,
            "phone-address": p.target.address,
            "phone-status": answer.status,
            "error": answer.error,
        },
    )
    where = f"Phone {p.phone_mac} at {p.target.address}"
    if answer.status is None:
        raise GatewayTimeout(f"{where} did not answer: {answer.error}")
    if answer.status in (401, 403):
        raise BadGateway(
            f"{where} refused the request ({answer.status}): its web credentials or Action URI "
            "allow-list do not match what the platform provisioned; let it download its file "
            "again (reboot it by hand once)"
        )
    if not 200 <= answer.status < 300:
        raise BadGateway(f"{where} answered {answer.status}")
    return ActionOut(
        mac=p.phone_mac,
        action=p.action,
        sent=p.query,
        phone_address=p.target.address,
        phone_status=answer.status,
    )


async def mark_resync(session: AsyncSession, p: Plan) -> None:
    if p.action in ("resync", "reboot"):
        phone = await session.scalar(phones._loaded().where(Phone.mac == p.phone_mac))
        if phone is not None:
            phone.resync_requested_at = utcnow()
