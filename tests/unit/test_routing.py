"""routing.engine: the pure routing decision, across time zones, DST, precedence, loops."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celito.routing.engine import MAX_FORWARDS, TERMINAL, Route, route
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

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def on(*params: Any) -> dict[str, Any]:
    return {"enabled": True, "parameters": list(params)}


def rule(
    tf: str = "*", schedule: Any = None, order: int = 99, enabled: bool = True, **features: Any
) -> Rule:
    kwargs: dict[str, Any] = {"time_frame": tf, "order": order, "enabled": enabled}
    if schedule is not None:
        kwargs["schedule"] = schedule
    return Rule.from_features({k.replace("_", "-"): v for k, v in features.items()}, **kwargs)


def weekly(days: tuple[str, ...], begin: str, end: str, zone: str | None = None) -> Any:
    raw = {}
    for d in days:
        raw[f"timeframe-weekly-{d}-begin-time-1"] = begin
        raw[f"timeframe-weekly-{d}-end-time-1"] = end
    return compile_schedule("days-of-week", {DOW_ARRAY: [normalize_dow(raw)]}, zone)


BUSINESS = weekly(DAYS[:5], "0900", "1700")


def snap(
    users: dict[str, tuple[Rule, ...]],
    devices: dict[str, bool] | None = None,
    *,
    zone: str = "America/New_York",
    user_zones: dict[str, str] | None = None,
    no_voicemail: tuple[str, ...] = (),
    ring: dict[str, int] | None = None,
    **extra: Any,
) -> Snapshot:
    devices = devices if devices is not None else {u: True for u in users}
    return Snapshot(
        domain="acme",
        time_zone=zone,
        users=tuple(
            UserConfig(
                u,
                time_zone=(user_zones or {}).get(u),
                voicemail=u not in no_voicemail,
                ring_seconds=(ring or {}).get(u, 25),
                rules=rules,
            )
            for u, rules in users.items()
        ),
        devices=tuple(
            Device(name, name.rstrip("abcdefgh"), registered)
            for name, registered in devices.items()
        ),
        **extra,
    )


def plan(r: Route) -> list[tuple[Any, ...]]:
    """A compact, comparable form of the steps."""
    out: list[tuple[Any, ...]] = []
    for s in r.steps:
        if s.action == "ring":
            out.append(("ring", tuple(leg.target for leg in s.legs), s.seconds))
        elif s.action == "forward":
            out.append(("forward", s.target, s.reason))
        elif s.action in ("voicemail", "hangup", "reject"):
            out.append((s.action, s.target, s.reason))
        else:
            out.append((s.action, s.target))
    return out


MONDAY_NOON_NY = datetime(2026, 3, 9, 12, 0, tzinfo=NY)
MONDAY_NIGHT_NY = datetime(2026, 3, 9, 22, 0, tzinfo=NY)


# -- the basic shapes ----------------------------------------------------------------------------


def test_ring_own_devices_forward_then_someone_elses_voicemail() -> None:
    """ring 1001 and 1001a together for 25 s → 1002's devices → voicemail of 1001."""
    s = snap(
        {
            "1001": (rule(simultaneous_ring=on("<OwnDevices>"), forward_no_answer=on("1002")),),
            "1002": (rule(forward_no_answer=on("vmail_1001")),),
        },
        {"1001": True, "1001a": True, "1002": True},
    )
    r = route(s, "1001", MONDAY_NOON_NY)
    assert plan(r) == [
        ("ring", ("1001", "1001a"), 25),
        ("forward", "1002", "no-answer"),
        ("ring", ("1002",), 25),
        ("forward", "vmail_1001", "no-answer"),
        ("voicemail", "1001", "forwarded"),
    ]
    assert r.outcome == "voicemail" and not r.no_route
    assert r.describe().startswith("ring 1001, 1001a for 25 s → forward to 1002")


def test_no_rules_ring_then_voicemail_after_the_users_timeout() -> None:
    s = snap({"1001": ()}, {"1001": True, "1001a": False}, ring={"1001": 18})
    r = route(s, "1001", MONDAY_NOON_NY)
    assert plan(r) == [("ring", ("1001",), 18), ("voicemail", "1001", "no-answer")]
    assert r.steps[0].skipped == ("1001a",) and r.steps[0].time_frame == ""


def test_unknown_number_is_no_route() -> None:
    s = snap({"1001": ()})
    for dialled in ("4999", "", "not a number!", "user_4999", "queue_1001"):
        r = route(s, dialled, MONDAY_NOON_NY)
        assert r.no_route and r.outcome == "hangup", dialled
        assert plan(r) == [("hangup", dialled, "no-route")]


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        route(snap({"1001": ()}), "1001", datetime(2026, 3, 9, 12))


def test_dnd_goes_to_voicemail_or_its_forward_and_allowed_callers_pass() -> None:
    dnd = rule(do_not_disturb=on(), phone_numbers_to_allow=on("+1 212 555 0100", "1646*"))
    s = snap({"1001": (dnd,)})
    assert plan(route(s, "1001", MONDAY_NOON_NY, caller="+13125550100")) == [
        ("voicemail", "1001", "dnd")
    ]
    assert plan(route(s, "1001", MONDAY_NOON_NY, caller="12125550100"))[0][0] == "ring"
    assert plan(route(s, "1001", MONDAY_NOON_NY, caller="+1 (646) 555-0199"))[0][0] == "ring"
    assert plan(route(s, "1001", MONDAY_NOON_NY))[0] == ("voicemail", "1001", "dnd")
    fwd = snap({"1001": (rule(do_not_disturb=on(), forward_on_dnd=on("1002")),), "1002": ()})
    assert plan(route(fwd, "1001", MONDAY_NOON_NY)) == [
        ("forward", "1002", "dnd"),
        ("ring", ("1002",), 25),
        ("voicemail", "1002", "no-answer"),
    ]
    silent = snap({"1001": (rule(do_not_disturb=on()),)}, no_voicemail=("1001",))
    assert plan(route(silent, "1001", MONDAY_NOON_NY)) == [("hangup", "1001", "dnd")]


def test_unregistered_user_forwards_or_goes_to_voicemail() -> None:
    fwu = rule(forward_when_unregistered=on("+442071234567"))
    s = snap({"1001": (fwu,)}, {"1001": False, "1001a": False})
    assert plan(route(s, "1001", MONDAY_NOON_NY)) == [
        ("forward", "+442071234567", "unregistered"),
        ("external", "+442071234567"),
    ]
    # One device up: no forward, it rings.
    r = route(s, "1001", MONDAY_NOON_NY, {"1001a": True})
    assert plan(r) == [("ring", ("1001a",), 25), ("voicemail", "1001", "no-answer")]
    plain = snap({"1001": ()}, {"1001": False})
    assert plan(route(plain, "1001", MONDAY_NOON_NY)) == [("voicemail", "1001", "unregistered")]


def test_simultaneous_ring_skips_unregistered_devices_and_keeps_delays() -> None:
    sim = rule(
        simultaneous_ring=on(
            "<OwnDevices>", "1002;delay=10", "confirm_+15551234567;delay=5", "1003b"
        ),
    )
    s = snap(
        {"1001": (sim,), "1002": (), "1003": ()},
        {"1001": True, "1001a": False, "1002": True, "1002a": False, "1003": True, "1003b": False},
    )
    r = route(s, "1001", MONDAY_NOON_NY)
    ring = r.steps[0]
    assert ring.action == "ring"
    assert [(leg.target, leg.user, leg.delay, leg.confirm) for leg in ring.legs] == [
        ("1001", "1001", 0, False),
        ("1002", "1002", 10, False),
        ("+15551234567", None, 5, True),
    ]
    assert ring.skipped == ("1001a", "1002a", "1003b")
    # Everyone down: the outside number still rings.
    down = route(s, "1001", MONDAY_NOON_NY, {"1001": False, "1002": False})
    assert [leg.target for leg in down.steps[0].legs] == ["+15551234567"]


def test_sim_ring_without_own_devices_does_not_ring_them() -> None:
    s = snap({"1001": (rule(simultaneous_ring=on("1002")),), "1002": ()})
    assert plan(route(s, "1001", MONDAY_NOON_NY))[0] == ("ring", ("1002",), 25)


def test_busy_active_spam_screening_reject() -> None:
    r1 = rule(forward_on_busy=on("1002"), forward_on_active=on("queue_2000"), call_screening=on())
    s = snap({"1001": (r1,), "1002": ()}, queues=frozenset({"2000"}))
    assert plan(route(s, "1001", MONDAY_NOON_NY)) == [
        ("screen", None),
        ("ring", ("1001",), 25),
        ("voicemail", "1001", "no-answer"),
    ]
    assert plan(route(s, "1001", MONDAY_NOON_NY, busy={"1001"}))[-3:] == [
        ("forward", "1002", "busy"),
        ("ring", ("1002",), 25),
        ("voicemail", "1002", "no-answer"),
    ]
    assert plan(route(s, "1001", MONDAY_NOON_NY, active={"1001"})) == [
        ("forward", "queue_2000", "active"),
        ("queue", "2000"),
    ]
    no_fob = snap({"1001": ()})
    assert plan(route(no_fob, "1001", MONDAY_NOON_NY, busy={"1001"}))[-1] == (
        "voicemail",
        "1001",
        "busy",
    )
    spam = snap({"1001": (rule(forward_on_spam_call=on("vmail_1001")),)})
    assert plan(route(spam, "1001", MONDAY_NOON_NY, spam=True)) == [
        ("forward", "vmail_1001", "spam"),
        ("voicemail", "1001", "forwarded"),
    ]
    assert plan(route(spam, "1001", MONDAY_NOON_NY))[0][0] == "ring"
    rej = snap({"1001": (rule(phone_numbers_to_reject=on("anonymous", "1900*")),)})
    assert plan(route(rej, "1001", MONDAY_NOON_NY)) == [("reject", None, "anonymous")]
    assert plan(route(rej, "1001", MONDAY_NOON_NY, caller="Anonymous")) == [
        ("reject", None, "anonymous")
    ]
    assert plan(route(rej, "1001", MONDAY_NOON_NY, caller="+1 900 555 0000")) == [
        ("reject", None, "rejected-number")
    ]
    assert plan(route(rej, "1001", MONDAY_NOON_NY, caller="+12125550100"))[0][0] == "ring"


def test_forward_always_beats_dnd_and_terminal_destinations() -> None:
    s = snap(
        {
            "1001": (rule(forward_always=on("aa_3000"), do_not_disturb=on()),),
            "1002": (rule(forward_always=on("conf_4000")),),
            "1003": (rule(forward_always=on("park_701")),),
        },
        attendants=frozenset({"3000"}),
        conferences=frozenset({"4000"}),
    )
    assert plan(route(s, "1001", MONDAY_NOON_NY)) == [
        ("forward", "aa_3000", "always"),
        ("attendant", "3000"),
    ]
    assert plan(route(s, "1002", MONDAY_NOON_NY))[-1] == ("conference", "4000")
    assert plan(route(s, "1003", MONDAY_NOON_NY))[-1] == ("park", "701")
    assert plan(route(s, "3000", MONDAY_NOON_NY)) == [("attendant", "3000")]


def test_phone_numbers_lead_where_they_point() -> None:
    s = snap(
        {"1001": ()},
        queues=frozenset({"2000"}),
        numbers=(
            PhoneNumber("+1 (212) 555-0100", "1001"),
            PhoneNumber("+12125550101", "queue_2000"),
            PhoneNumber("+12125550102", "user_4999"),  # points at nobody
            PhoneNumber("+12125550103", "1001", enabled=False),
            PhoneNumber("+12125550104", "+4930123456"),
        ),
    )
    assert plan(route(s, "12125550100", MONDAY_NOON_NY))[0] == ("ring", ("1001",), 25)
    assert plan(route(s, "+1-212-555-0101", MONDAY_NOON_NY)) == [("queue", "2000")]
    assert route(s, "+12125550102", MONDAY_NOON_NY).no_route
    # A number in inventory is just an outside number.
    assert plan(route(s, "+12125550103", MONDAY_NOON_NY)) == [("external", "+12125550103")]
    assert plan(route(s, "+12125550104", MONDAY_NOON_NY)) == [("external", "+4930123456")]


def test_dialling_a_device_or_a_voicemail_box() -> None:
    s = snap({"1001": ()}, {"1001": True, "1001a": False}, no_voicemail=())
    assert plan(route(s, "1001a", MONDAY_NOON_NY)) == [("hangup", "1001a", "unregistered")]
    assert plan(route(s, "1001", MONDAY_NOON_NY, {"1001": True}))[0] == ("ring", ("1001",), 25)
    assert plan(route(s, "vmail_1001", MONDAY_NOON_NY)) == [("voicemail", "1001", "forwarded")]
    off = snap({"1001": ()}, no_voicemail=("1001",))
    assert plan(route(off, "vmail_1001", MONDAY_NOON_NY)) == [("hangup", "1001", "no-voicemail")]
    assert plan(route(off, "1001", MONDAY_NOON_NY))[-1] == ("hangup", "1001", "no-answer")


# -- loops and depth -----------------------------------------------------------------------------


def test_a_forwards_to_b_forwards_to_a_ends_at_bs_voicemail() -> None:
    s = snap(
        {
            "1001": (rule(forward_always=on("1002")),),
            "1002": (rule(forward_always=on("user_1001")),),
        }
    )
    r = route(s, "1001", MONDAY_NOON_NY)
    assert plan(r) == [
        ("forward", "1002", "always"),
        ("forward", "user_1001", "always"),
        ("voicemail", "1002", "loop"),
    ]


def test_no_answer_loop_rings_each_once() -> None:
    s = snap(
        {
            "1001": (rule(forward_no_answer=on("1002")),),
            "1002": (rule(forward_no_answer=on("1003")),),
            "1003": (rule(forward_no_answer=on("1001")),),
        },
        no_voicemail=("1003",),
    )
    r = route(s, "1001", MONDAY_NOON_NY)
    assert [s.legs[0].target for s in r.steps if s.action == "ring"] == ["1001", "1002", "1003"]
    assert plan(r)[-1] == ("hangup", "1003", "loop")


def test_self_forward_is_a_loop() -> None:
    s = snap({"1001": (rule(forward_always=on("1001")),)})
    assert plan(route(s, "1001", MONDAY_NOON_NY)) == [
        ("forward", "1001", "always"),
        ("voicemail", "1001", "loop"),
    ]


def test_a_long_chain_stops_at_the_depth_limit() -> None:
    n = 15
    users = {str(1000 + i): (rule(forward_always=on(str(1001 + i))),) for i in range(n)}
    s = snap(users)
    r = route(s, "1000", MONDAY_NOON_NY)
    forwards = [x for x in r.steps if x.action == "forward"]
    assert len(forwards) == MAX_FORWARDS + 1
    assert plan(r)[-1] == ("voicemail", str(1000 + MAX_FORWARDS), "depth-limit")
    short = route(s, "1000", MONDAY_NOON_NY, max_forwards=3)
    assert plan(short)[-1] == ("voicemail", "1003", "depth-limit")


def test_forward_to_a_vanished_destination_goes_to_voicemail() -> None:
    s = snap({"1001": (rule(forward_no_answer=on("queue_2000")),)})
    assert plan(route(s, "1001", MONDAY_NOON_NY))[-2:] == [
        ("forward", "queue_2000", "no-answer"),
        ("voicemail", "1001", "no-route"),
    ]


# -- time frames, zones, precedence --------------------------------------------------------------


def office(**after_hours: Any) -> tuple[Rule, ...]:
    return (
        rule("Business hours", BUSINESS, order=1, simultaneous_ring=on("<OwnDevices>", "1002")),
        rule("*", order=2, **(after_hours or {"forward_always": on("vmail_1001")})),
    )


def test_business_hours_then_default() -> None:
    s = snap({"1001": office(), "1002": ()})
    day = route(s, "1001", MONDAY_NOON_NY)
    assert day.steps[0].time_frame == "Business hours"
    assert plan(day)[0] == ("ring", ("1001", "1002"), 25)
    night = route(s, "1001", MONDAY_NIGHT_NY)
    assert night.steps[0].time_frame == "*"
    assert plan(night) == [("forward", "vmail_1001", "always"), ("voicemail", "1001", "forwarded")]


def test_user_time_zone_wins_over_the_domains() -> None:
    s = snap({"1001": office(), "1002": ()}, user_zones={"1001": "America/Los_Angeles"})
    # 12:00 in New York is 09:00 in Los Angeles: open; 10:00 NY is 07:00 LA: closed.
    assert route(s, "1001", MONDAY_NOON_NY).steps[0].time_frame == "Business hours"
    early = datetime(2026, 3, 9, 10, 0, tzinfo=NY)
    assert route(s, "1001", early).steps[0].time_frame == "*"


def test_a_time_frame_with_its_own_zone() -> None:
    berlin_hours = weekly(DAYS[:5], "0900", "1700", zone="Europe/Berlin")
    s = snap({"1001": (rule("Berlin", berlin_hours, order=1, do_not_disturb=on()), rule(order=2))})
    # 05:00 in New York is 10:00 in Berlin (both on standard time on 2026-03-02).
    assert route(s, "1001", datetime(2026, 3, 2, 5, 0, tzinfo=NY)).steps[0].time_frame == "Berlin"
    assert route(s, "1001", MONDAY_NOON_NY).steps[0].time_frame == "*"


def test_the_moment_may_be_given_in_any_zone() -> None:
    s = snap({"1001": office(), "1002": ()})
    for tz in (UTC, BERLIN, ZoneInfo("Asia/Tokyo")):
        assert route(s, "1001", MONDAY_NOON_NY.astimezone(tz)) == route(s, "1001", MONDAY_NOON_NY)


def _frame_at(s: Snapshot, utc: datetime) -> str | None:
    return route(s, "1001", utc.replace(tzinfo=UTC)).steps[0].time_frame


def test_new_york_spring_forward_2026_03_08() -> None:
    """02:00 EST jumps to 03:00 EDT at 07:00 UTC: the 02:00-03:00 window never happens."""
    skipped = weekly(("sunday",), "0200", "0300")
    before = weekly(("sunday",), "0100", "0200")
    after = weekly(("sunday",), "0300", "0400")
    s = snap(
        {
            "1001": (
                rule("skipped", skipped, order=1),
                rule("before", before, order=2),
                rule("after", after, order=3),
                rule(order=4),
            )
        }
    )
    start = datetime(2026, 3, 8, 5, 0)  # 00:00 EST
    seen = {_frame_at(s, start + timedelta(minutes=m)) for m in range(0, 5 * 60, 1)}
    assert "skipped" not in seen
    assert _frame_at(s, datetime(2026, 3, 8, 6, 59)) == "before"  # 01:59 EST
    assert _frame_at(s, datetime(2026, 3, 8, 7, 0)) == "after"  # 03:00 EDT
    # The next Sunday the window exists again.
    assert _frame_at(s, datetime(2026, 3, 15, 6, 30)) == "skipped"  # 02:30 EDT
    # Business hours follow the wall clock across the change: 09:00 is 14:00Z before, 13:00Z after.
    office_s = snap({"1001": office(), "1002": ()})
    assert _frame_at(office_s, datetime(2026, 3, 6, 14, 0)) == "Business hours"
    assert _frame_at(office_s, datetime(2026, 3, 6, 13, 30)) == "*"
    assert _frame_at(office_s, datetime(2026, 3, 9, 13, 0)) == "Business hours"
    assert _frame_at(office_s, datetime(2026, 3, 9, 12, 59)) == "*"


def test_new_york_fall_back_2026_11_01() -> None:
    """01:00-02:00 happens twice (EDT, then EST): the window is active for two real hours."""
    s = snap({"1001": (rule("twice", weekly(("sunday",), "0100", "0200"), order=1), rule(order=2))})
    active = [
        m
        for m in range(0, 6 * 60)
        if _frame_at(s, datetime(2026, 11, 1, 4, 0) + timedelta(minutes=m)) == "twice"
    ]
    assert len(active) == 120
    assert active[0] == 60 and active[-1] == 179  # 05:00Z (01:00 EDT) to 06:59Z (01:59 EST)


def test_berlin_changes_2026() -> None:
    """Europe/Berlin: 02:00→03:00 on 29 March (01:00Z), 03:00→02:00 on 25 October (01:00Z)."""
    s = snap(
        {"1001": (rule("night", weekly(("sunday",), "0200", "0300"), order=1), rule(order=2))},
        zone="Europe/Berlin",
    )
    spring = [
        m
        for m in range(0, 4 * 60)
        if _frame_at(s, datetime(2026, 3, 28, 23, 0) + timedelta(minutes=m)) == "night"
    ]
    assert spring == []
    autumn = [
        m
        for m in range(0, 4 * 60)
        if _frame_at(s, datetime(2026, 10, 24, 23, 0) + timedelta(minutes=m)) == "night"
    ]
    assert len(autumn) == 120  # 00:00Z-01:59Z: 02:00-02:59 CEST, then 02:00-02:59 CET


def test_overlapping_frames_follow_rule_order() -> None:
    """Christmas falls on a Friday in 2026: both the holiday and business hours are active;
    the answer-rule order decides."""
    xmas = compile_schedule(
        "holiday",
        {
            HOLIDAY_ARRAY: [
                normalize_holiday(
                    {
                        "timeframe-holiday-begin-date": "20261225",
                        "timeframe-recurrence-type": "yearlyOnHoliday",
                    }
                )
            ]
        },
    )
    holiday_first = snap(
        {
            "1001": (
                rule("Holidays", xmas, order=1, forward_always=on("vmail_1001")),
                rule("Business hours", BUSINESS, order=2),
                rule(order=3, do_not_disturb=on()),
            )
        }
    )
    xmas_noon = datetime(2026, 12, 25, 12, 0, tzinfo=NY)
    assert route(holiday_first, "1001", xmas_noon).steps[0].time_frame == "Holidays"
    assert route(holiday_first, "1001", xmas_noon + timedelta(days=3)).steps[0].time_frame == (
        "Business hours"
    )
    assert route(holiday_first, "1001", xmas_noon + timedelta(days=1)).steps[0].time_frame == "*"
    weekly_first = snap(
        {
            "1001": (
                rule("Holidays", xmas, order=2, forward_always=on("vmail_1001")),
                rule("Business hours", BUSINESS, order=1),
                rule(order=3),
            )
        }
    )
    assert route(weekly_first, "1001", xmas_noon).steps[0].time_frame == "Business hours"
    # Outside business hours the holiday applies even with business hours first.
    assert route(weekly_first, "1001", xmas_noon.replace(hour=20)).steps[0].time_frame == "Holidays"


def test_default_rule_above_others_shadows_them_and_disabled_rules_are_skipped() -> None:
    s = snap(
        {"1001": (rule(order=1, do_not_disturb=on()), rule("Business hours", BUSINESS, order=2))}
    )
    assert route(s, "1001", MONDAY_NOON_NY).steps[0].reason == "dnd"
    off = snap(
        {
            "1001": (
                rule("Business hours", BUSINESS, order=1, enabled=False, do_not_disturb=on()),
                rule(order=2),
            )
        }
    )
    assert route(off, "1001", MONDAY_NOON_NY).steps[0].time_frame == "*"
    none_active = snap({"1001": (rule("Business hours", BUSINESS, order=1, do_not_disturb=on()),)})
    assert plan(route(none_active, "1001", MONDAY_NIGHT_NY)) == [
        ("ring", ("1001",), 25),
        ("voicemail", "1001", "no-answer"),
    ]


def test_specific_dates_close_the_office() -> None:
    closed = compile_schedule(
        "specific-dates",
        {
            DATES_ARRAY: [
                normalize_dates(
                    {
                        "timeframe-specific-dates-begin-date": "20260309",
                        "timeframe-specific-dates-begin-time": "1130",
                        "timeframe-specific-dates-end-date": "20260309",
                        "timeframe-specific-dates-end-time": "1330",
                    }
                )
            ]
        },
    )
    s = snap(
        {
            "1001": (rule("Offsite", closed, order=0, forward_always=on("1002")), *office()),
            "1002": (),
        }
    )
    assert route(s, "1001", MONDAY_NOON_NY).steps[0].time_frame == "Offsite"
    assert route(s, "1001", MONDAY_NOON_NY.replace(hour=14)).steps[0].time_frame == "Business hours"


def test_forward_no_answer_seconds_and_other_users_rules() -> None:
    s = snap(
        {
            "1001": (rule(forward_no_answer=on("1002", 12)),),
            "1002": office(forward_always=on("queue_2000")),
        },
        queues=frozenset({"2000"}),
    )
    assert plan(route(s, "1001", MONDAY_NIGHT_NY)) == [
        ("ring", ("1001",), 12),
        ("forward", "1002", "no-answer"),
        ("forward", "queue_2000", "always"),
        ("queue", "2000"),
    ]


def test_routing_does_not_change_the_snapshot() -> None:
    s = snap({"1001": office(), "1002": ()})
    before = copy.deepcopy(s)
    route(s, "1001", MONDAY_NOON_NY, {"1001": False}, busy={"1001"})
    assert s == before


# -- properties ----------------------------------------------------------------------------------


def test_busy_forward_to_a_device_rings_that_device_once() -> None:
    """Found by the property below: 1005 is busy and forwards on busy to device 1001a."""
    s = snap(
        {"1001": (), "1005": (rule(forward_on_busy=on("1001a")),)},
        {"1001": False, "1001a": True, "1005": True},
    )
    r = route(s, "1005", datetime(2026, 3, 2, tzinfo=UTC), busy={"1005", "1001"})
    assert plan(r) == [
        ("ring", ("1005",), 25),
        ("forward", "1001a", "busy"),
        ("ring", ("1001a",), 25),
        ("hangup", "1001a", "no-answer"),
    ]
    assert [x.user for x in r.steps if x.action == "ring"] == ["1005", "1005"]


EXTS = [str(1000 + i) for i in range(6)]
destinations = st.sampled_from([*EXTS, "4999", "vmail_1000", "queue_2000", "+15551234567", "1001a"])
features = st.fixed_dictionaries(
    {},
    optional={
        "forward-always": destinations.map(lambda d: on(d)),
        "forward-no-answer": destinations.map(lambda d: on(d)),
        "forward-on-busy": destinations.map(lambda d: on(d)),
        "forward-when-unregistered": destinations.map(lambda d: on(d)),
        "forward-on-dnd": destinations.map(lambda d: on(d)),
        "do-not-disturb": st.just(on()),
        "simultaneous-ring": st.lists(destinations, max_size=3).map(
            lambda ds: on("<OwnDevices>", *ds)
        ),
    },
)
rules = st.lists(
    st.tuples(features, st.booleans(), st.sampled_from(["*", "Business hours"])), max_size=2
)


@st.composite
def snapshots(draw: Any) -> Snapshot:
    users = {}
    for ext in EXTS:
        rs = []
        for n, (f, enabled, tf) in enumerate(draw(rules)):
            rs.append(
                Rule.from_features(
                    f,
                    time_frame=tf,
                    schedule=BUSINESS if tf != "*" else compile_schedule("always", {}),
                    order=n,
                    enabled=enabled,
                )
            )
        users[ext] = tuple(rs)
    devices = {d: draw(st.booleans()) for d in [*EXTS, "1001a", "1002b"]}
    return snap(
        users,
        devices,
        no_voicemail=tuple(draw(st.lists(st.sampled_from(EXTS), max_size=3))),
        queues=frozenset({"2000"}),
    )


@settings(max_examples=400, deadline=None)
@given(
    s=snapshots(),
    dialled=st.sampled_from([*EXTS, "4999", "1001a", "queue_2000"]),
    minutes=st.integers(0, 7 * 24 * 60),
    busy=st.sets(st.sampled_from(EXTS)),
    max_forwards=st.integers(0, 12),
)
def test_every_route_is_finite_and_ends_once(
    s: Snapshot, dialled: str, minutes: int, busy: set[str], max_forwards: int
) -> None:
    at = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(minutes=minutes)
    r = route(s, dialled, at, busy=busy, max_forwards=max_forwards)
    actions = [x.action for x in r.steps]
    assert actions and actions[-1] in TERMINAL
    assert not any(a in TERMINAL for a in actions[:-1])
    assert sum(a == "forward" for a in actions) <= max_forwards + 1
    # Each user's rule applies at most once per call: a user's own devices ring at most once.
    # (A forward straight to a device rings it in a step of the forwarding user's rule too.)
    ringers = [
        x.user
        for before, x in zip((None, *r.steps), r.steps, strict=False)
        if x.action == "ring" and x.user and not (before and before.action == "forward")
    ]
    assert len(ringers) == len(set(ringers))
    for x in r.steps:
        if x.action == "ring":
            assert x.legs and x.seconds and x.seconds > 0
            assert all(
                leg.kind == "external" or s.index.devices[leg.target].registered for leg in x.legs
            )
    assert route(s, dialled, at, busy=busy, max_forwards=max_forwards) == r  # deterministic
