"""Webhook delivery: at-least-once, ordered per subscription, signed, retried, shared by nodes.

Each node runs one DeliveryWorker. A subscription is delivered by one node at a time, the one
holding its lease; a node that dies loses its leases when they lapse and another node carries
on from the subscription's cursor, so an event is never lost (it may be sent twice: receivers
de-duplicate on `event-id` / `webhook-id`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import system_caller
from celito.db import utcnow
from celito.errors import Unprocessable
from celito.events.bus import Wakeup
from celito.events.models import Event, Node
from celito.events.render import event_json
from celito.events.signing import sign
from celito.events.targets import check_target
from celito.runtime import Runtime
from celito.subscriptions.models import DeliveryAttempt, Subscription

log = logging.getLogger("celito.webhooks")

BATCH_MAX = 100
BATCH_WINDOW = 0.05
RETRY_FOR = timedelta(hours=24)
BACKOFF_FIRST = 1.0
BACKOFF_CAP = 3600.0
EXCERPT = 512
DELIVERABLE = ("pending", "active")


def backoff(attempt: int) -> float:
    """Exponential with jitter: ~1 s, 2 s, 4 s … capped at an hour, each drawn in [d/2, d]."""
    delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** max(0, attempt - 1))
    return random.uniform(delay / 2, delay)


def matching(sub: Subscription) -> list[Any]:
    clauses: list[Any] = [Event.model == sub.model]
    for column, wanted in (
        (Event.reseller, sub.reseller),
        (Event.domain, sub.domain),
        (Event.user, sub.user),
    ):
        if wanted and wanted != "*":
            clauses.append(column == wanted)
    return clauses


class DeliveryWorker:
    def __init__(self, runtime: Runtime, wakeup: Wakeup) -> None:
        self.runtime = runtime
        self.node = runtime.settings.node_id
        self.wakeup = wakeup
        self.lease = timedelta(seconds=runtime.settings.webhook_lease_seconds)
        self.active: dict[str, asyncio.Task[None]] = {}
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(runtime.settings.webhook_timeout_seconds, connect=3.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            follow_redirects=False,
        )
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="celito-webhooks")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self.active.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        # Hand our leases back so another node needn't wait for them to lapse.
        with contextlib.suppress(Exception):
            async with self.runtime.db.writer() as session:
                await session.execute(
                    update(Subscription)
                    .where(Subscription.leased_by == self.node)
                    .values(leased_by=None, leased_until=None)
                )
                await session.commit()
        await self.http.aclose()

    async def _run(self) -> None:
        while True:
            try:
                await self.dispatch_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook dispatch failed; retrying")
            await self.wakeup.wait(1.0)

    async def dispatch_due(self) -> None:
        now = utcnow()
        async with self.runtime.db.reader() as session:
            newest = await session.scalar(select(func.max(Event.id))) or 0
            rows = (
                await session.execute(
                    select(Subscription.id, Subscription.preferred_server).where(
                        Subscription.enabled.is_(True),
                        Subscription.status.in_(DELIVERABLE),
                        Subscription.next_attempt_at <= now,
                        Subscription.cursor < newest,
                        or_(Subscription.leased_until.is_(None), Subscription.leased_until < now),
                        or_(Subscription.expires_at.is_(None), Subscription.expires_at > now),
                    )
                )
            ).all()
            preferred_alive = await self._live_nodes(session, now)
        for sub_id, preferred in rows:
            if sub_id in self.active:
                continue
            if preferred and preferred != self.node and preferred in preferred_alive:
                continue
            if await self._claim(sub_id):
                self.active[sub_id] = asyncio.create_task(self._work(sub_id))

    async def _live_nodes(self, session: AsyncSession, now: datetime) -> set[str]:
        rows = await session.scalars(
            select(Node.node_id).where(
                Node.seen_at > now - timedelta(seconds=30),
                Node.started_at < now - timedelta(seconds=60),
            )
        )
        return set(rows.all())

    async def _claim(self, sub_id: str) -> bool:
        now = utcnow()
        async with self.runtime.db.writer() as session:
            result = await session.execute(
                update(Subscription)
                .where(
                    Subscription.id == sub_id,
                    or_(Subscription.leased_until.is_(None), Subscription.leased_until < now),
                )
                .values(leased_by=self.node, leased_until=now + self.lease)
            )
            await session.commit()
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _work(self, sub_id: str) -> None:
        try:
            while await self._deliver_next(sub_id):
                pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery for subscription %s failed", sub_id)
            await self._release(sub_id, next_attempt_at=utcnow() + timedelta(seconds=5))
        finally:
            self.active.pop(sub_id, None)

    async def _release(self, sub_id: str, **values: Any) -> None:
        async with self.runtime.db.writer() as session:
            await session.execute(
                update(Subscription)
                .where(Subscription.id == sub_id, Subscription.leased_by == self.node)
                .values(leased_by=None, leased_until=None, **values)
            )
            await session.commit()

    async def _batch(self, sub: Subscription) -> tuple[list[Event], int]:
        async with self.runtime.db.reader() as session:
            newest = await session.scalar(select(func.max(Event.id))) or 0
            stmt = select(Event).where(Event.id > sub.cursor, *matching(sub))
            if sub.retry_upto is not None:
                stmt = stmt.where(Event.id <= sub.retry_upto)
            rows = (await session.scalars(stmt.order_by(Event.id).limit(BATCH_MAX))).all()
        return list(rows), newest

    async def _deliver_next(self, sub_id: str) -> bool:
        """Sends one batch. True while there may be more to send right away."""
        async with self.runtime.db.reader() as session:
            sub = await session.get(Subscription, sub_id)
        if sub is None or sub.leased_by != self.node or not sub.enabled:
            return False
        events, newest = await self._batch(sub)
        if events and len(events) < BATCH_MAX:
            # Let a burst gather into one POST, but never hold the oldest event long.
            age = (utcnow() - events[0].at).total_seconds()
            if age < BATCH_WINDOW:
                await asyncio.sleep(BATCH_WINDOW - age)
                events, newest = await self._batch(sub)
        if not events:
            # Nothing matching up to `newest`: move the cursor past it so the next look is cheap.
            await self._release(sub_id, cursor=max(sub.cursor, newest), retry_upto=None)
            return False
        ok = await self._post(sub, events)
        return ok

    async def _post(self, sub: Subscription, events: list[Event]) -> bool:
        first, last = events[0].id, events[-1].id
        body = json.dumps([event_json(e) for e in events], separators=(",", ":")).encode()
        webhook_id = f"msg_{sub.id}_{first}_{last}"
        stamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": "celitoVoice-Webhooks/1.0",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(sub.secret, webhook_id, stamp, body),
        }
        started = time.monotonic()
        status: int | None = None
        excerpt = ""
        error = ""
        try:
            await check_target(
                sub.post_url, allow_private=self.runtime.settings.webhook_allow_private
            )
            response = await self.http.post(sub.post_url, content=body, headers=headers)
            status = response.status_code
            excerpt = response.text[:EXCERPT]
        except Unprocessable as exc:
            error = exc.message
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:EXCERPT] or type(exc).__name__
        latency = int((time.monotonic() - started) * 1000)
        succeeded = status is not None and 200 <= status < 300
        await self._settle(sub, events, webhook_id, status, succeeded, latency, excerpt, error)
        return succeeded

    async def _settle(
        self,
        sub: Subscription,
        events: list[Event],
        webhook_id: str,
        status: int | None,
        succeeded: bool,
        latency: int,
        excerpt: str,
        error: str,
    ) -> None:
        now = utcnow()
        async with self.runtime.db.writer() as session:
            session.add(
                DeliveryAttempt(
                    subscription_id=sub.id,
                    at=now,
                    node=self.node,
                    webhook_id=webhook_id,
                    first_event_id=events[0].id,
                    last_event_id=events[-1].id,
                    events_count=len(events),
                    succeeded=succeeded,
                    http_status=status,
                    latency_ms=latency,
                    response_excerpt=excerpt,
                    error=error,
                )
            )
            values: dict[str, Any] = {"posts_count": Subscription.posts_count + 1}
            if succeeded:
                values.update(
                    cursor=events[-1].id,
                    retry_upto=None,
                    attempt=0,
                    failing_since=None,
                    status="active",
                    status_reason="",
                    last_delivered_at=now,
                    leased_until=now + self.lease,
                    next_attempt_at=now,
                )
            elif status == 410:
                values.update(
                    enabled=False,
                    status="gone",
                    leased_by=None,
                    leased_until=None,
                    status_reason="The receiver answered 410 Gone; the subscription ended",
                    error_count=Subscription.error_count + 1,
                )
                audit.record(
                    session,
                    system_caller("system"),
                    "disable",
                    "subscription",
                    sub.id,
                    reseller=sub.owner_reseller,
                    domain=sub.owner_domain,
                    details={"reason": "410 Gone from post-url"},
                )
            else:
                failing_since = sub.failing_since or now
                attempt = sub.attempt + 1
                values.update(
                    error_count=Subscription.error_count + 1,
                    attempt=attempt,
                    failing_since=failing_since,
                    retry_upto=events[-1].id,
                    leased_by=None,
                    leased_until=None,
                    next_attempt_at=now + timedelta(seconds=backoff(attempt)),
                    status_reason=(f"HTTP {status}" if status else error)[:255],
                )
                if now - failing_since >= RETRY_FOR:
                    values.update(
                        enabled=False,
                        status="error",
                        status_reason=f"Deliveries failed for 24 hours (last: "
                        f"{values['status_reason']}); re-enable with PUT status=active",
                    )
                    audit.record(
                        session,
                        system_caller("system"),
                        "disable",
                        "subscription",
                        sub.id,
                        reseller=sub.owner_reseller,
                        domain=sub.owner_domain,
                        details={
                            "reason": "deliveries failed for 24 hours",
                            "last": values["status_reason"],
                        },
                    )
            await session.execute(
                update(Subscription)
                .where(Subscription.id == sub.id, Subscription.leased_by == self.node)
                .values(**values)
            )
            await session.commit()
        if not succeeded:
            log.info(
                "delivery to %s failed (%s); attempt %s",
                sub.post_url,
                status or error,
                sub.attempt + 1,
            )
