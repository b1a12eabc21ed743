"""PostgreSQL's pool: a connection idle a while is checked before use, one just given back is
not (a round trip saved on every session of a busy node); read sessions are READ ONLY and
their end keeps the connection's prepared statements."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from celito import db
from celito.config import Settings
from celito.runtime import Runtime

pytestmark = pytest.mark.postgres


def _counting_pings(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    dialect = runtime.db.engine.sync_engine.dialect
    pings: list[int] = []
    real = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return pings


async def _backend_pid(runtime: Runtime) -> int:
    async with runtime.db.writer() as session:
        return int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)


def test_a_connection_just_given_back_is_not_pinged(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def run() -> None:
        runtime = Runtime.build(Settings(data_dir=tmp_path, database_url=pg_url))
        pings = _counting_pings(runtime, monkeypatch)
        first = await _backend_pid(runtime)  # a new connection: pinged
        assert pings == [1]
        for _ in range(5):
            assert await _backend_pid(runtime) == first
        assert pings == [1]
        await runtime.db.dispose()

    asyncio.run(run())


def test_a_connection_that_died_while_idle_is_replaced_unnoticed(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def run() -> None:
        runtime = Runtime.build(Settings(data_dir=tmp_path, database_url=pg_url))
        pings = _counting_pings(runtime, monkeypatch)
        dead = await _backend_pid(runtime)
        with psycopg.connect(pg_url.replace("postgresql+psycopg", "postgresql")) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (dead,))
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.05)
        await asyncio.sleep(0.1)
        alive = await _backend_pid(runtime)  # the ping finds it dead; the pool connects anew
        assert alive != dead
        assert len(pings) >= 2
        await runtime.db.dispose()

    asyncio.run(run())


async def _prepared_on_server(session: Any) -> tuple[int, int]:
    """(backend pid, statements prepared there) seen from a session."""
    row = (
        await session.execute(
            text("SELECT pg_backend_pid(), (SELECT count(*) FROM pg_prepared_statements)")
        )
    ).one()
    return int(row[0]), int(row[1])


def test_a_read_session_keeps_the_connections_prepared_statements(
    pg_url: str, tmp_path: Path
) -> None:
    """psycopg drops every prepared statement on a ROLLBACK; a read session ends by COMMIT,
    the same to the server for a READ ONLY transaction."""

    async def run() -> None:
        runtime = Runtime.build(Settings(data_dir=tmp_path, database_url=pg_url))
        async with runtime.db.reader() as session:
            driver = (await (await session.connection()).get_raw_connection()).driver_connection
            await driver.execute("SELECT count(*) FROM events WHERE id > %s", [0], prepare=True)
            pid, prepared = await _prepared_on_server(session)
            assert prepared >= 1
        async with runtime.db.reader() as session:
            assert await _prepared_on_server(session) == (pid, prepared)
        async with runtime.db.writer() as session:
            assert await _prepared_on_server(session) == (pid, prepared)
        await runtime.db.dispose()

    asyncio.run(run())


def test_a_read_session_cannot_write_and_a_failed_one_is_rolled_back(
    pg_url: str, tmp_path: Path
) -> None:
    async def run() -> None:
        runtime = Runtime.build(Settings(data_dir=tmp_path, database_url=pg_url))
        async with runtime.db.writer() as session:
            await session.execute(text("CREATE TABLE scratch_reader (n integer)"))
            await session.commit()
        with pytest.raises(DBAPIError, match="read-only transaction"):
            async with runtime.db.reader() as session:
                await session.execute(text("INSERT INTO scratch_reader VALUES (1)"))
        with pytest.raises(DBAPIError, match="division by zero"):
            async with runtime.db.reader() as session:
                await session.execute(text("SELECT 1 / 0"))
        async with runtime.db.reader() as session:  # the connection is usable again
            assert await session.scalar(text("SELECT count(*) FROM scratch_reader")) == 0
        async with runtime.db.writer() as session:  # a writer's rollback is a rollback
            await session.execute(text("INSERT INTO scratch_reader VALUES (2)"))
            await session.rollback()
            assert await session.scalar(text("SELECT count(*) FROM scratch_reader")) == 0
            await session.execute(text("DROP TABLE scratch_reader"))
            await session.commit()
        await runtime.db.dispose()

    asyncio.run(run())
