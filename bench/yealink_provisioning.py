"""Provisioning: `<mac>.cfg` files rendered and served for a domain of 1,000 phones.

The morning when every phone of an office reboots: 1,000 phones (one user, one device and one
phone each, seeded through the service layer into the demo domain) fetch their own file with
HTTP Digest. Target: at least 2,000 files/s.

How the load is made: wrk cycles over the 1,000 files, each request carrying the phone's
User-Agent (`Yealink SIP-T46S 66.86.0.15 <mac>`) and a complete Digest `Authorization` for
its own URI, computed here from a nonce the server issued just before the round (nonces are
stateless and valid for 5 minutes, so every round starts with a fresh one). The server does
exactly the work of a phone's authenticated request (parse, nonce HMAC, three MD5s, the
domain's credentials); what is not measured is the phone's first, unauthenticated request,
which gets a 401 challenge without touching the phone's data.

Baselines (same run): a bare ASGI app returning a small JSON body (benchkit/serve_bare.py:
uvicorn with the options `celito serve` passes, `http=LenientHttpToolsProtocol` included) and
celito's own `/ns-api/v2/version`.

    .venv/bin/python bench/yealink_provisioning.py [--postgres] [--workers 1,2] [--seconds 5]

bench/yealink_actionurls.py imports the fleet, the seeding and the Digest helpers from here.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchkit import harness as h

DOMAIN = "demo.celito"
FLEET = 1000
FIRST_EXTENSION = 2000
FILES_TARGET = 2000.0
# (model, firmware): mostly current V8x desk phones, some V7x ones (T46G on 28.73).
MODELS = (
    ("T46S", "66.86.0.15"),
    ("T54W", "96.86.0.100"),
    ("T46S", "66.86.0.15"),
    ("T33G", "124.86.0.40"),
    ("T42S", "67.86.0.10"),
    ("T46U", "108.86.0.45"),
    ("T46G", "28.73.0.50"),
    ("T31G", "123.86.0.30"),
)
FIRST = ("Olivia", "Liam", "Emma", "Noah", "Amélie", "Lucas", "Mia", "Ethan", "Zoë", "Mateo")
LAST = ("Smith", "Johnson", "O'Brien", "García", "Nguyen", "Müller", "Brown", "Kowalski")


@dataclass(frozen=True)
class FleetPhone:
    index: int
    mac: str
    model: str
    firmware: str
    user: str
    first: str
    last: str

    @property
    def agent(self) -> str:
        return f"Yealink SIP-{self.model} {self.firmware} {self.mac}"

    @property
    def cfg_path(self) -> str:
        return f"/cfg/{self.mac}.cfg"


def fleet(n: int = FLEET) -> list[FleetPhone]:
    phones = []
    for i in range(n):
        model, firmware = MODELS[i % len(MODELS)]
        phones.append(
            FleetPhone(
                index=i,
                mac=f"805ec0{i:06x}",
                model=model,
                firmware=firmware,
                user=str(FIRST_EXTENSION + i),
                first=FIRST[i % len(FIRST)],
                last=LAST[(i // len(FIRST)) % len(LAST)],
            )
        )
    return phones


def progress(label: str, done: int, total: int, started: float) -> None:
    width = 30
    filled = width * done // total
    rate = done / max(time.monotonic() - started, 1e-6)
    bar = "#" * filled + "." * (width - filled)
    end = "\n" if done == total else ""
    print(f"\r  {label} [{bar}] {done}/{total} ({rate:,.0f}/s)", end=end, flush=True)


# --- seeding ----------------------------------------------------------------------------------


def seed(store: h.Backend, phones: Sequence[FleetPhone], batch: int = 50) -> float:
    """Users (with their device, voicemail box and answer rule) and phones, through celito's
    services in transactions of `batch`; returns the seconds it took."""
    took = asyncio.run(_seed(store, phones, batch))
    analyze(store)
    return took


def analyze(store: h.Backend) -> None:
    """Fresh statistics for PostgreSQL's planner, as autovacuum gathers them within a minute or
    so of the seeding: measured right after a bulk load, the planner still takes the users
    table for empty and hash-joins it whole on every read."""
    if store.database_url is None:
        return
    import psycopg

    url = store.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


async def _seed(store: h.Backend, phones: Sequence[FleetPhone], batch: int) -> float:
    from celito.auth.caller import system_caller
    from celito.config import Settings
    from celito.phones import service as phone_service
    from celito.phones.schemas import PhoneCreate
    from celito.runtime import Runtime
    from celito.users import lifecycle
    from celito.users.schemas import UserCreate

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=store.data_dir,
        database_url=store.database_url,
        # Only the voicemail PINs are hashed here, and no benchmark checks one: the cheap
        # parameters keep seeding from being minutes of Argon2.
        argon2_memory_kib=1024,
        argon2_time_cost=1,
    )
    runtime = Runtime.build(settings)
    caller = system_caller("cli")
    started = time.monotonic()
    try:
        for start in range(0, len(phones), batch):
            async with runtime.db.writer() as session:
                for p in phones[start : start + batch]:
                    await lifecycle.create(
                        session,
                        caller,
                        DOMAIN,
                        UserCreate.model_validate(
                            {
                                "user": p.user,
                                "name-first-name": p.first,
                                "name-last-name": p.last,
                                "devices": [p.user],
                            }
                        ),
                        hasher=runtime.hasher,
                    )
                    await phone_service.create(
                        session,
                        caller,
                        DOMAIN,
                        PhoneCreate.model_validate(
                            {
                                "device-provisioning-mac-address": p.mac,
                                "device-models-brand-and-model": f"yealink {p.model}",
                                "device-provisioning-sip-uri-1": f"sip:{p.user}@{DOMAIN}",
                            }
                        ),
                    )
                await session.commit()
            done = min(start + batch, len(phones))
            progress("seeding users, devices, phones", done, len(phones), started)
    finally:
        await runtime.db.dispose()
    return time.monotonic() - started


# --- Digest -----------------------------------------------------------------------------------


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class DomainCredentials:
    username: str
    password: str


def provisioning_credentials(server: h.Server) -> DomainCredentials:
    """What an Office Manager reads at GET …/provisioning (the flow of the acceptance test)."""
    manager = server.credentials["users"][0]
    token = h.password_grant(server, manager["username"], manager["password"])["access_token"]
    r = httpx.get(
        server.url(f"/ns-api/v2/domains/{DOMAIN}/provisioning"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    r.raise_for_status()
    body = r.json()
    return DomainCredentials(body["username"], body["password"])


_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


def digest_headers(server: h.Server, creds: DomainCredentials, paths: Sequence[str]) -> list[str]:
    """One complete `Authorization: Digest …` per path, on a nonce the server just issued."""
    r = httpx.get(server.url(paths[0]), timeout=30)
    if r.status_code != 401:
        raise RuntimeError(f"GET {paths[0]} without credentials answered {r.status_code}")
    challenge = dict(_CHALLENGE.findall(r.headers["www-authenticate"]))
    realm, nonce = challenge["realm"], challenge["nonce"]
    cnonce = secrets.token_hex(8)
    ha1 = _md5(f"{creds.username}:{realm}:{creds.password}")
    headers = []
    for path in paths:
        response = _md5(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{_md5(f'GET:{path}')}")
        headers.append(
            f'Digest username="{creds.username}", realm="{realm}", nonce="{nonce}", '
            f'uri="{path}", algorithm=MD5, response="{response}", qop=auth, '
            f'nc=00000001, cnonce="{cnonce}"'
        )
    return headers


def download_all(
    server: h.Server, creds: DomainCredentials, phones: Sequence[FleetPhone]
) -> dict[str, str]:
    """Every phone's file, as the phone gets it (Digest, its User-Agent); by MAC."""
    auth = digest_headers(server, creds, [p.cfg_path for p in phones])
    files = {}
    started = time.monotonic()
    with httpx.Client(timeout=30) as client:
        for n, (p, header) in enumerate(zip(phones, auth, strict=True), start=1):
            r = client.get(
                server.url(p.cfg_path), headers={"Authorization": header, "User-Agent": p.agent}
            )
            if r.status_code != 200:
                raise RuntimeError(f"GET {p.cfg_path} answered {r.status_code}: {r.text[:200]}")
            files[p.mac] = r.text
            if n % 50 == 0 or n == len(phones):
                progress("downloading every phone's file", n, len(phones), started)
    return files


def check_file(phone: FleetPhone, text: str) -> None:
    """The file is the phone's own: its account, BLF keys for colleagues, its action URLs."""
    expected = (
        "#!version:1.0.0.1\n",
        f"account.1.user_name = {phone.user}\n",
        f"account.1.display_name = {phone.first} {phone.last}\n",
        f"/ns-api/hooks/yealink/{phone.mac}/",
    )
    missing = [e.strip() for e in expected if e not in text]
    if missing:
        raise RuntimeError(f"{phone.cfg_path} lacks {missing}")


# --- wrk --------------------------------------------------------------------------------------

DOWNLOAD_LUA = """
local n = #bench_paths
local i = 0
function bench_setup(thread, index)
  thread:set("bench_offset", (index - 1) * 997)
end
function request()
  local k = ((i + (bench_offset or 0)) % n) + 1
  i = i + 1
  return wrk.format("GET", bench_paths[k], {
    ["Authorization"] = bench_auth[k], ["User-Agent"] = bench_agents[k] })
end
function response(status, headers, body)
  if status == 200 then granted = granted + 1 else failed = failed + 1 end
end
"""


def download_prelude(phones: Sequence[FleetPhone], auth: Sequence[str]) -> str:
    return (
        f"bench_paths = {h.lua_strings([p.cfg_path for p in phones])}\n"
        f"bench_auth = {h.lua_strings(auth)}\n"
        f"bench_agents = {h.lua_strings([p.agent for p in phones])}\n" + DOWNLOAD_LUA
    )


def measure(
    args: argparse.Namespace, workers: int, store: h.Backend, workdir: Path
) -> dict[str, Any]:
    phones = fleet(args.phones)

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
            f"  {label}: {load.rps:,.0f} req/s, p99 {load.p99_ms:.2f} ms, "
            f"{load.cpu_us_per_request:,.0f} µs CPU/req (other CPU {load.other_cpu:.0%})",
            flush=True,
        )
        return load

    with (
        h.celito_server(store, workers, workdir) as app,
        h.bare_server(workers, workdir) as bare,
    ):
        if not args._seeded:
            took = seed(store, phones)
            print(f"  seeded {len(phones)} phones in {took:.0f} s", flush=True)
            args._seeded = True
        creds = provisioning_credentials(app)
        sample = download_all(app, creds, phones[:8])
        for p in phones[:8]:
            check_file(p, sample[p.mac])

        def files(label: str, **kw: Any) -> h.Load:
            auth = digest_headers(app, creds, [p.cfg_path for p in phones])
            return run(label, app, phones[0].cfg_path, prelude=download_prelude(phones, auth), **kw)

        run("warm-up", bare, "/", seconds=args.warmup, wait=0)
        files("warm-up", seconds=args.warmup, wait=0)
        bare_runs, version_runs, file_runs = [], [], []
        for n in range(1, args.rounds + 1):
            bare_runs.append(run(f"bare ASGI #{n}", bare, "/"))
            version_runs.append(run(f"celito /version #{n}", app, "/ns-api/v2/version"))
            file_runs.append(files(f"<mac>.cfg #{n}"))
        size = len(sample[phones[0].mac])
    loads = bare_runs + version_runs + file_runs
    for load in loads:
        if load.errors or load.failed:
            raise RuntimeError(f"{load.label}: {load.errors} errors, {load.failed} not 200")
    best = h.fastest(file_runs)
    return {
        "workers": workers,
        "backend": store.kind,
        "loads": loads,
        "file_bytes": size,
        "bare_rps": h.fastest(bare_runs).rps,
        "version_rps": h.fastest(version_runs).rps,
        "files_rps": best.rps,
        "files_rps_median": h.median([x.rps for x in file_runs]),
        "files_p99_ms": best.p99_ms,
        "bare_cpu_us": h.cpu_per_request(bare_runs),
        "version_cpu_us": h.cpu_per_request(version_runs),
        "files_cpu_us": h.cpu_per_request(file_runs),
    }


def report(results: Sequence[dict[str, Any]], args: argparse.Namespace) -> None:
    print()
    for r in results:
        print(f"--- {r['backend']}, {r['workers']} worker(s), wrk -t{args.threads} ---")
        print(h.table(h.LOAD_HEADERS, h.load_rows(r["loads"])))
        print()
    rows = [
        [
            r["backend"],
            r["workers"],
            r["file_bytes"],
            r["files_rps"],
            r["files_rps_median"],
            "ok" if r["files_rps"] >= FILES_TARGET else "MISSED",
            r["files_p99_ms"],
            r["files_cpu_us"],
            r["workers"] * 1e6 / r["files_cpu_us"],
            f"{r['files_rps'] / r['bare_rps']:.3f}",
            f"{r['bare_cpu_us'] / r['files_cpu_us']:.3f}",
            f"{r['version_cpu_us'] / r['files_cpu_us']:.3f}",
        ]
        for r in results
    ]
    print(f"best of {args.rounds} rounds (median alongside):")
    print(
        "(files/s at 1 core per worker = workers x 1e6 / server CPU µs per file: the rate if\n"
        " each worker had a core to itself; CPU ratios = baseline CPU µs/req / file CPU µs)"
    )
    print(
        h.table(
            (
                "backend",
                "workers",
                "file bytes",
                "files/s",
                "median",
                f">= {FILES_TARGET:,.0f}",
                "p99 ms",
                "CPU µs/file",
                "files/s at 1 core/worker",
                "ratio to bare",
                "CPU ratio bare",
                "CPU ratio /version",
            ),
            rows,
        )
    )


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
    parser.add_argument("--phones", type=int, default=FLEET, help="phones in the domain")
    args = parser.parse_args()
    args._seeded = False
    h.require_wrk()
    results = []
    with (
        h.scratch("yealink-provisioning") as workdir,
        h.backend(args.postgres, workdir) as store,
    ):
        # One database for every worker count: seeded once, by the first server's run.
        for workers in [int(w) for w in args.workers.split(",")]:
            print(f"workers={workers} ({'PostgreSQL' if args.postgres else 'SQLite'})", flush=True)
            results.append(measure(args, workers, store, workdir))
    report(results, args)
    saved = h.save(
        f"yealink_provisioning-{results[0]['backend']}",
        {
            "args": {k: v for k, v in vars(args).items() if not k.startswith("_")},
            "results": [{**r, "loads": [x.as_dict() for x in r["loads"]]} for r in results],
        },
    )
    print(f"\n(details in {saved.relative_to(h.ROOT)})")


if __name__ == "__main__":
    main()
