"""Core statements run on the driver's own connection, for the phones' hot paths.

A statement through SQLAlchemy's async session costs several hops to SQLite's thread (cursor,
execute, fetch, close) or ~150 µs of Python on PostgreSQL; the driver's own call is one hop or
one round trip. A download's read (phones.filedata) and a report batch's read and write
(phones.reports) are most of what those requests cost, so they go straight to the driver.

The statements are still written with SQLAlchemy Core, compiled once per dialect, and their
parameters and results pass through the columns' own type processors, so the values sent and
read are exactly those a session would send and give. On PostgreSQL they are prepared from
their first run on a connection (psycopg's default waits for a fifth, and starts counting
again whenever the connection's prepared statements are dropped), as planning the batch's
read took longer than running it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ClauseElement, Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class Prepared:
    sql: str
    positional: tuple[str, ...] | None  # parameter order for qmark drivers (SQLite)
    defaults: dict[str, Any]  # values bound by the statement itself (LIMIT)
    binds: dict[str, Processor]
    results: tuple[Processor, ...]
    sqlite: bool

    @classmethod
    def of(cls, statement: ClauseElement, dialect: Dialect, params: Sequence[str]) -> Prepared:
        """`statement` for `dialect`; `params` names the values each run gives."""
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        defaults = dict(compiled.construct_params(dict.fromkeys(params)) or {})
        columns = getattr(statement, "selected_columns", ())
        return cls(
            sql=compiled.string,
            positional=tuple(compiled.positiontup or ()) if compiled.positional else None,
            defaults={k: v for k, v in defaults.items() if k not in params},
            binds={
                name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                for name, bind in compiled.binds.items()
                if name in defaults
            },
            results=tuple(
                c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
            ),
            sqlite=dialect.name == "sqlite",
        )

    def params(self, values: Mapping[str, Any]) -> Any:
        merged = {**self.defaults, **values}
        for name, process in self.binds.items():
            if process is not None:
                merged[name] = process(merged[name])
        if self.positional is not None:
            return tuple(merged[name] for name in self.positional)
        return merged

    def row(self, raw: Sequence[Any]) -> list[Any]:
        return [v if p is None else p(v) for v, p in zip(raw, self.results, strict=True)]

    async def fetch(self, driver: Any, values: Mapping[str, Any]) -> list[list[Any]]:
        """The rows, processed, of one run with `values`."""
        params = self.params(values)
        if self.sqlite:
            raw = await driver.execute_fetchall(self.sql, params)
        else:
            cursor = await driver.execute(self.sql, params, prepare=True)
            raw = await cursor.fetchall()
        return [self.row(r) for r in raw]

    def fetch_now(self, connection: Any, values: Mapping[str, Any]) -> list[list[Any]]:
        """The rows, processed, of one run on a DB-API connection of this thread (sqlite3)."""
        raw = connection.execute(self.sql, self.params(values)).fetchall()
        return [self.row(r) for r in raw]

    async def execute(self, driver: Any, values: Mapping[str, Any]) -> None:
        """One run with `values` of a statement that returns no rows."""
        if self.sqlite:
            await driver.execute(self.sql, self.params(values))
        else:
            async with driver.cursor() as cursor:
                await cursor.execute(self.sql, self.params(values), prepare=True)

    async def execute_many(self, driver: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        params = [self.params(values) for values in rows]
        if self.sqlite:
            await driver.executemany(self.sql, params)
        else:
            async with driver.cursor() as cursor:
                await cursor.executemany(self.sql, params)


def driver_of(connection: PoolProxiedConnection) -> Any:
    """The driver's own connection (aiosqlite's or psycopg's)."""
    driver = connection.driver_connection
    assert driver is not None
    return driver


async def in_session(session: AsyncSession) -> tuple[Any, Dialect]:
    """The driver's connection under the session, in its transaction, and its dialect."""
    connection = await session.connection()
    return driver_of(await connection.get_raw_connection()), connection.dialect
