"""CDRs at volume: bulk ingestion, the hot queries, counts and a streamed CSV export.

Ingestion (SQLite and PostgreSQL, each on a throwaway database): CDRs go through
`celito.cdrs.service.ingest` — the path the telephony plane and imports use, with validation,
idempotent ids and one `cdr` outbox event per CDR — in batches of `--batch` rows, one
transaction per batch, through `celito.cdrs.imports.ingest_batches` (what `celito cdrs import`
runs). On PostgreSQL the first `--single-rows` go in one transaction at a time, the rest with
two in flight, the import's default there (one batch's events go in while the next batch's
CDRs do); SQLite has one writer, so one at a time. Baseline, same run: the same number of the
same rows loaded by the database's own fastest bulk path (PostgreSQL COPY, SQLite executemany
of one prepared INSERT) into a copy of the `cdrs` table with the same indexes, without
validation or events. Target: ≥ 20,000 rows/s for ingest.

Queries (PostgreSQL): `--rows` CDRs (default 1,000,000, all loaded through `ingest`) across
100 domains over 30 days, 50 extensions a domain; then a real `celito serve` answers, one
request at a time over keep-alive HTTP:
- a user's CDRs in a 24-hour window of one domain (`/domains/{d}/cdrs?user=…`, the hot
  query) — target p99 < 50 ms;
- counts: one domain's 30 days (10,000 CDRs) and a Reseller's 24 hours across 100 domains —
  target p99 < 100 ms;
- baseline, same server and token: `GET /domains/~/users/~` (an authenticated single read).
CSV export: a Reseller's `/cdrs?format=csv` over a window of ~100,000 CDRs, streamed; the
server's resident memory (all its processes) is sampled every 20 ms before, during and after,
and the export is compared with one of a tenth the size: flat memory means the peak does not
grow with the export.

    .venv/bin/python bench/cdr_bench.py [--rows 1000000] [--sqlite-rows 200000] [--batch 5000]
                                        [--requests 300] [--skip-sqlite] [--skip-postgres]
                                        [--ingest-only]

Everything it starts is stopped and every database it creates is dropped; details are saved
in bench/results/. The machine is shared: look at the load average printed with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import sqlite3
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchkit import harness as h

DOMAINS = 100
EXTENSIONS = 50
DAYS = 30
T0 = datetime(2026, 10, 1, tzinfo=UTC)
DEMO = "demo.celito"
RESELLER = "demo"


# --- data -----------------------------------------------------------------------------------------


def domain_names() -> list[str]:
    return [DEMO] + [f"d{i:03d}.bench" for i in range(1, DOMAINS)]


def cdr_rows(start: int, count: int, names: list[str], seed: int) -> list[dict[str, Any]]:
    """`count` CDRs numbered from `start`: spread evenly over the domains, uniformly over
    DAYS days, a mix of outbound, inbound, missed and on-net calls."""
    rnd = random.Random(seed)
    rows = []
    span = DAYS * 86400
    for n in range(start, start + count):
        domain = names[n % len(names)]
        begin = T0 + timedelta(seconds=rnd.randrange(span))
        talk = rnd.randrange(5, 600)
        kind = rnd.random()
        ext = str(1000 + rnd.randrange(EXTENSIONS))
        row: dict[str, Any] = {
            "id": f"b{n:09d}",
            "domain": domain,
            "call-start-datetime": begin,
            "call-orig-call-id": f"{n}-{rnd.getrandbits(48):x}@10.0.0.{n % 250}",
            "call-term-call-id": f"{n}-t@carrier",
            "call-audio-codec": "PCMU",
            "core-server": "node-a",
        }
        if kind < 0.45:  # outbound
            row |= {
                "call-orig-user": ext,
                "call-orig-caller-id": f"1212555{rnd.randrange(10000):04d}",
                "call-orig-request-user": f"1415555{rnd.randrange(10000):04d}",
            }
        elif kind < 0.85:  # inbound, answered or missed
            row |= {
                "call-term-user": ext,
                "call-orig-caller-id": f"1310555{rnd.randrange(10000):04d}",
                "call-orig-from-name": "Caller",
                "call-orig-to-user": ext,
            }
            if kind > 0.75:
                row["call-disconnect-datetime"] = begin + timedelta(seconds=25)
                rows.append(row)
                continue
        else:  # on-net
            row |= {
                "call-orig-user": ext,
                "call-term-user": str(1000 + rnd.randrange(EXTENSIONS)),
                "call-orig-request-user": str(1000 + rnd.randrange(EXTENSIONS)),
            }
        row["call-answer-datetime"] = begin + timedelta(seconds=4)
        row["call-disconnect-datetime"] = begin + timedelta(seconds=4 + talk)
        rows.append(row)
    return rows


# --- CPU accounting (the box is shared: CPU seconds say what wall time cannot) -----------------

TICKS = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: str) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def db_backend_cpu(database: str | None) -> float:
    """CPU seconds used so far by the PostgreSQL backends serving `database` (their process
    title names it); 0 for SQLite (it runs inside the client process)."""
    if not database:
        return 0.0
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if title.startswith("postgres:") and f" {database} " in f"{title} ":
                total += _proc_cpu(entry.name)
        except (OSError, ValueError):
            continue
    return total


class Cpu:
    """CPU seconds of this process and of the database's backends over a block."""

    def __init__(self, database: str | None) -> None:
        self.database = database
        self.client = self.server = 0.0

    def __enter__(self) -> Cpu:
        # The database's reading first: scanning /proc is not the loader's work.
        self._s = db_backend_cpu(self.database)
        self._c = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client += time.process_time() - self._c
        self.server += db_backend_cpu(self.database) - self._s


def database_of(url: str) -> str | None:
    return None if url.startswith("sqlite") else url.rsplit("/", 1)[-1]


# --- ingestion --------------------------------------------------------------------------------


async def _setup(url: str) -> None:
    """Schema, and reseller `demo` with DOMAINS domains (demo.celito may already exist)."""
    from sqlalchemy import select

    from celito.auth.caller import system_caller
    from celito.db import Database
    from celito.domains import service as domains
    from celito.domains.models import Domain
    from celito.domains.schemas import DomainCreate
    from celito.migrate import upgrade
    from celito.resellers import service as resellers
    from celito.resellers.models import Reseller
    from celito.resellers.schemas import ResellerCreate

    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    caller = system_caller()
    try:
        async with db.writer() as session:
            if await session.scalar(select(Reseller.id).where(Reseller.name == RESELLER)) is None:
                await resellers.create(session, caller, ResellerCreate(reseller=RESELLER))
            have = set(await session.scalars(select(Domain.name)))
            for name in domain_names():
                if name not in have:
                    body = {"domain": name, "reseller": RESELLER, "api-access": "yes"}
                    await domains.create(session, caller, DomainCreate.model_validate(body))
            await session.commit()
    finally:
        await db.dispose()


# Rows are made once per POOL_ROWS and reused under new ids: making a CDR costs about a
# fifth of ingesting it, and would otherwise be counted in with the ingestion.
POOL_ROWS = 100_000


async def _ingest(
    url: str, total: int, batch: int, first: int = 0, streams: int | None = None
) -> dict[str, Any]:
    """Loads `total` CDRs through cdrs.imports.ingest_batches (cdrs.service.ingest, one
    transaction a batch, `streams` in flight; None: the default for the database)."""
    from celito.cdrs import imports
    from celito.db import Database

    db = Database(url)
    names = domain_names()
    pool = [
        cdr_rows(start, batch, names, seed=start)
        for start in range(first, first + min(total, POOL_ROWS), batch)
    ]
    # The pool lives through the whole load: out of the collector's sight, as a loader that
    # made each batch as it went would leave nothing behind for it to walk.
    gc.collect()
    gc.freeze()

    def batches() -> Any:
        for k, start in enumerate(range(first, first + total, batch)):
            size = min(batch, first + total - start)
            base = pool[k % len(pool)][:size]
            yield [(n, {**row, "id": f"b{n:09d}"}) for n, row in enumerate(base, start=start)]

    marks: list[tuple[float, int]] = []

    def on_batch(done: Any) -> None:
        marks.append((time.perf_counter(), done.inserted))
        if len(marks) % 20 == 0:
            rate = done.inserted / (marks[-1][0] - began)
            print(f"  … {done.inserted:,} rows, {rate:,.0f} rows/s so far", flush=True)

    cpu = Cpu(database_of(url))
    try:
        began = time.perf_counter()
        with cpu:
            result = await imports.ingest_batches(db, batches(), streams=streams, on_batch=on_batch)
        spent = time.perf_counter() - began
    finally:
        await db.dispose()
        pool.clear()
        gc.unfreeze()
    assert not result.rejected, result.rejected[:3]
    inserted = result.inserted
    tail = marks[-11:]
    return {
        "rows": inserted,
        "first": first,
        "streams": streams or (1 if url.startswith("sqlite") else imports.POSTGRES_STREAMS),
        "seconds": spent,
        "rows_per_s": inserted / spent,
        "last_batches_rows_per_s": (tail[-1][1] - tail[0][1]) / (tail[-1][0] - tail[0][0]),
        "client_cpu_s": cpu.client,
        "db_cpu_s": cpu.server,
        "rows_per_cpu_s": inserted / (cpu.client + cpu.server),
    }


def _baseline_rows(count: int) -> list[tuple[Any, ...]]:
    """The same kind of rows, already in table-column order, for the raw bulk paths."""
    import json

    from celito.cdrs import service as cdrs

    info = {n: cdrs._DomainInfo(i + 1, n, RESELLER) for i, n in enumerate(domain_names())}
    columns = cdrs._INSERT_COLUMNS
    out = []
    for row in cdr_rows(10**8, count, domain_names(), seed=7):
        values = cdrs._prepare(row, info)._asdict()
        values["cdr_id"] = "x" + values["cdr_id"]
        values["data"] = json.dumps(values["data"])
        out.append(tuple(values[c] for c in columns))
    return out


def _baseline_postgres(url: str, count: int) -> dict[str, Any]:
    import psycopg

    from celito.cdrs import service as cdrs

    rows = _baseline_rows(count)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    columns = ", ".join(cdrs._INSERT_COLUMNS)
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE cdrs_baseline (LIKE cdrs INCLUDING ALL)")
        conn.execute(
            "ALTER TABLE cdrs_baseline DROP CONSTRAINT IF EXISTS cdrs_baseline_domain_id_fkey"
        )
        conn.commit()
        real = dict(conn.execute("SELECT name, id FROM domains").fetchall())
        position = cdrs._INSERT_COLUMNS.index("domain_id")
        name_at = cdrs._INSERT_COLUMNS.index("domain")
        fixed = [(*r[:position], real[r[name_at]], *r[position + 1 :]) for r in rows]
        began = time.perf_counter()
        with Cpu(database_of(url)) as cpu:
            for i in range(0, len(fixed), 5000):
                copy = f"COPY cdrs_baseline ({columns}) FROM STDIN"
                with conn.cursor() as cur, cur.copy(copy) as cp:
                    for r in fixed[i : i + 5000]:
                        cp.write_row(r)
                conn.commit()
        took = time.perf_counter() - began
        conn.execute("DROP TABLE cdrs_baseline")
        conn.commit()
    return {
        "rows": count,
        "seconds": took,
        "rows_per_s": count / took,
        "path": "COPY",
        "rows_per_cpu_s": count / (cpu.client + cpu.server),
    }


def _baseline_sqlite(path: Path, count: int) -> dict[str, Any]:
    from celito.cdrs import service as cdrs

    rows = _baseline_rows(count)
    columns = cdrs._INSERT_COLUMNS
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    ddl = [
        sql.replace("cdrs", "cdrs_baseline", 1).replace(" ON cdrs ", " ON cdrs_baseline ")
        for (sql,) in db.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'cdrs' AND sql IS NOT NULL"
        )
    ]
    for statement in ddl:
        db.execute(statement.replace("ix_cdrs", "ix_base").replace("uq_cdrs", "uq_base"))
    stamps = [columns.index(c) for c in ("start_time", "answer_time", "end_time")]
    fixed = []
    for r in rows:
        values = list(r)
        for k in stamps:
            if values[k] is not None:
                values[k] = values[k].isoformat(" ", "microseconds")[:26]
        fixed.append(tuple(values))
    sql = (
        f"INSERT INTO cdrs_baseline ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    began = time.perf_counter()
    with Cpu(None) as cpu:
        for i in range(0, len(fixed), 5000):
            db.execute("BEGIN IMMEDIATE")
            db.executemany(sql, fixed[i : i + 5000])
            db.execute("COMMIT")
    took = time.perf_counter() - began
    db.execute("DROP TABLE cdrs_baseline")
    db.close()
    return {
        "rows": count,
        "seconds": took,
        "rows_per_s": count / took,
        "path": "executemany",
        "rows_per_cpu_s": count / cpu.client,
    }


def ingestion_sqlite(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with h.backend(False, workdir) as store:
        path = store.data_dir / "celito.db"
        url = f"sqlite+aiosqlite:///{path}"
        asyncio.run(_setup(url))
        h.wait_idle(args.wait_idle)
        print(f"SQLite: ingesting {args.sqlite_rows:,} CDRs in batches of {args.batch:,} …")
        ingest = asyncio.run(_ingest(url, args.sqlite_rows, args.batch))
        h.wait_idle(args.wait_idle)
        base = _baseline_sqlite(path, min(args.sqlite_rows, args.baseline_rows))
    return {"ingest": ingest, "baseline": base}


# --- the server side (PostgreSQL) ---------------------------------------------------------------


def _group_rss_kib(pgid: int) -> int:
    """Resident memory of every process in the server's process group (KiB)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat[stat.rindex(")") + 2 :].split()[2]) != pgid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total


class RssSampler:
    def __init__(self, pgid: int, every: float = 0.02) -> None:
        self.pgid = pgid
        self.every = every
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(_group_rss_kib(self.pgid))
            time.sleep(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(client: httpx.Client, path: str, params: dict[str, Any] | None = None) -> float:
    began = time.perf_counter()
    r = client.get(path, params=params)
    took = (time.perf_counter() - began) * 1000
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return took


def latency(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * len(ordered) + 0.5) - 1)]
    return {
        "n": len(samples),
        "p50_ms": statistics.median(samples),
        "p99_ms": p99,
        "max_ms": ordered[-1],
    }


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


async def _reseller_user(url: str, password: str) -> None:
    """A Reseller-scoped user 9000@demo.celito (the demo has none): it reads /cdrs."""
    from celito.auth.caller import system_caller
    from celito.config import Settings
    from celito.runtime import Runtime
    from celito.users import service as users
    from celito.users.schemas import UserCreate

    runtime = Runtime.build(Settings(database_url=url))
    try:
        async with runtime.db.writer() as session:
            body = {"user": "9000", "user-scope": "Reseller", "login-password": password}
            await users.create(
                session,
                system_caller(),
                DEMO,
                UserCreate.model_validate(body),
                hasher=runtime.hasher,
            )
            await session.commit()
    finally:
        await runtime.db.dispose()


def _analyze(url: str) -> None:
    import psycopg

    with psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as c:
        c.execute("VACUUM ANALYZE cdrs")


def postgres_run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with h.backend(True, workdir) as store, contextlib.ExitStack() as stack:
        # The server seeds the demo tenant, the queries' users, into the empty database.
        if not args.ingest_only:
            server = stack.enter_context(h.celito_server(store, 1, workdir))
        assert store.database_url is not None
        url = store.database_url
        asyncio.run(_setup(url))
        h.wait_idle(args.wait_idle)
        single = min(args.single_rows, args.rows)
        print(
            f"PostgreSQL: ingesting {single:,} CDRs in batches of {args.batch:,}, "
            "one transaction at a time …"
        )
        out["ingest_single"] = asyncio.run(_ingest(url, single, args.batch, streams=1))
        h.wait_idle(args.wait_idle)
        print(
            f"PostgreSQL: ingesting {args.rows - single:,} more, batches in flight as "
            "`celito cdrs import` runs them …"
        )
        out["ingest"] = asyncio.run(_ingest(url, args.rows - single, args.batch, first=single))
        h.wait_idle(args.wait_idle)
        out["baseline"] = _baseline_postgres(url, min(args.rows, args.baseline_rows))
        if args.ingest_only:
            return out
        _analyze(url)
        password = "Bench-" + os.urandom(9).hex()
        asyncio.run(_reseller_user(url, password))
        creds = server.credentials
        om = next(u for u in creds["users"] if u["username"].startswith("1000@"))
        om_token = h.password_grant(server, om["username"], om["password"])["access_token"]
        rs_token = h.password_grant(server, f"9000@{DEMO}", password)["access_token"]
        base_url = server.url("")
        h.wait_idle(args.wait_idle)
        rnd = random.Random(3)
        with (
            httpx.Client(
                base_url=base_url, headers={"Authorization": f"Bearer {om_token}"}, timeout=60
            ) as om_c,
            httpx.Client(
                base_url=base_url, headers={"Authorization": f"Bearer {rs_token}"}, timeout=600
            ) as rs_c,
        ):
            for _ in range(20):  # warm-up
                timed(om_c, "/ns-api/v2/domains/~/users/~")
                timed(om_c, f"/ns-api/v2/domains/{DEMO}/cdrs", _day(rnd, "1001"))
            database = database_of(url)

            def series(n: int, request: Any) -> dict[str, Any]:
                """n requests one at a time: latencies, and the server's and database's CPU."""
                cpu_before = server.cpu_seconds() + db_backend_cpu(database)
                samples = [request() for _ in range(n)]
                cpu = server.cpu_seconds() + db_backend_cpu(database) - cpu_before
                return latency(samples) | {"cpu_ms_per_request": 1000 * cpu / n}

            sizes: list[int] = []

            def hot() -> float:
                params = _day(rnd, rnd.choice(("1000", "1001", "1002")))
                began = time.perf_counter()
                r = om_c.get(f"/ns-api/v2/domains/{DEMO}/cdrs", params=params)
                took = (time.perf_counter() - began) * 1000
                assert r.status_code == 200, r.text
                sizes.append(len(r.json()))
                return took

            whole = {"datetime-start": stamp(T0), "datetime-end": stamp(T0 + timedelta(DAYS))}
            n = args.requests
            out["queries"] = {
                "baseline users/~": series(n, lambda: timed(om_c, "/ns-api/v2/domains/~/users/~")),
                "domain+24h+user list": series(n, hot),
                "domain 30-day count": series(
                    n // 3, lambda: timed(om_c, f"/ns-api/v2/domains/{DEMO}/cdrs/count", whole)
                ),
                "reseller 24h count (100 domains)": series(
                    n // 3, lambda: timed(rs_c, "/ns-api/v2/cdrs/count", _day(rnd, None))
                ),
            }
            out["queries"]["domain+24h+user list"]["rows_median"] = statistics.median(sizes)
            total = om_c.get(f"/ns-api/v2/domains/{DEMO}/cdrs/count", params=whole).json()
            out["queries"]["domain 30-day count"]["total"] = total["total"]
            out["export"] = _exports(rs_c, server, args)
    return out


def _day(rnd: random.Random, user: str | None) -> dict[str, Any]:
    day = T0 + timedelta(days=rnd.randrange(DAYS - 1), hours=rnd.randrange(24))
    params = {"datetime-start": stamp(day), "datetime-end": stamp(day + timedelta(days=1))}
    if user:
        params["user"] = user
    return params


def _export(client: httpx.Client, pgid: int, days: float) -> dict[str, Any]:
    end = T0 + timedelta(days=days)
    params = {"datetime-start": stamp(T0), "datetime-end": stamp(end), "format": "csv"}
    time.sleep(0.5)
    before = _group_rss_kib(pgid)
    rows = 0
    size = 0
    began = time.perf_counter()
    first_byte = None
    with RssSampler(pgid) as sampler, client.stream("GET", "/ns-api/v2/cdrs", params=params) as r:
        assert r.status_code == 200, r.read()[:300]
        for line in r.iter_lines():
            if first_byte is None:
                first_byte = time.perf_counter() - began
            rows += 1
            size += len(line) + 2
    took = time.perf_counter() - began
    time.sleep(0.5)
    after = _group_rss_kib(pgid)
    return {
        "rows": rows - 1,
        "mib": size / 2**20,
        "seconds": took,
        "rows_per_s": (rows - 1) / took,
        "first_byte_ms": (first_byte or 0) * 1000,
        "rss_before_mib": before / 1024,
        "rss_peak_mib": max(sampler.samples or [before]) / 1024,
        "rss_after_mib": after / 1024,
    }


def _exports(client: httpx.Client, server: h.Server, args: argparse.Namespace) -> dict[str, Any]:
    pgid = server.proc.pid
    per_day = args.rows / DAYS
    big_days = min(DAYS, 100_000 / per_day)
    small = _export(client, pgid, big_days / 10)
    big = _export(client, pgid, big_days)
    return {"tenth": small, "full": big}


# --- report -------------------------------------------------------------------------------------


def report(results: dict[str, Any]) -> None:
    print()
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (2 cores; others share them)")
    rows = []
    for backend in ("sqlite", "postgres"):
        part = results.get(backend)
        if not part:
            continue
        base = part["baseline"]
        for ing in (part.get("ingest_single"), part["ingest"]):
            if ing is None:
                continue
            last = ing["first"] + ing["rows"]
            rows.append(_ingest_row(backend, ing, base, f"rows {ing['first'] + 1:,}-{last:,}"))
    print(
        h.table(
            (
                "ingestion",
                "rows/s",
                "last batches",
                "rows/CPU-s",
                "baseline rows/s",
                "baseline rows/CPU-s",
                "ratio (wall)",
                "ratio (CPU)",
                "target ≥20k rows/s",
            ),
            rows,
        )
    )
    print(
        "rows/CPU-s: rows per CPU second of the loader and the database backends together "
        "(what an otherwise idle machine would sustain, roughly; IO waits not counted); "
        "in flight: transactions at a time"
    )
    pg = results.get("postgres")
    if not pg or "queries" not in pg:
        return
    _report_queries(pg)


def _ingest_row(backend: str, ing: dict[str, Any], base: dict[str, Any], span: str) -> list[Any]:
    return [
        f"{backend}: {span}, {ing['streams']} in flight",
        ing["rows_per_s"],
        ing["last_batches_rows_per_s"],
        ing["rows_per_cpu_s"],
        f"{base['path']} {base['rows_per_s']:,.0f}",
        base["rows_per_cpu_s"],
        f"{ing['rows_per_s'] / base['rows_per_s']:.2f}",
        f"{ing['rows_per_cpu_s'] / base['rows_per_cpu_s']:.2f}",
        "PASS" if ing["rows_per_s"] >= 20_000 else "below 20,000",
    ]


def _report_queries(pg: dict[str, Any]) -> None:
    print()
    q = pg["queries"]
    base = q["baseline users/~"]
    targets = {"domain+24h+user list": 50.0}
    rows = []
    for name, m in q.items():
        target = targets.get(name, 100.0 if "count" in name else None)
        verdict = "" if target is None else ("PASS" if m["p99_ms"] < target else f"over {target}")
        rows.append(
            [
                name,
                m["n"],
                m["p50_ms"],
                m["p99_ms"],
                m["max_ms"],
                f"{m['p99_ms'] / base['p99_ms']:.2f}",
                m["cpu_ms_per_request"],
                f"{m['cpu_ms_per_request'] / base['cpu_ms_per_request']:.2f}",
                verdict,
            ]
        )
    print(
        h.table(
            (
                "query (HTTP, one at a time)",
                "n",
                "p50 ms",
                "p99 ms",
                "max ms",
                "p99 / baseline p99",
                "server+db CPU ms/req",
                "CPU / baseline",
                "target (p99)",
            ),
            rows,
        )
    )
    print()
    rows = []
    for name, e in pg["export"].items():
        rows.append(
            [
                f"CSV export ({name})",
                e["rows"],
                e["mib"],
                e["seconds"],
                e["rows_per_s"],
                e["first_byte_ms"],
                e["rss_before_mib"],
                e["rss_peak_mib"],
                e["rss_peak_mib"] - e["rss_before_mib"],
                e["rss_after_mib"],
            ]
        )
    print(
        h.table(
            (
                "export",
                "rows",
                "MiB",
                "s",
                "rows/s",
                "first byte ms",
                "RSS before MiB",
                "RSS peak MiB",
                "peak - before",
                "RSS after MiB",
            ),
            rows,
        )
    )
    full, tenth = pg["export"]["full"], pg["export"]["tenth"]
    growth = (full["rss_peak_mib"] - full["rss_before_mib"]) - (
        tenth["rss_peak_mib"] - tenth["rss_before_mib"]
    )
    print(
        f"peak growth of the full export beyond the tenth-size one: {growth:+.1f} MiB "
        f"for {full['rows'] - tenth['rows']:,} more rows ({full['mib'] - tenth['mib']:.0f} "
        "MiB more CSV)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sqlite-rows", type=int, default=200_000)
    parser.add_argument(
        "--single-rows",
        type=int,
        default=200_000,
        help="PostgreSQL: the first rows go in one transaction at a time, the rest as imports do",
    )
    parser.add_argument("--baseline-rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--wait-idle", type=float, default=10)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--ingest-only", action="store_true", help="ingestion figures only: no server, queries"
    )
    args = parser.parse_args()
    results: dict[str, Any] = {"args": vars(args)}
    with h.scratch("cdr") as workdir:
        if not args.skip_sqlite:
            results["sqlite"] = ingestion_sqlite(args, workdir)
        if not args.skip_postgres:
            results["postgres"] = postgres_run(args, workdir)
    results["loadavg"] = os.getloadavg()
    report(results)
    print(f"\ndetails: {h.save('cdr_bench', results)}")


if __name__ == "__main__":
    main()
