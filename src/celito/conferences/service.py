"""Conference bridges: an extension of the domain where callers meet.

Office Managers (and the Reseller and Super User above them) create, change and delete
bridges. The bridge's owner (a user of the domain) may change its own bridge's settings and
PINs, but not its extension or owner. Everyone in the domain reads the bridges; PINs are shown
only to managers and the owner.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.policy import deny
from celito.auth.scopes import DOMAIN_MANAGERS
from celito.autoattendants.references import references_to
from celito.conferences.models import Conference
from celito.conferences.schemas import (
    ATTRIBUTE_DEFAULTS,
    READ_ONLY,
    ConferenceCreate,
    ConferenceOut,
    ConferenceUpdate,
)
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import BadRequest, Conflict, NotFound, Unprocessable
from celito.extensions import service as extensions
from celito.kit.names import check_extension
from celito.kit.paging import Page
from celito.kit.timeparse import parse_api_datetime

SORTABLE = {
    "conference": Conference.conference,
    "name": Conference.name,
    "owner": Conference.owner,
    "created-datetime": Conference.created_at,
}
_COLUMNS = ("name", "owner", "leader_pin", "participants_pin", "speaker_pin", "max_participants")


def _sees_pins(caller: Caller, c: Conference) -> bool:
    if caller.scope in DOMAIN_MANAGERS:
        return True
    return bool(c.owner) and caller.user == c.owner and caller.domain_id == c.domain_id


def to_out(c: Conference, domain: Domain, *, pins: bool) -> ConferenceOut:
    attrs = {**ATTRIBUTE_DEFAULTS, **c.attributes}
    return ConferenceOut.model_validate(
        {
            **attrs,
            "conference": c.conference,
            "domain": domain.name,
            "aor": f"{c.conference}@{domain.name}",
            "name": c.name,
            "owner": c.owner,
            "owner_domain": domain.name if c.owner else "",
            "owner_uid": f"{c.owner}@{domain.name}" if c.owner else "",
            "direct_dial": attrs.get("direct_dial") or c.conference,
            "leader_pin": c.leader_pin if pins else None,
            "speaker_pin": (c.speaker_pin or None) if pins else None,
            "participants_pin": c.participants_pin if pins else None,
            "max_participants": str(c.max_participants),
            "quorum": str(attrs["quorum"]),
            "promptAudioId": attrs.get("prompt_audio_id"),
            "confOptions": attrs.get("conf_options"),
            "created-datetime": c.created_at,
            "last-modified-datetime": c.updated_at,
        }
    )


def _snapshot(c: Conference) -> dict[str, Any]:
    return {**{k: getattr(c, k) for k in _COLUMNS}, **c.attributes}


async def list_(
    session: AsyncSession, caller: Caller, domain_name: str, page: Page
) -> list[ConferenceOut]:
    domain = await domains.get(session, caller, domain_name)
    stmt = page.apply(
        select(Conference).where(Conference.domain_id == domain.id), SORTABLE, "conference"
    )
    return [
        to_out(c, domain, pins=_sees_pins(caller, c)) for c in (await session.scalars(stmt)).all()
    ]


async def count(session: AsyncSession, caller: Caller, domain_name: str) -> int:
    domain = await domains.get(session, caller, domain_name)
    return await _count(session, domain)


async def _count(session: AsyncSession, domain: Domain) -> int:
    total = await session.scalar(
        select(func.count()).select_from(Conference).where(Conference.domain_id == domain.id)
    )
    return int(total or 0)


async def _find(session: AsyncSession, domain: Domain, name: str) -> Conference:
    found = await session.scalar(
        select(Conference).where(Conference.domain_id == domain.id, Conference.conference == name)
    )
    if found is None:
        raise NotFound(f"Conference {name} does not exist in domain {domain.name}")
    return found


async def get(session: AsyncSession, caller: Caller, domain_name: str, name: str) -> ConferenceOut:
    domain = await domains.get(session, caller, domain_name)
    c = await _find(session, domain, name)
    return to_out(c, domain, pins=_sees_pins(caller, c))


def _when(value: str, field: str) -> str:
    try:
        return parse_api_datetime(value, field=field).strftime("%Y-%m-%dT%H:%M:%SZ")
    except BadRequest as exc:
        raise Unprocessable(exc.message) from None


async def _apply(
    session: AsyncSession,
    caller: Caller,
    domain: Domain,
    c: Conference,
    body: ConferenceCreate | ConferenceUpdate,
) -> None:
    values = body.model_dump(exclude_unset=True, exclude={"conference", *READ_ONLY})
    if "owner" in values:
        owner = (values.pop("owner") or "").strip()
        if owner != c.owner:
            if caller.scope not in DOMAIN_MANAGERS:
                raise deny("Only a manager can change a conference's owner")
            if owner and await extensions.kind_of(session, domain.id, owner) != "user":
                raise Unprocessable(f"owner: user {owner} does not exist in domain {domain.name}")
            c.owner = owner
    for column in ("name", "leader_pin", "participants_pin", "speaker_pin"):
        if column in values:
            setattr(c, column, values.pop(column) or "")
    if "max_participants" in values:
        c.max_participants = values.pop("max_participants") or 10
    for field in ("time_begin", "time_end"):
        if values.get(field):
            values[field] = _when(values[field], field)
    attributes = dict(c.attributes)
    for key, value in values.items():
        if value is None or value == "":
            attributes.pop(key, None)
        else:
            attributes[key] = value
    pins = [p for p in (c.leader_pin, c.participants_pin, c.speaker_pin) if p]
    if len(pins) != len(set(pins)):
        raise Unprocessable(
            "leader_pin, participants_pin and speaker_pin must differ, or callers could not "
            "be told apart"
        )
    quorum = int(attributes.get("quorum") or 0)
    if quorum > c.max_participants:
        raise Unprocessable(
            f"quorum ({quorum}) cannot exceed max_participants ({c.max_participants})"
        )
    begin, end = attributes.get("time_begin"), attributes.get("time_end")
    if begin and end and end <= begin:
        raise Unprocessable("time_end must be after time_begin")
    c.attributes = attributes


async def create(
    session: AsyncSession, caller: Caller, domain_name: str, body: ConferenceCreate
) -> ConferenceOut:
    domain = await domains.get(session, caller, domain_name)
    if caller.scope not in DOMAIN_MANAGERS:
        raise deny(f"A {caller.scope} cannot create conferences")
    extension = check_extension(body.conference)
    if extension.lower() == "count":
        raise Unprocessable("conference 'count' is reserved; use an extension number")
    limit = domains.limit_of(domain, "limits_max_conferences")
    if limit is not None and await _count(session, domain) >= limit:
        raise Conflict(f"Domain {domain.name} has reached its limit of {limit} conferences")
    c = Conference(
        domain_id=domain.id,
        conference=extension,
        name="",
        owner="",
        leader_pin="",
        participants_pin="",
        speaker_pin="",
        max_participants=10,
        attributes={},
    )
    await _apply(session, caller, domain, c, body)
    await extensions.claim(session, domain.id, domain.name, extension, "conference")
    session.add(c)
    await session.flush()
    audit.record(
        session,
        caller,
        "create",
        "conference",
        extension,
        reseller=domain.reseller.name,
        domain=domain.name,
        user=c.owner,
        after=_snapshot(c),
    )
    return to_out(c, domain, pins=True)


async def update(
    session: AsyncSession, caller: Caller, domain_name: str, name: str, body: ConferenceUpdate
) -> ConferenceOut:
    domain = await domains.get(session, caller, domain_name)
    c = await _find(session, domain, name)
    if caller.scope not in DOMAIN_MANAGERS and not _sees_pins(caller, c):
        raise deny(f"A {caller.scope} may only change conferences it owns")
    if body.conference is not None and body.conference != c.conference:
        raise Unprocessable(
            f"conference is the bridge's extension ({c.conference}) and cannot change"
        )
    before = _snapshot(c)
    await _apply(session, caller, domain, c, body)
    await session.flush()
    audit.record(
        session,
        caller,
        "update",
        "conference",
        c.conference,
        reseller=domain.reseller.name,
        domain=domain.name,
        user=c.owner,
        before=before,
        after=_snapshot(c),
    )
    return to_out(c, domain, pins=True)


async def delete(
    session: AsyncSession, caller: Caller, domain_name: str, name: str
) -> ConferenceOut:
    domain = await domains.get(session, caller, domain_name)
    if caller.scope not in DOMAIN_MANAGERS:
        raise deny(f"A {caller.scope} cannot delete conferences")
    c = await _find(session, domain, name)
    refs = await references_to(session, domain.id, c.conference)
    if refs:
        raise Conflict(
            f"Conference {c.conference} still receives calls from {', '.join(refs)}; "
            "change those first"
        )
    out = to_out(c, domain, pins=True)
    await session.delete(c)
    await extensions.release(session, domain.id, c.conference)
    audit.record(
        session,
        caller,
        "delete",
        "conference",
        c.conference,
        reseller=domain.reseller.name,
        domain=domain.name,
        user=c.owner,
        before=_snapshot(c),
    )
    return out


async def release_owner(session: AsyncSession, domain_id: int, user: str) -> list[str]:
    """For the deletion of a user: the bridges it owned become the domain's (so that a later
    user on the same extension does not inherit them). Answers those bridges. Does not
    commit."""
    owned = list(
        (
            await session.scalars(
                select(Conference).where(
                    Conference.domain_id == domain_id, Conference.owner == user
                )
            )
        ).all()
    )
    for c in owned:
        c.owner = ""
    await session.flush()
    return [c.conference for c in owned]
