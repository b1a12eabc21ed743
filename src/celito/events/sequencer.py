"""PostgreSQL: numbering committed events in commit order, one serialised step for many commits.

Readers of the outbox (webhook cursors, the live stream) rely on ids growing in commit order: a
reader that has seen id N must have seen every id below N that will ever commit. Handing out ids
inside each writing transaction needs a lock held until that transaction's commit is durable,
which lets only one commit in the cluster flush at a time (and NOTIFY takes another such lock).
Instead a transaction writes its events to `event_queue`, with no lock and no NOTIFY; after it
commits, the sequencer moves whatever is committed there into `events` under the outbox lock
(OUTBOX_LOCK, also taken by anything that writes to `events` directly), one transaction per
move, so the ids it hands out follow its own commits. One move numbers every event committed
since the previous one and sends one NOTIFY for all of them.

Every process that commits events runs a move right after its COMMIT, and the commit returns
once it is done (`after_commit`), so whoever committed finds the events numbered as before;
the commits waiting in a process at the same time share one move. A node also sweeps the queue
every second (`sweep`), so the events of a process that died between its COMMIT and its move
are numbered all the same. A move is one round trip on a pooled connection: several
statements in one simple query run as one transaction.

Every queued row is deleted by a move, so the queue's table and index fill with dead rows, and
a move's scan of the queue's head walks all of them: after a few minutes at a thousand events a
second a move that took 2 ms took 45. Autovacuum may be off, and when on visits at most once a
minute, so a process that has moved COMPACT_AFTER events vacuums the queue itself (`compact`,
from a node's sweep): a few milliseconds for a queue that is almost empty. Vacuums leave the
queue's emptied pages in place (its `vacuum_truncate` is off): giving them back takes an
exclusive lock that every commit queueing events waited behind, up to 100 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool
from sqlalchemy.util import await_
from sqlalchemy.util.concurrency import in_greenlet

from celito.events.hooks import NOTIFY_CHANNEL, OUTBOX_LOCK, EventsCommitted

log = logging.getLogger("celito.events")

MOVE_LIMIT = 5000
COMMIT_WAIT = 1.0
COMPACT_AFTER = 1000
LINGER = 0.05
# SKIP_LOCKED: if another node is vacuuming the queue, that one is enough.
_COMPACT = "VACUUM (SKIP_LOCKED) event_queue"
_COLUMNS = 'at, model, action, reseller, domain, "user", node, payload'
# One simple query: its statements run as one transaction, which takes the lock first, moves
# (ORDER BY id keeps the queue's order: each transaction's events as recorded) and, if it moved
# anything, notifies. Built from constants only.
_MOVE = (
    f"SELECT pg_advisory_xact_lock({OUTBOX_LOCK}); "  # noqa: S608
    "WITH moved AS (DELETE FROM event_queue WHERE id IN "
    f"(SELECT id FROM event_queue ORDER BY id LIMIT {MOVE_LIMIT}) RETURNING id, {_COLUMNS}), "
    f"numbered AS (INSERT INTO events ({_COLUMNS}) "
    f"SELECT {_COLUMNS} FROM moved ORDER BY id RETURNING model), "
    "counted AS (SELECT count(*) AS n, string_agg(DISTINCT model, ',') AS models FROM numbered) "
    f"SELECT n, CASE WHEN n > 0 THEN pg_notify('{NOTIFY_CHANNEL}', models) END FROM counted"
)


class Sequencer:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = weakref.ref(engine)
        self._lock: asyncio.Lock | None = None
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._poked: asyncio.Event | None = None  # set while the mover lingers
        # Called after the move that numbered the events of the commits that asked for it,
        # with the models of those events.
        self._hooks: set[EventsCommitted] = set()
        self._models: set[str] = set()
        # Pokes so far, and how many of them finished moves have covered.
        self._asked = 0
        self._covered = 0
        self._moved: asyncio.Event | None = None
        self.moved_since_compact = 0

    def poke(self, hook: EventsCommitted | None, models: frozenset[str] = frozenset()) -> int:
        """After a commit that queued events (of `models`): number them soon, then call
        `hook`. Returns a ticket for `numbered`."""
        if hook is not None:
            self._hooks.add(hook)
        self._models |= models
        self._asked += 1
        self._again = True
        if self._poked is not None:
            self._poked.set()
        if self._task is None or self._task.done():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop (a synchronous caller): a node's sweep moves them
                return self._asked
            self._task = loop.create_task(self._drain(), name="celito-sequencer")
        return self._asked

    async def numbered(self, ticket: int) -> None:
        """Waits until a move has numbered the events of the poke that returned `ticket` (or
        failed to: a sweep numbers them later)."""
        while self._covered < ticket and self._task is not None and not self._task.done():
            if self._moved is None:
                self._moved = asyncio.Event()
            await self._moved.wait()

    async def settled(self) -> None:
        """Waits until the moves asked for so far are done."""
        await self.numbered(self._asked)

    def after_commit(
        self, hook: EventsCommitted | None, models: frozenset[str], *, wait: bool = True
    ) -> None:
        """From the commit hook: numbers the events just committed before the commit returns,
        so whoever committed finds them in `events` (as when each commit numbered its own).
        A move carries every commit waiting by then, so the commits of a busy process share
        them. After COMMIT_WAIT the commit returns anyway; its events follow soon after.
        Without `wait` the commit returns at once and the move follows."""
        ticket = self.poke(hook, models)
        if wait and in_greenlet():  # inside an AsyncSession's commit: it can wait
            await_(self._numbered_within(ticket, COMMIT_WAIT))

    async def _numbered_within(self, ticket: int, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.numbered(ticket)

    async def _drain(self) -> None:
        try:
            # A poke that comes while the connection is being given back finds this task not
            # yet done, so starts none: the outer loop takes it, with no await between its
            # last look and the task's end.
            while self._again:
                # One pooled connection for a run of moves: a busy process moves back to back,
                # and keeps it for LINGER after the last, as the next commit is usually near
                # (a checkout costs CPU, and a liveness round trip once idle for a second).
                async with self._mover() as move:
                    while self._again or await self._poked_within(LINGER):
                        self._again = False
                        ticket = self._asked
                        hooks, self._hooks = self._hooks, set()
                        models, self._models = frozenset(self._models), set()
                        await move()
                        self._cover(ticket)
                        for hook in hooks:
                            hook(models)
        except Exception as exc:  # the database is away: a node's sweep catches up
            log.warning("numbering queued events failed (%s); a node will retry", exc)
            self._cover(self._asked)

    async def _poked_within(self, seconds: float) -> bool:
        self._poked = asyncio.Event()
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await self._poked.wait()
        finally:
            self._poked = None
        return self._again

    def _cover(self, ticket: int) -> None:
        self._covered = ticket
        if self._moved is not None:
            self._moved.set()
            self._moved = None

    @contextlib.asynccontextmanager
    async def _autocommit(self) -> AsyncIterator[Any]:
        """The driver's connection of a pooled connection in autocommit, or None when the
        database is gone with its pool."""
        engine = self._engine()
        if engine is None:
            yield None
            return
        async with engine.connect() as conn:
            # Autocommit: a simple query's statements make one implicit transaction, and
            # VACUUM runs outside any.
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None  # a live pooled connection
            yield driver

    @contextlib.asynccontextmanager
    async def _mover(self) -> AsyncIterator[Callable[[], Awaitable[int]]]:
        """A connection to move on; yields the move: every committed queued event numbered
        (MOVE_LIMIT per transaction), returning how many."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock, self._autocommit() as driver:
            if driver is None:

                async def nothing() -> int:
                    return 0

                yield nothing
                return

            async def move() -> int:
                total = 0
                while True:
                    async with driver.cursor() as cursor:
                        await cursor.execute(_MOVE)
                        cursor.nextset()
                        row = await cursor.fetchone()
                    moved = int(row[0]) if row else 0
                    total += moved
                    self.moved_since_compact += moved
                    if moved < MOVE_LIMIT:
                        return total

            yield move

    async def compact(self) -> bool:
        """Vacuums the queue if this process has moved COMPACT_AFTER events since it last
        did; True if it did."""
        if self.moved_since_compact < COMPACT_AFTER:
            return False
        async with self._autocommit() as driver:
            if driver is None:
                return False
            self.moved_since_compact = 0
            await driver.execute(_COMPACT)
        return True

    async def move(self) -> int:
        """Numbers every committed queued event; returns how many."""
        async with self._mover() as move:
            return await move()

    async def sweep(self) -> int:
        """Numbers whatever is queued (nothing to do costs one round trip, and no lock held
        past it); nothing while this process's mover runs, as it moves everything committed
        (under steady commits it never lets go, and a sweep would wait for it)."""
        if self._task is not None and not self._task.done():
            return 0
        return await self.move()


_sequencers: weakref.WeakKeyDictionary[Pool, Sequencer] = weakref.WeakKeyDictionary()


def sequencer_for(engine: AsyncEngine) -> Sequencer:
    """The sequencer of an engine's database (one per connection pool, so per process)."""
    pool = engine.sync_engine.pool
    found = _sequencers.get(pool)
    if found is None:
        found = _sequencers[pool] = Sequencer(engine)
    return found
