"""Where the time of GET /ns-api/v2/domains/~/users/~ goes, measured in one process.

A profiling aid, not one of the figures: it calls celito's internals, so it follows them as
they change. A demo tenant is seeded by a real `celito serve` (stopped again), then in this
process, one request at a time on uvloop, each stage is timed on its own:

- the whole ASGI app called directly (no sockets, no uvicorn), for users/~, for /version and
  for the bare app: what the framework and the handler cost without HTTP parsing;
- the per-request database session (pool checkout, BEGIN, COMMIT, checkin), a trivial query
  through SQLAlchemy and through the raw driver;
- bearer resolution (cache hit and miss), domains.get, users.service.get, to_out, and UserOut
  rendered to JSON.

    .venv/bin/python bench/benchkit/breakdown.py [--postgres] [--iterations 2000]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvloop
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from benchkit import bare_asgi
from benchkit import harness as h

USERS = "/ns-api/v2/domains/~/users/~"
VERSION = "/ns-api/v2/version"
Stage = Callable[[], Awaitable[float | None]]


async def finish(sessions: Any) -> None:
    """Ends a request session the way FastAPI ends a yield dependency (commit, close)."""
    with contextlib.suppress(StopAsyncIteration):
        await anext(sessions)


async def timed(stage: Stage, iterations: int, batches: int = 5) -> float:
    """µs per call: the fastest of `batches` batches (the least disturbed by neighbours).

    A stage may return the seconds to count itself (to leave its setup out), or None to be
    timed whole.
    """
    for _ in range(max(20, iterations // 20)):
        await stage()
    best = float("inf")
    per_batch = max(1, iterations // batches)
    for _ in range(batches):
        counted = 0.0
        start = time.perf_counter()
        for _ in range(per_batch):
            own = await stage()
            if own is not None:
                counted += own
        whole = time.perf_counter() - start
        best = min(best, (counted or whole) / per_batch)
    return best * 1e6


def asgi_get(app: Any, path: str, token: str | None) -> Stage:
    headers = [(b"host", b"127.0.0.1")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope_base = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8080),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def run() -> None:
        status = 0

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app({**scope_base, "state": {}}, receive, send)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")

    return run


async def breakdown(store: h.Backend, token: str, iterations: int) -> list[tuple[str, float]]:
    from celito.app import create_app
    from celito.auth.bearer import resolve
    from celito.config import Settings
    from celito.domains import service as domains
    from celito.users import service as users

    settings = Settings(data_dir=store.data_dir, database_url=store.database_url)
    app = create_app(settings)
    runtime = app.state.runtime
    db = runtime.db
    statements: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    results: list[tuple[str, float]] = []

    async def stage(label: str, fn: Stage) -> None:
        micros = await timed(fn, iterations)
        results.append((label, micros))
        print(f"  {label}: {micros:,.0f} µs", flush=True)

    async def session_around(work: Callable[[AsyncSession], Awaitable[Any]]) -> float:
        """Runs `work` in a begun request session; returns only the time `work` took."""
        sessions = db.session(write=False)
        session = await anext(sessions)
        await session.connection()
        start = time.perf_counter()
        await work(session)
        took = time.perf_counter() - start
        await finish(sessions)
        return took

    async with app.router.lifespan_context(app):
        sessions = db.session(write=False)
        session = await anext(sessions)
        caller = await resolve(session, runtime, token, "127.0.0.1")
        user = await users.get(session, caller, "~", "~")
        out = users.to_out(user)
        await finish(sessions)

        await stage("bare ASGI app, called directly", asgi_get(bare_asgi.app, "/", None))
        await stage("celito app: GET /version, called directly", asgi_get(app, VERSION, None))
        users_get = asgi_get(app, USERS, token)
        await stage("celito app: GET users/~, called directly", users_get)
        runtime.callers.clear()
        statements.clear()
        await users_get()
        per_request = list(statements)

        async def session_only() -> None:
            sessions = db.session(write=False)
            s = await anext(sessions)
            await s.connection()
            await finish(sessions)

        await stage("DB session: checkout, BEGIN, COMMIT, checkin", session_only)

        async def select_one(s: AsyncSession) -> None:
            await s.execute(text("SELECT 1"))

        await stage("  one SELECT 1 through SQLAlchemy", lambda: session_around(select_one))
        await stage("  one SELECT 1 through the raw driver", await raw_select_one(store))

        async def cached(s: AsyncSession) -> None:
            await resolve(s, runtime, token, "127.0.0.1")

        async def uncached(s: AsyncSession) -> None:
            runtime.callers.clear()
            await resolve(s, runtime, token, "127.0.0.1")

        await stage("bearer.resolve, cached caller", lambda: session_around(cached))
        await stage("bearer.resolve, token lookup (cache miss)", lambda: session_around(uncached))

        async def domain_get(s: AsyncSession) -> None:
            await domains.get(s, caller, "~")

        async def user_get(s: AsyncSession) -> None:
            await users.get(s, caller, "~", "~")

        await stage("domains.get(~) (1 query)", lambda: session_around(domain_get))
        await stage("users.service.get(~, ~) (3 queries)", lambda: session_around(user_get))

        async def to_out() -> None:
            users.to_out(user)

        async def render() -> None:
            out.model_dump_json(by_alias=True)

        await stage("users.to_out (UserOut validation)", to_out)
        await stage("UserOut to JSON (model_dump_json)", render)

    print(f"\nSQL per users/~ request with a cold caller cache ({len(per_request)}):")
    for sql in per_request:
        print("  " + " ".join(sql.split())[:150])
    return results


async def raw_select_one(store: h.Backend) -> Stage:
    if store.database_url is None:
        import aiosqlite

        conn = await aiosqlite.connect(store.data_dir / "celito.db")

        async def sqlite_one() -> None:
            async with conn.execute("SELECT 1") as cursor:
                await cursor.fetchall()

        return sqlite_one
    import psycopg

    pg = await psycopg.AsyncConnection.connect(
        store.database_url.replace("postgresql+psycopg", "postgresql"), autocommit=True
    )

    async def pg_one() -> None:
        cursor = await pg.execute("SELECT 1")
        await cursor.fetchall()

    return pg_one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()
    with h.scratch("breakdown") as workdir, h.backend(args.postgres, workdir) as store:
        with h.celito_server(store, 1, workdir) as server:
            user = server.credentials["users"][0]
            token = h.password_grant(server, user["username"], user["password"])["access_token"]
        results = uvloop.run(breakdown(store, token, args.iterations))
    whole = dict(results)["celito app: GET users/~, called directly"]
    print()
    print(
        h.table(
            ("stage", "µs", "share of users/~"),
            [(label, micros, f"{micros / whole:.1%}") for label, micros in results],
        )
    )


if __name__ == "__main__":
    main()
