"""Webhook delivery: at-least-once, ordered per subscription, signed, retried, shared by nodes.

Each node process runs one DeliveryWorker:

- a manager claims due subscriptions with a lease (one UPDATE … RETURNING, SKIP LOCKED on
  PostgreSQL) and keeps them while the process lives, renewing all its leases with one
  statement;
- a feed reads each new event once (only models its subscriptions want), renders its JSON
  once, and hands it to every held subscription it matches;
- one sender per held subscription POSTs its batches (up to BATCH_MAX events, the oldest held
  at most BATCH_WINDOW to gather a burst), one at a time, so the subscription gets its events
  in order;
- a settler records the finished POSTs in groups: one transaction writes their attempts and
  moves their cursors, while the senders carry on.

A subscription is delivered by one process at a time, the one holding its lease. Its stored
cursor moves only after a 2xx, so a process that dies loses nothing: its leases lapse and
whoever claims the subscription next carries on from the cursor (events may be sent twice:
receivers de-duplicate on `event-id` / `webhook-id`). A change made through the API (a rewind,
a new URL, a pause) bumps the subscription's `revision`; the holder notices it when it settles
or renews, and reloads the subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Row,
    Select,
    Table,
    Text,
    case,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy import (
    cast as cast_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import system_caller
from celito.db import utcnow
from celito.errors import Unprocessable
from celito.events.models import Event, Node
from celito.events.poster import Poster, PostError
from celito.events.render import event_bytes
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
# The manager looks for subscriptions to claim every CLAIM_EVERY seconds, and every CLAIM_GAP
# while events arrive (so a new subscription gets its first ones soon).
CLAIM_EVERY = 1.0
CLAIM_GAP = 0.25
CLAIM_MAX = 100
# The feed reads at most this often (a batch waits BATCH_WINDOW for company anyway), and
# reads even without a wake-up every POLL seconds (a wake-up is only a hint).
FEED_GAP = 0.02
FEED_CHUNK = 1000
POLL = 1.0
# The settler records finished POSTs at most this often (nobody waits for it: a sender goes
# on with its next batch at once, and the cursor it stores only moves forward).
SETTLE_GAP = 0.1
READ_BACK_AT_ONCE = 2
# A subscription whose receiver is slower than the event rate keeps at most this many events
# in memory; beyond, it reads them back from the table as it catches up.
PENDING_MAX = 5000
# Another node's preferred subscriptions are left to it while it is alive: seen lately, and up
# for a while (one that has just started may not stay).
NODE_SILENT = timedelta(seconds=30)
NODE_SETTLING = timedelta(seconds=60)

SUBS = cast(Table, Subscription.__table__)
ATTEMPTS = cast(Table, DeliveryAttempt.__table__)
EVENTS = cast(Table, Event.__table__)
NODES = cast(Table, Node.__table__)
# The payload as stored, JSON text: see render.event_bytes.
_EVENT_COLUMNS = (
    EVENTS.c.id,
    EVENTS.c.at,
    EVENTS.c.model,
    EVENTS.c.action,
    EVENTS.c.reseller,
    EVENTS.c.domain,
    EVENTS.c.user,
    cast_(EVENTS.c.payload, Text).label("payload_json"),
)


def backoff(attempt: int) -> float:
    """Exponential with jitter: ~1 s, 2 s, 4 s … capped at an hour, each drawn in [d/2, d]."""
    delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** max(0, attempt - 1))
    return random.uniform(delay / 2, delay)


def _wanted(value: str) -> str | None:
    """A subscription filter: None matches anything (`*`, or left empty)."""
    return value if value and value != "*" else None


@dataclass(slots=True, eq=False)
class Item:
    """An event as webhooks send it: what filters look at, and its JSON, rendered once."""

    id: int
    at: float
    model: str
    reseller: str
    domain: str
    user: str
    body: bytes

    @classmethod
    def of(cls, row: Row[Any]) -> Item:
        return cls(
            row.id,
            row.at.timestamp(),
            row.model,
            row.reseller,
            row.domain,
            row.user,
            event_bytes(row, row.payload_json),
        )


@dataclass(eq=False)
class Held:
    """A subscription this process holds the lease of, and its delivery state.

    `cursor` is the last event delivered (the stored one may lag until the settler writes it).
    `pending` holds the matching events after `cursor`, in order; every matching event up to
    `loaded_upto` is in it. While `loaded_upto` keeps up with the feed, the feed hands it new
    events; when it falls behind (just claimed, rewound, too far behind) its sender reads them
    from the table until it catches up."""

    id: str
    model: str
    reseller: str | None
    domain: str | None
    user: str | None
    post_url: str
    secret: str
    owner_reseller: str
    owner_domain: str
    preferred_server: str
    expires_at: datetime | None
    revision: int
    cursor: int
    retry_upto: int | None
    attempt: int
    failing_since: datetime | None
    loaded_upto: int = 0
    pending: deque[Item] = field(default_factory=deque)
    # Set when there may be something for the sender to do.
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    sender: asyncio.Task[None] | None = None
    # POSTs sent but not yet recorded by the settler.
    unsettled: int = 0
    # Changed elsewhere, or maybe no longer ours: stop sending, and read it again.
    stale: bool = False
    # A POST failed: the settler schedules the retry and hands the lease back.
    ended: bool = False

    @classmethod
    def of(cls, row: Row[Any]) -> Held:
        return cls(
            id=row.id,
            model=row.model,
            reseller=_wanted(row.reseller),
            domain=_wanted(row.domain),
            user=_wanted(row.user),
            post_url=row.post_url,
            secret=row.secret,
            owner_reseller=row.owner_reseller,
            owner_domain=row.owner_domain,
            preferred_server=row.preferred_server,
            expires_at=row.expires_at,
            revision=row.revision,
            cursor=row.cursor,
            retry_upto=row.retry_upto,
            attempt=row.attempt,
            failing_since=row.failing_since,
            loaded_upto=row.cursor,
        )

    def clauses(self) -> list[Any]:
        """The subscription's filter, for a query of the events table."""
        found: list[Any] = [EVENTS.c.model == self.model]
        for column, wanted in (
            (EVENTS.c.reseller, self.reseller),
            (EVENTS.c.domain, self.domain),
            (EVENTS.c.user, self.user),
        ):
            if wanted is not None:
                found.append(column == wanted)
        return found

    def mark_stale(self) -> None:
        self.stale = True
        self.wakeup.set()

    @property
    def idle(self) -> bool:
        """No sender running and nothing waiting to be recorded: safe to reload or drop."""
        return (self.sender is None or self.sender.done()) and self.unsettled == 0

    def batch(self) -> list[Item]:
        """The next POST's events: a failed batch is retried exactly (same webhook-id)."""
        items = list(islice(self.pending, BATCH_MAX))
        if self.retry_upto is not None:
            retried = [i for i in items if i.id <= self.retry_upto]
            if retried:
                return retried
            self.retry_upto = None  # its events are past retention: carry on from the rest
        return items


@dataclass(eq=False)
class Outcome:
    """One POST, as it will be recorded."""

    held: Held
    items: list[Item]
    webhook_id: str
    at: datetime
    status: int | None
    latency_ms: int
    excerpt: str
    error: str

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class DeliveryWorker:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.node = runtime.settings.node_id
        # Worker processes of one node share its name; the token tells their leases apart.
        self.token = secrets.token_hex(16)
        self.lease = timedelta(seconds=runtime.settings.webhook_lease_seconds)
        # Reads go through Core: the ORM session around them cost more than the reads.
        self._reader = runtime.db.reader_engine
        # Subscriptions reading back at once (all of them, after a restart) share a few
        # connections rather than each taking one from the pool.
        self._reading_back = asyncio.Semaphore(READ_BACK_AT_ONCE)
        self.held: dict[str, Held] = {}
        self.by_model: dict[str, list[Held]] = {}
        # The newest event id the feed has read.
        self.head = 0
        self.outcomes: list[Outcome] = []
        self.http = Poster(runtime.settings.webhook_timeout_seconds, connect_timeout=3.0)
        self._news = asyncio.Event()
        self._manage = asyncio.Event()
        self._to_settle = asyncio.Event()
        self._claim_soon = True
        self._claimed_at = -CLAIM_EVERY
        self._renew_at = 0.0
        self._tasks: list[asyncio.Task[None]] = []

    def kick(self) -> None:
        """New events were committed (here, or on another node)."""
        self._news.set()
        self._claim_soon = True
        self._manage.set()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(self.manage, self._manage), name="celito-webhooks"),
            asyncio.create_task(self._read_loop(), name="celito-webhooks-feed"),
            asyncio.create_task(self._settle_loop(), name="celito-webhooks-settle"),
        ]

    async def stop(self) -> None:
        tasks = [*self._tasks, *(h.sender for h in self.held.values() if h.sender is not None)]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            if self.outcomes:
                await self.settle()
            # Hand our leases back so another node needn't wait for them to lapse.
            async with self.runtime.db.writer() as session:
                await session.execute(
                    update(SUBS)
                    .where(SUBS.c.lease_token == self.token)
                    .values(leased_by=None, leased_until=None, lease_token=None)
                )
                await session.commit()
        await self.http.aclose()

    async def _loop(self, step: Any, wake: asyncio.Event) -> None:
        while True:
            try:
                timeout = await step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook delivery: %s failed; retrying", step.__name__)
                timeout = POLL
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await wake.wait()
            wake.clear()

    # --- which subscriptions this process delivers ----------------------------------------

    async def manage(self) -> float:
        """Renews, claims and reloads when due; returns the seconds until the next duty."""
        now = time.monotonic()
        if self.held and now >= self._renew_at:
            await self.renew()
        if now >= self._claimed_at + (CLAIM_GAP if self._claim_soon else CLAIM_EVERY):
            await self.claim()
        if any(h.stale and h.idle for h in self.held.values()):
            await self.reload()
        due = self._claimed_at + (CLAIM_GAP if self._claim_soon else CLAIM_EVERY)
        if self.held:
            due = min(due, self._renew_at)
        return max(0.0, due - time.monotonic())

    def _index(self) -> None:
        self.by_model = {}
        for h in self.held.values():
            self.by_model.setdefault(h.model, []).append(h)

    def _hold(self, h: Held) -> None:
        self.held[h.id] = h
        h.sender = asyncio.create_task(self._send_loop(h), name=f"celito-webhook-{h.id}")

    def _drop(self, h: Held) -> None:
        if self.held.get(h.id) is h:
            del self.held[h.id]
            self._index()
        h.mark_stale()

    def _live_nodes(self, now: datetime) -> Select[Any]:
        return select(NODES.c.node_id).where(
            NODES.c.seen_at > now - NODE_SILENT, NODES.c.started_at < now - NODE_SETTLING
        )

    async def claim(self) -> None:
        """Takes the lease of due subscriptions nobody holds (a cheap look first)."""
        self._claimed_at = time.monotonic()
        self._claim_soon = False
        now = utcnow()
        free = or_(SUBS.c.leased_until.is_(None), SUBS.c.leased_until < now)
        due = (
            SUBS.c.enabled.is_(True),
            SUBS.c.status.in_(DELIVERABLE),
            SUBS.c.next_attempt_at <= now,
            or_(SUBS.c.expires_at.is_(None), SUBS.c.expires_at > now),
            free,
            or_(
                SUBS.c.preferred_server.in_(("", self.node)),
                SUBS.c.preferred_server.not_in(self._live_nodes(now)),
            ),
        )
        async with self._reader.connect() as conn:
            found = await conn.scalar(select(SUBS.c.id).where(*due).limit(1))
            if not self.held:
                # The feed starts from here; whoever is behind reads back from its cursor.
                newest = select(EVENTS.c.id).order_by(EVENTS.c.id.desc()).limit(1)
                self.head = int(await conn.scalar(newest) or 0)
        if found is None:
            return
        async with self.runtime.db.writer() as session:
            rows = (
                await session.execute(
                    update(SUBS)
                    .where(
                        SUBS.c.id.in_(
                            select(SUBS.c.id)
                            .where(*due)
                            .limit(CLAIM_MAX)
                            .with_for_update(skip_locked=True)
                        ),
                        free,
                    )
                    .values(
                        leased_by=self.node, leased_until=now + self.lease, lease_token=self.token
                    )
                    .returning(*SUBS.c)
                )
            ).all()
            await session.commit()
        if not self.held:
            self._renew_at = time.monotonic() + self.lease.total_seconds() / 3
        for row in rows:
            known = self.held.get(row.id)
            if known is None:
                self._hold(Held.of(row))
            elif known.revision != row.revision:
                known.mark_stale()
        self._index()
        self._news.set()

    async def renew(self) -> None:
        """Extends every lease held, in one statement; notices subscriptions changed or lost."""
        self._renew_at = time.monotonic() + self.lease.total_seconds() / 3
        now = utcnow()
        async with self.runtime.db.writer() as session:
            rows = (
                await session.execute(
                    update(SUBS)
                    .where(SUBS.c.id.in_(list(self.held)), SUBS.c.lease_token == self.token)
                    .values(leased_until=now + self.lease)
                    .returning(SUBS.c.id, SUBS.c.revision)
                )
            ).all()
            live: set[str] = set()
            if {h.preferred_server for h in self.held.values()} - {"", self.node}:
                live = set((await session.scalars(self._live_nodes(now))).all()) - {self.node}
            await session.commit()
        revisions: dict[str, int] = {r.id: r.revision for r in rows}
        for h in self.held.values():
            if (
                revisions.get(h.id) != h.revision  # changed, deleted, or the lease lapsed
                or (h.expires_at is not None and h.expires_at <= now)
                or h.preferred_server in live
            ):
                h.mark_stale()

    async def reload(self) -> None:
        """Reads changed subscriptions again: carries on from their (maybe rewound) cursor, or
        hands back the ones this process is no longer to deliver."""
        stale = [h for h in self.held.values() if h.stale and h.idle]
        now = utcnow()
        async with self.runtime.db.writer() as session:
            rows = {
                r.id: r
                for r in await session.execute(
                    select(*SUBS.c).where(SUBS.c.id.in_([h.id for h in stale]))
                )
            }
            live = set((await session.scalars(self._live_nodes(now))).all()) - {self.node}
            handed_back: list[str] = []
            for h in stale:
                row = rows.get(h.id)
                if row is None or row.lease_token != self.token:
                    self._drop(h)
                elif (
                    not row.enabled
                    or row.status not in DELIVERABLE
                    or (row.expires_at is not None and row.expires_at <= now)
                    or row.preferred_server in live
                ):
                    self._drop(h)
                    handed_back.append(h.id)
                else:
                    self._hold(Held.of(row))
            if handed_back:
                await session.execute(
                    update(SUBS)
                    .where(SUBS.c.id.in_(handed_back), SUBS.c.lease_token == self.token)
                    .values(leased_by=None, leased_until=None, lease_token=None)
                )
            await session.commit()
        self._index()

    # --- which events they get ---------------------------------------------------------------

    async def _read_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL):
                    await self._news.wait()
            self._news.clear()
            if not self.held:
                continue
            try:
                await self.read_feed()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook delivery: reading events failed; retrying")
            await asyncio.sleep(FEED_GAP)

    async def read_feed(self) -> None:
        """Reads the events committed since the last read, for the models held, and hands each
        to the subscriptions it matches (rendered once, whatever their number)."""
        while self.by_model:
            async with self._reader.connect() as conn:
                rows = (
                    await conn.execute(
                        select(*_EVENT_COLUMNS)
                        .where(EVENTS.c.id > self.head, EVENTS.c.model.in_(list(self.by_model)))
                        .order_by(EVENTS.c.id)
                        .limit(FEED_CHUNK)
                    )
                ).all()
            if not rows:
                return
            start = self.head
            # Only the subscriptions that have everything up to here get the new events, and
            # those with the same filters match the same events: each filter is tried once.
            live = [h for h in self.held.values() if h.loaded_upto >= start and not h.stale]
            alike: dict[tuple[str, str | None, str | None, str | None], list[Held]] = {}
            for h in live:
                alike.setdefault((h.model, h.reseller, h.domain, h.user), []).append(h)
            filters: dict[str, list[tuple[str | None, str | None, str | None, list[Held]]]] = {}
            for (model, reseller, domain, user), subs in alike.items():
                filters.setdefault(model, []).append((reseller, domain, user, subs))
            for row in rows:
                item: Item | None = None
                for reseller, domain, user, subs in filters.get(row.model, ()):
                    if (
                        (reseller is None or row.reseller == reseller)
                        and (domain is None or row.domain == domain)
                        and (user is None or row.user == user)
                    ):
                        if item is None:
                            item = Item.of(row)
                        for h in subs:
                            if row.id > h.loaded_upto:
                                h.pending.append(item)
            self.head = rows[-1].id
            for h in live:
                if len(h.pending) > PENDING_MAX:
                    while len(h.pending) > PENDING_MAX:
                        h.pending.pop()
                    h.loaded_upto = h.pending[-1].id
                else:
                    h.loaded_upto = max(h.loaded_upto, self.head)
                if h.pending:
                    h.wakeup.set()
            if len(rows) < FEED_CHUNK:
                return

    async def catch_up(self, h: Held) -> None:
        """A subscription behind the feed reads its next events from the table."""
        head = self.head
        async with self._reading_back, self._reader.connect() as conn:
            rows = (
                await conn.execute(
                    select(*_EVENT_COLUMNS)
                    .where(EVENTS.c.id > h.loaded_upto, *h.clauses())
                    .order_by(EVENTS.c.id)
                    .limit(BATCH_MAX)
                )
            ).all()
        h.pending.extend(Item.of(row) for row in rows)
        if len(rows) == BATCH_MAX:
            h.loaded_upto = rows[-1].id
        else:
            # Ids follow commit order, and the feed had read up to `head` before this read
            # began: it saw every event up to there. Later ones come from the feed, or from
            # another read back if the feed moved on meanwhile.
            h.loaded_upto = max(head, rows[-1].id if rows else 0)

    # --- sending -----------------------------------------------------------------------------

    def _due_in(self, h: Held) -> float | None:
        """Seconds until `h` has a batch to send (0: now), or None: nothing to send yet."""
        if not h.pending:
            return None
        if h.retry_upto is not None:
            return 0.0
        if len(h.pending) >= BATCH_MAX:
            return 0.0
        # Let a burst gather into one POST, but never hold the oldest event long.
        return max(0.0, h.pending[0].at + BATCH_WINDOW - time.time())

    async def _send_loop(self, h: Held) -> None:
        while not (h.stale or h.ended):
            try:
                if h.loaded_upto < self.head and len(h.pending) < BATCH_MAX:
                    await self.catch_up(h)
                    continue
                if h.expires_at is not None and h.expires_at <= utcnow():
                    h.mark_stale()
                    break
                wait = self._due_in(h)
                if wait != 0.0:
                    h.wakeup.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(wait):
                            await h.wakeup.wait()
                    continue
                items = h.batch()
                outcome = await self.send(h, items)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook delivery for subscription %s failed; retrying", h.id)
                await asyncio.sleep(POLL)
                continue
            h.unsettled += 1
            self.outcomes.append(outcome)
            self._to_settle.set()
            if outcome.succeeded:
                h.cursor = items[-1].id
                while h.pending and h.pending[0].id <= h.cursor:
                    h.pending.popleft()
                h.retry_upto, h.attempt, h.failing_since = None, 0, None
            else:
                h.ended = True
        self._manage.set()

    async def send(self, h: Held, items: Sequence[Item]) -> Outcome:
        first, last = items[0].id, items[-1].id
        body = b"[" + b",".join(i.body for i in items) + b"]"
        webhook_id = f"msg_{h.id}_{first}_{last}"
        stamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": "celitoVoice-Webhooks/1.0",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(h.secret, webhook_id, stamp, body),
        }
        started = time.monotonic()
        status: int | None = None
        excerpt = ""
        error = ""
        try:
            allow = self.runtime.settings.webhook_allow_private
            await check_target(h.post_url, allow_private=allow)
            answer = await self.http.post(h.post_url, body, headers)
            status = answer.status
            excerpt = answer.excerpt[:EXCERPT]
        except Unprocessable as exc:
            error = exc.message
        except PostError as exc:
            error = str(exc)[:EXCERPT]
        latency = int((time.monotonic() - started) * 1000)
        if status is None or not 200 <= status < 300:
            log.info(
                "delivery to %s failed (%s); attempt %s",
                h.post_url,
                status or error,
                h.attempt + 1,
            )
        return Outcome(h, list(items), webhook_id, utcnow(), status, latency, excerpt, error)

    # --- recording what happened -------------------------------------------------------------

    async def _settle_loop(self) -> None:
        while True:
            await self._to_settle.wait()
            self._to_settle.clear()
            while self.outcomes:
                began = time.monotonic()
                try:
                    await self.settle()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("webhook delivery: recording attempts failed; retrying")
                    await asyncio.sleep(POLL)
                # The senders do not wait for it: recording more POSTs at once costs less.
                await asyncio.sleep(max(0.0, began + SETTLE_GAP - time.monotonic()))

    async def settle(self) -> None:
        """Records the finished POSTs in one transaction: their attempts, the cursors of the
        successes (one statement for all), the retry schedule or end of the failures."""
        outcomes, self.outcomes = self.outcomes, []
        try:
            kept = await self._record(outcomes)
        except BaseException:
            self.outcomes[:0] = outcomes
            raise
        for o in outcomes:
            h = o.held
            h.unsettled -= 1
            if h.id not in kept:
                h.mark_stale()  # changed through the API, deleted, or no longer ours
            elif not o.succeeded:
                self._drop(h)  # retried when due, by whichever node claims it then
        self._manage.set()

    async def _record(self, outcomes: list[Outcome]) -> set[str]:
        """Writes the outcomes; returns the subscriptions still ours, as we knew them."""
        now = utcnow()
        # A subscription may have had several POSTs since the last settle: the last counts.
        delivered: dict[str, tuple[Held, int, int]] = {}
        for o in outcomes:
            if o.succeeded:
                _, _, posts = delivered.get(o.held.id, (o.held, 0, 0))
                delivered[o.held.id] = (o.held, o.items[-1].id, posts + 1)
        kept: set[str] = set()
        async with self.runtime.db.writer() as session:
            if delivered:
                result = await session.execute(
                    update(SUBS)
                    .where(
                        tuple_(SUBS.c.id, SUBS.c.revision).in_(
                            [(h.id, h.revision) for h, _, _ in delivered.values()]
                        ),
                        SUBS.c.lease_token == self.token,
                    )
                    .values(
                        cursor=case(
                            {k: literal(c, BigInteger()) for k, (_, c, _) in delivered.items()},
                            value=SUBS.c.id,
                        ),
                        posts_count=SUBS.c.posts_count
                        + case({k: n for k, (_, _, n) in delivered.items()}, value=SUBS.c.id),
                        last_delivered_at=now,
                        status="active",
                        status_reason="",
                        attempt=0,
                        failing_since=None,
                        retry_upto=None,
                    )
                    .returning(SUBS.c.id)
                )
                kept.update(result.scalars())
            for o in outcomes:
                if not o.succeeded and await self._record_failure(session, o, now):
                    kept.add(o.held.id)
            lost = {o.held.id for o in outcomes} - kept
            existing = set(kept)
            if lost:
                found = await session.scalars(select(SUBS.c.id).where(SUBS.c.id.in_(lost)))
                existing.update(found.all())
            attempts = [_attempt(o, self.node) for o in outcomes if o.held.id in existing]
            if attempts:
                await session.execute(insert(ATTEMPTS), attempts)
            await session.commit()
        return kept

    async def _record_failure(self, session: AsyncSession, o: Outcome, now: datetime) -> bool:
        h = o.held
        values: dict[str, Any] = {
            "posts_count": SUBS.c.posts_count + 1,
            "error_count": SUBS.c.error_count + 1,
            "leased_by": None,
            "leased_until": None,
            "lease_token": None,
        }
        disable: dict[str, str] | None = None
        if o.status == 410:
            values.update(
                enabled=False,
                status="gone",
                status_reason="The receiver answered 410 Gone; the subscription ended",
            )
            disable = {"reason": "410 Gone from post-url"}
        else:
            failing_since = h.failing_since or now
            attempt = h.attempt + 1
            reason = (f"HTTP {o.status}" if o.status else o.error)[:255]
            values.update(
                attempt=attempt,
                failing_since=failing_since,
                retry_upto=o.items[-1].id,
                next_attempt_at=now + timedelta(seconds=backoff(attempt)),
                status_reason=reason,
            )
            if now - failing_since >= RETRY_FOR:
                values.update(
                    enabled=False,
                    status="error",
                    status_reason=f"Deliveries failed for 24 hours (last: {reason}); "
                    "re-enable with PUT status=active",
                )
                disable = {"reason": "deliveries failed for 24 hours", "last": reason}
        result = await session.execute(
            update(SUBS)
            .where(
                SUBS.c.id == h.id,
                SUBS.c.revision == h.revision,
                SUBS.c.lease_token == self.token,
            )
            .values(**values)
            .returning(SUBS.c.id)
        )
        if result.first() is None:
            return False
        if disable is not None:
            audit.record(
                session,
                system_caller("system"),
                "disable",
                "subscription",
                h.id,
                reseller=h.owner_reseller,
                domain=h.owner_domain,
                details=disable,
            )
        return True


def _attempt(o: Outcome, node: str) -> dict[str, Any]:
    return {
        "subscription_id": o.held.id,
        "at": o.at,
        "node": node,
        "webhook_id": o.webhook_id,
        "first_event_id": o.items[0].id,
        "last_event_id": o.items[-1].id,
        "events_count": len(o.items),
        "succeeded": o.succeeded,
        "http_status": o.status,
        "latency_ms": o.latency_ms,
        "response_excerpt": o.excerpt,
        "error": o.error,
    }
