"""Authenticated GET /ns-api/v2/domains/~/users/~ against a bare ASGI app, same server, same run.

For each worker count, in interleaved rounds: the peak req/s of a raw ASGI app returning a small
JSON body, of celito's unauthenticated /ns-api/v2/version (framework cost only) and of the
authenticated users/~ read; then users/~ paced at half its best peak, whose p99 is the latency
figure. Targets: users/~ at least 0.25 of the bare app's req/s, p99 under 20 ms at half peak.
The bare app is paced at that same rate in the same rounds: its p99 is the floor that the
machine (wrk, the neighbours) sets, so a missed p99 can be told from a slow server.

Rounds interleave the servers so that a busy neighbour hurts both sides of a ratio alike; the
summary takes the fastest round of each (the least disturbed) and shows the median too.

    .venv/bin/python bench/users_throughput.py [--postgres] [--workers 1,2] [--seconds 5]
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
            wait=kw.pop("wait", args.wait_idle),
            workdir=workdir,
            **kw,
        )
        print(
            f"  {label}: {load.rps:,.0f} req/s, p99 {load.p99_ms:.2f} ms"
            f" (other CPU {load.other_cpu:.0%})",
            flush=True,
        )
        return load

    with (
        h.backend(args.postgres, workdir) as store,
        h.celito_server(store, workers, workdir) as app,
        h.bare_server(workers, workdir) as bare,
    ):
        user = app.credentials["users"][0]
        token = h.password_grant(app, user["username"], user["password"])["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        probe = httpx.get(app.url(USERS), headers=auth, timeout=10)
        if probe.status_code != 200:
            raise RuntimeError(f"GET {USERS} answered {probe.status_code}: {probe.text}")
        run("warm-up", bare, "/", seconds=args.warmup, wait=0)
        run("warm-up", app, USERS, headers=auth, seconds=args.warmup, wait=0)
        bare_runs, version_runs, users_runs = [], [], []
        for n in range(1, args.rounds + 1):
            bare_runs.append(run(f"bare ASGI peak #{n}", bare, "/"))
            version_runs.append(run(f"celito /version peak #{n}", app, VERSION))
            users_runs.append(run(f"users/~ peak #{n}", app, USERS, headers=auth))
        half = h.fastest(users_runs).rps / 2
        pace = {"prelude": h.paced(half, args.threads), "scripts": ["pace.lua"], "target_rps": half}
        half_runs, bare_half_runs = [], []
        for n in range(1, args.rounds + 1):
            half_runs.append(run(f"users/~ at 50% of peak #{n}", app, USERS, headers=auth, **pace))
            bare_half_runs.append(run(f"bare ASGI at that rate #{n}", bare, "/", **pace))
    loads = bare_runs + version_runs + users_runs + half_runs + bare_half_runs
    for load in loads:
        if load.errors or load.failed:
            raise RuntimeError(f"{load.label}: {load.errors} errors; see the server logs")
    bare_best, users_best, version_best = (
        h.fastest(bare_runs),
        h.fastest(users_runs),
        h.fastest(version_runs),
    )
    return {
        "workers": workers,
        "backend": "postgres" if args.postgres else "sqlite",
        "loads": loads,
        "bare_rps": bare_best.rps,
        "users_rps": users_best.rps,
        "version_rps": version_best.rps,
        "ratio": users_best.rps / bare_best.rps,
        "ratio_median": h.median(
            [u.rps / b.rps for u, b in zip(users_runs, bare_runs, strict=True)]
        ),
        "version_ratio": version_best.rps / bare_best.rps,
        "bare_cpu_us": h.cpu_per_request(bare_runs),
        "users_cpu_us": h.cpu_per_request(users_runs),
        "cpu_ratio": h.cpu_per_request(bare_runs) / h.cpu_per_request(users_runs),
        "half_target_rps": half,
        "half_rps": h.calmest(half_runs).rps,
        "p99_half_ms": h.calmest(half_runs).p99_ms,
        "p99_half_median_ms": h.median([x.p99_ms for x in half_runs]),
        "bare_p99_half_ms": h.calmest(bare_half_runs).p99_ms,
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
            r["bare_rps"],
            r["users_rps"],
            f"{r['ratio']:.3f}",
            f"{r['ratio_median']:.3f}",
            r["bare_cpu_us"],
            r["users_cpu_us"],
            f"{r['cpu_ratio']:.3f}",
            "ok" if r["ratio"] >= RATIO_TARGET else "MISSED",
            r["half_target_rps"],
            r["p99_half_ms"],
            r["p99_half_median_ms"],
            "ok" if r["p99_half_ms"] < P99_TARGET_MS else "MISSED",
            r["bare_p99_half_ms"],
            f"{r['version_ratio']:.3f}",
        ]
        for r in results
    ]
    print(f"best of {args.rounds} rounds (median alongside):")
    print(
        "(CPU ratio = bare CPU µs/req / users/~ CPU µs/req, medians over rounds: what the ratio\n"
        " would be if each server had its core to itself; trust it over req/s on a busy box)"
    )
    print(
        h.table(
            (
                "backend",
                "workers",
                "bare req/s",
                "users/~ req/s",
                "ratio",
                "median",
                "bare CPU µs/req",
                "users/~ CPU µs/req",
                "CPU ratio",
                f">= {RATIO_TARGET}",
                "50% rate",
                "p99 ms at 50%",
                "median",
                f"< {P99_TARGET_MS:g} ms",
                "bare p99 ms there",
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
