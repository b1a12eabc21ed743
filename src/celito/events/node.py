"""What a node runs in the background for events: the listener, the stream, the deliveries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.db import utcnow
from celito.events.bus import PostgresListener, Wakeup
from celito.events.delivery import DeliveryWorker
from celito.events.models import Event, Node
from celito.events.sequencer import sequencer_for
from celito.events.stream import StreamHub
from celito.runtime import Runtime
from celito.subscriptions.models import DeliveryAttempt, Subscription

log = logging.getLogger("celito.events")

HEARTBEAT_SECONDS = 10.0
SWEEP_SECONDS = 1.0
ATTEMPT_RETENTION = timedelta(days=30)


async def last_event_before(session: AsyncSession, cutoff: datetime) -> int | None:
    """The id of the newest event older than `cutoff`, or None.

    Found by bisecting ids, a few dozen reads of the primary key: ids follow commit order and
    `at` is the commit's time, so `at` grows with the id (up to the clock differences of the
    nodes, seconds against a retention of days). An index on `at` would do it in one read but
    cost every event written, and the outbox takes tens of thousands a second (CDRs).
    """

    async def first_from(event_id: int) -> tuple[int, datetime] | None:
        row = (
            await session.execute(
                select(Event.id, Event.at).where(Event.id >= event_id).order_by(Event.id).limit(1)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    first = await first_from(0)
    if first is None or first[1] >= cutoff:
        return None
    low = first[0]  # an event older than the cutoff
    high = await session.scalar(select(func.max(Event.id)))
    assert high is not None
    while low < high:  # the answer lies in [low, high]
        found = await first_from((low + high + 1) // 2)
        if found is not None and found[1] < cutoff:
            low = found[0]
        else:
            high = (low + high + 1) // 2 - 1
    return low


class EventServices:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.wakeup = Wakeup()
        self.hub = StreamHub(runtime, self.wakeup)
        self.delivery = DeliveryWorker(runtime)
        self.listener = (
            None
            if runtime.db.is_sqlite
            else PostgresListener(runtime.settings.resolved_database_url, self.wake)
        )
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self, models: frozenset[str] | None = None) -> None:
        """New events (of `models`, when known) may be in the outbox: the deliveries look,
        and the stream if anyone here wants one of them."""
        self.hub.notify(models)
        self.delivery.kick()

    async def start(self) -> None:
        self.runtime.db.event_listeners.append(self.wake)
        await self._heartbeat()
        if self.listener is not None:
            self.listener.start()
        await self.hub.start()
        self.delivery.start()
        self._tasks.append(asyncio.create_task(self._housekeep(), name="celito-housekeeping"))
        if not self.runtime.db.is_sqlite:
            self._tasks.append(asyncio.create_task(self._sweep(), name="celito-event-sweep"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.delivery.stop()
        await self.hub.stop()
        if self.listener is not None:
            await self.listener.stop()
        with contextlib.suppress(ValueError):
            self.runtime.db.event_listeners.remove(self.wake)

    async def _heartbeat(self) -> None:
        node = self.runtime.settings.node_id
        async with self.runtime.db.writer() as session:
            row = await session.get(Node, node)
            if row is None:
                session.add(Node(node_id=node))
            else:
                row.seen_at = utcnow()
            await session.commit()

    async def _sweep(self) -> None:
        """Numbers events a process queued but did not get to number (it died, or exited
        right after its commit), and keeps the queue compact: see events.sequencer."""
        sequencer = sequencer_for(self.runtime.db.engine)
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                if await sequencer.sweep():
                    self.wake()
                await sequencer.compact()
            except Exception as exc:
                log.warning("event sweep failed (%s); will retry", exc)

    async def _housekeep(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self._heartbeat()
                ticks += 1
                if ticks % 60 == 1:
                    await self._purge()
            except Exception:
                log.exception("housekeeping failed; will retry")

    async def _purge(self) -> None:
        """Drops events past retention (never one a live subscription has yet to deliver)."""
        now = utcnow()
        cutoff = now - timedelta(days=self.runtime.settings.event_retention_days)
        async with self.runtime.db.writer() as session:
            pending = await session.scalar(
                select(Subscription.cursor)
                .where(Subscription.enabled.is_(True))
                .order_by(Subscription.cursor)
                .limit(1)
            )
            last = await last_event_before(session, cutoff)
            if last is not None:
                # A subscription that is merely slow keeps its events; a disabled one does not.
                upto = last if pending is None else min(last, pending)
                await session.execute(delete(Event).where(Event.id <= upto))
            await session.execute(
                delete(DeliveryAttempt).where(DeliveryAttempt.at < now - ATTEMPT_RETENTION)
            )
            await session.execute(delete(Node).where(Node.seen_at < now - timedelta(days=1)))
            await session.commit()
