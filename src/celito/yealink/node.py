"""What a node runs for phones: the report ingest, the download log, the hook caller and the
HTTP client that drives phones (Action URI)."""

from __future__ import annotations

import httpx

from celito.phones import filedata, provisioning, reports
from celito.presence import hooks as presence_hooks
from celito.runtime import Runtime
from celito.yealink.downloads import DownloadLog
from celito.yealink.hookcalls import HookCaller
from celito.yealink.ingest import Ingest


class PhoneServices:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.hooks = HookCaller(runtime)
        self.ingest = Ingest(runtime, on_hook_calls=self.hooks.poke)
        self.downloads = DownloadLog(runtime)
        # SQLite reads run in the connection's own thread, so two overlap the hops; a
        # PostgreSQL connection waits a round trip per read, so more of them.
        self.files = filedata.Reader(runtime.db, size=2 if runtime.db.is_sqlite else 4)
        self.http = httpx.AsyncClient(follow_redirects=False)
        self._keys: provisioning.Keys | None = None

    @property
    def keys(self) -> provisioning.Keys:
        assert self._keys is not None, "read by start()"
        return self._keys

    async def start(self) -> None:
        # Presence counts a phone's own do-not-disturb key.
        presence_hooks.set_dnd_lookup(reports.users_with_dnd)
        # Read (and on a new database, created) once here, in a writer: downloads then never
        # touch the database for them, nor race to create them.
        async with self.runtime.db.writer() as session:
            self._keys = await provisioning.keys(session)
            await session.commit()
        self.ingest.start()
        self.downloads.start()
        self.hooks.start()

    async def stop(self) -> None:
        await self.ingest.stop()
        await self.downloads.stop()
        await self.files.close()
        await self.hooks.stop()
        await self.http.aclose()
