"""The node's stream reader is woken by a commit only when someone here wants what it wrote.

A busy node commits phone and call events many times a second; with no client streaming them,
reading them back after every commit cost more CPU than writing them (bench/
yealink_actionurls.py). The reader still polls, so what it was not woken for is read within a
second, and a client that comes for those models gets them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg

from celito.auth.caller import Caller
from celito.auth.scopes import Scope
from celito.config import Settings
from celito.events import outbox
from celito.events.bus import models_of
from celito.events.hooks import NOTIFY_CHANNEL
from celito.events.node import EventServices
from celito.events.stream import StreamClient, StreamFilter
from celito.migrate import upgrade
from celito.runtime import Runtime
from tests.support import pg

SUPER = Caller(scope=Scope.SUPER_USER, user="root", domain="system")


async def _commit(runtime: Runtime, *models: str) -> None:
    async with runtime.db.writer() as session:
        for model in models:
            outbox.record(session, model, "update", {"m": model}, domain="wake.test")
        await session.commit()


async def _woken(services: EventServices, *models: str) -> bool:
    """Commits events of `models`; whether that woke the stream reader (within 0.5 s)."""
    waiter = asyncio.create_task(services.wakeup.wait(0.5))
    await asyncio.sleep(0)  # the waiter is waiting before the commit
    await _commit(services.runtime, *models)
    return await waiter


def test_a_commit_wakes_the_reader_only_for_wanted_models(
    database_url: str, tmp_path: Path
) -> None:
    async def run() -> None:
        runtime = Runtime.build(Settings(data_dir=tmp_path, database_url=database_url))
        # The commit hook only, without the node's tasks: no poll wakes the reader meanwhile.
        services = EventServices(runtime)
        runtime.db.event_listeners.append(services.wake)
        try:
            assert not await _woken(services, "phone", "call")
            client = StreamClient(SUPER, StreamFilter(frozenset({"call"})))
            services.hub.register(client)
            assert await _woken(services, "call")
            assert await _woken(services, "phone", "call")
            assert not await _woken(services, "phone")
            runtime.event_observers.append((frozenset({"phone"}), lambda event: None))
            assert await _woken(services, "phone")
            services.hub.unregister(client)
            assert not await _woken(services, "call")
            # Told nothing of the models (a bulk load, a bare NOTIFY): always woken.
            waiter = asyncio.create_task(services.wakeup.wait(0.5))
            await asyncio.sleep(0)
            services.wake(None)
            assert await waiter
        finally:
            await runtime.db.dispose()

    asyncio.run(run())


def test_what_the_reader_was_not_woken_for_reaches_a_later_client(
    database_url: str, tmp_path: Path
) -> None:
    async def run() -> None:
        runtime = Runtime.build(Settings(data_dir=tmp_path, database_url=database_url))
        services = EventServices(runtime)
        await services.start()
        try:
            await _commit(runtime, "phone")
            client = StreamClient(SUPER, StreamFilter(frozenset({"phone"})))
            services.hub.register(client)
            # The newcomer wakes the reader, which catches up at once (not at its next poll,
            # a second away): the event nobody wanted when it was committed arrives live.
            first = await asyncio.wait_for(client.queue.get(), 0.5)
            await _commit(runtime, "phone")
            second = await asyncio.wait_for(client.queue.get(), 0.5)
            assert first is not None and second is not None
            assert '"model":"phone"' in first[1] and '"model":"phone"' in second[1]
            assert first[0] < second[0]
        finally:
            await services.stop()
            await runtime.db.dispose()

    asyncio.run(run())


def test_postgres_notifies_name_the_models(tmp_path: Path) -> None:
    """Other nodes learn the models from the NOTIFY (SQLite has none: a node's other
    processes are polled for)."""
    pg.require()

    async def run(url: str) -> None:
        libpq = url.replace("postgresql+psycopg", "postgresql")
        runtime = Runtime.build(Settings(data_dir=tmp_path, database_url=url))
        async with await psycopg.AsyncConnection.connect(libpq, autocommit=True) as listener:
            await listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
            await _commit(runtime, "phone", "call", "phone")
            notice = await anext(listener.notifies(timeout=5))
            assert models_of(notice.payload) == frozenset({"phone", "call"})
        await runtime.db.dispose()

    with pg.fresh_database() as url:
        upgrade(url)
        asyncio.run(run(url))
    assert models_of("") is None
