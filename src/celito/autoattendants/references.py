"""Who routes calls to an extension: attendant menus and call queue overflows.

Reads only the tables, so every service (queues, attendants, conferences, and users when they
are deleted) can ask before an extension goes away.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.autoattendants.destinations import EXTENSION_APPS
from celito.autoattendants.menus import destinations
from celito.autoattendants.models import AutoAttendant
from celito.callqueues.models import CallQueue


async def references_to(
    session: AsyncSession, domain_id: int, extension: str, *, ignore_attendant: str | None = None
) -> list[str]:
    """What sends calls to `extension`, for a person to read (empty when nothing does)."""
    found: list[str] = []
    queues = await session.scalars(
        select(CallQueue.callqueue).where(
            CallQueue.domain_id == domain_id,
            CallQueue.overflow_user == extension,
            CallQueue.overflow_application != "",
        )
    )
    found += [f"call queue {q} (overflow)" for q in queues.all()]
    rows = await session.scalars(
        select(AutoAttendant)
        .where(AutoAttendant.domain_id == domain_id)
        .order_by(AutoAttendant.extension, AutoAttendant.prompt)
    )
    for aa in rows.all():
        if ignore_attendant is not None and aa.extension == ignore_attendant:
            continue
        for path, key, app, target in destinations(aa.menu):
            if app in EXTENSION_APPS and target == extension:
                found.append(f"attendant {aa.extension} ({aa.prompt}) {' → '.join((*path, key))}")
    return found
