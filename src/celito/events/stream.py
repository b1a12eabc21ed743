"""The live stream: one reader of the outbox per node, fanned out to connected clients.

A client sees only events its role may see (the same reach as the REST API), narrowed by the
models, domain and user it asked for. It resumes after a reconnect from the last event id it
got, as long as that id is within the retention window.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, false, func, select, true
from sqlalchemy.sql.elements import ColumnElement

from celito.auth.caller import Caller
from celito.errors import Forbidden, Unprocessable
from celito.events.bus import Wakeup
from celito.events.models import Event
from celito.events.outbox import MODELS
from celito.events.render import event_json
from celito.runtime import Runtime

log = logging.getLogger("celito.stream")

QUEUE_LIMIT = 10_000
REPLAY_LIMIT = 10_000
READ_CHUNK = 1000


@dataclass(frozen=True)
class StreamFilter:
    models: frozenset[str]
    domain: str | None = None
    user: str | None = None

    @classmethod
    def parse(
        cls, models: Iterable[str] | None, domain: str | None, user: str | None, caller: Caller
    ) -> StreamFilter:
        wanted = frozenset(m.strip() for m in (models or MODELS) if m.strip()) or frozenset(MODELS)
        unknown = sorted(wanted - set(MODELS))
        if unknown:
            raise Unprocessable(
                f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}"
            )
        domain = None if domain in (None, "", "*") else domain
        user = None if user in (None, "", "*") else user
        if domain == "~":
            domain = caller.domain
        if user == "~":
            user = caller.user
        if caller.is_user_level:
            # A user's stream is always its own, whatever it asked for.
            if (domain not in (None, caller.domain)) or (user not in (None, caller.user)):
                raise Forbidden(f"A {caller.scope} may only stream its own events")
            domain, user = caller.domain, caller.user
        elif not (caller.is_super or caller.is_reseller):
            if domain not in (None, caller.domain):
                raise Forbidden(f"A {caller.scope} may only stream its own domain")
            domain = caller.domain
        return cls(wanted, domain, user)


def visible(caller: Caller, event: Event) -> bool:
    if caller.is_super:
        return True
    if caller.is_reseller:
        return event.reseller == caller.reseller
    if caller.domain is None or event.domain != caller.domain:
        return False
    if caller.is_user_level:
        return event.user == caller.user
    return True


def visible_clause(caller: Caller) -> ColumnElement[bool]:
    if caller.is_super:
        return true()
    if caller.is_reseller:
        return Event.reseller == (caller.reseller or "")
    if caller.domain is None:
        return false()
    if caller.is_user_level:
        return and_(Event.domain == caller.domain, Event.user == (caller.user or ""))
    return Event.domain == caller.domain


Frame = tuple[int, str, bytes]
"""An event as sent: its id, the WebSocket text and the SSE bytes, rendered once."""


def frame(event: Event) -> Frame:
    data = json.dumps(event_json(event), separators=(",", ":"))
    ws = f'{{"type":"event","id":{event.id},"model":"{event.model}","data":{data}}}'
    sse = f"id: {event.id}\nevent: {event.model}\ndata: {data}\n\n".encode()
    return event.id, ws, sse


@dataclass(eq=False)
class StreamClient:
    caller: Caller
    filter: StreamFilter
    queue: asyncio.Queue[Frame | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    overflowed: bool = False

    def accepts(self, event: Event) -> bool:
        f = self.filter
        return (
            event.model in f.models
            and (f.domain is None or event.domain == f.domain)
            and (f.user is None or event.user == f.user)
            and visible(self.caller, event)
        )

    def offer(self, item: Frame) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.get_nowait()
                self.queue.put_nowait(None)


class StreamHub:
    def __init__(self, runtime: Runtime, wakeup: Wakeup) -> None:
        self.runtime = runtime
        self.wakeup = wakeup
        self.position = 0
        self.by_domain: dict[str, set[StreamClient]] = {}
        self.wide: set[StreamClient] = set()
        self._task: asyncio.Task[None] | None = None
        # Bumped when a client arrives: a read in flight may have left out the models it wants.
        self._arrivals = 0
        self._departures = 0
        self._wanted_for: tuple[tuple[int, int, int], frozenset[str] | None] | None = None

    async def start(self) -> None:
        async with self.runtime.db.reader() as session:
            self.position = int(await session.scalar(select(func.max(Event.id))) or 0)
        self._task = asyncio.create_task(self._run(), name="celito-stream")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for client in self.clients():
            with contextlib.suppress(asyncio.QueueFull):
                client.queue.put_nowait(None)

    def clients(self) -> list[StreamClient]:
        found = set(self.wide)
        for group in self.by_domain.values():
            found |= group
        return list(found)

    def register(self, client: StreamClient) -> int:
        """Adds a live client; returns the position up to which it must replay from the DB."""
        domain = client.filter.domain or (
            client.caller.domain
            if not (client.caller.is_super or client.caller.is_reseller)
            else None
        )
        if domain is None:
            self.wide.add(client)
        else:
            self.by_domain.setdefault(domain, set()).add(client)
        self._arrivals += 1
        # The reader may be behind by up to a poll when no one wanted what was committed:
        # it catches up now, with the newcomer's models.
        self.wakeup.set()
        return self.position

    def unregister(self, client: StreamClient) -> None:
        self._departures += 1
        self.wide.discard(client)
        for domain, group in list(self.by_domain.items()):
            group.discard(client)
            if not group:
                del self.by_domain[domain]

    async def _run(self) -> None:
        while True:
            try:
                await self._pump()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("stream reader failed; retrying")
                await asyncio.sleep(0.5)
            await self.wakeup.wait(1.0)

    def notify(self, models: frozenset[str] | None) -> None:
        """Events of `models` (None: of any) were committed. Wakes the reader only when
        someone here wants one of them: a busy node commits phone and call events many times
        a second that, with no client streaming them, nobody reads. The reader also polls, so
        it still moves past them (and sees other processes' events) within a second."""
        if models is None:
            self.wakeup.set()
            return
        wanted = self._wanted()
        if wanted is None or not wanted.isdisjoint(models):
            self.wakeup.set()

    def _wanted(self) -> frozenset[str] | None:
        """The models a client or an observer of this node wants; None when that is all."""
        key = (self._arrivals, self._departures, len(self.runtime.event_observers))
        if self._wanted_for is not None and self._wanted_for[0] == key:
            return self._wanted_for[1]
        models: set[str] = set()
        for client in self.clients():
            models |= client.filter.models
        for observed, _ in self.runtime.event_observers:
            models |= observed
        wanted = None if models >= set(MODELS) else frozenset(models)
        self._wanted_for = (key, wanted)
        return wanted

    async def _pump(self) -> None:
        # Only the events someone here wants are loaded: a busy node writes thousands of
        # phone and call events a second that, with no client streaming them, nobody reads.
        # A client that arrives later replays what it missed from the outbox.
        while True:
            arrivals = self._arrivals
            wanted = self._wanted()
            async with self.runtime.db.reader() as session:
                top = int(await session.scalar(select(func.max(Event.id))) or 0)
                if top <= self.position:
                    return
                stmt = select(Event).where(Event.id > self.position, Event.id <= top)
                if wanted is not None:
                    stmt = stmt.where(Event.model.in_(wanted))
                rows = (await session.scalars(stmt.order_by(Event.id).limit(READ_CHUNK))).all()
            if arrivals != self._arrivals:
                continue  # read again with the newcomer's models
            for event in rows:
                for observed, observe in self.runtime.event_observers:
                    if event.model in observed:
                        observe(event)
                self._fan_out(event)
                self.position = event.id
            if len(rows) < READ_CHUNK:
                self.position = top
                return

    def _fan_out(self, event: Event) -> None:
        targets = self.wide | self.by_domain.get(event.domain, set())
        rendered: Frame | None = None
        for client in targets:
            if client.accepts(event):
                if rendered is None:
                    rendered = frame(event)
                client.offer(rendered)

    async def replay(self, client: StreamClient, since: int, upto: int) -> list[Frame]:
        """Events after `since` (up to `upto`) the client missed, from the outbox."""
        f = client.filter
        clauses: list[Any] = [
            Event.id > since,
            Event.id <= upto,
            Event.model.in_(f.models),
            visible_clause(client.caller),
        ]
        if f.domain is not None:
            clauses.append(Event.domain == f.domain)
        if f.user is not None:
            clauses.append(Event.user == f.user)
        async with self.runtime.db.reader() as session:
            rows = (
                await session.scalars(
                    select(Event).where(*clauses).order_by(Event.id).limit(REPLAY_LIMIT)
                )
            ).all()
        return [frame(e) for e in rows]

    async def oldest_retained(self) -> int:
        async with self.runtime.db.reader() as session:
            return int(await session.scalar(select(func.min(Event.id))) or 0)
