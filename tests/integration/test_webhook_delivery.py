"""Webhook delivery workers against a real database and a real receiver: one holder per
subscription even with two worker processes on one node, a rewind through the API while held,
a hand-over when the holder stops. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from celito.auditlog.models import AuditEntry
from celito.auth.caller import system_caller
from celito.config import Settings
from celito.db import utcnow
from celito.events import outbox
from celito.events.delivery import DeliveryWorker
from celito.events.models import Event
from celito.events.sequencer import sequencer_for
from celito.events.signing import new_secret
from celito.migrate import upgrade
from celito.runtime import Runtime
from celito.subscriptions import service
from celito.subscriptions.models import DeliveryAttempt, Subscription
from celito.subscriptions.schemas import Redelivery
from tests.conftest import BACKENDS, _database_url
from tests.support.receiver import Receiver, receiver


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    stack: list[Any] = []
    url = _database_url(request.param, tmp_path, stack)
    upgrade(url)
    yield Settings(
        data_dir=tmp_path,
        database_url=url,
        node_id="node-x",
        webhook_allow_private=True,
        webhook_lease_seconds=3,
        webhook_timeout_seconds=2,
    )
    for ctx in stack:
        ctx.__exit__(None, None, None)


def _names(rx: Receiver) -> list[str]:
    return [e["name"] for e in rx.delivered()]


async def _wait(predicate: Any) -> None:
    """Polls: the receiver is another process writing a file."""
    for _ in range(400):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


class Setup:
    def __init__(self, settings: Settings, rx: Receiver) -> None:
        self.runtime = Runtime.build(settings)
        self.rx = rx
        self.workers: list[DeliveryWorker] = []

    async def subscribe(self) -> str:
        async with self.runtime.db.writer() as session:
            newest = await session.scalar(select(func.max(Event.id)))
            sub = Subscription(
                id=secrets.token_hex(8),
                model="subscriber",
                post_url=self.rx.url,
                owner_reseller="r1",
                owner_domain="acme",
                created_by="tests",
                secret=new_secret(),
                cursor=int(newest or 0),
            )
            session.add(sub)
            await session.commit()
            return sub.id

    def worker(self) -> DeliveryWorker:
        worker = DeliveryWorker(self.runtime)
        self.runtime.db.event_listeners.append(lambda models: worker.kick())
        worker.start()
        self.workers.append(worker)
        return worker

    async def emit(self, *names: str) -> list[int]:
        async with self.runtime.db.writer() as session:
            for name in names:
                outbox.record(session, "subscriber", "update", {"name": name}, domain="acme")
            await session.commit()
        if not self.runtime.db.is_sqlite:
            await sequencer_for(self.runtime.db.engine).settled()
        async with self.runtime.db.reader() as session:
            ids = await session.scalars(
                select(Event.id).order_by(Event.id.desc()).limit(len(names))
            )
            return sorted(ids)

    async def close(self) -> None:
        for worker in self.workers:
            await worker.stop()
        await self.runtime.db.dispose()


def test_two_workers_of_one_node_deliver_each_event_once_in_order(
    settings: Settings, tmp_path: Path
) -> None:
    async def run(rx: Receiver) -> None:
        s = Setup(settings, rx)
        sub_id = await s.subscribe()
        a, b = s.worker(), s.worker()
        expected = [f"N{i}" for i in range(60)]
        for start in range(0, 60, 6):
            await s.emit(*expected[start : start + 6])
            await asyncio.sleep(0.02)
        await _wait(lambda: len(_names(rx)) >= 60)
        await asyncio.sleep(0.3)
        assert _names(rx) == expected
        assert [sub_id in w.held for w in (a, b)].count(True) == 1
        await _wait(lambda: not any(w.outcomes for w in (a, b)))
        async with s.runtime.db.reader() as session:
            sub = await session.get(Subscription, sub_id)
            attempts = (await session.scalars(select(DeliveryAttempt))).all()
        assert sub is not None and sub.status == "active"
        assert sum(x.events_count for x in attempts) == 60 and all(x.succeeded for x in attempts)
        # Settled attempts are counted; the cursor stored is the last event delivered.
        assert sub.posts_count == len(attempts) and sub.cursor == max(
            x.last_event_id for x in attempts
        )
        await s.close()

    with receiver(tmp_path / "rx") as rx:
        asyncio.run(run(rx))


def test_a_rewind_through_the_api_reaches_the_holder(settings: Settings, tmp_path: Path) -> None:
    async def run(rx: Receiver) -> None:
        s = Setup(settings, rx)
        sub_id = await s.subscribe()
        s.worker()
        ids = await s.emit(*(f"N{i}" for i in range(5)))
        await _wait(lambda: len(_names(rx)) >= 5)
        # Rewinding moves the stored cursor back, never forward: let it record the POSTs first.
        for _ in range(100):
            async with s.runtime.db.reader() as session:
                if await session.scalar(select(Subscription.cursor)) == ids[-1]:
                    break
            await asyncio.sleep(0.05)
        async with s.runtime.db.writer() as session:
            body = Redelivery(from_event_id=ids[2])
            await service.redeliver(session, system_caller(), sub_id, body)
            await session.commit()
        # Nothing else happens: the holder notices when it renews its lease.
        await _wait(lambda: len(_names(rx)) >= 8)
        await s.emit("N5")
        await _wait(lambda: len(_names(rx)) >= 9)
        assert _names(rx) == ["N0", "N1", "N2", "N3", "N4", "N2", "N3", "N4", "N5"]
        await s.close()

    with receiver(tmp_path / "rx") as rx:
        asyncio.run(run(rx))


def test_a_stopping_holder_hands_over_without_losing_events(
    settings: Settings, tmp_path: Path
) -> None:
    async def run(rx: Receiver) -> None:
        s = Setup(settings, rx)
        sub_id = await s.subscribe()
        first = s.worker()
        rx.answer(default=200, delay=0.2)  # deliveries in flight when it stops
        expected = [f"N{i}" for i in range(30)]
        for name in expected[:15]:
            await s.emit(name)
        await _wait(lambda: sub_id in first.held and len(_names(rx)) >= 1)
        second = s.worker()
        await first.stop()
        s.workers.remove(first)
        rx.answer(default=200)
        await s.emit(*expected[15:])
        await _wait(lambda: set(_names(rx)) >= set(expected))
        assert sub_id in second.held
        # At least once: whatever was in flight may come twice, but in order.
        assert list(dict.fromkeys(_names(rx))) == expected
        await s.close()

    with receiver(tmp_path / "rx") as rx:
        asyncio.run(run(rx))


def test_failing_for_a_day_disables_with_an_audit_entry(settings: Settings, tmp_path: Path) -> None:
    async def run(rx: Receiver) -> None:
        s = Setup(settings, rx)
        sub_id = await s.subscribe()
        async with s.runtime.db.writer() as session:
            sub = await session.get(Subscription, sub_id)
            assert sub is not None
            sub.failing_since = utcnow() - timedelta(hours=24, minutes=1)
            sub.attempt = 17
            await session.commit()
        rx.answer(default=503)
        s.worker()
        await s.emit("N0")

        async def state() -> Subscription | None:
            async with s.runtime.db.reader() as session:
                return await session.get(Subscription, sub_id)

        for _ in range(200):
            found = await state()
            if found is not None and found.status == "error":
                break
            await asyncio.sleep(0.05)
        assert found is not None and found.status == "error" and not found.enabled
        assert found.leased_by is None and "24 hours" in found.status_reason
        async with s.runtime.db.reader() as session:
            entries = (
                await session.scalars(select(AuditEntry).where(AuditEntry.target_id == sub_id))
            ).all()
        assert [(e.action, e.details["reason"]) for e in entries] == [
            ("disable", "deliveries failed for 24 hours")
        ]
        assert len(rx.requests()) == 1  # nothing more once disabled
        await s.close()

    with receiver(tmp_path / "rx") as rx:
        asyncio.run(run(rx))
