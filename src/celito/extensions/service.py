"""The domain's extension plan: claim, release and look up who owns an extension."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.errors import Conflict
from celito.extensions.models import Extension

Kind = Literal["user", "callqueue", "autoattendant", "conference"]
KINDS: tuple[Kind, ...] = ("user", "callqueue", "autoattendant", "conference")


async def kind_of(session: AsyncSession, domain_id: int, extension: str) -> Kind | None:
    found = await session.scalar(
        select(Extension.kind).where(
            Extension.domain_id == domain_id, Extension.extension == extension
        )
    )
    return found  # type: ignore[return-value]


async def claim(
    session: AsyncSession, domain_id: int, domain_name: str, extension: str, kind: Kind
) -> None:
    """Reserves the extension for `kind`, or 409 naming what already has it."""
    taken = await kind_of(session, domain_id, extension)
    if taken is not None:
        what = "a user" if taken == "user" else f"a {taken}"
        raise Conflict(f"Extension {extension} in domain {domain_name} already belongs to {what}")
    session.add(Extension(domain_id=domain_id, extension=extension, kind=kind))
    await session.flush()


async def release(session: AsyncSession, domain_id: int, extension: str) -> None:
    await session.execute(
        delete(Extension).where(Extension.domain_id == domain_id, Extension.extension == extension)
    )


async def of_kind(session: AsyncSession, domain_id: int, kind: Kind) -> list[str]:
    rows = await session.scalars(
        select(Extension.extension).where(Extension.domain_id == domain_id, Extension.kind == kind)
    )
    return list(rows.all())
