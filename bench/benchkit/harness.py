"""Servers, throwaway databases, the wrk load generator and the report table.

Every server is a child process in its own process group, started on a free loopback port and
stopped (SIGTERM, then SIGKILL) when its `with` block ends, so a benchmark never leaves
anything running. PostgreSQL runs get a database of their own, dropped afterwards.
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

KIT = Path(__file__).resolve().parent
BENCH = KIT.parent
ROOT = BENCH.parent
BIN = Path(sys.executable).parent
RESULTS = BENCH / "results"
PG_URL = os.environ.get("CELITO_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
HOST = "127.0.0.1"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        sys.exit("these benchmarks drive load with wrk: apt-get install -y wrk")
    return path


# --- where a celito server keeps its data ------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    kind: str  # "sqlite" | "postgres"
    data_dir: Path
    database_url: str | None = None


def _pg_url(scheme: str, database: str) -> str:
    parts = urlsplit(PG_URL)
    return urlunsplit((scheme, parts.netloc, "/" + database, parts.query, ""))


@contextmanager
def backend(postgres: bool, workdir: Path) -> Iterator[Backend]:
    """A fresh data directory, and with `postgres` a throwaway database dropped afterwards."""
    data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=workdir))
    if not postgres:
        yield Backend("sqlite", data_dir)
        return
    import psycopg
    from psycopg import sql

    name = f"celito_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = _pg_url("postgresql", urlsplit(PG_URL).path.lstrip("/") or "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield Backend("postgres", data_dir, _pg_url("postgresql+psycopg", name))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# --- servers -----------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    credentials: dict[str, Any] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def cpu_seconds(self) -> float:
        """User+system CPU of every live process in the server's process group."""
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            # fields[2] is pgrp; fields[11], fields[12] are utime, stime (man 5 proc).
            if int(fields[2]) == self.proc.pid:
                total += int(fields[11]) + int(fields[12])
        return total / TICKS


def machine_busy_seconds() -> float:
    """CPU time spent by everything on the machine (all cores), from /proc/stat."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / TICKS


def wait_idle(limit: float, threshold: float = 0.15) -> float:
    """Waits up to `limit` s for the machine to be idle (below `threshold` of one core busy
    over a second, our idle servers included); returns the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        before = machine_busy_seconds()
        time.sleep(1.0)
        if machine_busy_seconds() - before < threshold:
            break
    return time.monotonic() - start


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELITO_")}
    env.update(extra)
    return env


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass


@contextmanager
def _serve(
    name: str, argv: Sequence[str], *, port: int, env: dict[str, str], workdir: Path
) -> Iterator[Server]:
    log = workdir / f"{name}-{port}.log"
    with log.open("wb") as out:
        # cwd is the scratch directory, so no developer's .env file changes the settings.
        proc = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
            start_new_session=True,
        )
    server = Server(name, port, proc, log)
    try:
        _wait_ready(server)
        yield server
    finally:
        _stop(proc)


def _wait_ready(server: Server, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            tail = server.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}:\n{tail}")
        try:
            if httpx.get(server.url("/"), timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer within {timeout:.0f} s; see {server.log}")


@contextmanager
def celito_server(store: Backend, workers: int, workdir: Path) -> Iterator[Server]:
    """`celito serve` with its demo tenant; `credentials` is demo-credentials.json."""
    port = free_port()
    extra = {"CELITO_DATABASE_URL": store.database_url} if store.database_url else {}
    argv = [
        str(BIN / "celito"),
        "serve",
        "--data-dir",
        str(store.data_dir),
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with _serve("celito", argv, port=port, env=_child_env(extra), workdir=workdir) as server:
        server.credentials = json.loads((store.data_dir / "demo-credentials.json").read_text())
        yield server


@contextmanager
def bare_server(workers: int, workdir: Path) -> Iterator[Server]:
    """The baseline: bare_asgi.py under uvicorn with the options `celito serve` passes."""
    port = free_port()
    argv = [sys.executable, str(KIT / "serve_bare.py"), str(port), str(workers)]
    with _serve("bare-asgi", argv, port=port, env=_child_env({}), workdir=workdir) as server:
        yield server


def password_grant(server: Server, username: str, password: str) -> dict[str, Any]:
    creds = server.credentials
    response = httpx.post(
        server.url("/ns-api/oauth2/token"),
        data={
            "grant_type": "password",
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "username": username,
            "password": password,
        },
        timeout=30,
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


# --- load ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """One wrk run. Latencies in ms; CPU as a share of one core over the run."""

    label: str
    connections: int
    seconds: float
    requests: int
    rps: float
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    errors: int
    granted: int
    failed: int
    server_cpu: float
    wrk_cpu: float
    other_cpu: float
    target_rps: float | None = None

    @property
    def cpu_us_per_request(self) -> float:
        """Server CPU per request: barely depends on how much CPU neighbours left it."""
        return self.server_cpu / self.rps * 1e6 if self.rps else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "cpu_us_per_request": self.cpu_us_per_request}


def lua_string(value: str) -> str:
    """A Lua string literal (JSON's escapes are valid Lua for ASCII text)."""
    if not value.isascii():
        raise ValueError("only ASCII goes into the wrk scripts")
    return json.dumps(value)


def lua_strings(values: Sequence[str]) -> str:
    return "{" + ", ".join(lua_string(v) for v in values) + "}"


def wrk(
    label: str,
    server: Server,
    path: str,
    *,
    seconds: float,
    connections: int,
    threads: int = 1,
    headers: dict[str, str] | None = None,
    prelude: str = "",
    scripts: Sequence[str] = (),
    target_rps: float | None = None,
    wait: float = 0.0,
    workdir: Path,
) -> Load:
    """Runs wrk against server+path; `scripts` are files of lua/, after `prelude` (Lua code).

    With `wait`, first waits up to that many seconds for the rest of the machine to go idle.
    """
    exe = require_wrk()
    if wait > 0 and wait_idle(wait) >= wait:
        print(f"  (machine still busy after {wait:g} s; measuring anyway)", flush=True)
    parts = [prelude, (KIT / "lua" / "report.lua").read_text()]
    parts += [(KIT / "lua" / name).read_text() for name in scripts]
    script = workdir / f"wrk-{secrets.token_hex(4)}.lua"
    script.write_text("\n".join(parts))
    argv = [exe, "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s"]
    argv += ["--timeout", "10s", "-s", str(script)]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    argv.append(server.url(path))
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before, busy_before = server.cpu_seconds(), machine_busy_seconds()
    run = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    server_cpu = server.cpu_seconds() - server_before
    busy = machine_busy_seconds() - busy_before
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (after_children.ru_utime - before_children.ru_utime) + (
        after_children.ru_stime - before_children.ru_stime
    )
    line = next((x for x in run.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if run.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    elapsed = raw["duration_us"] / 1e6
    errors = sum(raw["errors"].values())
    return Load(
        label=label,
        connections=connections,
        seconds=round(elapsed, 2),
        requests=raw["requests"],
        rps=raw["requests"] / elapsed,
        mean_ms=raw["mean_us"] / 1000,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        p999_ms=raw["p999_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        errors=errors,
        granted=raw["granted"],
        failed=raw["failed"],
        server_cpu=server_cpu / elapsed,
        wrk_cpu=wrk_cpu / elapsed,
        other_cpu=max(0.0, busy - server_cpu - wrk_cpu) / elapsed,
        target_rps=target_rps,
    )


def fastest(loads: Sequence[Load]) -> Load:
    """Of repeated rounds, the one with the most req/s: the least disturbed by neighbours."""
    return max(loads, key=lambda x: x.rps)


def calmest(loads: Sequence[Load]) -> Load:
    """Of repeated paced rounds, the one with the lowest p99 (the least disturbed)."""
    return min(loads, key=lambda x: x.p99_ms)


def cpu_per_request(loads: Sequence[Load]) -> float:
    """The median over rounds of the server's CPU µs per request."""
    return median([x.cpu_us_per_request for x in loads])


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def paced(rate: float, threads: int) -> str:
    """The prelude for lua/pace.lua: `rate` requests a second in all, over `threads` threads."""
    return f"bench_rate = {rate:.3f}\nbench_threads_total = {threads}\n"


# --- reporting -----------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        # The first column (and the header row) left-aligned, figures right-aligned.
        padded = [
            c.rjust(w) if n and i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(padded).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def load_rows(loads: Sequence[Load]) -> list[list[object]]:
    return [
        [
            x.label,
            x.connections,
            x.rps,
            x.p50_ms,
            x.p99_ms,
            x.max_ms,
            x.errors + x.failed,
            x.cpu_us_per_request,
            f"{x.server_cpu:.0%}",
            f"{x.wrk_cpu:.0%}",
            f"{x.other_cpu:.0%}",
        ]
        for x in loads
    ]


LOAD_HEADERS = (
    "run",
    "conns",
    "req/s",
    "p50 ms",
    "p99 ms",
    "max ms",
    "errors",
    "server CPU µs/req",
    "server CPU",
    "wrk CPU",
    "other CPU",
)
# CPU columns are shares of one core over the run; "other" is everything else on the machine
# (a busy neighbour skews every figure, so look at it before trusting a ratio).


def save(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


@contextmanager
def scratch(name: str) -> Iterator[Path]:
    """A scratch directory for data, logs and wrk scripts; kept only if the run failed."""
    path = Path(tempfile.mkdtemp(prefix=f"celito-bench-{name}-"))
    # SIGTERM unwinds like Ctrl-C, so servers are stopped and databases dropped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        yield path
    except BaseException:
        print(f"(server logs kept in {path})", file=sys.stderr)
        raise
    shutil.rmtree(path, ignore_errors=True)
