"""Action-URL reports, committed in groups.

Phones report every call state change; a busy office is hundreds of reports a second, each a
small write. One transaction per report would cap the receiver at the database's commit rate
(on SQLite, one writer at a time). Instead each request hands its report to the node's
Ingest and waits; a single task applies whatever has queued up (up to MAX_BATCH) in one
transaction, commits, and answers every waiting request with its own outcome. A request is
answered only after its report is committed: nothing acknowledged is lost.

A batch's fixed cost (reading its phones, presence, the commit, and what the node's other tasks
do after every commit) is most of what it costs, so batches start at most every
BATCH_INTERVAL: a report that finds the ingest idle is applied at once, but under load the
reports of an interval share one batch. Applying them as they trickle in, a few per batch, spent
a whole core on fixed costs below 1,000 reports/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from celito.events import outbox
from celito.phones import hooks, reports
from celito.runtime import Runtime

log = logging.getLogger("celito.phones")
MAX_BATCH = 200
BATCH_INTERVAL = 0.02


class Ingest:
    def __init__(self, runtime: Runtime, on_hook_calls: Callable[[], None] | None = None) -> None:
        self.runtime = runtime
        self.on_hook_calls = on_hook_calls
        self._queue: list[tuple[reports.Report, asyncio.Future[reports.Outcome]]] = []
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="celito-action-url-ingest")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for _, future in self._queue:
            if not future.done():
                future.set_exception(RuntimeError("the server is stopping"))

    async def submit(self, report: reports.Report) -> reports.Outcome:
        future: asyncio.Future[reports.Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append((report, future))
        self._ready.set()
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        started = -BATCH_INTERVAL
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._queue:
                wait = started + BATCH_INTERVAL - loop.time()
                if wait > 0 and len(self._queue) < MAX_BATCH:
                    await asyncio.sleep(wait)
                started = loop.time()
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await self._apply(batch)

    async def _apply(
        self, batch: list[tuple[reports.Report, asyncio.Future[reports.Outcome]]]
    ) -> None:
        try:
            async with self.runtime.db.writer() as session:
                # Nobody here reads the events back: the phones are answered without waiting
                # for PostgreSQL's numbering of them.
                outbox.number_later(session)
                outcomes = await reports.apply(session, [r for r, _ in batch])
                await session.commit()
                if hooks.queued(session) and self.on_hook_calls is not None:
                    self.on_hook_calls()
        except Exception as exc:
            log.exception("could not apply %d phone reports", len(batch))
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.batches += 1
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)
