"""What a node runs for phones: the report ingest, the download log, the hook caller and the
HTTP client that drives phones (Action URI)."""

from __future__ import annotations

import httpx

from celito.events.bus import Wakeup
from celito.phones import reports
from celito.presence import hooks as presence_hooks
from celito.runtime import Runtime
from celito.yealink.downloads import DownloadLog
from celito.yealink.hookcalls import HookCaller
from celito.yealink.ingest import Ingest


class PhoneServices:
    def __init__(self, runtime: Runtime, wakeup: Wakeup) -> None:
        self.runtime = runtime
        self.ingest = Ingest(runtime)
        self.downloads = DownloadLog(runtime)
        self.hooks = HookCaller(runtime, wakeup)
        self.http = httpx.AsyncClient(follow_redirects=False)

    async def start(self) -> None:
        # Presence counts a phone's own do-not-disturb key.
        presence_hooks.set_dnd_lookup(reports.users_with_dnd)
        self.ingest.start()
        self.downloads.start()
        self.hooks.start()

    async def stop(self) -> None:
        await self.ingest.stop()
        await self.downloads.stop()
        await self.hooks.stop()
        await self.http.aclose()
