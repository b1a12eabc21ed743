"""Engine and sessions. One transaction per request, committed by the face, never by a service."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from celito import pg_connection, sqlite_inline
from celito.events.hooks import ON_COMMIT_KEY, EventsCommitted, install_commit_hooks
from celito.sqlite_checkpoints import CHECKPOINT_BACKSTOP_PAGES, Checkpointer

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back an aware datetime (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


def _tune_sqlite(
    engine: AsyncEngine, writers: sqlite_inline.WriterQueue, checkpoints: Checkpointer | None
) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below own transaction start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # 64 MiB of page cache (default 2 MiB; taken only as pages are used): bulk writes into
        # big tables (CDRs) touch index pages all over, and re-reading them costs a third of
        # SQLite's CPU per row.
        cursor.execute("PRAGMA cache_size=-65536")
        # Checkpoints run in the background (celito.sqlite_checkpoints), not in commits. A
        # database with no file to checkpoint from keeps them in commits, every ~40 MiB of
        # WAL: bulk commits dirty mostly the same pages, copied back once per checkpoint.
        pages = CHECKPOINT_BACKSTOP_PAGES if checkpoints is not None else 10000
        cursor.execute(f"PRAGMA wal_autocheckpoint={pages}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer takes the lock up front: a deferred read→write upgrade fails at once under
        # contention instead of waiting. Readers stay deferred so they never queue behind writers.
        writer = conn.get_execution_options().get("celito_writer", True)
        _driver(conn).inline = writer
        if not writer:
            conn.exec_driver_sql("BEGIN")
            return
        if checkpoints is not None:
            checkpoints.ensure_running()
        writers.enter(id(conn))
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writers.leave(id(conn))
            raise

    @event.listens_for(engine.sync_engine, "commit")
    @event.listens_for(engine.sync_engine, "rollback")
    def _on_end(conn: Connection) -> None:
        writers.leave(id(conn))
        if not conn.invalidated:  # an invalidated connection is discarded, not reused
            _driver(conn).inline = False


def _driver(conn: Connection) -> sqlite_inline.LoopConnection:
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite_inline.LoopConnection)
    return driver


# A pooled PostgreSQL connection idle longer than this is checked with a round trip before use
# (the server may have restarted, or a firewall dropped it). One given back moments ago is
# not: checking every checkout, as SQLAlchemy's pre-ping does, cost a round trip per session,
# a busy node's commonest statement. Should one have died all the same, its first statement
# fails and SQLAlchemy discards the whole pool, as it does when a pinged one is found dead.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _check(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is not None and time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError() from exc  # the pool connects afresh and retries
            raise


class Database:
    """Owns the engine and the two session factories (writer, reader)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            # Every session ends in an explicit commit or rollback, so the pool's own reset
            # would be one more round trip to the driver's thread for nothing.
            # Waits for locks happen off the loop (celito.sqlite_inline), for up to 30 s.
            connect_args = {"timeout": 30, "async_creator_fn": sqlite_inline.connect}
            kwargs.update(connect_args=connect_args, pool_reset_on_return=None)
        else:
            kwargs.update(
                pool_size=10,
                max_overflow=20,
                # The connection given back last is taken next: a few stay in use, with their
                # statements prepared and planned (celito.pg_connection), the rest idle.
                pool_use_lifo=True,
                connect_args={"async_creator_fn": pg_connection.Connection.connect},
            )
        self.engine = create_async_engine(url, **kwargs)
        if not self.is_sqlite:
            _ping_when_idle(self.engine)
        self.checkpoints: Checkpointer | None = None
        if self.is_sqlite:
            path = self.engine.url.database
            if path and path != ":memory:" and not path.startswith("file:"):
                self.checkpoints = Checkpointer(path)
            _tune_sqlite(self.engine, sqlite_inline.WriterQueue(wait=30), self.checkpoints)
        # Readers' connections: for sessions (`reader`) and for Core reads.
        self.reader_engine = self.engine.execution_options(celito_writer=False)
        if not self.is_sqlite:
            # The server refuses writes in readers; see celito.pg_connection for why.
            self.reader_engine = self.reader_engine.execution_options(postgresql_readonly=True)
        # Called after any commit that wrote events (see events.outbox).
        self.event_listeners: list[EventsCommitted] = []
        info = {ON_COMMIT_KEY: self._events_committed}
        install_commit_hooks()
        self.writer = async_sessionmaker(self.engine, expire_on_commit=False, info=info)
        self.reader = async_sessionmaker(self.reader_engine, expire_on_commit=False, info=info)

    def _events_committed(self, models: frozenset[str] | None) -> None:
        for listener in self.event_listeners:
            listener(models)

    async def dispose(self) -> None:
        if self.checkpoints is not None:
            await self.checkpoints.stop()
        await self.engine.dispose()

    async def session(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        factory = self.writer if write else self.reader
        async with factory() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
