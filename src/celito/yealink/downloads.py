"""Which phone downloaded which file when: written behind, in batches.

A morning when a thousand phones reboot is thousands of downloads a minute; one write per
download would make the provisioning server as slow as the database's commit rate. The
recorder keeps the latest download per phone in memory and writes them once a second in one
transaction. What a crash loses is at most a second of "last retrieved" times, which the next
download restores.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, bindparam, case, update

from celito.db import utcnow
from celito.phones.models import Phone
from celito.runtime import Runtime

log = logging.getLogger("celito.provisioning")
FLUSH_SECONDS = 1.0


@dataclass(frozen=True)
class Download:
    mac: str
    md5: str
    user_agent: str
    firmware: str
    ip: str
    at: datetime


class DownloadLog:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._pending: dict[str, Download] = {}
        self._task: asyncio.Task[None] | None = None

    def record(self, mac: str, md5: str, user_agent: str, firmware: str, ip: str) -> None:
        self._pending[mac] = Download(mac, md5, user_agent, firmware, ip, utcnow())

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="celito-provisioning-log")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.flush()
            except Exception:
                log.exception("could not record phone downloads; will retry")

    async def flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        rows = [
            {
                "m": d.mac,
                "at": d.at,
                "md5": d.md5,
                "ua": d.user_agent,
                "fw": d.firmware,
            }
            for d in batch.values()
        ]
        table = Phone.__table__
        assert isinstance(table, Table)
        stmt = (
            update(table)
            .where(table.c.mac == bindparam("m"))
            .values(
                provisioned_at=bindparam("at"),
                served_md5=bindparam("md5"),
                # A download without a Yealink User-Agent (a person testing) keeps what the
                # phone itself last said.
                user_agent=case((bindparam("ua") == "", table.c.user_agent), else_=bindparam("ua")),
                firmware=case((bindparam("fw") == "", table.c.firmware), else_=bindparam("fw")),
                resync_pending=False,
            )
        )
        try:
            async with self.runtime.db.writer() as session:
                await session.execute(stmt, rows)
                await session.commit()
        except Exception:
            for mac, d in batch.items():  # keep them for the next round, newer ones win
                self._pending.setdefault(mac, d)
            raise
