"""Calls the URLs of phone hooks after commit: leased, retried, shared by nodes.

Each node runs one HookCaller. It leases due calls (on PostgreSQL with `FOR UPDATE SKIP
LOCKED`, so two nodes never take the same call; a dead node's leases lapse and another node
takes them), GETs each URL with the webhook rules (events.targets: no private targets unless
allowed; short timeouts; no redirects), and settles it: 2xx done; 410 Gone disables the hook
(audited); anything else is retried with the webhook backoff (events.delivery.backoff) until
24 hours after the phone reported the event, then the call fails and the hook is put in
`error` and disabled (audited). Finished calls are kept a week for the API to show.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta

import httpx
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import system_caller
from celito.db import utcnow
from celito.errors import Unprocessable
from celito.events.bus import Wakeup
from celito.events.delivery import RETRY_FOR, backoff
from celito.events.targets import check_target
from celito.phones.models import HookCall, PhoneHook
from celito.runtime import Runtime

log = logging.getLogger("celito.phonehooks")
BATCH = 50
LEASE = timedelta(seconds=30)
KEEP_DONE = timedelta(days=7)
POLL_SECONDS = 1.0


class HookCaller:
    """Woken by `poke` when this node queued calls; every POLL_SECONDS it also looks for calls
    other nodes queued (and left, if they died) and for retries that fell due."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.node = runtime.settings.node_id
        # Not the outbox's wake-up: that fires on every commit of every event, and each
        # round takes SQLite's write lock to lease.
        self.wakeup = Wakeup()
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(runtime.settings.webhook_timeout_seconds, connect=3.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            follow_redirects=False,
        )
        self._task: asyncio.Task[None] | None = None
        self._rounds = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="celito-phone-hooks")

    def poke(self) -> None:
        self.wakeup.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.http.aclose()

    async def _run(self) -> None:
        while True:
            try:
                busy = await self.round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("phone hook round failed; will retry")
                busy = False
            if not busy:
                await self.wakeup.wait(POLL_SECONDS)

    async def round(self) -> bool:
        """Leases and makes one batch of due calls; True when there may be more."""
        calls = await self._lease()
        if not calls:
            self._rounds += 1
            if self._rounds % 600 == 1:
                await self._purge()
            return False
        results = await asyncio.gather(*(self._call(url) for _, url, _ in calls))
        await self._settle([(c[0], c[2], r) for c, r in zip(calls, results, strict=True)])
        return len(calls) == BATCH

    async def _lease(self) -> list[tuple[int, str, str]]:
        now = utcnow()
        async with self.runtime.db.writer() as session:
            stmt = (
                select(HookCall.id, HookCall.url, HookCall.hook_id)
                .where(
                    HookCall.state == "pending",
                    HookCall.due_at <= now,
                    or_(HookCall.leased_until.is_(None), HookCall.leased_until < now),
                )
                .order_by(HookCall.due_at, HookCall.id)
                .limit(BATCH)
            )
            if not self.runtime.db.is_sqlite:
                stmt = stmt.with_for_update(skip_locked=True)
            rows = [(int(i), str(u), str(h)) for i, u, h in (await session.execute(stmt)).all()]
            if rows:
                await session.execute(
                    update(HookCall)
                    .where(HookCall.id.in_([r[0] for r in rows]))
                    .values(leased_by=self.node, leased_until=now + LEASE)
                )
            await session.commit()
        return rows

    async def _call(self, url: str) -> tuple[int | None, str, int]:
        """(HTTP status or None, error text, latency in ms)."""
        started = time.monotonic()
        try:
            await check_target(
                url, allow_private=self.runtime.settings.webhook_allow_private, field="url"
            )
            response = await self.http.get(url, headers={"User-Agent": "celitoVoice-phone-hooks"})
            status, error = response.status_code, ""
        except Unprocessable as exc:
            status, error = None, exc.message
        except httpx.HTTPError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"[:500]
        return status, error, int((time.monotonic() - started) * 1000)

    async def _settle(self, results: list[tuple[int, str, tuple[int | None, str, int]]]) -> None:
        now = utcnow()
        async with self.runtime.db.writer() as session:
            hooks = {
                h.id: h
                for h in await session.scalars(
                    select(PhoneHook).where(PhoneHook.id.in_({r[1] for r in results}))
                )
            }
            calls = {
                c.id: c
                for c in await session.scalars(
                    select(HookCall).where(HookCall.id.in_([r[0] for r in results]))
                )
            }
            for call_id, hook_id, (status, error, latency) in results:
                call, hook = calls.get(call_id), hooks.get(hook_id)
                if call is None or hook is None:
                    continue  # the hook was deleted meanwhile
                call.attempts += 1
                call.last_status, call.last_error, call.last_latency_ms = status, error, latency
                call.leased_by = call.leased_until = None
                if status is not None and 200 <= status < 300:
                    call.state, call.done_at = "delivered", now
                    hook.calls_count += 1
                    hook.error_count = 0
                    hook.status_reason = ""
                elif status == 410:
                    call.state, call.done_at = "failed", now
                    await self._disable(session, hook, "gone", "the URL answered 410 Gone")
                else:
                    hook.error_count += 1
                    # What its owner sees while the calls are retried: the last failure.
                    last = f"HTTP {status}" if status is not None else error
                    hook.status_reason = f"last call failed: {last}; retrying"[:255]
                    if now - call.created_at >= RETRY_FOR:
                        call.state, call.done_at = "failed", now
                        await self._disable(
                            session,
                            hook,
                            "error",
                            f"calls failed for 24 hours (last: {status or error})",
                        )
                    else:
                        call.due_at = now + timedelta(seconds=backoff(call.attempts))
                        log.info(
                            "phone hook %s: %s; retry #%s", hook.id, status or error, call.attempts
                        )
            await session.commit()

    async def _disable(
        self, session: AsyncSession, hook: PhoneHook, status: str, reason: str
    ) -> None:
        if not hook.enabled:
            return
        hook.enabled, hook.status, hook.status_reason = False, status, reason
        log.warning("phone hook %s disabled: %s", hook.id, reason)
        await session.flush()
        audit.record(
            session,
            system_caller("system"),
            "disable",
            "phone-hook",
            hook.id,
            details={"status": status, "reason": reason},
        )
        await session.execute(
            update(HookCall)
            .where(HookCall.hook_id == hook.id, HookCall.state == "pending")
            .values(state="failed", done_at=utcnow(), last_error=f"hook disabled: {reason}")
        )

    async def _purge(self) -> None:
        async with self.runtime.db.writer() as session:
            await session.execute(
                delete(HookCall).where(
                    HookCall.state != "pending", HookCall.done_at < utcnow() - KEEP_DONE
                )
            )
            await session.commit()
