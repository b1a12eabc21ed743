"""Where the time of GET /ns-api/v2/domains/~/users/~ goes, measured in one process.

A profiling aid, not one of the figures: it calls celito's internals, so it follows them as
they change. A demo tenant is seeded by a real `celito serve` (stopped again), then in this
process, one request at a time on uvloop, each stage is timed on its own:

- the whole ASGI app called directly (no sockets, no uvicorn), for users/~ (answered by
  celito.fastreads once warm), for the same user through FastAPI (its explicit
  `/domains/{domain}/users/{user}`, which the fast layer leaves alone), for /version and for
  the bare app: what the framework and the handler cost without HTTP parsing;
- the per-request database session (pool checkout, BEGIN, COMMIT, checkin), a trivial query
  through SQLAlchemy and through the raw driver;
- bearer resolution (cache hit and miss), domains.get, users.service.get, to_out, and UserOut
  rendered to JSON.

    .venv/bin/python bench/benchkit/breakdown.py [--postgres] [--iterations 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvloop
from fastapi import FastAPI, Security
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from benchkit import bare_asgi
from benchkit import harness as h
from celito.auth.caller import Caller
from celito.users.schemas import UserOut
from celito.web import DbSession, bearer, caller_for, password_flow

USERS = "/ns-api/v2/domains/~/users/~"
VERSION = "/ns-api/v2/version"
USERS_LABEL = "celito app: GET users/~ (fastreads, warm), called directly"
FASTAPI_LABEL = "celito app: the same user through FastAPI, called directly"
# A stage returns None to be timed whole, or (wall, cpu) seconds of its own part.
Stage = Callable[[], Awaitable[tuple[float, float] | None]]
Reader = Annotated[Caller, caller_for("subscriber")]
PREBUILT: list[UserOut] = []


# Probe routes added to the app in this process only, to isolate the framework's share.
async def probe_noop() -> dict[str, str]:
    return {}


async def probe_session(session: DbSession) -> dict[str, str]:
    return {}


async def probe_security(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    _password: Annotated[str | None, Security(password_flow)],
) -> dict[str, str]:
    return {}


async def probe_caller(session: DbSession, caller: Reader) -> dict[str, str]:
    return {}


async def probe_user_out(session: DbSession, caller: Reader) -> UserOut:
    return PREBUILT[0]


def add_probes(app: FastAPI) -> None:
    """Probes next to GET users/{user} (in the users router, so routing costs the same), and a
    no-op first and last in the app's table (their difference: scanning every route)."""
    from celito.users.routes import router as users_router

    users_router.add_api_route("/{user}/bench-noop", probe_noop, methods=["GET"])
    users_router.add_api_route("/{user}/bench-session", probe_session, methods=["GET"])
    users_router.add_api_route("/{user}/bench-security", probe_security, methods=["GET"])
    users_router.add_api_route("/{user}/bench-caller", probe_caller, methods=["GET"])
    users_router.add_api_route(
        "/{user}/bench-user-out", probe_user_out, methods=["GET"], response_model=UserOut
    )
    app.add_api_route("/bench/noop-last", probe_noop, methods=["GET"])
    app.add_api_route("/bench/noop-first", probe_noop, methods=["GET"])
    app.router.routes.insert(0, app.router.routes.pop())


async def finish(sessions: Any) -> None:
    """Ends a request session the way FastAPI ends a yield dependency (commit, close)."""
    with contextlib.suppress(StopAsyncIteration):
        await anext(sessions)


def clocks() -> tuple[float, float]:
    """Wall time, and CPU time of this process (all its threads: aiosqlite's included)."""
    return time.perf_counter(), time.process_time()


async def timed(stage: Stage, iterations: int) -> tuple[float, float]:
    """(wall µs, CPU µs) per call, over `iterations` calls after a short warm-up."""
    for _ in range(max(10, iterations // 20)):
        await stage()
    own_wall = own_cpu = 0.0
    wall0, cpu0 = clocks()
    for _ in range(iterations):
        own = await stage()
        if own is not None:
            own_wall += own[0]
            own_cpu += own[1]
    wall1, cpu1 = clocks()
    if own_wall:
        return own_wall / iterations * 1e6, own_cpu / iterations * 1e6
    return (wall1 - wall0) / iterations * 1e6, (cpu1 - cpu0) / iterations * 1e6


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


Timing = tuple[str, float, float]


async def breakdown(
    store: h.Backend, token: str, uid: str, iterations: int, passes: int
) -> list[Timing]:
    from celito.app import create_app
    from celito.auth.bearer import resolve
    from celito.config import Settings
    from celito.domains import service as domains
    from celito.users import service as users

    settings = Settings(data_dir=store.data_dir, database_url=store.database_url)
    app = create_app(settings)
    add_probes(app)
    runtime = app.state.runtime
    db = runtime.db
    statements: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    connects: list[int] = []

    @event.listens_for(db.engine.sync_engine, "connect")
    def _connected(*_args: Any) -> None:
        connects.append(1)

    stages: list[tuple[str, Stage]] = []

    async def stage(label: str, fn: Stage) -> None:
        stages.append((label, fn))

    async def session_around(
        work: Callable[[AsyncSession], Awaitable[Any]],
    ) -> tuple[float, float]:
        """Runs `work` in a begun request session; returns only the time `work` took."""
        sessions = db.session(write=False)
        session = await anext(sessions)
        await session.connection()
        wall0, cpu0 = clocks()
        await work(session)
        wall1, cpu1 = clocks()
        await finish(sessions)
        return wall1 - wall0, cpu1 - cpu0

    async with app.router.lifespan_context(app):
        sessions = db.session(write=False)
        session = await anext(sessions)
        caller = await resolve(session, runtime, token, "127.0.0.1")
        user = await users.get(session, caller, "~", "~")
        out = users.to_out(user)
        PREBUILT[:] = [out]
        await finish(sessions)

        await stage("bare ASGI app, called directly", asgi_get(bare_asgi.app, "/", None))
        users_get = asgi_get(app, USERS, token)
        await stage(USERS_LABEL, users_get)
        ext, _, domain = uid.partition("@")
        fastapi_get = asgi_get(app, f"/ns-api/v2/domains/{domain}/users/{ext}", token)
        await stage(FASTAPI_LABEL, fastapi_get)
        await stage("celito app: GET /version, called directly", asgi_get(app, VERSION, None))
        await stage(
            "probe: no-op route, first in the table", asgi_get(app, "/bench/noop-first", None)
        )
        await stage(
            "probe: no-op route, last in the table", asgi_get(app, "/bench/noop-last", None)
        )
        await stage(
            "probe: no-op route beside users/{user}", asgi_get(app, USERS + "/bench-noop", None)
        )
        await stage(
            "probe: + DbSession only (no query)",
            asgi_get(app, USERS + "/bench-session", None),
        )
        await stage(
            "probe: + HTTPBearer, OAuth2PasswordBearer only",
            asgi_get(app, USERS + "/bench-security", token),
        )
        await stage(
            "probe: + DbSession + Authorize (cached caller)",
            asgi_get(app, USERS + "/bench-caller", token),
        )
        await stage(
            "probe: + response_model=UserOut (prebuilt)",
            asgi_get(app, USERS + "/bench-user-out", token),
        )
        # The SQL of a request through FastAPI, cold (caller cache emptied) and warm (the fast
        # layer's hits run none); background tasks of the app may add a statement now and
        # then, hence the averages.
        sql: dict[str, dict[str, float]] = {}
        for kind in ("cold", "warm"):
            statements.clear()
            for _ in range(20):
                if kind == "cold":
                    runtime.callers.clear()
                await fastapi_get()
            counts: dict[str, float] = {}
            for statement in statements:
                key = " ".join(statement.split())[:110]
                counts[key] = counts.get(key, 0) + 1 / 20
            sql[kind] = counts

        async def session_only() -> None:
            sessions = db.session(write=False)
            s = await anext(sessions)
            await s.connection()
            await finish(sessions)

        await stage("DB session: checkout, BEGIN, COMMIT, checkin", session_only)

        async def select_one(s: AsyncSession) -> None:
            await s.execute(text("SELECT 1"))

        await stage("  one SELECT 1 through SQLAlchemy", lambda: session_around(select_one))
        raw_one, raw_close = await raw_select_one(store)
        await stage("  one SELECT 1 through the raw driver", raw_one)

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
        await stage("users.service.get(~, ~)", lambda: session_around(user_get))

        async def to_out() -> None:
            users.to_out(user)

        async def render() -> None:
            out.model_dump_json(by_alias=True)

        await stage("users.to_out (UserOut validation)", to_out)
        await stage("UserOut to JSON (model_dump_json)", render)

        # Interleaved passes; each stage keeps its fastest pass (the least disturbed).
        best: dict[str, tuple[float, float]] = {}
        for n in range(1, passes + 1):
            print(f"pass {n}/{passes}", flush=True)
            for label, fn in stages:
                wall, cpu = await timed(fn, iterations)
                old = best.get(label, (wall, cpu))
                best[label] = (min(old[0], wall), min(old[1], cpu))
        await raw_close()

        # The same request, `concurrency` at a time, as under load: the pool (5 + 10 overflow
        # by default) is shared, and a connection beyond the pool is opened and closed again.
        for concurrency in (8, 32):
            connects.clear()
            share = iterations * 2 // concurrency

            async def worker(share: int) -> None:
                for _ in range(share):
                    await users_get()

            wall0, cpu0 = clocks()
            await asyncio.gather(*(worker(share) for _ in range(concurrency)))
            wall1, cpu1 = clocks()
            done = share * concurrency
            label = f"GET users/~ (fastreads), {concurrency} at a time (new DB connections/req:"
            label += f" {len(connects) / done:.2f})"
            best[label] = ((wall1 - wall0) / done * 1e6, (cpu1 - cpu0) / done * 1e6)
            stages.append((label, users_get))

    for kind, counts in sql.items():
        total = sum(counts.values())
        print(f"\nSQL per request through FastAPI, {kind} caller cache ({total:.2f}):")
        for statement, times in counts.items():
            print(f"  {times:.2f}  {statement}")
    return [(label, *best[label]) for label, _ in stages]


async def raw_select_one(store: h.Backend) -> tuple[Stage, Callable[[], Awaitable[None]]]:
    """SELECT 1 straight through the driver SQLAlchemy uses, and how to close it."""
    if store.database_url is None:
        import aiosqlite

        conn = await aiosqlite.connect(store.data_dir / "celito.db")

        async def sqlite_one() -> None:
            async with conn.execute("SELECT 1") as cursor:
                await cursor.fetchall()

        return sqlite_one, conn.close
    import psycopg

    pg = await psycopg.AsyncConnection.connect(
        store.database_url.replace("postgresql+psycopg", "postgresql"), autocommit=True
    )

    async def pg_one() -> None:
        cursor = await pg.execute("SELECT 1")
        await cursor.fetchall()

    return pg_one, pg.close


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--iterations", type=int, default=500, help="calls per stage and pass")
    parser.add_argument("--passes", type=int, default=5, help="interleaved passes (best kept)")
    args = parser.parse_args()
    with h.scratch("breakdown") as workdir, h.backend(args.postgres, workdir) as store:
        with h.celito_server(store, 1, workdir) as server:
            user = server.credentials["users"][0]
            token = h.password_grant(server, user["username"], user["password"])["access_token"]
        results = uvloop.run(
            breakdown(store, token, user["username"], args.iterations, args.passes)
        )
    whole = {label: cpu for label, _, cpu in results}[FASTAPI_LABEL]
    print()
    print(
        h.table(
            ("stage (one call, best of passes)", "wall µs", "CPU µs", "share of FastAPI's"),
            [(label, wall, cpu, f"{cpu / whole:.1%}") for label, wall, cpu in results],
        )
    )
    print("CPU is this process's (aiosqlite's threads included; PostgreSQL's own work is not).")


if __name__ == "__main__":
    main()
