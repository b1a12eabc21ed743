"""Action URL ingest: phone reports per second on one node, p99, and every accepted one stored.

The 1,000 phones of bench/yealink_provisioning.py (same seeding) download their files first;
the action URLs fired are the ones in those files (`action_url.<event> = …/ns-api/hooks/yealink/
<mac>/<token>/<event>?mac=$mac&…`), with the variables filled in the way a Yealink phone does
it: not URL-encoded, so display names go out with raw spaces, `&` and UTF-8 (`Smith & Jones`,
`Zoë Müller`), which the server's lenient request-line protocol repairs.

The mix is what an office's phones report: each phone walks through a morning (15 calls:
answered, held and resumed, placed off-hook to on-hook, missed, busy, rejected; DND on, a call
missed, DND off; a re-registration), 57 reports, phones interleaved, every call with its own
call id. wrk runs one connection per thread, so each thread knows
which request every answer belongs to; it logs them, and afterwards the `events` table (model
`phone`) is checked against every request answered 200: **missing** counts accepted reports
with no event (must be 0). Requests still in flight when wrk stopped may or may not have been
stored; they are neither missing nor counted.

Figures: the peak (reports/s, server CPU µs per report), then reports paced at `--rate`
(default 1,000/s, open loop) and their p99. Targets: ≥ 1,000 reports/s with p99 < 50 ms, none
missing. Baselines (same run): the bare ASGI app answering the same requests
(benchkit/serve_bare.py: uvicorn with `celito serve`'s options, the lenient protocol
included), and celito's `/ns-api/v2/version`.

    .venv/bin/python bench/yealink_actionurls.py [--postgres] [--workers 1,2] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yealink_provisioning as yp
from benchkit import harness as h

RATE_TARGET = 1000.0
P99_TARGET_MS = 50.0
_ACTION = re.compile(r"^action_url\.\w+ = (\S+)$", re.M)
CALLERS = (
    ("Smith & Jones", "+15551230001"),
    ("Zoë Müller", "+4930123456"),
    ("ACME Corp.", "+15551230002"),
    ("5551230003", "5551230003"),
    ("O'Brien, Pat", "+35312345678"),
)


@dataclass(frozen=True)
class Step:
    event: str
    slot: int = 0  # >0: a call event; the calls of one cycle are slots 1 to 15
    values: dict[str, str] = field(default_factory=dict)


def _call(event: str, slot: int, direction: str, caller: int, duration: str = "0") -> Step:
    name, number = CALLERS[caller % len(CALLERS)]
    return Step(
        event,
        slot,
        {
            "callDirection": direction,
            "calledNumber": number,
            "remote": f"sip:{number}@carrier.example",
            "display_remote": name,
            "duration": duration,
        },
    )


def _answered_in(slot: int, hold: bool = False) -> list[Step]:
    held = [_call("hold", slot, "in", slot, "31"), _call("unhold", slot, "in", slot, "47")]
    return [
        _call("incoming_call", slot, "in", slot),
        _call("call_established", slot, "in", slot),
        *(held if hold else []),
        _call("call_terminated", slot, "in", slot, "95"),
    ]


def _answered_out(slot: int) -> list[Step]:
    return [
        Step("off_hook"),
        _call("outgoing_call", slot, "out", slot),
        _call("call_established", slot, "out", slot),
        _call("call_terminated", slot, "out", slot, "42"),
        Step("on_hook"),
    ]


def _unanswered(slot: int, ending: str) -> list[Step]:
    return [_call("incoming_call", slot, "in", slot), _call(ending, slot, "in", slot)]


def _busy_out(slot: int) -> list[Step]:
    return [
        Step("off_hook"),
        _call("outgoing_call", slot, "out", slot),
        _call("remote_busy", slot, "out", slot),
        Step("on_hook"),
    ]


# One phone's morning, in order; phones start at different steps: 15 calls (answered, held,
# placed, missed, busy, rejected, one missed while on DND), DND on and off once, a
# re-registration. 57 reports, 2 of them DND changes (the only reports presence depends on).
STEPS = (
    *_answered_in(1, hold=True),
    *_answered_out(2),
    *_answered_in(3),
    *_unanswered(4, "missed_call"),
    *_answered_out(5),
    *_busy_out(6),
    *_answered_in(7),
    *_unanswered(8, "reject_incoming_call"),
    Step("dnd_on"),
    *_unanswered(9, "missed_call"),
    Step("dnd_off"),
    *_answered_in(10),
    *_answered_out(11),
    *_answered_in(12, hold=True),
    *_unanswered(13, "missed_call"),
    *_answered_out(14),
    *_answered_in(15),
    Step("registered"),
)


def lua_bytes(value: str) -> str:
    """A Lua string literal for any text: UTF-8 bytes outside printable ASCII as \\ddd."""
    out = []
    for b in value.encode():
        c = chr(b)
        if 32 <= b < 127 and c not in '"\\':
            out.append(c)
        else:
            out.append(f"\\{b:03d}")
    return '"' + "".join(out) + '"'


def lua_table(values: dict[str, str]) -> str:
    return "{" + ", ".join(f"[{lua_bytes(k)}] = {lua_bytes(v)}" for k, v in values.items()) + "}"


@dataclass(frozen=True)
class Targets:
    """What the phones' files say: each phone's URL base, each event's query template."""

    bases: dict[str, str]  # mac → /ns-api/hooks/yealink/<mac>/<token>
    queries: dict[str, str]  # event → mac=$mac&ip=$ip&…


def targets_from(files: dict[str, str]) -> Targets:
    bases: dict[str, str] = {}
    queries: dict[str, str] = {}
    for mac, text in files.items():
        for url in _ACTION.findall(text):
            path = url.split("://", 1)[1].split("/", 1)[1]
            base, _, rest = ("/" + path).rpartition("/")
            event, _, query = rest.partition("?")
            if bases.setdefault(mac, base) != base:
                raise RuntimeError(f"{mac}'s file names two URL bases: {base}, {bases[mac]}")
            if queries.setdefault(event, query) != query:
                raise RuntimeError(f"the phones' files disagree on the query of {event}")
    missing = {s.event for s in STEPS} - set(queries)
    if missing:
        raise RuntimeError(f"no file configures {sorted(missing)}")
    return Targets(bases, queries)


REPORT_LUA = """
local mine, visits, turn, out, current = nil, {}, 0, nil, nil
function bench_setup(thread, index)
  thread:set("tid", index)
end
local function fill(step, phone, cid)
  return (string.gsub(step.q, "%$([%w_]+)", function(name)
    if name == "call_id" then return cid end
    local v = step.v[name]
    if v ~= nil then return v end
    return phone[name]
  end))
end
function request()
  -- wrk checks the first request of its first thread with a strict parser, which refuses
  -- the raw spaces phones send; that one is never sent, so it may be any valid request.
  if tid == 1 and not verified then
    verified = true
    return wrk.format("GET", "/")
  end
  if mine == nil then
    mine = {}
    for p = tid, #bench_phones, bench_threads_total do mine[#mine + 1] = p end
    out = io.open(bench_dir .. "/t" .. tid .. ".log", "w")
    out:setvbuf("line")
  end
  if current ~= nil then out:write("!", current, "\\n") end
  turn = turn + 1
  local p = mine[(turn - 1) % #mine + 1]
  local k = (visits[p] or 0)
  visits[p] = k + 1
  local n = k + p + bench_round
  local step = bench_steps[n % #bench_steps + 1]
  local phone = bench_phones[p]
  local cid = ""
  if step.slot > 0 then
    cid = string.format("%d", bench_round * 100000000 + p * 10000
      + math.floor(n / #bench_steps) * 16 + step.slot)
  end
  current = phone.mac .. "|" .. step.e .. "|" .. cid
  out:write(">", current, "\\n")
  return wrk.format("GET", phone.base .. "/" .. step.e .. "?" .. fill(step, phone, cid),
    { ["User-Agent"] = phone.agent })
end
function response(status, headers, body)
  out:write("<", status, "\\n")
  current = nil
  if status == 200 then granted = granted + 1 else failed = failed + 1 end
end
"""


def report_prelude(
    phones: Sequence[yp.FleetPhone],
    targets: Targets,
    *,
    threads: int,
    round_no: int,
    log_dir: Path,
) -> str:
    rows = []
    for p in phones:
        values = {
            "base": targets.bases[p.mac],
            "agent": p.agent,
            "mac": p.mac,
            "ip": f"10.20.{p.index // 250}.{p.index % 250 + 2}",
            "model": p.model,
            "firmware": p.firmware,
            "active_user": p.user,
            "active_host": yp.DOMAIN,
            "local": f"sip:{p.user}@{yp.DOMAIN}",
            "display_local": f"{p.first} {p.last}",
        }
        rows.append(lua_table(values))
    steps = [
        f"{{e = {lua_bytes(s.event)}, slot = {s.slot}, q = {lua_bytes(targets.queries[s.event])},"
        f" v = {lua_table(s.values)}}}"
        for s in STEPS
    ]
    return (
        f"bench_phones = {{{', '.join(rows)}}}\n"
        f"bench_steps = {{{', '.join(steps)}}}\n"
        f"bench_threads_total = {threads}\n"
        f"bench_round = {round_no}\n"
        f"bench_dir = {lua_bytes(str(log_dir))}\n" + REPORT_LUA
    )


# --- checking the outbox ------------------------------------------------------------------------


@dataclass
class Sent:
    accepted: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    unanswered: Counter[str] = field(default_factory=Counter)  # in flight at the end, or reset


def read_logs(log_dir: Path) -> Sent:
    sent = Sent()
    for path in sorted(log_dir.glob("t*.log")):
        pending: str | None = None
        for line in path.read_text(encoding="utf-8").splitlines():
            mark, rest = line[:1], line[1:]
            if mark == ">":
                pending = rest
            elif mark == "<" and pending is not None:
                (sent.accepted if rest == "200" else sent.refused)[pending] += 1
                pending = None
            elif mark == "!":
                sent.unanswered[rest] += 1
                pending = None
        if pending is not None:
            sent.unanswered[pending] += 1
    return sent


class Outbox:
    """Reads the `events` table of the server's database (SQLite file or PostgreSQL)."""

    def __init__(self, store: h.Backend) -> None:
        self.store = store

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.store.database_url is None:
            path = self.store.data_dir / "celito.db"
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
                return list(conn.execute(sql, params).fetchall())
        import psycopg

        url = self.store.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(url) as conn:
            return list(conn.execute(sql.replace("?", "%s"), params).fetchall())

    def _queued(self) -> int:
        try:
            return int(self._query("SELECT count(*) FROM event_queue")[0][0])
        except Exception:  # no event_queue table: events go straight into `events`
            return 0

    def last_id(self) -> int:
        return int(self._query("SELECT coalesce(max(id), 0) FROM events")[0][0])

    def settled_last_id(self, timeout: float = 60.0) -> int:
        """The last event id once nothing is waiting to be numbered and no id appears."""
        deadline = time.monotonic() + timeout
        last = -1
        while time.monotonic() < deadline:
            now = self.last_id()
            if now == last and self._queued() == 0:
                return now
            last = now
            time.sleep(0.5)
        raise RuntimeError(f"the outbox did not settle within {timeout:.0f} s")

    def phone_reports(self, after: int, upto: int) -> Counter[str]:
        rows = self._query(
            "SELECT payload FROM events WHERE id > ? AND id <= ? AND model = 'phone'",
            (after, upto),
        )
        found: Counter[str] = Counter()
        for (raw,) in rows:
            payload = json.loads(raw) if isinstance(raw, str | bytes) else raw
            call_id = payload.get("variables", {}).get("call_id", "")
            found[f"{payload['mac']}|{payload['event']}|{call_id}"] += 1
        return found


@dataclass(frozen=True)
class Check:
    accepted: int
    stored: int
    missing: int
    unexplained: int  # stored, but never answered 200 nor in flight


def check(sent: Sent, stored: Counter[str]) -> Check:
    missing = sum(max(0, n - stored[k]) for k, n in sent.accepted.items())
    unexplained = sum(max(0, n - sent.accepted[k] - sent.unanswered[k]) for k, n in stored.items())
    return Check(sum(sent.accepted.values()), sum(stored.values()), missing, unexplained)


# --- the measurement ---------------------------------------------------------------------------


def measure(
    args: argparse.Namespace, workers: int, store: h.Backend, workdir: Path
) -> dict[str, Any]:
    phones = yp.fleet(args.phones)
    outbox = Outbox(store)
    rounds = iter(range(1, 1_000_000))

    def run(label: str, server: h.Server, **kw: Any) -> tuple[h.Load, Check | None]:
        log_dir = workdir / f"reports-{secrets_hex()}"
        log_dir.mkdir()
        verify = kw.pop("verify", True)
        prelude = report_prelude(
            phones, targets, threads=args.connections, round_no=next(rounds), log_dir=log_dir
        )
        before = outbox.settled_last_id() if verify else 0
        load = h.wrk(
            label,
            server,
            "/",
            seconds=kw.pop("seconds", args.seconds),
            connections=args.connections,
            threads=args.connections,
            wait=kw.pop("wait", args.wait_idle),
            workdir=workdir,
            prelude=kw.pop("prelude", "") + prelude,
            **kw,
        )
        result = None
        if verify:
            after = outbox.settled_last_id()
            result = check(read_logs(log_dir), outbox.phone_reports(before, after))
        note = (
            f", {result.missing} missing of {result.accepted:,} accepted ({result.stored:,} stored)"
            if result
            else ""
        )
        print(
            f"  {label}: {load.rps:,.0f} req/s, p99 {load.p99_ms:.2f} ms, "
            f"{load.cpu_us_per_request:,.0f} µs CPU/req (other CPU {load.other_cpu:.0%}){note}",
            flush=True,
        )
        return load, result

    with (
        h.celito_server(store, workers, workdir) as app,
        h.bare_server(workers, workdir) as bare,
    ):
        if not args._seeded:
            took = yp.seed(store, phones)
            print(f"  seeded {len(phones)} phones in {took:.0f} s", flush=True)
            args._seeded = True
        creds = yp.provisioning_credentials(app)
        files = yp.download_all(app, creds, phones)
        targets = targets_from(files)

        run("warm-up", bare, seconds=args.warmup, wait=0, verify=False)
        run("warm-up", app, seconds=args.warmup, wait=0)
        bare_runs, version_runs, peak_runs = [], [], []
        checks: list[Check] = []
        for n in range(1, args.rounds + 1):
            bare_runs.append(run(f"bare ASGI #{n}", bare, verify=False)[0])
            version_runs.append(
                h.wrk(
                    f"celito /version #{n}",
                    app,
                    "/ns-api/v2/version",
                    seconds=args.seconds,
                    connections=args.connections,
                    wait=args.wait_idle,
                    workdir=workdir,
                )
            )
            load, result = run(f"reports peak #{n}", app)
            peak_runs.append(load)
            checks.append(result)  # type: ignore[arg-type]
        paced_runs = []
        for n in range(1, args.rounds + 1):
            load, result = run(
                f"reports at {args.rate:,.0f}/s #{n}",
                app,
                prelude=h.paced(args.rate, args.connections),
                scripts=["pace.lua"],
                target_rps=args.rate,
            )
            paced_runs.append(load)
            checks.append(result)  # type: ignore[arg-type]
    loads = bare_runs + version_runs + peak_runs + paced_runs
    for load in loads:
        if load.errors or load.failed:
            raise RuntimeError(f"{load.label}: {load.errors} errors, {load.failed} not 200")
    calm = h.calmest(paced_runs)
    return {
        "workers": workers,
        "backend": store.kind,
        "loads": loads,
        "checks": checks,
        "bare_rps": h.fastest(bare_runs).rps,
        "version_rps": h.fastest(version_runs).rps,
        "peak_rps": h.fastest(peak_runs).rps,
        "peak_rps_median": h.median([x.rps for x in peak_runs]),
        "bare_cpu_us": h.cpu_per_request(bare_runs),
        "version_cpu_us": h.cpu_per_request(version_runs),
        "report_cpu_us": h.cpu_per_request(peak_runs),
        "paced_rps": calm.rps,
        "p99_ms": calm.p99_ms,
        "p99_median_ms": h.median([x.p99_ms for x in paced_runs]),
        "accepted": sum(c.accepted for c in checks),
        "missing": sum(c.missing for c in checks),
        "unexplained": sum(c.unexplained for c in checks),
    }


def secrets_hex() -> str:
    import secrets

    return secrets.token_hex(4)


def report(results: Sequence[dict[str, Any]], args: argparse.Namespace) -> None:
    print()
    for r in results:
        print(f"--- {r['backend']}, {r['workers']} worker(s), wrk -t{args.connections} ---")
        print(h.table(h.LOAD_HEADERS, h.load_rows(r["loads"])))
        print()
    rows = []
    for r in results:
        passed = (
            r["peak_rps"] >= RATE_TARGET
            and r["paced_rps"] >= 0.95 * args.rate
            and r["p99_ms"] < P99_TARGET_MS
            and r["missing"] == 0
        )
        rows.append(
            [
                r["backend"],
                r["workers"],
                r["peak_rps"],
                r["peak_rps_median"],
                r["report_cpu_us"],
                r["workers"] * 1e6 / r["report_cpu_us"],
                r["paced_rps"],
                r["p99_ms"],
                r["p99_median_ms"],
                f"{r['accepted']:,}",
                r["missing"],
                r["unexplained"],
                f"{r['bare_cpu_us'] / r['report_cpu_us']:.3f}",
                f"{r['version_cpu_us'] / r['report_cpu_us']:.3f}",
                "ok" if passed else "MISSED",
            ]
        )
    print(f"best of {args.rounds} rounds (median alongside):")
    print(
        "(reports/s at 1 core/worker = workers x 1e6 / server CPU µs per report; accepted and\n"
        " missing are summed over every verified run; CPU ratios = baseline µs / report µs)"
    )
    print(
        h.table(
            (
                "backend",
                "workers",
                "peak/s",
                "median",
                "CPU µs/report",
                "/s at 1 core/worker",
                f"paced/s ({args.rate:,.0f})",
                "p99 ms",
                "median",
                "accepted",
                "missing",
                "unexplained",
                "CPU ratio bare",
                "CPU ratio /version",
                f">= {RATE_TARGET:,.0f}/s, p99 < {P99_TARGET_MS:g} ms",
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
    parser.add_argument("--rate", type=float, default=RATE_TARGET, help="paced reports/s")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=10.0,
        help="before each round, wait up to this many seconds for the machine to be idle",
    )
    parser.add_argument(
        "--connections", type=int, default=32, help="wrk connections, one per wrk thread"
    )
    parser.add_argument("--phones", type=int, default=yp.FLEET, help="phones in the domain")
    args = parser.parse_args()
    args._seeded = False
    h.require_wrk()
    results = []
    with (
        h.scratch("yealink-actionurls") as workdir,
        h.backend(args.postgres, workdir) as store,
    ):
        for workers in [int(w) for w in args.workers.split(",")]:
            print(f"workers={workers} ({'PostgreSQL' if args.postgres else 'SQLite'})", flush=True)
            results.append(measure(args, workers, store, workdir))
    report(results, args)
    saved = h.save(
        f"yealink_actionurls-{results[0]['backend']}",
        {
            "args": {k: v for k, v in vars(args).items() if not k.startswith("_")},
            "results": [
                {
                    **r,
                    "loads": [x.as_dict() for x in r["loads"]],
                    "checks": [c.__dict__ for c in r["checks"]],
                }
                for r in results
            ],
        },
    )
    print(f"\n(details in {saved.relative_to(h.ROOT)})")


if __name__ == "__main__":
    main()
