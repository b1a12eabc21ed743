"""Helpers for the CDR, call and presence tests: reach the live server's database the way the
telephony plane does (through the services, in a transaction of their own), and a fake
telephony engine to plug into the live server's runtime."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.db import Database
from celito.events.models import Event
from celito.runtime import Runtime
from celito.telephony.adapter import CallControl, OriginateRequest, TelephonyError
from tests.support.live import LiveServer

T = TypeVar("T")


def in_db(server: LiveServer, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Runs `work(session)` in one committed transaction on the server's database."""

    async def run() -> T:
        db = Database(server.settings.resolved_database_url)
        try:
            async with db.writer() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await db.dispose()

    return asyncio.run(run())


def events(server: LiveServer, domain: str, model: str) -> list[Event]:
    async def work(session: AsyncSession) -> list[Event]:
        rows = await session.scalars(
            select(Event).where(Event.domain == domain, Event.model == model).order_by(Event.id)
        )
        return list(rows.all())

    return in_db(server, work)


class FakeEngine:
    """Accepts everything and remembers it; `fail` makes it refuse."""

    name = "fake"

    def __init__(self) -> None:
        self.originated: list[OriginateRequest] = []
        self.controls: list[CallControl] = []
        self.fail: str | None = None

    async def originate(self, request: OriginateRequest) -> None:
        if self.fail:
            raise TelephonyError(self.fail)
        self.originated.append(request)

    async def control(self, request: CallControl) -> None:
        if self.fail:
            raise TelephonyError(self.fail)
        self.controls.append(request)


def runtime_of(server: LiveServer) -> Runtime:
    runtime: Runtime = server.server.config.app.state.runtime  # type: ignore[attr-defined]
    return runtime


@contextmanager
def engine(server: LiveServer) -> Iterator[FakeEngine]:
    fake = FakeEngine()
    runtime = runtime_of(server)
    runtime.telephony = fake
    try:
        yield fake
    finally:
        runtime.telephony = None


def window(day: str = "2026-11-20") -> dict[str, Any]:
    return {"datetime-start": f"{day} 00:00:00", "datetime-end": f"{day} 23:59:59"}
