"""SQLite: the write-ahead log is copied back into the database file off the commit path.

By default SQLite checkpoints inside whichever commit makes the WAL cross its size limit: that
commit copies the whole WAL into the database file and syncs it while holding the write lock,
so every writer of every process waits behind it (60-110 ms with the 40 MiB limit bulk CDR
loads want; a tenth of that, ten times as often, with SQLite's default). Phones' reports are
committed every 20 ms, and those stalls made their p99 (bench/yealink_actionurls.py).

Instead each process checkpoints about every second in a thread of its own, PASSIVE: it copies
what no reader still needs, takes no lock writers wait for, and gives up at once when another
process is checkpointing. Commits keep a far higher limit (CHECKPOINT_BACKSTOP_PAGES) in case
the checkpoints cannot keep up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading

log = logging.getLogger("celito.db")

CHECKPOINT_SECONDS = 1.0
CHECKPOINT_BACKSTOP_PAGES = 100_000  # ~400 MiB of WAL


class Checkpointer:
    def __init__(self, path: str) -> None:
        self.path = path
        self._task: asyncio.Task[None] | None = None
        self._connection: sqlite3.Connection | None = None
        # Held by a checkpoint and by closing: a cancelled wait leaves its checkpoint running
        # in the thread, and closing the connection under it would crash the process.
        self._using = threading.Lock()
        self.checkpoints = 0

    def ensure_running(self) -> None:
        """Starts the checkpoints on the running event loop (a writer just began), once."""
        task = self._task
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): commits' backstop covers it
            return
        if task is not None and not task.done() and task.get_loop() is loop:
            return
        self._task = loop.create_task(self._run(), name="celito-sqlite-checkpoints")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and task.get_loop() is asyncio.get_running_loop():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._using:
            connection, self._connection = self._connection, None
            if connection is not None:
                connection.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            try:
                await asyncio.to_thread(self.checkpoint)
            except sqlite3.Error as exc:  # the next one will do it
                log.warning("WAL checkpoint failed (%s); will retry", exc)

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (1 if it could not finish, WAL frames, frames copied)."""
        with self._using:
            if self._connection is None:
                # Never waits for a lock: a checkpoint that finds one busy is simply skipped.
                self._connection = sqlite3.connect(
                    self.path, timeout=0, isolation_level=None, check_same_thread=False
                )
            row = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.checkpoints += 1
            return int(row[0]), int(row[1]), int(row[2])
