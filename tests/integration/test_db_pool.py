"""PostgreSQL's pool: a connection idle a while is checked before use, one just given back is
not (a round trip saved on every session of a busy node)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

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
