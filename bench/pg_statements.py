"""PostgreSQL's own time per statement during a benchmark round: where a database figure goes.

Run it beside a benchmark (another terminal, or `&`). It waits for a wrk round whose script
holds `--mark` (default `bench_rate`: the paced rounds of benchkit/lua/pace.lua), lets it run
`--delay` seconds, has PostgreSQL log every statement for `--seconds` (ALTER SYSTEM
log_min_duration_statement = 0, reset afterwards even on Ctrl-C), then prints the statements
by total server time, split into parse, bind (where a custom plan is made) and execute, and
the commands worth a look (ROLLBACK, DEALLOCATE, VACUUM). Logging every statement costs the
server time too: compare rows with each other, not with an unlogged run.

    .venv/bin/python bench/pg_statements.py [--log /var/log/postgresql/postgresql-15-main.log]
        & ./dev bench yealink_actionurls --postgres --workers 1 --rounds 1

Needs a superuser connection (CELITO_BENCH_PG_URL, as the benchmarks) and the server's log file.
"""

from __future__ import annotations

import argparse
import re
import time
from collections import defaultdict
from pathlib import Path

import psycopg

from benchkit.harness import PG_URL

_ENTRY = re.compile(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")
_DURATION = re.compile(
    r"duration: ([\d.]+) ms\s+(statement|parse|bind|execute)(?: [^:]*)?: (.*)", re.S
)
_NOTABLE = ("ROLLBACK", "DEALLOCATE", "VACUUM", "LOCK", "SAVEPOINT")


def wrk_round_running(mark: str) -> bool:
    """A wrk process whose script (its `-s` file) holds `mark`."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if Path(argv[0].decode()).name != "wrk":
                continue
            scripts = [a.decode() for a in argv if a.endswith(b".lua")]
            if any(mark in Path(s).read_text() for s in scripts):
                return True
        except (OSError, UnicodeDecodeError, IndexError):
            continue
    return False


def capture(log: Path, seconds: float) -> str:
    """The log's text written while every statement was logged."""
    start = log.stat().st_size
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET log_min_duration_statement = 0")
        conn.execute("SELECT pg_reload_conf()")
        try:
            time.sleep(seconds)
        finally:
            conn.execute("ALTER SYSTEM RESET log_min_duration_statement")
            conn.execute("SELECT pg_reload_conf()")
    with log.open("rb") as f:
        f.seek(start)
        return f.read().decode(errors="replace")


def summarise(text: str, width: int) -> None:
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for entry in _ENTRY.split(text):
        found = _DURATION.search(entry)
        if found is None:
            continue
        sql = " ".join(found.group(3).split())
        cell = totals[(found.group(2), sql[:width])]
        cell[0] += 1
        cell[1] += float(found.group(1))
    overall = sum(ms for _, ms in totals.values())
    print(f"{overall:,.1f} ms of statement time logged\n")
    print(f"{'total ms':>9} {'count':>6} {'mean ms':>8}  phase      statement")
    for (phase, sql), (count, ms) in sorted(totals.items(), key=lambda kv: -kv[1][1])[:30]:
        print(f"{ms:9.1f} {int(count):6d} {ms / count:8.3f}  {phase:<9}  {sql}")
    notable = {
        (phase, sql): cell
        for (phase, sql), cell in totals.items()
        if sql.upper().startswith(_NOTABLE)
    }
    if notable:
        print("\nworth a look:")
        for (phase, sql), (count, ms) in sorted(notable.items(), key=lambda kv: -kv[1][1]):
            print(f"{ms:9.1f} {int(count):6d} {ms / count:8.3f}  {phase:<9}  {sql}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--log", type=Path, default=Path("/var/log/postgresql/postgresql-15-main.log")
    )
    parser.add_argument("--mark", default="bench_rate", help="text in the wrk script to wait for")
    parser.add_argument("--delay", type=float, default=1.5, help="seconds into the round")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds of statements logged")
    parser.add_argument("--width", type=int, default=100, help="characters of SQL shown")
    parser.add_argument("--timeout", type=float, default=900.0, help="give up waiting after")
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout
    while not wrk_round_running(args.mark):
        if time.monotonic() > deadline:
            raise SystemExit(f"no wrk round with {args.mark!r} in its script started")
        time.sleep(0.1)
    time.sleep(args.delay)
    summarise(capture(args.log, args.seconds), args.width)


if __name__ == "__main__":
    main()
