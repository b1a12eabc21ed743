"""OwnViews (celito.fastreads): what is kept, for how long, and what drops it."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

from celito.auth import bearer
from celito.auth.caller import Caller
from celito.auth.crypto import sha256_hex
from celito.auth.scopes import Scope
from celito.events.models import Event
from celito.fastreads import PATH, FastReads, OwnViews, _bearer
from celito.runtime import CallerCache

ADA = Caller(scope=Scope.BASIC_USER, user_id=7, user="1001", domain="acme", domain_id=1)
BOB = Caller(scope=Scope.BASIC_USER, user_id=8, user="1002", domain="acme", domain_id=1)
HEADERS = [(b"content-type", b"application/json")]


def keep(views: OwnViews, caller: Caller, body: bytes, query: bytes = b"") -> None:
    views.put(caller, query, HEADERS, body, views.generation)


def event(model: str, domain: str, user: str, **payload: str) -> Event:
    return Event(model=model, action="update", domain=domain, user=user, payload=payload)


def test_one_view_per_user_for_the_query_it_answered() -> None:
    views = OwnViews(ttl=60)
    keep(views, ADA, b"ada")
    keep(views, BOB, b"bob")
    assert views.get(ADA, b"") == (HEADERS, b"ada")
    assert views.get(BOB, b"") == (HEADERS, b"bob")
    assert views.get(ADA, b"fields=user") is None
    assert views.get(Caller(scope=Scope.BASIC_USER, user_id=9, user="9", domain="x"), b"") is None
    keep(views, ADA, b"ada-fields", b"fields=user")
    assert views.get(ADA, b"fields=user") == (HEADERS, b"ada-fields")
    assert views.get(ADA, b"") is None


def test_a_view_expires() -> None:
    views = OwnViews(ttl=0.05)
    keep(views, ADA, b"ada")
    assert views.get(ADA, b"") is not None
    time.sleep(0.06)
    assert views.get(ADA, b"") is None
    assert ("acme", "1001") not in views


def test_no_ttl_keeps_nothing() -> None:
    views = OwnViews(ttl=0)
    keep(views, ADA, b"ada")
    assert views.get(ADA, b"") is None


def test_a_caller_without_a_user_is_not_kept() -> None:
    views = OwnViews(ttl=60)
    keep(views, Caller(scope=Scope.OFFICE_MANAGER, domain="acme", domain_id=1), b"x")
    assert len(views) == 0


def test_forgetting_by_id_name_and_everything() -> None:
    views = OwnViews(ttl=60)
    keep(views, ADA, b"ada")
    keep(views, BOB, b"bob")
    views.forget_ids({7})
    assert views.get(ADA, b"") is None and views.get(BOB, b"") is not None
    keep(views, ADA, b"ada")
    views.forget_name("acme", "1002")
    assert views.get(BOB, b"") is None and views.get(ADA, b"") is not None
    views.clear()
    assert views.get(ADA, b"") is None and len(views) == 0


def test_a_fill_that_raced_a_change_is_refused() -> None:
    """The view FastAPI rendered before a commit must not outlive the commit."""
    views = OwnViews(ttl=60)
    before = views.generation
    views.forget_ids({7})  # the commit lands while the read is in flight
    views.put(ADA, b"", HEADERS, b"stale", before)
    assert views.get(ADA, b"") is None
    views.put(BOB, b"", HEADERS, b"bob", before)  # another user's read is unaffected
    assert views.get(BOB, b"") == (HEADERS, b"bob")

    before = views.generation
    views.forget_name("acme", "1001")
    views.put(ADA, b"", HEADERS, b"stale", before)
    assert views.get(ADA, b"") is None

    before = views.generation
    views.clear()
    views.put(BOB, b"", HEADERS, b"stale", before)
    assert views.get(BOB, b"") is None
    keep(views, BOB, b"fresh")
    assert views.get(BOB, b"") == (HEADERS, b"fresh")


def test_a_reused_id_replaces_the_old_users_view() -> None:
    views = OwnViews(ttl=60)
    keep(views, ADA, b"ada")
    other = Caller(scope=Scope.BASIC_USER, user_id=7, user="1001", domain="beta", domain_id=2)
    keep(views, other, b"beta")
    assert views.get(other, b"") == (HEADERS, b"beta")
    assert ("acme", "1001") not in views and ("beta", "1001") in views
    # Never the old user's view for the new one, even before the old one's deletion arrives.
    assert views.get(ADA, b"") is None
    keep(views, ADA, b"ada")
    assert views.get(other, b"") is None


def test_events_from_other_nodes_drop_views() -> None:
    views = OwnViews(ttl=60)
    keep(views, ADA, b"ada")
    keep(views, BOB, b"bob")
    views.observe(event("device", "acme", "1001"))
    views.observe(event("auditlog", "acme", "", **{"target-object": "device"}))
    assert len(views) == 2
    views.observe(event("subscriber", "acme", "1001"))
    assert views.get(ADA, b"") is None and views.get(BOB, b"") is not None
    views.observe(event("auditlog", "acme", "", **{"target-object": "domain"}))
    assert len(views) == 0
    keep(views, BOB, b"bob")
    views.observe(event("auditlog", "", "", **{"target-object": "reseller"}))
    assert len(views) == 0


def test_the_bearer_is_read_as_httpbearer_reads_it() -> None:
    assert _bearer([(b"authorization", b"Bearer abc")]) == "abc"
    assert _bearer([(b"authorization", b"bearer abc")]) == "abc"
    assert _bearer([(b"authorization", b"Basic abc")]) is None
    assert _bearer([(b"authorization", b"Bearer")]) is None
    assert _bearer([(b"authorization", b"Bearer  abc")]) == " abc"  # as FastAPI passes it on
    assert _bearer([(b"host", b"x")]) is None
    assert _bearer([(b"authorization", b"Bearer a"), (b"authorization", b"Bearer b")]) == "a"


class Stub:
    """FastAPI stand-in: resolves "tok" to ADA (or refuses), answers after a moment."""

    def __init__(self) -> None:
        self.runtime = SimpleNamespace(callers=CallerCache(ttl=60))
        self.calls: list[bool] = []  # per call: was the bearer being rechecked?
        self.refuse = False
        self.done: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.calls.append(bearer._rechecking.get())
        await asyncio.sleep(0.02)
        if self.refuse:
            await send({"type": "http.response.start", "status": 401, "headers": HEADERS})
            await send({"type": "http.response.body", "body": b"no"})
            return
        self.runtime.callers.put(sha256_hex("tok"), ADA)
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": b"ada"})


def requests(layer: FastReads, stub: Stub, n: int) -> list[int]:
    """n concurrent GETs of PATH with "tok"; their statuses, in the order they finished."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": PATH,
        "query_string": b"",
        "headers": [(b"authorization", b"Bearer tok")],
        "client": ("127.0.0.1", 1),
    }

    async def one(k: int) -> int:
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await layer(dict(scope), None, send)  # type: ignore[arg-type]
        stub.done.append(f"{k}:{sent[0]['status']}")
        return int(sent[0]["status"])

    async def many() -> list[int]:
        return list(await asyncio.gather(*(one(k) for k in range(n))))

    return asyncio.run(many())


def test_concurrent_misses_of_one_bearer_wait_for_a_single_fill() -> None:
    """When a bearer's caches lapse, one request takes FastAPI's path and the others wait for
    it, instead of all of them at once (the stampede that set the p99)."""
    stub = Stub()
    layer = FastReads(stub, stub.runtime, OwnViews(ttl=60))  # type: ignore[arg-type]
    assert requests(layer, stub, 10) == [200] * 10
    assert stub.calls == [False]


def test_one_request_renews_the_caches_ahead_of_expiry() -> None:
    """Past half its life a view is renewed by one request, through FastAPI with the bearer
    checked again, while the others are answered from memory meanwhile."""
    stub = Stub()
    views = OwnViews(ttl=0.2)
    layer = FastReads(stub, stub.runtime, views)  # type: ignore[arg-type]
    assert requests(layer, stub, 1) == [200]
    time.sleep(0.12)
    stub.done.clear()
    assert requests(layer, stub, 10) == [200] * 10
    assert stub.calls == [False, True]
    assert stub.done[-1] == "0:200"  # the renewing request finished last: nobody waited for it
    assert requests(layer, stub, 5) == [200] * 5
    assert stub.calls == [False, True]  # renewed: served from memory again


def test_a_refused_renewal_ends_both_caches() -> None:
    stub = Stub()
    views = OwnViews(ttl=0.2)
    layer = FastReads(stub, stub.runtime, views)  # type: ignore[arg-type]
    assert requests(layer, stub, 1) == [200]
    time.sleep(0.12)
    stub.refuse = True
    assert requests(layer, stub, 1) == [401]  # e.g. revoked on another node
    assert stub.runtime.callers.get(sha256_hex("tok")) is None
    assert ("acme", "1001") not in views
    assert requests(layer, stub, 2) == [401, 401]
