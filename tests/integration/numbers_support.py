"""Helpers for the devices, phone-number and dial-plan tests: direct database work (what the
telephony plane or another flow would do in-process) and unique valid phone numbers."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.db import Database
from celito.domains.models import Domain
from celito.extensions import service as extensions
from celito.extensions.service import Kind
from celito.phonenumbers.e164 import normalize
from tests.support.live import LiveServer

T = TypeVar("T")
V2 = "/ns-api/v2"


def in_db(server: LiveServer, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Runs `work` in one committed transaction against the live server's database."""

    async def go() -> T:
        db = Database(server.settings.resolved_database_url)
        try:
            async with db.writer() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await db.dispose()

    return asyncio.run(go())


async def domain_id(session: AsyncSession, name: str) -> int:
    found = await session.scalar(select(Domain.id).where(Domain.name == name))
    assert found is not None
    return found


def claim(server: LiveServer, domain: str, extension: str, kind: Kind) -> None:
    """Gives `extension` to a call queue / attendant / conference, as their services would."""

    async def work(session: AsyncSession) -> None:
        await extensions.claim(session, await domain_id(session, domain), domain, extension, kind)

    in_db(server, work)


def new_number() -> str:
    """A valid North American number no other test uses (as +E.164)."""
    while True:
        candidate = f"+1212{secrets.randbelow(800) + 200}{secrets.randbelow(10000):04d}"
        try:
            return normalize(candidate)
        except ValueError:
            continue
