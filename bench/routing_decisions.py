"""Routing decisions per second on one core, against baselines measured in the same run.

A realistic domain (default 200 users in three time zones, 1-3 devices each with some
unregistered, a shared business-hours frame, a holiday frame, a closures frame with yearly
dates, a lunch frame of each user's own, four or five answer rules per user with simultaneous
ring, forwards to colleagues, queues and attendants, voicemail; 100 phone numbers, 10 call
queues, 3 auto attendants) is built in memory; then `routing.engine.route` is called for a
fixed, shuffled list of calls (extensions, phone numbers, unknown numbers; moments spread over a
year, DST changes included; some busy users and spam calls).

Baselines, per call, on the same inputs: `dict lookup` (the dialled number in a dict: the
least any router does) and `copy input` (a shallow copy of the call's inputs including the
map of device registration states, as a caller handing over live state would).

The process is pinned to one core (`--cpu`, default the last one) and waits for the machine to
be idle first; each figure is the median of `--rounds` timed passes.

    .venv/bin/python bench/routing_decisions.py [--users 200] [--calls 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from benchkit import harness as h
from celito.routing.engine import Route, route
from celito.routing.snapshot import Device, PhoneNumber, Rule, Snapshot, UserConfig
from celito.timeframes.schedule import (
    DATES_ARRAY,
    DAYS,
    DOW_ARRAY,
    HOLIDAY_ARRAY,
    compile_schedule,
    normalize_dates,
    normalize_dow,
    normalize_holiday,
)

TARGET = 20_000
ZONES = ("America/New_York", "America/Los_Angeles", "Europe/Berlin")


def _weekly(days: Sequence[str], begin: str, end: str) -> Any:
    raw = {}
    for d in days:
        raw[f"timeframe-weekly-{d}-begin-time-1"] = begin
        raw[f"timeframe-weekly-{d}-end-time-1"] = end
    return compile_schedule("days-of-week", {DOW_ARRAY: [normalize_dow(raw)]})


def _holidays() -> Any:
    fixed = ["0101", "0704", "1111", "1225", "1226", "0525", "0907", "1126", "0217", "0619"]
    entries = [
        normalize_holiday(
            {
                "timeframe-holiday-begin-date": f"2025{md}",
                "timeframe-recurrence-type": "yearlyOnHoliday",
                "timeframe-weekly-saturday-observance-option": "observe-on-prior-workday",
                "timeframe-weekly-sunday-observance-option": "observe-on-next-workday",
            }
        )
        for md in fixed
    ]
    return compile_schedule("holiday", {HOLIDAY_ARRAY: entries})


def _closures() -> Any:
    entries = [
        normalize_dates(
            {
                "timeframe-specific-dates-begin-date": begin,
                "timeframe-specific-dates-begin-time": "1200",
                "timeframe-specific-dates-end-date": end,
                "timeframe-specific-dates-end-time": "2359",
                "timeframe-recurrence-type": "yearly-on-selected-dates",
            }
        )
        for begin, end in (("20251224", "20251224"), ("20251231", "20251231"))
    ] + [
        normalize_dates(
            {
                "timeframe-specific-dates-begin-date": "20250106",
                "timeframe-specific-dates-end-date": "20250106",
                "timeframe-recurrence-type": "monthly-on-ordinal-weekday",
            }
        )
    ]
    return compile_schedule("specific-dates", {DATES_ARRAY: entries})


def on(*params: object) -> dict[str, Any]:
    return {"enabled": True, "parameters": list(params)}


def build_domain(users: int, rng: random.Random) -> tuple[Snapshot, list[str]]:
    business = _weekly(DAYS[:5], "0830", "1730")
    holidays = _holidays()
    closures = _closures()
    exts = [str(1000 + i) for i in range(users)]
    queues = [str(2000 + i) for i in range(10)]
    attendants = [str(3000 + i) for i in range(3)]
    configs, devices = [], []
    for n, ext in enumerate(exts):
        colleague = exts[(n + 1) % users]
        other = exts[(n + 7) % users]
        lunch = _weekly(DAYS[:5], f"{11 + n % 3:02d}30", f"{12 + n % 3:02d}30")
        rules = [
            Rule.from_features(
                {"forward-always": on(f"aa_{attendants[n % 3]}")},
                time_frame="Holidays",
                schedule=holidays,
                order=1,
            ),
            Rule.from_features(
                {"forward-always": on(f"vmail_{ext}")},
                time_frame="Closures",
                schedule=closures,
                order=2,
            ),
            Rule.from_features(
                {
                    "simultaneous-ring": on(
                        "<OwnDevices>", colleague, "confirm_+12125550199;delay=10"
                    ),
                    "forward-no-answer": on(f"queue_{queues[n % 10]}" if n % 4 == 0 else other),
                    "forward-on-busy": on(f"vmail_{ext}"),
                    "phone-numbers-to-reject": on("anonymous"),
                },
                time_frame="Business hours",
                schedule=business,
                order=4,
            ),
            Rule.from_features(
                {"forward-no-answer": on(colleague), "do-not-disturb": on() if n % 9 == 0 else {}},
                time_frame="Lunch",
                schedule=lunch,
                order=3,
                enabled=n % 5 != 0,
            ),
            Rule.from_features(
                {
                    "forward-when-unregistered": on(f"+1646555{n:04d}"),
                    "forward-on-spam-call": on(f"vmail_{ext}"),
                    "call-screening": on() if n % 6 == 0 else {},
                },
                order=5,
            ),
        ]
        configs.append(
            UserConfig(
                ext,
                time_zone=ZONES[n % 3] if n % 2 else None,
                voicemail=n % 11 != 0,
                ring_seconds=20 + n % 3 * 5,
                rules=tuple(rules),
            )
        )
        for suffix in "abc"[: 1 + n % 3]:
            devices.append(Device(f"{ext}{suffix}", ext, registered=rng.random() < 0.8))
    numbers = [
        PhoneNumber(f"+1212555{i:04d}", exts[i] if i < 90 else f"queue_{queues[i % 10]}")
        for i in range(95)
    ] + [PhoneNumber(f"+1212555{i:04d}", f"aa_{attendants[i % 3]}") for i in range(95, 100)]
    snap = Snapshot(
        domain="bench.example",
        time_zone="America/New_York",
        users=tuple(configs),
        devices=tuple(devices),
        queues=frozenset(queues),
        attendants=frozenset(attendants),
        numbers=tuple(numbers),
    )
    return snap, exts


def build_calls(snap: Snapshot, exts: list[str], count: int, rng: random.Random) -> list[Any]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    dialled = (
        exts * 3
        + [n.number for n in snap.numbers]
        + [f"+1 (212) 555-{i:04d}" for i in range(40)]
        + ["4999", "+4930123456", "queue_2003", "vmail_1005"]
    )
    calls = []
    for _ in range(count):
        at = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
        busy = frozenset(rng.sample(exts, 3)) if rng.random() < 0.1 else frozenset()
        # One call in twenty comes without a caller id (and is rejected as anonymous).
        caller = None if rng.random() < 0.05 else f"+1917555{rng.randrange(10_000):04d}"
        calls.append((rng.choice(dialled), at, busy, rng.random() < 0.02, caller))
    return calls


def timed(fn: Callable[[], object], rounds: int) -> dict[str, list[float]]:
    """Wall and CPU seconds of each round (CPU: this thread's own time on its core)."""
    wall, cpu = [], []
    for _ in range(rounds):
        w0, c0 = time.perf_counter(), time.thread_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.thread_time() - c0)
    return {"wall": wall, "cpu": cpu}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--calls", type=int, default=20_000)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--cpu", type=int, default=(os.cpu_count() or 1) - 1)
    p.add_argument("--wait-idle", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    snap, exts = build_domain(args.users, rng)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = snap.index
    index_s = time.perf_counter() - t0
    calls = build_calls(snap, exts, args.calls, rng)
    registrations = {d.name: d.registered for d in snap.devices}
    lookup = {u.user: u for u in snap.users} | {n.number: n for n in snap.numbers}

    def decisions() -> None:
        for dialled, at, busy, spam, caller in calls:
            route(snap, dialled, at, busy=busy, spam=spam, caller=caller)

    def dict_lookup() -> None:
        for call in calls:
            lookup.get(call[0])

    def copy_input() -> None:
        for call in calls:
            (*call, dict(registrations))

    outcomes: Counter[str] = Counter()
    steps = 0
    for dialled, at, busy, spam, caller in calls:
        r: Route = route(snap, dialled, at, busy=busy, spam=spam, caller=caller)
        outcomes[r.outcome if not r.no_route else "no route"] += 1
        steps += len(r.steps)

    waited = h.wait_idle(args.wait_idle)
    runs = {
        "routing decisions": timed(decisions, args.rounds),
        "baseline: dict lookup": timed(dict_lookup, args.rounds),
        "baseline: copy input": timed(copy_input, args.rounds),
    }
    cpu_rates = {k: args.calls / statistics.median(v["cpu"]) for k, v in runs.items()}
    wall_rates = {k: args.calls / statistics.median(v["wall"]) for k, v in runs.items()}
    got = sum(sum(v["cpu"]) for v in runs.values()) / sum(sum(v["wall"]) for v in runs.values())
    decide = cpu_rates["routing decisions"]

    rows = [[k, rate, 1e6 / rate, wall_rates[k], rate / decide] for k, rate in cpu_rates.items()]
    print(
        f"Domain: {args.users} users, {len(snap.devices)} devices "
        f"({sum(d.registered for d in snap.devices)} registered), "
        f"{sum(len(u.rules) for u in snap.users)} answer rules, {len(snap.numbers)} numbers; "
        f"built in {build_s * 1000:.0f} ms, indexed in {index_s * 1000:.1f} ms "
        f"({len(index.users)} users indexed)."
    )
    print(
        f"{args.calls} calls x {args.rounds} rounds pinned to CPU {args.cpu}; waited "
        f"{waited:.0f} s for idle; the benchmark had {got:.0%} of its core while timing "
        "(below ~95% the machine is busy: per-second figures are from CPU time, the wall "
        "column shows what the contention left).\n"
    )
    print(
        h.table(
            ("series", "per CPU-second", "µs each", "per wall-second", "x a decision's rate"), rows
        )
    )
    print(
        "\nA decision costs as much as "
        f"{cpu_rates['baseline: dict lookup'] / decide:,.0f} dict lookups, or "
        f"{cpu_rates['baseline: copy input'] / decide:,.1f} copies of a call's input."
    )
    print(f"Outcomes: {dict(outcomes.most_common())}; {steps / args.calls:.1f} steps per call.")
    verdict = "meets" if decide >= TARGET else "MISSES"
    print(f"Routing decisions: {decide:,.0f}/s on one core: {verdict} the target of {TARGET:,}/s.")
    path = h.save(
        "routing_decisions",
        {
            "users": args.users,
            "calls": args.calls,
            "rounds": args.rounds,
            "cpu": args.cpu,
            "rates_per_cpu_second": cpu_rates,
            "rates_per_wall_second": wall_rates,
            "core_share": got,
            "seconds": runs,
            "outcomes": dict(outcomes),
            "steps_per_call": steps / args.calls,
            "target": TARGET,
        },
    )
    print(f"(details in {path})")


if __name__ == "__main__":
    main()
