"""Authenticated GET /ns-api/v2/domains/~/users/~ against a bare ASGI app, same server, same run.

For each worker count: the peak req/s of a raw ASGI app returning a small JSON body, of
celito's unauthenticated /ns-api/v2/version (framework cost only), and of the authenticated
users/~ read; then users/~ paced at half its own peak, whose p99 is the latency figure.
Targets: users/~ at least 0.25 of the bare app's req/s, and p99 under 20 ms at half peak.

    .venv/bin/python bench/users_throughput.py [--postgres] [--workers 1,2] [--seconds 10]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import httpx

from benchkit import harness as h

USERS = "/ns-api/v2/domains/~/users/~"
VERSION = "/ns-api/v2/version"
RATIO_TARGET = 0.25
P99_TARGET_MS = 20.0


def measure(args: argparse.Namespace, workers: int, workdir: Path) -> dict[str, Any]:
    def run(label: str, server: h.Server, path: str, **kw: Any) -> h.Load:
        load = h.wrk(
            label,
            server,
            path,
            seconds=kw.pop("seconds", args.seconds),
            connections=args.connections,
            threads=args.threads,
            wait=args.wait_idle,
            workdir=workdir,
            **kw,
        )
        print(f"  {label}: {load.rps:,.0f} req/s, p99 {load.p99_ms:.2f} ms", flush=True)
        return load

    with (
        h.backend(args.postgres, workdir) as store,
        h.celito_server(store, workers, workdir) as app,
    ):
        user = app.credentials["users"][0]
        token = h.password_grant(app, user["username"], user["password"])["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        probe = httpx.get(app.url(USERS), headers=auth, timeout=10)
        if probe.status_code != 200:
            raise RuntimeError(f"GET {USERS} answered {probe.status_code}: {probe.text}")
        with h.bare_server(workers, workdir) as bare:
            run("warm-up", bare, "/", seconds=args.warmup)
            bare_peak = run("bare ASGI peak", bare, "/")
        run("warm-up", app, USERS, headers=auth, seconds=args.warmup)
        version_peak = run("celito /version peak", app, VERSION)
        users_peak = run("users/~ peak", app, USERS, headers=auth)
        half = users_peak.rps / 2
        users_half = run(
            "users/~ at 50% of peak",
            app,
            USERS,
            headers=auth,
            prelude=h.paced(half, args.threads),
            scripts=["pace.lua"],
            target_rps=half,
        )
    for load in (bare_peak, version_peak, users_peak, users_half):
        if load.errors or load.failed:
            raise RuntimeError(f"{load.label}: {load.errors} errors; see the server logs")
    return {
        "workers": workers,
        "backend": "postgres" if args.postgres else "sqlite",
        "loads": [bare_peak, version_peak, users_peak, users_half],
        "ratio": users_peak.rps / bare_peak.rps,
        "version_ratio": version_peak.rps / bare_peak.rps,
        "users_vs_version": users_peak.rps / version_peak.rps,
        "p99_half_ms": users_half.p99_ms,
        "half_achieved": users_half.rps / half,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts (default 1,2)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=30.0,
        help="before each measurement, wait up to this many seconds for the machine to be idle",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    args = parser.parse_args()
    h.require_wrk()
    results = []
    with h.scratch("users") as workdir:
        for workers in [int(w) for w in args.workers.split(",")]:
            print(f"workers={workers} ({'PostgreSQL' if args.postgres else 'SQLite'})", flush=True)
            results.append(measure(args, workers, workdir))

    print()
    for r in results:
        print(f"--- {r['backend']}, {r['workers']} worker(s), wrk -t{args.threads} ---")
        print(h.table(h.LOAD_HEADERS, h.load_rows(r["loads"])))
        print()
    rows = [
        [
            r["backend"],
            r["workers"],
            r["loads"][0].rps,
            r["loads"][2].rps,
            f"{r['ratio']:.3f}",
            "ok" if r["ratio"] >= RATIO_TARGET else "MISSED",
            r["loads"][3].rps,
            r["p99_half_ms"],
            "ok" if r["p99_half_ms"] < P99_TARGET_MS else "MISSED",
            f"{r['version_ratio']:.3f}",
        ]
        for r in results
    ]
    print(
        h.table(
            (
                "backend",
                "workers",
                "bare req/s",
                "users/~ req/s",
                "ratio",
                f">= {RATIO_TARGET}",
                "50% req/s",
                "p99 ms at 50%",
                f"< {P99_TARGET_MS:g} ms",
                "/version ratio",
            ),
            rows,
        )
    )
    saved = h.save(
        "users_throughput",
        {
            "args": vars(args),
            "results": [{**r, "loads": [x.as_dict() for x in r["loads"]]} for r in results],
        },
    )
    print(f"\n(details in {saved.relative_to(h.ROOT)})")


if __name__ == "__main__":
    main()
