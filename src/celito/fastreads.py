"""`GET /ns-api/v2/domains/~/users/~` ("who am I") answered in front of FastAPI, from memory.

Why this exists: integrations poll their own user all the time, and through FastAPI that read
costs ~1.5 ms of CPU (route scan over hundreds of routes, dependency solving, a database
session, two statements, validation and rendering) where bench/README.md's figure allows
~96 µs. So this one exact path is answered by a pure-ASGI layer when two per-node caches are
warm:

- the CallerCache (bearer → Caller) that FastAPI's own path fills, with the same checks that
  path applies to a cached caller (`bearer.cached`: expiry, an API key's addresses) and the
  users router's model check (an API key's allowed models; read-only does not matter to GET);
- `OwnViews`: the caller's own user exactly as FastAPI last answered it (status 200, its
  headers and body bytes) for the query string it was asked with, per user id.

Anything else falls through to FastAPI untouched: another path or method, no bearer, a cache
miss, a refusal. FastAPI then answers as always (the 401/403 shapes, the scope-error setting)
and, when it answered 200, the bytes it sent become the view. So the JSON is FastAPI's own,
never a second rendering. Concurrent misses of one bearer wait for a single fill; and past
half a view's life, one request goes through FastAPI with its bearer checked against the
database again (the others still answered from memory), so a busy bearer never misses.

Freshness:
- This process: a commit that wrote a user (or a domain, or users in bulk) drops the views it
  touched before the commit returns (SQLAlchemy session events), so a node never serves what
  it changed itself. A view rendered from a read that raced such a commit is not kept.
- Other processes (uvicorn workers, nodes): they read the change's `subscriber` event (or a
  domain/reseller `auditlog` event) from the outbox; PostgreSQL wakes them at once (NOTIFY),
  SQLite readers poll each second. Whatever happens, a view lives at most
  CELITO_CALLER_CACHE_SECONDS (default 2 s), like a cached bearer; 0 turns both caches off.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import ORMExecuteState, Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from celito.auth import bearer
from celito.auth.caller import Caller
from celito.domains.models import Domain
from celito.events.models import Event
from celito.runtime import Runtime
from celito.users.models import User

PATH = "/ns-api/v2/domains/~/users/~"
# The model the users router's `caller_for` names: an API key must be allowed it.
MODEL = "subscriber"
# The share of a view's life after which one request renews it (and its bearer) for everyone.
RENEW_AFTER = 0.5

Headers = list[tuple[bytes, bytes]]


@dataclass(slots=True)
class _View:
    user_id: int
    expires: float
    renew_at: float  # from then on, one request renews the caches for everyone (see FastReads)
    name: tuple[str, str]  # (domain, user), as events name the user
    query: bytes  # the query string answered (the route ignores it; the view does not)
    answer: tuple[Headers, bytes]


class OwnViews:
    """Users' own representations as last answered, dropped by the writes that change them.

    One view per user: a fill replaces it whole and starts its life anew.

    A fill states the `generation` seen before FastAPI read the database; it is refused if
    the user (by id or by name) or everything was dropped since, so a read that raced a
    commit never outlives it.
    """

    def __init__(self, ttl: float, max_entries: int = 50_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.generation = 0
        self._views: dict[int, _View] = {}
        self._ids: dict[tuple[str, str], int] = {}
        # When each user id or (domain, user) was last dropped, and when everything was.
        self._dropped: dict[object, int] = {}
        self._cleared = 0

    def get(self, caller: Caller, query: bytes) -> tuple[Headers, bytes] | None:
        user_id = caller.user_id
        view = self._views.get(user_id) if user_id is not None else None
        if view is None:
            return None
        if view.expires < time.monotonic() or view.name != (caller.domain, caller.user):
            # Expired, or the id is another user's now (SQLite reuses the highest id) and the
            # old user's deletion has not reached this process yet.
            self._forget(view.user_id)
            return None
        return view.answer if view.query == query else None

    def put(
        self, caller: Caller, query: bytes, headers: Headers, body: bytes, generation: int
    ) -> None:
        user_id = caller.user_id
        if user_id is None or caller.domain is None or caller.user is None or self.ttl <= 0:
            return
        name = (caller.domain, caller.user)
        dropped = self._dropped
        if (
            self._cleared > generation
            or dropped.get(user_id, 0) > generation
            or dropped.get(name, 0) > generation
        ):
            return
        self._forget(user_id)  # an older view, or one of a deleted user whose id is reused
        if len(self._views) >= self.max_entries:
            self.clear()
            return
        now = time.monotonic()
        renew_at = now + self.ttl * RENEW_AFTER
        self._views[user_id] = _View(
            user_id, now + self.ttl, renew_at, name, query, (headers, body)
        )
        self._ids[name] = user_id

    def renewal_due(self, caller: Caller) -> bool:
        """True once per view, for the first request past the middle of its life."""
        view = self._views.get(caller.user_id) if caller.user_id is not None else None
        if view is None or view.renew_at > time.monotonic():
            return False
        view.renew_at = float("inf")
        return True

    def _bump(self) -> int:
        self.generation += 1
        if len(self._dropped) > self.max_entries:
            # Forgetting the stamps is safe only as a full clear for the fills in flight.
            self._dropped.clear()
            self._cleared = self.generation
        return self.generation

    def _forget(self, user_id: int) -> None:
        view = self._views.pop(user_id, None)
        if view is not None and self._ids.get(view.name) == user_id:
            del self._ids[view.name]

    def forget_ids(self, user_ids: Iterable[int]) -> None:
        stamp = self._bump()
        for user_id in user_ids:
            self._dropped[user_id] = stamp
            self._forget(user_id)

    def forget_name(self, domain: str, user: str) -> None:
        name = (domain, user)
        self._dropped[name] = self._bump()
        user_id = self._ids.get(name)
        if user_id is not None:
            self._forget(user_id)

    def clear(self) -> None:
        self._cleared = self._bump()
        self._dropped.clear()
        self._views.clear()
        self._ids.clear()

    def __len__(self) -> int:
        return len(self._views)

    def __contains__(self, name: object) -> bool:
        """Whether (domain, user) has a view (expired or not)."""
        return name in self._ids

    # The outbox events that can change what a view says (the stream reader reads only these
    # for this observer).
    OBSERVED = frozenset({"subscriber", "auditlog"})

    def observe(self, event: Event) -> None:
        """Another process's change (this one's too, a second time), read from the outbox."""
        if event.model == "subscriber":
            if event.user:
                self.forget_name(event.domain, event.user)
            else:
                self.clear()
        elif event.model == "auditlog" and event.payload.get("target-object") in (
            "domain",
            "reseller",
        ):
            self.clear()


# --- this process's commits ---------------------------------------------------------------------

_CHANGED = "celito_own_views_changed"
_EVERYTHING = "everything"
_live: weakref.WeakSet[OwnViews] = weakref.WeakSet()
_hooks: list[bool] = []


def _install_commit_hooks() -> None:
    """Session events for the whole process (like events.hooks): they note the users a
    transaction wrote and drop their views in every live `OwnViews` when it commits."""
    if _hooks:
        return
    _hooks.append(True)

    @sa_event.listens_for(Session, "after_flush")
    def _note_flushed(session: Session, _context: Any) -> None:
        noted = session.info.get(_CHANGED)
        if noted == _EVERYTHING:
            return
        ids: set[int] = noted if isinstance(noted, set) else set()
        for obj in chain(session.new, session.dirty, session.deleted):
            if isinstance(obj, Domain):
                session.info[_CHANGED] = _EVERYTHING
                return
            if isinstance(obj, User):
                # The identity, not `obj.id`: an expired attribute would load (I/O) here.
                identity = sa_inspect(obj).identity
                ids.add(identity[0] if identity else obj.__dict__["id"])
        if ids:
            session.info[_CHANGED] = ids

    @sa_event.listens_for(Session, "do_orm_execute")
    def _note_bulk(state: ORMExecuteState) -> None:
        # UPDATE/DELETE statements (a domain's deletion removes its users in one) name no ids.
        mapper = state.bind_mapper
        writes = state.is_update or state.is_delete
        if writes and mapper is not None and mapper.class_ in (User, Domain):
            state.session.info[_CHANGED] = _EVERYTHING

    @sa_event.listens_for(Session, "after_commit")
    def _drop(session: Session) -> None:
        changed = session.info.pop(_CHANGED, None)
        if not changed:
            return
        for views in list(_live):
            if changed == _EVERYTHING:
                views.clear()
            elif isinstance(changed, set):
                views.forget_ids(changed)

    @sa_event.listens_for(Session, "after_rollback")
    def _discard(session: Session) -> None:
        session.info.pop(_CHANGED, None)


# --- the ASGI layer -----------------------------------------------------------------------------


def _bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The token as FastAPI's HTTPBearer reads it (first Authorization header, scheme any case)."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            if scheme.lower() != b"bearer" or not token:
                return None
            return token.decode("latin-1")
    return None


async def _answer(send: Send, answer: tuple[Headers, bytes]) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": answer[0]})
    await send({"type": "http.response.body", "body": answer[1]})


def _may_read(caller: Caller) -> bool:
    """What celito.web.Authorize checks of a resolved caller, for a GET of `MODEL`."""
    if caller.user_id is None:
        return False
    models = caller.allowed_models
    return models is None or "*" in models or MODEL in models


class FastReads:
    """The pure-ASGI layer; see the module's docstring."""

    def __init__(self, app: ASGIApp, runtime: Runtime, views: OwnViews) -> None:
        self.app = app
        self.runtime = runtime
        self.views = views
        # Bearers whose view FastAPI is filling now: concurrent misses of one bearer wait for
        # that one fill instead of all taking FastAPI's path at once. (That stampede, every
        # CELITO_CALLER_CACHE_SECONDS, was the p99 at half peak; renewing ahead of expiry,
        # below, keeps a busy bearer from missing at all.)
        self._filling: dict[str, asyncio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        token = _bearer(scope["headers"])
        if token is None:
            await self.app(scope, receive, send)
            return
        ip = scope["client"][0] if scope.get("client") else ""
        query: bytes = scope.get("query_string", b"")
        caller = bearer.cached(self.runtime, token, ip)
        if caller is not None and _may_read(caller):
            hit = self.views.get(caller, query)
            if hit is not None:
                if self.views.renewal_due(caller):
                    await self._renew(scope, receive, send, token, ip, query, caller)
                else:
                    await _answer(send, hit)
                return
        filling = self._filling.get(token)
        if filling is not None:
            await filling.wait()
            if await self._from_memory(send, token, ip, query):
                return
            await self._answer_and_keep(scope, receive, send, token, ip, query)
            return
        self._filling[token] = filling = asyncio.Event()
        try:
            await self._answer_and_keep(scope, receive, send, token, ip, query)
        finally:
            del self._filling[token]
            filling.set()

    async def _from_memory(self, send: Send, token: str, ip: str, query: bytes) -> bool:
        caller = bearer.cached(self.runtime, token, ip)
        if caller is None or not _may_read(caller):
            return False
        hit = self.views.get(caller, query)
        if hit is None:
            return False
        await _answer(send, hit)
        return True

    async def _renew(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        token: str,
        ip: str,
        query: bytes,
        caller: Caller,
    ) -> None:
        """This request goes through FastAPI with its bearer checked against the database
        again, while the others are still answered from memory: both caches start a new life
        before they lapse. A refusal now (revoked, disabled…) ends them at once."""
        with bearer.rechecking():
            status = await self._answer_and_keep(scope, receive, send, token, ip, query)
        if status != 200:
            bearer.forget(self.runtime, token)
            if caller.user_id is not None:
                self.views.forget_ids([caller.user_id])

    async def _answer_and_keep(
        self, scope: Scope, receive: Receive, send: Send, token: str, ip: str, query: bytes
    ) -> int:
        """FastAPI answers; a 200 is kept as the view of the caller it resolved."""
        generation = self.views.generation
        status = 0
        headers: Headers = []
        body = bytearray()
        complete = False

        async def keep(message: Message) -> None:
            nonlocal status, headers, complete
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
            elif message["type"] == "http.response.body" and status == 200:
                body.extend(message.get("body", b""))
                complete = not message.get("more_body", False)
            await send(message)

        await self.app(scope, receive, keep)
        if complete:
            caller = bearer.cached(self.runtime, token, ip)
            if caller is not None and _may_read(caller):
                self.views.put(caller, query, headers, bytes(body), generation)
        return status


def install(app: FastAPI, runtime: Runtime) -> None:
    """Puts the fast path in front of the app's routes. Call it before adding any middleware
    that must run first (the body guard): the middleware added last runs first."""
    views = OwnViews(runtime.settings.caller_cache_seconds)
    _install_commit_hooks()
    _live.add(views)
    runtime.event_observers.append((OwnViews.OBSERVED, views.observe))
    app.state.own_views = views
    app.add_middleware(FastReads, runtime=runtime, views=views)
