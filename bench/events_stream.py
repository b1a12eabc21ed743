"""The live stream: 1,000 WebSocket clients on one node, fan-out latency and memory per client.

One `celito serve` (one worker); one load process (asyncio on uvloop, the `websockets`
library) holds the connections, each with `Authorization: Bearer …`, and records the arrival
time of every event message. Events are committed at 200/s:

- PostgreSQL (--postgres): by a producer process straight through the outbox (NOTIFY wakes the
  server), one event per transaction; the commit time is the wall clock just before commit.
- SQLite (default): by wrk PUTting users through the API (paced), since only the server's own
  commits wake its stream reader at once; the commit time is the event's `events.at`, written
  by the commit hook (server clock; same machine as the clients).

Layouts (how events are spread over clients):

- baseline: 1 client receiving all 200 events/s (the floor of commit → client, same run);
- realistic: 100 domains x 10 clients each (a Super User's token, `domain=` filter), events
  round-robin over the 100 domains: each event goes to 10 clients, 2,000 messages/s;
- heavy: all 1,000 clients on the demo domain (the Office Manager's token): each event goes to
  1,000 clients, 200,000 messages/s at 200 events/s — reported for what it shows, it is beyond
  one Python process on either side.

Memory per client: the server's RSS after the 1,000 clients subscribed, minus before, / 1,000.
Targets: p99 commit → client < 100 ms at 200 events/s with 1,000 clients.

    .venv/bin/python bench/events_stream.py [--postgres] [--seconds 60] [--heavy-seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import sqlite3
import subprocess
import sys
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

import events_webhooks as ew
from benchkit import harness as h

HERE = Path(__file__).resolve()
P99_TARGET_MS = 100.0
RATE = 200.0
CLIENTS = 1000
DOMAINS = 100
EVENT_PREFIX = '{"type":"event","id":'


# --- the load process -----------------------------------------------------------------------------


class _Client:
    def __init__(self, index: int) -> None:
        self.index = index
        self.ids = array("q")
        self.times = array("d")
        self.closed: str | None = None


async def _hold(args: argparse.Namespace, queries: list[str], token: str) -> None:
    from websockets.asyncio.client import connect

    clients = [_Client(i) for i in range(len(queries))]
    gate = asyncio.Semaphore(args.handshakes)
    subscribed = 0
    failed: list[str] = []
    stop = asyncio.Event()
    settled = asyncio.Event()
    compression = None if args.no_deflate else "deflate"

    async def run(client: _Client, query: str) -> None:
        nonlocal subscribed
        try:
            async with gate:
                ws = await connect(
                    f"{args.url}?{query}",
                    additional_headers={"Authorization": f"Bearer {token}"},
                    open_timeout=60,
                    compression=compression,
                    max_queue=None,
                    ping_interval=None,
                )
                first = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if first.get("type") != "subscribed":
                    raise RuntimeError(str(first))
            subscribed += 1
        except Exception as exc:
            failed.append(f"{type(exc).__name__}: {exc}")
            return
        finally:
            if subscribed + len(failed) == len(clients):
                settled.set()
        ids, times, now = client.ids, client.times, time.time
        reader = asyncio.ensure_future(_read(ws, ids, times, now))
        waiter = asyncio.ensure_future(stop.wait())
        await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if reader.done():
            client.closed = str(reader.exception() or f"closed {ws.close_code} {ws.close_reason}")
        reader.cancel()
        waiter.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 5)

    tasks = [asyncio.ensure_future(run(c, q)) for c, q in zip(clients, queries, strict=True)]
    await settled.wait()
    print(f"ready {subscribed} {len(failed)}", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if line == "count":
            print(f"count {sum(len(c.ids) for c in clients)}", flush=True)
        else:
            break
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    result = {
        "failed": failed[:20],
        "failed_count": len(failed),
        "clients": [[list(c.ids), list(c.times), c.closed] for c in clients],
    }
    await loop.run_in_executor(None, Path(args.out).write_text, json.dumps(result))
    print("done", flush=True)


async def _read(ws: Any, ids: array[int], times: array[float], now: Any) -> None:
    skip = len(EVENT_PREFIX)
    async for message in ws:
        at = now()
        if isinstance(message, str) and message.startswith(EVENT_PREFIX):
            ids.append(int(message[skip : message.index(",", skip)]))
            times.append(at)


# --- the orchestration ----------------------------------------------------------------------------


@dataclass
class Fanout:
    label: str
    clients: int
    connected: int
    rate: float
    achieved: float
    seconds: float
    expected: int
    received: int
    missing: int
    closed: int
    msgs_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    p99_last10_ms: float
    p99_end_ms: float
    span_s: float
    put_errors: int
    rss_before_mib: float
    rss_connected_mib: float
    rss_after_mib: float
    cpu: dict[str, float]

    @property
    def per_client_kib(self) -> float:
        return (self.rss_connected_mib - self.rss_before_mib) * 1024 / max(1, self.connected)

    fresh_heap: bool = True
    """False when an earlier run's clients came and went: their freed memory is reused, so
    the RSS growth of this run understates the cost of a client."""

    @property
    def passed(self) -> bool:
        return self.missing == 0 and self.p99_ms < P99_TARGET_MS

    @property
    def server_us_per_msg(self) -> float:
        """Server CPU per message sent, from the first commit to the last arrival (µs)."""
        return self.cpu.get("server", 0.0) * self.span_s * 1e6 / max(1, self.received)

    def row(self) -> list[object]:
        return [
            self.label,
            self.connected,
            self.achieved,
            self.msgs_per_s,
            f"{self.received:,}/{self.expected:,}",
            self.missing,
            self.closed,
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            ew.num(self.p99_last10_ms),
            self.p99_end_ms,
            self.server_us_per_msg,
            self.per_client_kib if self.connected > 1 and self.fresh_heap else "—",
            f"{self.cpu.get('server', 0):.0%}",
            f"{self.cpu.get('clients', 0):.0%}",
            f"{self.cpu.get('other', 0):.0%}",
        ]


HEADERS = (
    "layout",
    "clients",
    "ev/s",
    "msgs/s",
    "received",
    "missing",
    "closed",
    "p50 ms",
    "p99 ms",
    "max ms",
    "p99 last 10 s",
    "p99 from commit end",
    "server µs/msg",
    "KiB/client",
    "server CPU",
    "client CPU",
    "other CPU",
)


class Holder:
    """The load process: connects, reports counts, stops on request."""

    def __init__(self, proc: subprocess.Popen[str], connected: int, failed: int) -> None:
        self.proc = proc
        self.connected = connected
        self.failed = failed

    def count(self) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline().split()[1])

    def drain(self, expected: int, limit: float, quiet: float = 3.0) -> None:
        start = last = time.monotonic()
        seen = -1
        while time.monotonic() - start < limit:
            got = self.count()
            if got >= expected:
                return
            if got != seen:
                seen, last = got, time.monotonic()
            elif time.monotonic() - last > quiet:
                return
            time.sleep(0.25)

    def finish(self, out: Path) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline().strip()
        if line != "done":
            raise RuntimeError(f"the load process failed ({line!r})")
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def events_in(store: h.Backend, after: int) -> dict[int, tuple[str, float]]:
    """Subscriber events after id `after`: id → (domain, `events.at` as Unix time)."""
    if store.database_url is None:
        conn = sqlite3.connect(f"file:{store.data_dir / 'celito.db'}?mode=ro", uri=True)
        try:
            rows = conn.execute(
                "SELECT id, domain, at FROM events WHERE model = 'subscriber' AND id > ?",
                (after,),
            ).fetchall()
        finally:
            conn.close()
        return {int(i): (d, _unix(at)) for i, d, at in rows}
    import psycopg

    url = store.database_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(url) as conn:
        found = conn.execute(
            "SELECT id, domain, extract(epoch from at) FROM events "
            "WHERE model = 'subscriber' AND id > %s",
            (after,),
        ).fetchall()
    return {int(i): (str(d), float(t)) for i, d, t in found}


def _unix(text: str) -> float:
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def measure(
    args: argparse.Namespace,
    store: h.Backend,
    server: h.Server,
    workdir: Path,
    *,
    label: str,
    token: str,
    client_domains: list[str],
    event_domains: list[str],
    put_paths: list[str],
    put_token: str,
    seconds: float,
    template: dict[str, Any],
) -> Fanout:
    """Connects one client per entry of `client_domains`, commits events at args.rate for
    `seconds` (round-robin over `event_domains`), and checks every expected message off."""
    out = workdir / f"clients-{time.monotonic_ns()}.json"
    spec = workdir / f"queries-{time.monotonic_ns()}.json"
    queries = [f"models=subscriber&domain={d}" for d in client_domains]
    spec.write_text(json.dumps({"queries": queries, "token": token}))
    argv = ["_clients", "--url", server.url("/ns-api/v2/stream").replace("http", "ws", 1)]
    argv += ["--spec", str(spec), "--out", str(out)]
    if args.no_deflate:
        argv.append("--no-deflate")
    h.wait_idle(args.wait_idle)
    rss_before = ew.rss_mib(server.proc.pid)
    with ew.helper(HERE, *argv, workdir=workdir, name="clients") as (proc, words):
        holder = Holder(proc, int(words[0]), int(words[1]))
        time.sleep(1.0)
        rss_connected = ew.rss_mib(server.proc.pid)
        print(
            f"  {label}: {holder.connected} subscribed ({holder.failed} failed), server RSS "
            f"{rss_before:.0f} → {rss_connected:.0f} MiB; {args.rate:g} events/s for "
            f"{seconds:g} s …",
            flush=True,
        )
        first = ew.max_event_id(store)
        pids: dict[str, ew.Pids] = {"server": server.proc.pid, "clients": proc.pid}
        if store.database_url:
            pids["postgres"] = lambda: ew.pg_backends(store)
        outer = ew.CpuMeter(pids)
        commit_times: dict[int, float] = {}
        commit_ends: dict[int, float] = {}
        achieved = 0.0
        put_errors = 0
        profile = args.profile if label == args.profile_layout else None
        with ew.profiled(server.proc.pid, seconds, profile):
            if store.database_url:
                produced = ew.produce(
                    store,
                    workdir,
                    rate=args.rate,
                    seconds=seconds,
                    pids=pids,
                    domains=event_domains,
                    template=template,
                )
                achieved = produced.rate
                producer_cpu = produced.cpu.get("producer", 0.0)
                commit_times = {i: before for i, before, _ in produced.records}
                commit_ends = {i: after for i, _, after in produced.records}
            else:
                producer_cpu = 0.0
                prelude = ew.put_many_prelude(
                    put_paths, '{"name-first-name":"Live"}', put_token, args.rate
                )
                put = ew.put_load(
                    label,
                    server,
                    prelude,
                    seconds=seconds,
                    connections=8,
                    paced=True,
                    workdir=workdir,
                    target=args.rate,
                    allow_errors=True,  # a starved event loop times PUTs out: reported
                )
                put_errors = put.errors + put.failed
        events = events_in(store, first)
        if not commit_times:
            commit_times = {i: at for i, (_, at) in events.items()}
            achieved = len(events) / seconds
        by_domain: dict[str, set[int]] = {}
        for event_id, (domain, _) in events.items():
            by_domain.setdefault(domain, set()).add(event_id)
        expected = sum(len(by_domain.get(d, ())) for d in client_domains[: holder.connected])
        holder.drain(expected, limit=args.drain_limit)
        cpu = outer.shares()
        if producer_cpu:
            cpu["producer"] = producer_cpu
        rss_after = ew.rss_mib(server.proc.pid)
        result = holder.finish(out)
    commit_ends = commit_ends or commit_times
    latencies: list[float] = []
    from_end: list[float] = []
    tail: list[float] = []
    received = closed = missing = 0
    last_arrival = 0.0
    cutoff = max(commit_times.values(), default=0.0) - 10
    for (ids, times, was_closed), domain in zip(result["clients"], client_domains, strict=True):
        closed += bool(was_closed)
        got: set[int] = set()
        for event_id, at in zip(ids, times, strict=True):
            committed = commit_times.get(event_id)
            if committed is None or event_id in got:
                continue  # from before the window, or a duplicate
            got.add(event_id)
            ms = (at - committed) * 1000
            latencies.append(ms)
            from_end.append((at - commit_ends[event_id]) * 1000)
            last_arrival = max(last_arrival, at)
            if committed >= cutoff:
                tail.append(ms)
        received += len(got)
        missing += len(by_domain.get(domain, set()) - got)
    span = max(1e-9, last_arrival - min(commit_times.values(), default=last_arrival))
    fanout = Fanout(
        label=label,
        clients=len(queries),
        connected=holder.connected,
        rate=args.rate,
        achieved=achieved,
        seconds=seconds,
        expected=expected,
        received=received,
        missing=missing,
        closed=closed,
        msgs_per_s=received / span,
        p50_ms=ew.pct(latencies, 50),
        p99_ms=ew.pct(latencies, 99),
        max_ms=max(latencies, default=float("nan")),
        p99_last10_ms=ew.pct(tail, 99),
        p99_end_ms=ew.pct(from_end, 99),
        span_s=span,
        put_errors=put_errors,
        rss_before_mib=rss_before,
        rss_connected_mib=rss_connected,
        rss_after_mib=rss_after,
        cpu=cpu,
    )
    print(
        f"    → {received:,}/{expected:,} messages, {missing} missing, {closed} closed, p99 "
        f"{fanout.p99_ms:.1f} ms ({ew.cpu_text(cpu)})",
        flush=True,
    )
    return fanout


def create_domains(server: h.Server, token: str, names: list[str]) -> None:
    """Domains (in the demo reseller) with a user 1001 each, for the API to update."""
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url(""), headers=auth, timeout=30) as api:
        for name in names:
            r = api.post("/ns-api/v2/domains", json={"domain": name, "reseller": "demo"})
            if r.status_code not in (200, 201):
                raise RuntimeError(f"create domain {name}: {r.status_code} {r.text}")
            r = api.post(
                f"/ns-api/v2/domains/{name}/users",
                json={"user": "1001", "name-first-name": "Bench", "user-scope": "Basic User"},
            )
            if r.status_code not in (200, 201):
                raise RuntimeError(f"create user in {name}: {r.status_code} {r.text}")


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with (
        h.backend(args.postgres, workdir) as store,
        ew.celito_server(store, workdir) as server,
    ):
        creds = server.credentials
        su = creds["superuser"]
        su_token = h.password_grant(server, su["username"], su["password"])["access_token"]
        om_token = ew.om_token(server)
        template = ew.subscriber_template(server, om_token)
        demo = creds["domain"]
        domains = [f"bench-d{k:03d}" for k in range(args.domains)]
        if not args.postgres:
            create_domains(server, su_token, domains)
        per_domain = max(1, args.clients // args.domains)
        realistic_clients = [d for d in domains for _ in range(per_domain)]
        demo_path = f"/ns-api/v2/domains/{demo}/users/{ew.OM_USER}"
        runs: list[Fanout] = []
        common = {"template": template}
        runs.append(
            measure(
                args, store, server, workdir, label="baseline", token=om_token,
                client_domains=[demo], event_domains=[demo], put_paths=[demo_path],
                put_token=om_token, seconds=args.baseline_seconds, **common,
            )
        )  # fmt: skip
        if "realistic" in args.layouts:
            runs.append(
                measure(
                    args, store, server, workdir, label="realistic", token=su_token,
                    client_domains=realistic_clients, event_domains=domains,
                    put_paths=[f"/ns-api/v2/domains/{d}/users/{ew.OM_USER}" for d in domains],
                    put_token=su_token, seconds=args.seconds, **common,
                )
            )  # fmt: skip
        if "heavy" in args.layouts:
            runs.append(
                measure(
                    args, store, server, workdir, label="heavy", token=om_token,
                    client_domains=[demo] * args.clients, event_domains=[demo],
                    put_paths=[demo_path], put_token=om_token, seconds=args.heavy_seconds,
                    **common,
                )
            )  # fmt: skip
    seen_clients = False
    for r in runs:
        if r.connected > 1:
            r.fresh_heap, seen_clients = not seen_clients, True
    return {"backend": store.kind, "runs": runs}


def report(result: dict[str, Any], args: argparse.Namespace) -> None:
    runs: list[Fanout] = result["runs"]
    print()
    print(h.table(HEADERS, [r.row() for r in runs]))
    base = runs[0]
    print()
    rows: list[list[object]] = []
    for r in runs[1:]:
        rows.append(
            [
                f"{r.label}: p99 commit → client",
                f"{r.p99_ms:.1f} ms",
                f"{r.p99_ms / base.p99_ms:.1f}x the 1-client p99 ({base.p99_ms:.1f} ms)",
            ]
        )
        if r.fresh_heap:
            rows.append(
                [
                    f"{r.label}: server RSS per client",
                    f"{r.per_client_kib:.0f} KiB",
                    f"{r.rss_before_mib:.0f} → {r.rss_connected_mib:.0f} MiB for {r.connected} "
                    f"clients; {r.rss_after_mib:.0f} MiB after the run",
                ]
            )
        rows.append(
            [
                f"{r.label}: messages/s delivered",
                f"{r.msgs_per_s:,.0f}",
                f"{r.msgs_per_s / max(1e-9, base.msgs_per_s):,.0f}x the 1-client run",
            ]
        )
    print(h.table(("figure", "value", "ratio / detail"), rows))
    print(
        "\ncompression: "
        + ("none (--no-deflate)" if args.no_deflate else "permessage-deflate, as browsers offer")
    )
    for r in runs[1:]:
        verdict = "PASS" if r.passed else "MISS"
        print(
            f"{verdict} {r.label}: {r.connected} clients, {r.achieved:,.0f} events/s, "
            f"{r.msgs_per_s:,.0f} messages/s, {r.missing:,} missing, {r.closed} closed, "
            + (f"{r.put_errors} producing PUTs failed (timeouts), " if r.put_errors else "")
            + f"p99 {r.p99_ms:.1f} ms (target < {P99_TARGET_MS:g} ms)"
        )


def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < min(hard, 65536):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))  # children inherit
    if len(sys.argv) > 1 and sys.argv[1] == "_clients":
        parser = argparse.ArgumentParser()
        parser.add_argument("--url", required=True)
        parser.add_argument("--spec", required=True)
        parser.add_argument("--out", required=True)
        parser.add_argument("--handshakes", type=int, default=50)
        parser.add_argument("--no-deflate", action="store_true")
        options = parser.parse_args(sys.argv[2:])
        spec = json.loads(Path(options.spec).read_text())
        import uvloop

        uvloop.run(_hold(options, spec["queries"], spec["token"]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--seconds", type=float, default=60, help="the realistic run")
    parser.add_argument("--heavy-seconds", type=float, default=20)
    parser.add_argument(
        "--layouts", default="realistic,heavy", help="after the baseline: realistic, heavy"
    )
    parser.add_argument("--baseline-seconds", type=float, default=15)
    parser.add_argument("--rate", type=float, default=RATE, help="events/s")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--domains", type=int, default=DOMAINS, help="realistic layout")
    parser.add_argument("--no-deflate", action="store_true", help="clients decline compression")
    parser.add_argument("--drain-limit", type=float, default=60)
    parser.add_argument("--wait-idle", type=float, default=10)
    parser.add_argument("--profile", type=Path, default=None, help="py-spy raw output file")
    parser.add_argument("--profile-layout", default="realistic")
    args = parser.parse_args()
    with h.scratch("events-stream") as workdir:
        result = run(args, workdir)
    report(result, args)
    if args.profile:
        print()
        seconds = args.heavy_seconds if args.profile_layout == "heavy" else args.seconds
        print(ew.profile_summary(args.profile, seconds))
    saved = h.save(f"events_stream-{result['backend']}", ew.encode(result))
    print(f"details: {saved}")


if __name__ == "__main__":
    main()
