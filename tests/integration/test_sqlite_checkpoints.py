"""SQLite's WAL is checkpointed in the background, not by the commit that fills it."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from celito import sqlite_checkpoints
from celito.db import Database
from celito.migrate import upgrade

# ~200 KiB of new pages per run.
FILL = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) "
    "INSERT INTO filler SELECT hex(randomblob(1000)) FROM n"
)


def _sizes(path: Path) -> tuple[int, int]:
    """(database file, WAL) in bytes: pages reach the database file only by a checkpoint."""
    return path.stat().st_size, Path(f"{path}-wal").stat().st_size


def test_commits_leave_the_wal_to_the_background_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "celito.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    db = Database(url)
    assert db.checkpoints is not None
    checkpoints = db.checkpoints

    async def write(statement: str) -> None:
        async with db.writer() as session:
            await session.execute(text(statement))
            await session.commit()

    async def run() -> tuple[int, tuple[int, int], tuple[int, int]]:
        try:
            # Writers first, with the background checkpoints held off.
            monkeypatch.setattr(sqlite_checkpoints, "CHECKPOINT_SECONDS", 3600)
            async with db.writer() as session:
                limit = (await session.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one()
                await session.execute(text("CREATE TABLE filler (x TEXT)"))
                await session.commit()
            for _ in range(40):
                await write(FILL)
            before = _sizes(path)
            # Then the checkpoints, every 0.1 s from the next writer on.
            await checkpoints.stop()
            monkeypatch.setattr(sqlite_checkpoints, "CHECKPOINT_SECONDS", 0.1)
            await write("INSERT INTO filler VALUES ('one more')")
            await asyncio.sleep(1.0)
            return limit, before, _sizes(path)
        finally:
            await db.dispose()

    limit, (db_before, wal_before), (db_after, _) = asyncio.run(run())
    assert limit == sqlite_checkpoints.CHECKPOINT_BACKSTOP_PAGES
    # No commit copied the WAL back, as SQLite's default limit (1,000 pages) would have made
    # one of them do; the background checkpoints did.
    assert wal_before > 1000 * 4096 and db_before < 1_000_000
    assert checkpoints.checkpoints >= 1
    assert db_after > 4_000_000


def test_stopping_waits_for_a_checkpoint_in_flight(tmp_path: Path) -> None:
    """A checkpoint keeps running in its thread when its waiter is cancelled: stopping must
    not close the connection under it (that crashed the process)."""
    path = tmp_path / "celito.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    checkpoints = sqlite_checkpoints.Checkpointer(str(path))
    checkpoints.checkpoint()  # opens its connection
    running, finish = threading.Event(), threading.Event()
    outcome: list[object] = []

    def long_checkpoint() -> None:
        with checkpoints._using:  # as `checkpoint` holds it
            running.set()
            finish.wait(5)
            connection = checkpoints._connection
            assert connection is not None
            outcome.append(connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())

    async def run() -> bool:
        in_flight = asyncio.create_task(asyncio.to_thread(long_checkpoint))
        await asyncio.to_thread(running.wait, 5)
        stopping = asyncio.create_task(checkpoints.stop())
        await asyncio.sleep(0.3)
        waited = not stopping.done()
        finish.set()
        await stopping
        await in_flight
        return waited

    assert asyncio.run(run())
    assert len(outcome) == 1  # the checkpoint finished on an open connection
    assert checkpoints._connection is None  # and stopping closed it afterwards
