"""OwnViews (celito.fastreads): what is kept, for how long, and what drops it."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

from celito.auth.caller import Caller
from celito.auth.crypto import sha256_hex
from celito.auth.scopes import Scope
from celito.events.models import Event
from celito.fastreads import MAX_VARIANTS, PATH, FastReads, OwnViews, _bearer
from celito.runtime import CallerCache

ADA = Caller(scope=Scope.BASIC_USER, user_id=7, user="1001", domain="acme", domain_id=1)
BOB = Caller(scope=Scope.BASIC_USER, user_id=8, user="1002", domain="acme", domain_id=1)
HEADERS = [(b"content-type", b"application/json")]


def keep(views: OwnViews, caller: Caller, body: bytes, query: bytes = b"") -> None:
    views.put(caller, query, HEADERS, body, views.generation)


def event(model: str, domain: str, user: str, **payload: str) -> Event:
    return Event(model=model, action="update", domain=domain, user=user, payload=payload)


def test_a_view_is_kept_per_user_and_query() -> None:
    views = OwnViews(ttl=60)
    keep(views, ADA, b"ada")
    keep(views, ADA, b"ada-fields", b"fields=user")
    keep(views, BOB, b"bob")
    assert views.get(7, b"") == (HEADERS, b"ada")
    assert views.get(7, b"fields=user") == (HEADERS, b"ada-fields")
    assert views.get(8, b"") == (HEADERS, b"bob")
    assert views.get(7, b"other") is None
    assert views.get(9, b"") is None


def test_only_a_few_query_variants_are_kept() -> None:
    views = OwnViews(ttl=60)
    for n in range(MAX_VARIANTS + 3):
        keep(views, ADA, b"x", f"n={n}".encode())
    assert views.get(7, f"n={MAX_VARIANTS - 1}".encode()) is not None
    assert views.get(7, f"n={MAX_VARIANTS}".encode()) is None


def test_a_view_expires() -> None:
    views = OwnViews(ttl=0.05)
    keep(views, ADA, b"ada")
    assert views.get(7, b"") is not None
    time.sleep(0.06)
    assert views.get(7, b"") is None
    assert ("acme", "1001") not in views


def test_no_ttl_keeps_nothing() -> None:
    views = OwnViews(ttl=0)
    keep(views, ADA, b"ada")
    assert views.get(7, b"") is None


def test_a_caller_without_a_user_is_not_kept() -> None:
    views = OwnViews(ttl=60)
    keep(views, Caller(scope=Scope.OFFICE_MANAGER, domain="acme", domain_id=1), b"x")
    assert len(views) == 0


def test_forgetting_by_id_name_and_everything() -> None:
    views = OwnViews(ttl=60)
    keep(views, ADA, b"ada")
    keep(views, BOB, b"bob")
    views.forget_ids({7})
    assert views.get(7, b"") is None and views.get(8, b"") is not None
    keep(views, ADA, b"ada")
    views.forget_name("acme", "1002")
    assert views.get(8, b"") is None and views.get(7, b"") is not None
    views.clear()
    assert views.get(7, b"") is None and len(views) == 0


def test_a_fill_that_raced_a_change_is_refused() -> None:
    """The view FastAPI rendered before a commit must not outlive the commit."""
    views = OwnViews(ttl=60)
    before = views.generation
    views.forget_ids({7})  # the commit lands while the read is in flight
    views.put(ADA, b"", HEADERS, b"stale", before)
    assert views.get(7, b"") is None
    views.put(BOB, b"", HEADERS, b"bob", before)  # another user's read is unaffected
    assert views.get(8, b"") == (HEADERS, b"bob")

    before = views.generation
    views.forget_name("acme", "1001")
    views.put(ADA, b"", HEADERS, b"stale", before)
    assert views.get(7, b"") is None

    before = views.generation
    views.clear()
    views.put(BOB, b"", HEADERS, b"stale", before)
    assert views.get(8, b"") is None
    keep(views, BOB, b"fresh")
    assert views.get(8, b"") == (HEADERS, b"fresh")


def test_a_reused_id_replaces_the_old_users_view() -> None:
    views = OwnViews(ttl=60)
    keep(views, ADA, b"ada")
    other = Caller(scope=Scope.BASIC_USER, user_id=7, user="1001", domain="beta", domain_id=2)
    keep(views, other, b"beta")
    assert views.get(7, b"") == (HEADERS, b"beta")
    assert ("acme", "1001") not in views and ("beta", "1001") in views


def test_events_from_other_nodes_drop_views() -> None:
    views = OwnViews(ttl=60)
    keep(views, ADA, b"ada")
    keep(views, BOB, b"bob")
    views.observe(event("device", "acme", "1001"))
    views.observe(event("auditlog", "acme", "", **{"target-object": "device"}))
    assert len(views) == 2
    views.observe(event("subscriber", "acme", "1001"))
    assert views.get(7, b"") is None and views.get(8, b"") is not None
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


def test_concurrent_misses_of_one_bearer_wait_for_a_single_fill() -> None:
    """When a bearer's caches lapse, one request takes FastAPI's path and the others wait for
    it, instead of all of them at once (the stampede that set the p99)."""
    runtime = SimpleNamespace(callers=CallerCache(ttl=60))
    views = OwnViews(ttl=60)
    calls: list[str] = []

    async def fastapi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        calls.append(scope["path"])
        await asyncio.sleep(0.01)
        runtime.callers.put(sha256_hex("tok"), ADA)
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": b"ada"})

    layer = FastReads(fastapi, runtime, views)  # type: ignore[arg-type]
    scope = {
        "type": "http",
        "method": "GET",
        "path": PATH,
        "query_string": b"",
        "headers": [(b"authorization", b"Bearer tok")],
        "client": ("127.0.0.1", 1),
    }

    async def one() -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await layer(dict(scope), None, send)  # type: ignore[arg-type]
        return sent

    async def many() -> list[list[dict[str, Any]]]:
        return await asyncio.gather(*(one() for _ in range(10)))

    answers = asyncio.run(many())
    assert calls == [PATH]
    assert all(a[0]["status"] == 200 and a[1]["body"] == b"ada" for a in answers)
