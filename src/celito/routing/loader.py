"""Reads one domain's routing configuration into a `Snapshot` (the only I/O of routing)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.answerrules import service as answerrules
from celito.answerrules.models import AnswerRule
from celito.devices import service as devices_service
from celito.domains.models import Domain
from celito.errors import NotFound
from celito.extensions import service as extensions
from celito.phonenumbers import service as numbers_service
from celito.routing.hooks import DeviceSource, NumberSource
from celito.routing.snapshot import DEFAULT_RING_SECONDS, Snapshot, UserConfig
from celito.timeframes import service as timeframes
from celito.timeframes.schedule import Schedule
from celito.users.models import User


async def load_snapshot(
    session: AsyncSession,
    domain_id: int,
    *,
    devices: DeviceSource | None = None,
    numbers: NumberSource | None = None,
) -> Snapshot:
    """The domain's users (time zone, voicemail on/off, ring-no-answer timeout) with their
    answer rules and time frames, its call queues, auto attendants and conferences (from the
    extension plan), and the devices and phone numbers their resources provide (see
    the devices and phone-numbers services). No caller: whoever asks has been checked already."""
    domain = await session.get(Domain, domain_id)
    if domain is None:
        raise NotFound(f"Domain #{domain_id} does not exist")
    people = (
        await session.scalars(select(User).where(User.domain_id == domain_id).order_by(User.user))
    ).all()
    frames = {t.id: t for t in await timeframes.of_domain(session, domain_id)}
    by_user: dict[int, list[AnswerRule]] = {}
    for r in await answerrules.of_domain(session, domain_id):
        by_user.setdefault(r.user_id, []).append(r)
    compiled: dict[int, Schedule] = {}
    configs = []
    for u in people:
        attrs = u.attributes or {}
        ring = attrs.get("ring_no_answer_timeout_seconds")
        configs.append(
            UserConfig(
                user=u.user,
                time_zone=u.time_zone,
                voicemail=bool(attrs.get("voicemail_enabled", True)),
                ring_seconds=int(ring) if ring else DEFAULT_RING_SECONDS,
                rules=answerrules.compile_rules(by_user.get(u.id, []), frames, compiled),
            )
        )
    device_source = devices or devices_service.routing_devices
    number_source = numbers or numbers_service.routing_numbers
    return Snapshot(
        domain=domain.name,
        time_zone=domain.time_zone or "UTC",
        users=tuple(configs),
        devices=tuple(await device_source(session, domain_id)),
        queues=frozenset(await extensions.of_kind(session, domain_id, "callqueue")),
        attendants=frozenset(await extensions.of_kind(session, domain_id, "autoattendant")),
        conferences=frozenset(await extensions.of_kind(session, domain_id, "conference")),
        numbers=tuple(await number_source(session, domain_id)),
    )
