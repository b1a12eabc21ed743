"""PostgreSQL outbox: events are queued without a lock and numbered afterwards in commit order."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, text

from celito.config import Settings
from celito.events import outbox
from celito.events import sequencer as sequencer_module
from celito.events.models import Event, QueuedEvent
from celito.events.sequencer import COMPACT_AFTER, sequencer_for
from celito.runtime import Runtime

pytestmark = pytest.mark.postgres


def _runtime(url: str, tmp_path: Path) -> Runtime:
    return Runtime.build(Settings(data_dir=tmp_path, database_url=url))


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg", "postgresql")


async def _numbered(runtime: Runtime, marker: str) -> list[tuple[int, str]]:
    async with runtime.db.reader() as session:
        rows = await session.execute(
            select(Event.id, Event.payload).where(Event.domain == marker).order_by(Event.id)
        )
        return [(i, p["n"]) for i, p in rows]


def test_ids_follow_commit_order_not_queue_order(pg_url: str, tmp_path: Path) -> None:
    """The first transaction to queue commits last: its event is numbered after the other."""

    async def run() -> None:
        runtime = _runtime(pg_url, tmp_path)
        sequencer = sequencer_for(runtime.db.engine)
        row = (
            'INSERT INTO event_queue (at, model, action, reseller, domain, "user", node, payload)'
            " VALUES (now(), 'subscriber', 'update', '', 'order.test', '', '', %s)"
        )
        first = await psycopg.AsyncConnection.connect(_libpq(pg_url))
        second = await psycopg.AsyncConnection.connect(_libpq(pg_url))
        await first.execute(row, (json.dumps({"n": "queued first"}),))
        await second.execute(row, (json.dumps({"n": "queued second"}),))
        await second.commit()
        await sequencer.move()
        await first.commit()
        await sequencer.move()
        await first.close()
        await second.close()
        numbered = await _numbered(runtime, "order.test")
        assert [n for _, n in numbered] == ["queued second", "queued first"]
        await runtime.db.dispose()

    asyncio.run(run())


def test_a_commit_returns_with_its_events_numbered(pg_url: str, tmp_path: Path) -> None:
    async def run() -> None:
        runtime = _runtime(pg_url, tmp_path)
        woken: list[frozenset[str] | None] = []

        async def count() -> int:
            async with runtime.db.reader() as session:
                return int(
                    await session.scalar(
                        select(func.count()).select_from(Event).where(Event.domain == "wake.test")
                    )
                    or 0
                )

        runtime.db.event_listeners.append(woken.append)
        async with runtime.db.writer() as session:
            for n in range(3):
                outbox.record(session, "subscriber", "update", {"n": str(n)}, domain="wake.test")
            await session.execute(text("SELECT 1"))
            assert await count() == 0  # nothing before the commit
            await session.commit()
        # Numbered as the commit returned (whoever committed reads them back at once), and the
        # node's wake-up has run, told which models the events are of.
        assert woken == [frozenset({"subscriber"})]
        assert [n for _, n in await _numbered(runtime, "wake.test")] == ["0", "1", "2"]
        async with runtime.db.writer() as session:
            outbox.record(session, "subscriber", "update", {"n": "rolled back"}, domain="wake.test")
            await session.rollback()
        async with runtime.db.reader() as session:
            assert await session.scalar(select(func.count()).select_from(QueuedEvent)) == 0
        assert await count() == 3
        await runtime.db.dispose()

    asyncio.run(run())


def test_a_commit_that_numbers_later_returns_before_its_events_are_numbered(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def run() -> None:
        runtime = _runtime(pg_url, tmp_path)
        sequencer = sequencer_for(runtime.db.engine)
        waited: list[int] = []
        numbered_within = sequencer._numbered_within

        async def spy(ticket: int, seconds: float) -> None:
            waited.append(ticket)
            await numbered_within(ticket, seconds)

        monkeypatch.setattr(sequencer, "_numbered_within", spy)
        woken: list[frozenset[str] | None] = []
        runtime.db.event_listeners.append(woken.append)
        for marker, later in (("waits.test", False), ("later.test", True)):
            async with runtime.db.writer() as session:
                if later:
                    outbox.number_later(session)
                outbox.record(session, "phone", "dnd_on", {"n": marker}, domain=marker)
                await session.commit()
        assert len(waited) == 1  # only the first commit waited for the numbering
        await sequencer.settled()
        assert [n for _, n in await _numbered(runtime, "later.test")] == ["later.test"]
        assert woken == [frozenset({"phone"})] * 2
        await runtime.db.dispose()

    asyncio.run(run())


def test_a_commit_while_the_mover_lets_go_is_numbered(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poke that arrives while the move's connection is being given back (the task not done
    yet, so no new one starts) is still moved by that task, not left to a node's sweep."""

    async def run() -> list[str]:
        runtime = _runtime(pg_url, tmp_path)
        sequencer = sequencer_for(runtime.db.engine)
        mover = sequencer._mover
        poked = asyncio.Event()

        @contextlib.asynccontextmanager
        async def letting_go() -> AsyncIterator[Callable[[], Awaitable[int]]]:
            async with mover() as move:
                yield move
            if not poked.is_set():  # another commit queues an event and pokes, just then
                async with await psycopg.AsyncConnection.connect(_libpq(pg_url)) as conn:
                    await conn.execute(
                        'INSERT INTO event_queue (at, model, action, reseller, domain, "user", '
                        "node, payload) VALUES (now(), 'subscriber', 'update', '', "
                        "'late.test', '', '', %s)",
                        (json.dumps({"n": "late"}),),
                    )
                    await conn.commit()
                sequencer.poke(None)
                poked.set()

        monkeypatch.setattr(sequencer, "_mover", letting_go)
        async with runtime.db.writer() as session:
            outbox.record(session, "subscriber", "update", {"n": "first"}, domain="late.test")
            await session.commit()
        await asyncio.wait_for(poked.wait(), 10)
        await sequencer.settled()
        numbered = [n for _, n in await _numbered(runtime, "late.test")]
        await runtime.db.dispose()
        return numbered

    assert asyncio.run(run()) == ["first", "late"]


def test_a_sweep_numbers_what_a_dead_process_left_queued(pg_url: str, tmp_path: Path) -> None:
    async def run() -> None:
        with psycopg.connect(_libpq(pg_url), autocommit=True) as conn:
            conn.execute(
                'INSERT INTO event_queue (at, model, action, reseller, domain, "user", node, '
                "payload) VALUES (now(), 'subscriber', 'update', '', 'sweep.test', '', '', %s)",
                (json.dumps({"n": "orphan"}),),
            )
        runtime = _runtime(pg_url, tmp_path)
        sequencer = sequencer_for(runtime.db.engine)
        assert await sequencer.sweep() == 1
        assert await sequencer.sweep() == 0
        assert [n for _, n in await _numbered(runtime, "sweep.test")] == ["orphan"]
        await runtime.db.dispose()

    asyncio.run(run())


def test_many_writers_lose_nothing_and_ids_only_grow(pg_url: str, tmp_path: Path) -> None:
    """Concurrent commits and moves: every event numbered once; a reader polling the table
    never sees an id appear below one it has already seen."""

    async def run() -> None:
        runtime = _runtime(pg_url, tmp_path)
        seen: list[int] = []
        done = asyncio.Event()

        async def reader() -> None:
            last = 0
            while True:
                finished = done.is_set()  # then this read sees every event there will be
                async with runtime.db.reader() as session:
                    ids = list(
                        await session.scalars(
                            select(Event.id)
                            .where(Event.domain == "many.test", Event.id > last)
                            .order_by(Event.id)
                        )
                    )
                seen.extend(ids)
                last = ids[-1] if ids else last
                if finished:
                    return
                await asyncio.sleep(0.001)

        async def writer(k: int) -> None:
            for n in range(40):
                async with runtime.db.writer() as session:
                    outbox.record(
                        session, "subscriber", "update", {"n": f"{k}.{n}"}, domain="many.test"
                    )
                    await session.commit()

        watching = asyncio.create_task(reader())
        await asyncio.gather(*(writer(k) for k in range(6)))
        await sequencer_for(runtime.db.engine).settled()
        done.set()
        await watching
        numbered = await _numbered(runtime, "many.test")
        assert len(numbered) == 240 and len({n for _, n in numbered}) == 240
        # Had an id committed below one already read, the poller would have missed it.
        assert sorted(seen) == [i for i, _ in numbered]
        await runtime.db.dispose()

    asyncio.run(run())


def test_the_queue_is_vacuumed_once_enough_events_have_moved_through_it(
    pg_url: str, tmp_path: Path
) -> None:
    """Every move deletes what it numbers; without a vacuum the dead rows pile up at the
    queue's head and every later move walks them."""

    def vacuums() -> int:
        with psycopg.connect(_libpq(pg_url), autocommit=True) as conn:
            row = conn.execute(
                "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'event_queue'"
            ).fetchone()
            assert row is not None
            return int(row[0])

    async def run() -> None:
        runtime = _runtime(pg_url, tmp_path)
        sequencer = sequencer_for(runtime.db.engine)
        await sequencer.sweep()
        sequencer.moved_since_compact = 0
        before = vacuums()
        async with runtime.db.writer() as session:
            for n in range(COMPACT_AFTER - 1):
                outbox.record(session, "subscriber", "update", {"n": n}, domain="compact.test")
            await session.commit()
        await sequencer.settled()
        assert not await sequencer.compact()  # one event short
        async with runtime.db.writer() as session:
            outbox.record(session, "subscriber", "update", {"n": "last"}, domain="compact.test")
            await session.commit()
        await sequencer.settled()
        assert await sequencer.compact()
        assert vacuums() == before + 1
        assert not await sequencer.compact()  # nothing moved since
        await runtime.db.dispose()

    asyncio.run(run())


def test_the_queues_vacuum_keeps_its_emptied_pages(pg_url: str, tmp_path: Path) -> None:
    """Giving emptied tail pages back takes an exclusive lock on the queue, which every commit
    that queues events would wait behind: the vacuum leaves them, for the next inserts."""

    def pages() -> int:
        with psycopg.connect(_libpq(pg_url), autocommit=True) as conn:
            row = conn.execute("SELECT pg_relation_size('event_queue') / 8192").fetchone()
            assert row is not None
            return int(row[0])

    async def run() -> None:
        runtime = _runtime(pg_url, tmp_path)
        sequencer = sequencer_for(runtime.db.engine)
        async with runtime.db.writer() as session:
            for n in range(COMPACT_AFTER):
                outbox.record(session, "subscriber", "update", {"n": n}, domain="tail.test")
            await session.commit()
        await sequencer.settled()
        filled = pages()
        assert filled > 1
        assert await sequencer.compact()
        async with runtime.db.reader() as session:
            assert await session.scalar(select(func.count()).select_from(QueuedEvent)) == 0
        assert pages() == filled
        await runtime.db.dispose()

    asyncio.run(run())


def test_the_mover_keeps_its_connection_for_the_next_commit(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy process commits every few milliseconds: the mover holds on to its connection
    between them instead of checking one out (a round trip) per move."""
    linger = 0.5  # longer than the real one, so a slow CI machine's commits stay within it
    monkeypatch.setattr(sequencer_module, "LINGER", linger)

    async def run() -> None:
        runtime = _runtime(pg_url, tmp_path)
        checkouts: list[int] = []
        sa_event.listen(
            runtime.db.engine.sync_engine.pool, "checkout", lambda *_: checkouts.append(1)
        )

        async def commit(n: int) -> None:
            async with runtime.db.writer() as session:
                outbox.record(session, "subscriber", "update", {"n": n}, domain="linger.test")
                await session.commit()

        await commit(0)  # a writer's checkout and the mover's
        assert len(checkouts) == 2
        for n in range(1, 4):
            await asyncio.sleep(0.01)
            await commit(n)
        assert len(checkouts) == 5  # the writers' only
        assert await sequencer_for(runtime.db.engine).sweep() == 0  # the mover is at it
        assert [n for _, n in await _numbered(runtime, "linger.test")] == [0, 1, 2, 3]
        await asyncio.sleep(linger * 2)  # then it lets go
        before = len(checkouts)
        await commit(4)
        assert len(checkouts) == before + 2
        await runtime.db.dispose()

    asyncio.run(run())
