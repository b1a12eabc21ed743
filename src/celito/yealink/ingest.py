"""Action-URL reports, committed in groups.

Phones report every call state change; a busy office is hundreds of reports a second, each a
small write. One transaction per report would cap the receiver at the database's commit rate
(on SQLite, one writer at a time). Instead each request hands its report to the node's
Ingest and waits; a single task applies whatever has queued up (up to MAX_BATCH) in one
transaction, commits, and answers every waiting request with its own outcome. A request is
answered only after its report is committed: nothing acknowledged is lost.

A batch's fixed cost (reading its phones, presence, the commit, and what the node's other tasks
do after every commit) is most of what it costs, so a batch starts only once its oldest report
has waited COLLECT_SECONDS: applying reports as they trickle in, a few per batch, would spend a
whole core on fixed costs at rates that one batch every few milliseconds absorbs easily.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from celito.db import utcnow
from celito.phones import hooks, reports
from celito.runtime import Runtime

log = logging.getLogger("celito.phones")
MAX_BATCH = 200
COLLECT_SECONDS = 0.01


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
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._queue:
                waited = (utcnow() - self._queue[0][0].at).total_seconds()
                if waited < COLLECT_SECONDS and len(self._queue) < MAX_BATCH:
                    await asyncio.sleep(COLLECT_SECONDS - max(waited, 0.0))
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await self._apply(batch)

    async def _apply(
        self, batch: list[tuple[reports.Report, asyncio.Future[reports.Outcome]]]
    ) -> None:
        try:
            async with self.runtime.db.writer() as session:
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
