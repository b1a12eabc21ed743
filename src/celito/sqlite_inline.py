"""SQLite connections whose writing transactions run on the event loop's own thread.

aiosqlite hands every call (cursor, execute, fetch, close, BEGIN, COMMIT) to a thread of the
connection's own and wakes the event loop with the result: ~7 round trips between threads
for each statement. Each costs far more CPU than the ~20-50 µs statement it carries, and
waits for the GIL when the loop is busy; a token grant made ~75 of them. A writing
transaction here runs its calls right on the loop instead, as long as none of them has to
wait:

- while it does, the connection does not wait for locks itself (busy timeout 0). A call that
  finds the database locked (another writer's transaction, on another node or worker) is run
  again in the connection's thread, which may wait up to the configured timeout, so the loop
  never blocks on a lock;
- the transaction's end goes to the thread: COMMIT is where SQLite checkpoints the WAL into
  the database, which can take long enough to matter to every other request the loop serves;
- so do bulk writes (an executemany of more than INLINE_ROWS rows: a batch of CDRs);
- reading transactions stay in the thread: a read may scan a large table (a CDR count over
  months), and the loop must keep serving while it does.

A batch of phones' action-URL reports has ~1.6 ms of fixed cost this way against ~3.3 ms
through the thread (bench/README.md).

One statement at a time per connection, as before: the pool hands a connection to one
session, which awaits each call; inline or in the thread, calls never overlap.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any
from weakref import WeakKeyDictionary

import aiosqlite
from sqlalchemy.util import await_

log = logging.getLogger("celito.db")

INLINE_ROWS = 64
_LOCKED = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _locked(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _LOCKED


class LoopConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs calls inline while `inline` is set: from the BEGIN of
    a writing transaction to its COMMIT or ROLLBACK (celito.db sets and clears it)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_ms: int) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self.busy_ms = busy_ms
        self._inline = False
        self._thread.daemon = True

    @property
    def inline(self) -> bool:
        return self._inline

    @inline.setter
    def inline(self, on: bool) -> None:
        # Set between calls (at BEGIN, COMMIT or ROLLBACK), when the connection is idle: the
        # busy timeout changes only here, twice per writing transaction.
        if on != self._inline and self._connection is not None:
            self._connection.execute(f"PRAGMA busy_timeout={0 if on else self.busy_ms}")
        self._inline = on

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._inline and self._running and self._connection is not None:
            if _bulk(fn, args):
                return await super()._execute(self._waiting, fn, args, kwargs)  # type: ignore[no-untyped-call]
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not _locked(exc):
                    raise
            return await super()._execute(self._waiting, fn, args, kwargs)  # type: ignore[no-untyped-call]
        return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    def _waiting(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Any) -> Any:
        """`fn` of an inline transaction, in the connection's thread, allowed to wait for a
        lock."""
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout={self.busy_ms}")
        try:
            return fn(*args, **kwargs)
        finally:
            conn.execute("PRAGMA busy_timeout=0")


def _bulk(fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    if getattr(fn, "__name__", "") != "executemany" or len(args) < 2:
        return False
    rows = args[1]
    return not hasattr(rows, "__len__") or len(rows) > INLINE_ROWS


def _connector(database: str, wait: float, **kwargs: Any) -> sqlite3.Connection:
    # The driver's own busy timeout (`wait`) holds outside inline transactions.
    conn: sqlite3.Connection = sqlite3.connect(
        database, timeout=wait, check_same_thread=False, **kwargs
    )
    return conn


async def connect(database: str, **kwargs: Any) -> LoopConnection:
    """SQLAlchemy's `async_creator_fn`: the aiosqlite dialect's own arguments, our connection."""
    kwargs.pop("check_same_thread", None)
    wait = float(kwargs.pop("timeout", 5.0))
    connection = LoopConnection(
        partial(_connector, database, wait, **kwargs), busy_ms=int(wait * 1000)
    )
    await connection
    return connection


class WriterQueue:
    """The writing transactions of one process take SQLite's write lock in turn, in the order
    they asked for it.

    Without it a writer that finds the lock taken sleeps in SQLite's busy handler, in steps of
    1 to 100 ms, while writers that come later take the lock whenever it happens to be free:
    under eight concurrent refresh-token grants the slowest waited 1.5 s. Other processes
    (workers, nodes) on the same file still meet at SQLite's own lock. A writer that has waited
    here as long as the busy timeout goes on to SQLite's lock anyway, so a transaction that
    never ends cannot wedge the process.
    """

    def __init__(self, wait: float) -> None:
        self.wait = wait
        self._locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            WeakKeyDictionary()
        )
        self._held: dict[int, asyncio.Lock] = {}

    def enter(self, holder: int) -> None:
        """Waits for the writers before; called in SQLAlchemy's greenlet (a `begin` event)."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        try:
            if lock.locked():
                await_(asyncio.wait_for(lock.acquire(), self.wait))
            else:
                await_(lock.acquire())
        except TimeoutError:
            log.warning("a writer waited %.0f s for this process's others; going on", self.wait)
            return
        self._held[holder] = lock

    def leave(self, holder: int) -> None:
        lock = self._held.pop(holder, None)
        if lock is not None:
            lock.release()
