"""Token grants: refresh-token grants per second, and the cost of one password grant.

In one run against one `celito serve`: the baseline (GET /ns-api/v2/version, no auth, no
database) at peak and one connection at a time; refresh grants at peak, each connection chaining
its own rotating refresh token; password grants one at a time (ms per grant) and concurrently
(grants/s); and, for reference, one Argon2id verify in this process with the default parameters
(CELITO_ARGON2_*: 19 MiB, t=2, p=1).

    .venv/bin/python bench/token_grants.py [--postgres] [--workers 1,2] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from benchkit import harness as h

TOKEN = "/ns-api/oauth2/token"
VERSION = "/ns-api/v2/version"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def argon2_verify_ms(rounds: int) -> tuple[float, dict[str, int]]:
    """Median wall time of one PasswordHasher.verify with the default settings, in ms."""
    from celito.auth.crypto import PasswordHasher
    from celito.config import Settings

    fields = Settings.model_fields
    params = {
        "memory_kib": int(fields["argon2_memory_kib"].default),
        "time_cost": int(fields["argon2_time_cost"].default),
        "parallelism": int(fields["argon2_parallelism"].default),
    }
    hasher = PasswordHasher(**params)
    password = secrets.token_urlsafe(15)
    hashed = hasher.hash(password)

    async def run() -> list[float]:
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            ok = await hasher.verify(password, hashed)
            times.append((time.perf_counter() - start) * 1000)
            assert ok
        return times

    return statistics.median(asyncio.run(run())), params


def measure(args: argparse.Namespace, workers: int, workdir: Path) -> dict[str, Any]:
    def run(label: str, server: h.Server, path: str, connections: int, **kw: Any) -> h.Load:
        load = h.wrk(
            label,
            server,
            path,
            seconds=kw.pop("seconds", args.seconds),
            connections=connections,
            threads=kw.pop("threads", 1),
            wait=args.wait_idle,
            workdir=workdir,
            **kw,
        )
        print(f"  {label}: {load.rps:,.1f}/s, p50 {load.p50_ms:.2f} ms", flush=True)
        return load

    with (
        h.backend(args.postgres, workdir) as store,
        h.celito_server(store, workers, workdir) as app,
    ):
        creds = app.credentials
        user = creds["users"][0]
        client = {"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
        run("warm-up", app, VERSION, args.connections, seconds=args.warmup)
        version_peak = run("baseline /version peak", app, VERSION, args.connections)
        version_one = run("baseline /version, 1 connection", app, VERSION, 1)

        # One login per chain: each connection of wrk (one per thread) spends and replaces
        # its own refresh token, as a real client must.
        chains = [
            h.password_grant(app, user["username"], user["password"])["refresh_token"]
            for _ in range(args.chains)
        ]
        refresh_prelude = (
            f"bench_tokens = {h.lua_strings(chains)}\n"
            f"bench_path = {h.lua_string(TOKEN)}\n"
            f"bench_form = {h.lua_string(urlencode({'grant_type': 'refresh_token', **client}))}\n"
        )
        refresh = run(
            "refresh_token grants",
            app,
            TOKEN,
            args.chains,
            threads=args.chains,
            prelude=refresh_prelude,
            scripts=["refresh.lua"],
        )

        login = {"username": user["username"], "password": user["password"]}
        body = urlencode({"grant_type": "password", **client, **login})
        password_prelude = (
            f'wrk.method = "POST"\nwrk.body = {h.lua_string(body)}\n'
            f'wrk.headers["Content-Type"] = {h.lua_string(FORM["Content-Type"])}\n'
        )
        password_one = run("password grants, 1 connection", app, TOKEN, 1, prelude=password_prelude)
        password_peak = run(
            f"password grants, {args.password_connections} connections",
            app,
            TOKEN,
            args.password_connections,
            prelude=password_prelude,
        )
    loads = [version_peak, version_one, refresh, password_one, password_peak]
    for load in loads:
        if load.errors or load.failed:
            raise RuntimeError(f"{load.label}: {load.errors + load.failed} errors; see server logs")
    if refresh.granted != refresh.requests:
        raise RuntimeError(f"refresh chains: {refresh.granted} of {refresh.requests} granted")
    return {
        "workers": workers,
        "backend": "postgres" if args.postgres else "sqlite",
        "loads": loads,
        "refresh_per_s": refresh.rps,
        "refresh_ratio": refresh.rps / version_peak.rps,
        "password_ms": password_one.mean_ms,
        "password_ms_ratio": password_one.mean_ms / version_one.mean_ms,
        "password_per_s": password_peak.rps,
        "password_ratio": password_peak.rps / version_peak.rps,
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
    parser.add_argument("--connections", type=int, default=32, help="for the baseline peak")
    parser.add_argument("--chains", type=int, default=8, help="concurrent refresh chains")
    parser.add_argument("--password-connections", type=int, default=4)
    args = parser.parse_args()
    h.require_wrk()
    argon2_ms, params = argon2_verify_ms(rounds=20)
    print(f"Argon2id verify in this process ({params}): {argon2_ms:.1f} ms", flush=True)
    results = []
    with h.scratch("grants") as workdir:
        for workers in [int(w) for w in args.workers.split(",")]:
            print(f"workers={workers} ({'PostgreSQL' if args.postgres else 'SQLite'})", flush=True)
            results.append(measure(args, workers, workdir))

    print()
    for r in results:
        print(f"--- {r['backend']}, {r['workers']} worker(s) ---")
        print(h.table(h.LOAD_HEADERS, h.load_rows(r["loads"])))
        print()
    rows = [
        [
            r["backend"],
            r["workers"],
            r["loads"][0].rps,
            r["refresh_per_s"],
            f"{r['refresh_ratio']:.4f}",
            r["loads"][1].mean_ms,
            r["password_ms"],
            f"{r['password_ms_ratio']:.0f}x",
            r["password_per_s"],
            f"{r['password_ratio']:.4f}",
        ]
        for r in results
    ]
    print(
        h.table(
            (
                "backend",
                "workers",
                "/version req/s",
                "refresh grants/s",
                "ratio",
                "/version ms (1 conn)",
                "password grant ms",
                "ratio",
                "password grants/s",
                "ratio",
            ),
            rows,
        )
    )
    print(f"Argon2id verify alone: {argon2_ms:.1f} ms ({1000 / argon2_ms:.0f}/s on one core)")
    saved = h.save(
        "token_grants",
        {
            "args": vars(args),
            "argon2": {"verify_ms": argon2_ms, **params},
            "results": [{**r, "loads": [x.as_dict() for x in r["loads"]]} for r in results],
        },
    )
    print(f"\n(details in {saved.relative_to(h.ROOT)})")


if __name__ == "__main__":
    main()
