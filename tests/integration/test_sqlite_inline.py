"""SQLite writing transactions run on the event loop's thread, and wait for locks off it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import event, text

from celito.db import Database
from celito.migrate import upgrade


def _database(tmp_path: Path) -> tuple[Database, Path]:
    path = tmp_path / "celito.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    db = Database(url)

    @event.listens_for(db.engine.sync_engine, "connect")
    def _thread_function(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.create_function("thread_id", 0, threading.get_ident)  # type: ignore[attr-defined]

    return db, path


def test_writers_run_on_the_loop_thread_and_readers_in_the_drivers(tmp_path: Path) -> None:
    db, _ = _database(tmp_path)

    async def run() -> tuple[int, int, int]:
        try:
            async with db.writer() as session:
                in_writer = (await session.execute(text("SELECT thread_id()"))).scalar_one()
                await session.commit()
            async with db.reader() as session:
                in_reader = (await session.execute(text("SELECT thread_id()"))).scalar_one()
            return threading.get_ident(), in_writer, in_reader
        finally:
            await db.dispose()

    loop_thread, in_writer, in_reader = asyncio.run(run())
    assert in_writer == loop_thread
    assert in_reader != loop_thread


def test_a_locked_database_is_waited_for_off_the_loop(tmp_path: Path) -> None:
    db, path = _database(tmp_path)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another node holds the write lock
    other.execute("CREATE TABLE held (x)")

    async def run() -> tuple[int, float, int]:
        ticks = 0
        waiting = True

        async def tick() -> None:
            nonlocal ticks
            while waiting:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        threading.Timer(0.5, other.execute, args=("COMMIT",)).start()
        began = time.monotonic()
        try:
            async with db.writer() as session:
                await session.execute(text("CREATE TABLE mine (x)"))  # BEGIN IMMEDIATE first
                waited = time.monotonic() - began
                await session.execute(text("INSERT INTO held VALUES (1)"))
                await session.commit()
            async with db.reader() as session:
                held = (await session.execute(text("SELECT count(*) FROM held"))).scalar_one()
        finally:
            waiting = False
            await ticker
            await db.dispose()
        return ticks, waited, held

    ticks, waited, held = asyncio.run(run())
    other.close()
    assert waited >= 0.4  # it did wait for the other writer …
    assert ticks >= 20  # … while the loop went on serving
    assert held == 1


def test_writers_of_one_process_take_turns_in_the_order_they_came(tmp_path: Path) -> None:
    db, _ = _database(tmp_path)

    async def run() -> tuple[list[int], float]:
        order: list[int] = []

        async def writer(n: int) -> None:
            await asyncio.sleep(n * 0.015)  # they arrive in turn, each while another writes
            async with db.writer() as session:
                await session.execute(text("CREATE TABLE IF NOT EXISTS turns (n)"))
                order.append(n)
                await asyncio.sleep(0.03)  # holds the write lock across an await
                await session.execute(text("INSERT INTO turns VALUES (:n)"), {"n": n})
                await session.commit()

        async def connect() -> None:
            async with db.reader() as session:
                await session.execute(text("SELECT 1"))
                await asyncio.sleep(0.05)

        # Eight connections in the pool first: opening one takes a few ms, which would
        # reorder the writers before they ask for the lock.
        await asyncio.gather(*(connect() for _ in range(8)))
        began = time.monotonic()
        try:
            await asyncio.gather(*(writer(n) for n in range(8)))
        finally:
            await db.dispose()
        return order, time.monotonic() - began

    order, took = asyncio.run(run())
    assert order == list(range(8))
    # Eight turns of ~30 ms: no writer slept in SQLite's busy handler (steps up to 100 ms).
    assert took < 0.9, took
