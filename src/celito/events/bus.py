"""Wake-ups between writers and readers of the outbox, in one process and across nodes.

A wake-up is only a hint that new events may exist; readers always read the outbox table, so a
lost hint costs latency (the readers also poll), never an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg
from sqlalchemy.engine import make_url

from celito.events.hooks import NOTIFY_CHANNEL, EventsCommitted

log = logging.getLogger("celito.events")


class Wakeup:
    """A broadcast signal: every task waiting when `set` is called wakes up."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, seconds: float) -> bool:
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return False
        return True


def models_of(payload: str) -> frozenset[str] | None:
    """The models a NOTIFY names (events.sequencer sends them comma-separated); None for a
    bare NOTIFY (bulk loads send those), which may be of any model."""
    return frozenset(payload.split(",")) if payload else None


class PostgresListener:
    """LISTENs on the outbox channel and turns each NOTIFY into a local wake-up."""

    def __init__(self, url: str, wake: EventsCommitted) -> None:
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._wake = wake
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="celito-pg-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._dsn, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    delay = 0.5
                    self._wake(None)  # catch up on anything committed while disconnected
                    async for notice in conn.notifies():
                        self._wake(models_of(notice.payload))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any connection trouble: retry, readers poll meanwhile
                log.warning("event listener lost its connection (%s); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
