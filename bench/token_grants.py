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
SERIES = ("version", "version1", "refresh", "password1", "password")


def argon2_verify_ms(rounds: int) -> tuple[float, float, dict[str, int]]:
    """One PasswordHasher.verify with the default settings: (median wall ms, mean CPU ms)."""
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

    cpu = time.process_time()
    walls = asyncio.run(run())
    cpu_ms = (time.process_time() - cpu) / rounds * 1000
    return statistics.median(walls), cpu_ms, params


def measure(args: argparse.Namespace, workers: int, workdir: Path) -> dict[str, Any]:
    def run(label: str, server: h.Server, path: str, connections: int, **kw: Any) -> h.Load:
        load = h.wrk(
            label,
            server,
            path,
            seconds=kw.pop("seconds", args.seconds),
            connections=connections,
            threads=kw.pop("threads", 1),
            wait=kw.pop("wait", args.wait_idle),
            workdir=workdir,
            **kw,
        )
        print(
            f"  {label}: {load.rps:,.1f}/s, mean {load.mean_ms:.2f} ms"
            f" (other CPU {load.other_cpu:.0%})",
            flush=True,
        )
        return load

    with (
        h.backend(args.postgres, workdir) as store,
        h.celito_server(store, workers, workdir) as app,
    ):
        creds = app.credentials
        user = creds["users"][0]
        client = {"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
        login = {"username": user["username"], "password": user["password"]}
        password_prelude = (
            f'wrk.method = "POST"\n'
            f"wrk.body = {h.lua_string(urlencode({'grant_type': 'password', **client, **login}))}\n"
            f'wrk.headers["Content-Type"] = {h.lua_string(FORM["Content-Type"])}\n'
        )
        refresh_form = urlencode({"grant_type": "refresh_token", **client})

        def refresh_prelude() -> str:
            # One login per chain: each wrk connection (one per thread) spends and replaces
            # its own refresh token, as a real client must.
            chains = [
                h.password_grant(app, login["username"], login["password"])["refresh_token"]
                for _ in range(args.chains)
            ]
            return (
                f"bench_tokens = {h.lua_strings(chains)}\n"
                f"bench_path = {h.lua_string(TOKEN)}\n"
                f"bench_form = {h.lua_string(refresh_form)}\n"
            )

        run("warm-up", app, VERSION, args.connections, seconds=args.warmup, wait=0)
        series: dict[str, list[h.Load]] = {k: [] for k in SERIES}
        for n in range(1, args.rounds + 1):
            series["version"].append(run(f"/version peak #{n}", app, VERSION, args.connections))
            series["version1"].append(run(f"/version, 1 connection #{n}", app, VERSION, 1))
            series["refresh"].append(
                run(
                    f"refresh_token grants #{n}",
                    app,
                    TOKEN,
                    args.chains,
                    threads=args.chains,
                    prelude=refresh_prelude(),
                    scripts=["refresh.lua"],
                )
            )
            series["password1"].append(
                run(f"password grants, 1 connection #{n}", app, TOKEN, 1, prelude=password_prelude)
            )
            series["password"].append(
                run(
                    f"password grants, {args.password_connections} connections #{n}",
                    app,
                    TOKEN,
                    args.password_connections,
                    prelude=password_prelude,
                )
            )
    loads = [x for n in range(args.rounds) for x in (series[k][n] for k in SERIES)]
    for load in loads:
        if load.errors or load.failed:
            raise RuntimeError(f"{load.label}: {load.errors + load.failed} errors; see server logs")
    for load in series["refresh"]:
        if load.granted != load.requests:
            raise RuntimeError(f"{load.label}: {load.granted} of {load.requests} granted")
    best = {k: h.fastest(v) for k, v in series.items()}
    return {
        "workers": workers,
        "backend": "postgres" if args.postgres else "sqlite",
        "loads": loads,
        "version_rps": best["version"].rps,
        "version1_ms": best["version1"].mean_ms,
        "refresh_per_s": best["refresh"].rps,
        "refresh_ratio": best["refresh"].rps / best["version"].rps,
        "refresh_p99_ms": best["refresh"].p99_ms,
        "password_ms": best["password1"].mean_ms,
        "password_ms_ratio": best["password1"].mean_ms / best["version1"].mean_ms,
        "password_per_s": best["password"].rps,
        "password_ratio": best["password"].rps / best["version"].rps,
        "medians": {k: h.median([x.rps for x in v]) for k, v in series.items()},
        "cpu_us": {k: h.cpu_per_request(v) for k, v in series.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts (default 1,2)")
    parser.add_argument("--seconds", type=float, default=5.0, help="per round of a measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each measurement")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=10.0,
        help="before each round, wait up to this many seconds for the machine to be idle",
    )
    parser.add_argument("--connections", type=int, default=32, help="for the baseline peak")
    parser.add_argument("--chains", type=int, default=8, help="concurrent refresh chains")
    parser.add_argument("--password-connections", type=int, default=4)
    args = parser.parse_args()
    h.require_wrk()
    argon2_ms, argon2_cpu_ms, params = argon2_verify_ms(rounds=20)
    print(
        f"Argon2id verify in this process ({params}): {argon2_ms:.1f} ms"
        f" ({argon2_cpu_ms:.1f} ms CPU)",
        flush=True,
    )
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
            r["version_rps"],
            r["refresh_per_s"],
            f"{r['refresh_ratio']:.4f}",
            r["refresh_p99_ms"],
            r["version1_ms"],
            r["password_ms"],
            f"{r['password_ms_ratio']:.0f}x",
            r["password_per_s"],
            f"{r['password_ratio']:.4f}",
        ]
        for r in results
    ]
    print(f"best of {args.rounds} rounds:")
    print(
        h.table(
            (
                "backend",
                "workers",
                "/version req/s",
                "refresh grants/s",
                "ratio",
                "refresh p99 ms",
                "/version ms (1 conn)",
                "password grant ms",
                "ratio",
                "password grants/s",
                "ratio",
            ),
            rows,
        )
    )
    cpu_rows = [
        [
            r["backend"],
            r["workers"],
            r["cpu_us"]["version"],
            r["cpu_us"]["refresh"],
            f"{r['cpu_us']['version'] / r['cpu_us']['refresh']:.4f}",
            1e6 / r["cpu_us"]["refresh"],
            r["cpu_us"]["password1"] / 1000,
            f"{r['cpu_us']['version'] / r['cpu_us']['password1']:.4f}",
            1e6 / r["cpu_us"]["password1"],
        ]
        for r in results
    ]
    print("\nserver CPU per request (median of rounds; barely depends on neighbours):")
    print(
        h.table(
            (
                "backend",
                "workers",
                "/version µs",
                "refresh grant µs",
                "ratio",
                "refresh/s per core",
                "password grant ms",
                "ratio",
                "password/s per core",
            ),
            cpu_rows,
        )
    )
    print(
        f"Argon2id verify alone: {argon2_ms:.1f} ms wall, {argon2_cpu_ms:.1f} ms CPU"
        f" ({1000 / argon2_cpu_ms:.0f}/s per core)"
    )
    saved = h.save(
        "token_grants",
        {
            "args": vars(args),
            "argon2": {"verify_ms": argon2_ms, "verify_cpu_ms": argon2_cpu_ms, **params},
            "results": [{**r, "loads": [x.as_dict() for x in r["loads"]]} for r in results],
        },
    )
    print(f"\n(details in {saved.relative_to(h.ROOT)})")


if __name__ == "__main__":
    main()
