"""timeframes.schedule: validation of time frame entries and "active at this wall-clock time"."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celito.timeframes.schedule import (
    DATES_ARRAY,
    DAYS,
    DOW_ARRAY,
    HOLIDAY_ARRAY,
    EntryError,
    compile_schedule,
    normalize_dates,
    normalize_dow,
    normalize_holiday,
    parse_time,
)


def dow(**fields: str) -> Any:
    entry = normalize_dow({k.replace("_", "-"): v for k, v in fields.items()})
    return compile_schedule("days-of-week", {DOW_ARRAY: [entry]})


def dates(**fields: str) -> Any:
    entry = normalize_dates({k.replace("_", "-"): v for k, v in fields.items()})
    return compile_schedule("specific-dates", {DATES_ARRAY: [entry]})


def holiday(**fields: str) -> Any:
    entry = normalize_holiday({k.replace("_", "-"): v for k, v in fields.items()})
    return compile_schedule("holiday", {HOLIDAY_ARRAY: [entry]})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


WEEKDAYS_9_TO_5 = {
    f"timeframe_weekly_{d}_{edge}_time_1": t
    for d in DAYS[:5]
    for edge, t in (("begin", "0900"), ("end", "1700"))
}


# -- times and dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "end", "minutes"),
    [
        ("0000", False, 0),
        ("0900", False, 540),
        ("09:30", False, 570),
        ("2359", False, 1439),
        ("2359", True, 1440),
        ("2400", True, 1440),
        ("1730", True, 1050),
    ],
)
def test_times(raw: str, end: bool, minutes: int) -> None:
    assert parse_time(raw, "f", end=end) == minutes


@pytest.mark.parametrize("raw", ["2400", "2500", "0960", "9am", "900", "", "12:3", "-100"])
def test_bad_begin_times_name_the_field(raw: str) -> None:
    with pytest.raises(EntryError) as e:
        parse_time(raw, "timeframe-weekly-monday-begin-time-1")
    assert e.value.field == "timeframe-weekly-monday-begin-time-1"
    assert "is not a time" in e.value.message


# -- validation: clear messages naming the field -------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        (
            {
                "timeframe-weekly-monday-begin-time-1": "1700",
                "timeframe-weekly-monday-end-time-1": "0900",
            },
            "timeframe-weekly-monday-end-time-1",
            "must end after it begins",
        ),
        (
            {
                "timeframe-weekly-monday-begin-time-1": "0900",
                "timeframe-weekly-monday-end-time-1": "0900",
            },
            "timeframe-weekly-monday-end-time-1",
            "must end after it begins",
        ),
        (
            {
                "timeframe-weekly-friday-begin-time-1": "2200",
                "timeframe-weekly-friday-end-time-1": "0600",
            },
            "timeframe-weekly-friday-end-time-1",
            "cannot cross midnight",
        ),
        (
            {"timeframe-weekly-monday-begin-time-1": "0900"},
            "timeframe-weekly-monday-end-time-1",
            "needs both",
        ),
        (
            {
                "timeframe-weekly-monday-begin-time-1": "0900",
                "timeframe-weekly-monday-end-time-1": "1300",
                "timeframe-weekly-monday-begin-time-2": "1200",
                "timeframe-weekly-monday-end-time-2": "1700",
            },
            "timeframe-weekly-monday-begin-time-2",
            "after the first ends",
        ),
        ({}, "timeframe-weekly-monday-begin-time-1", "at least one day"),
        (
            {
                **{k.replace("_", "-"): v for k, v in WEEKDAYS_9_TO_5.items()},
                "timeframe-recurrence-type": "custom",
            },
            "timeframe-recurrence-begin-date",
            "is required",
        ),
        (
            {
                **{k.replace("_", "-"): v for k, v in WEEKDAYS_9_TO_5.items()},
                "timeframe-recurrence-type": "custom",
                "timeframe-recurrence-begin-date": "20260105",
                "timeframe-recurrence-custom-interval": "months",
                "timeframe-recurrence-custom-interval-count": "1",
            },
            "timeframe-recurrence-custom-interval-option",
            "is required",
        ),
        (
            {
                **{k.replace("_", "-"): v for k, v in WEEKDAYS_9_TO_5.items()},
                "timeframe-recurrence-type": "custom",
                "timeframe-recurrence-begin-date": "20260105",
                "timeframe-recurrence-custom-interval": "weeks",
                "timeframe-recurrence-custom-interval-count": "0",
            },
            "timeframe-recurrence-custom-interval-count",
            "whole number",
        ),
        (
            {
                **{k.replace("_", "-"): v for k, v in WEEKDAYS_9_TO_5.items()},
                "timeframe-recurrence-type": "fortnightly",
            },
            "timeframe-recurrence-type",
            "is not one of",
        ),
        (
            {
                **{k.replace("_", "-"): v for k, v in WEEKDAYS_9_TO_5.items()},
                "timeframe-recurrence-end-option": "onADate",
            },
            "timeframe-recurrence-end-date",
            "is required",
        ),
    ],
)
def test_days_of_week_refusals(entry: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(EntryError) as e:
        normalize_dow(entry)
    assert e.value.field == field
    assert words in e.value.message


def test_dates_refusals() -> None:
    base = {
        "timeframe-specific-dates-begin-date": "20261224",
        "timeframe-specific-dates-end-date": "20261226",
    }
    cases: list[tuple[dict[str, str], str, str]] = [
        ({**base, "timeframe-specific-dates-begin-date": "20260230"}, "begin-date", "not a date"),
        ({**base, "timeframe-specific-dates-end-date": "20261223"}, "end-date", "must end after"),
        (
            {
                **base,
                "timeframe-specific-dates-end-date": "20261224",
                "timeframe-specific-dates-begin-time": "1200",
                "timeframe-specific-dates-end-time": "1200",
            },
            "end-date",
            "must end after",
        ),
        ({"timeframe-specific-dates-end-date": "20261226"}, "begin-date", "is required"),
        (
            {
                **base,
                "timeframe-specific-dates-end-date": "20270301",
                "timeframe-recurrence-type": "yearly-on-selected-dates",
            },
            "end-date",
            "at most 31 days",
        ),
        ({**base, "timeframe-recurrence-type": "custom"}, "custom-interval", "is required"),
        (
            {
                **base,
                "timeframe-recurrence-type": "custom",
                "timeframe-recurrence-custom-interval": "years",
            },
            "custom-interval-option",
            "is required",
        ),
        (
            {
                **base,
                "timeframe-recurrence-type": "monthly-date",
                "timeframe-recurrence-end-option": "onADate",
                "timeframe-recurrence-end-date": "20261101",
            },
            "end-date",
            "not be before",
        ),
    ]
    for entry, field, words in cases:
        with pytest.raises(EntryError) as e:
            normalize_dates(entry)
        assert e.value.field.endswith(field), (entry, e.value)
        assert words in e.value.message, (entry, e.value)


def test_holiday_refusals() -> None:
    base = {"timeframe-holiday-begin-date": "20260704"}
    for entry, field, words in [
        ({}, "timeframe-holiday-begin-date", "is required"),
        ({**base, "timeframe-workweek-list": "M,T"}, "timeframe-workweek-list", "4 to 6"),
        (
            {**base, "timeframe-workweek-list": "M,T,W,Th,F,S,Su"},
            "timeframe-workweek-list",
            "4 to 6",
        ),
        (
            {**base, "timeframe-workweek-list": "Mo,Tu,We,Th"},
            "timeframe-workweek-list",
            "unknown day",
        ),
        (
            {**base, "timeframe-weekly-saturday-observance-option": "observe-whenever"},
            "timeframe-weekly-saturday-observance-option",
            "is not one of",
        ),
        (
            {
                **base,
                "timeframe-recurrence-end-option": "onDate",
                "timeframe-recurrence-end-date": "20250101",
            },
            "timeframe-recurrence-end-date",
            "not be before",
        ),
        (
            {
                **base,
                "timeframe-holiday-begin-time-1": "1200",
                "timeframe-holiday-end-time-1": "1100",
            },
            "timeframe-holiday-end-time-1",
            "must end after",
        ),
    ]:
        with pytest.raises(EntryError) as e:
            normalize_holiday(entry)
        assert e.value.field == field, (entry, e.value)
        assert words in e.value.message, (entry, e.value)


def test_normalizing_writes_the_api_forms() -> None:
    e = normalize_dow(
        {
            "timeframe-weekly-monday-begin-time-1": "09:00",
            "timeframe-weekly-monday-end-time-1": "2400",
        }
    )
    assert e["timeframe-weekly-monday-begin-time-1"] == "0900"
    assert e["timeframe-weekly-monday-end-time-1"] == "2359"
    assert e["timeframe-weekly-tuesday-begin-time-1"] == ""
    assert e["timeframe-recurrence-type"] == "weekly"
    d = normalize_dates(
        {
            "timeframe-specific-dates-begin-date": "2026-12-24",
            "timeframe-specific-dates-end-date": "2026-12-26",
        }
    )
    assert d["timeframe-specific-dates-begin-date"] == "20261224"
    assert d["timeframe-specific-dates-begin-time"] == "0000"
    assert d["timeframe-specific-dates-end-time"] == "2359"
    h = normalize_holiday(
        {"timeframe-holiday-begin-date": "20260704", "timeframe-workweek-list": "F,M,T,W,Th"}
    )
    assert h["timeframe-workweek-list"] == "M,T,W,Th,F"
    assert h["timeframe-holiday-name"] == "Holiday 20260704"


# -- days of week --------------------------------------------------------------------------------


def test_business_hours_are_half_open() -> None:
    s = dow(**WEEKDAYS_9_TO_5)
    monday = "2026-03-09"
    assert not s.active(at(f"{monday}T08:59:59"))
    assert s.active(at(f"{monday}T09:00:00"))
    assert s.active(at(f"{monday}T16:59:59"))
    assert not s.active(at(f"{monday}T17:00:00"))
    assert not s.active(at("2026-03-14T12:00:00"))  # Saturday


def test_end_of_day_includes_the_last_minute() -> None:
    s = dow(timeframe_weekly_sunday_begin_time_1="0000", timeframe_weekly_sunday_end_time_1="2359")
    assert s.active(at("2026-03-08T00:00:00"))
    assert s.active(at("2026-03-08T23:59:59"))
    assert not s.active(at("2026-03-09T00:00:00"))


def test_two_windows_a_day() -> None:
    s = dow(
        timeframe_weekly_wednesday_begin_time_1="0800",
        timeframe_weekly_wednesday_end_time_1="1200",
        timeframe_weekly_wednesday_begin_time_2="1300",
        timeframe_weekly_wednesday_end_time_2="1700",
    )
    wed = "2026-03-11"
    assert s.active(at(f"{wed}T11:59")) and not s.active(at(f"{wed}T12:30"))
    assert s.active(at(f"{wed}T13:00"))


def test_every_other_week_counts_from_the_begin_week() -> None:
    s = dow(
        timeframe_weekly_tuesday_begin_time_1="0900",
        timeframe_weekly_tuesday_end_time_1="1000",
        timeframe_recurrence_type="custom",
        timeframe_recurrence_begin_date="20260108",  # a Thursday: its week starts Mon 5 Jan
        timeframe_recurrence_custom_interval="weeks",
        timeframe_recurrence_custom_interval_count="2",
    )
    assert not s.active(at("2026-01-06T09:30"))  # before the begin date
    assert s.active(at("2026-01-20T09:30"))
    assert not s.active(at("2026-01-13T09:30"))
    assert not s.active(at("2026-01-27T09:30"))
    assert s.active(at("2026-02-03T09:30"))


def test_monthly_ordinal_weekday_days_of_week() -> None:
    s = dow(
        timeframe_weekly_tuesday_begin_time_1="1800",
        timeframe_weekly_tuesday_end_time_1="2000",
        timeframe_recurrence_type="custom",
        timeframe_recurrence_begin_date="20260113",  # 2nd Tuesday of January
        timeframe_recurrence_custom_interval="months",
        timeframe_recurrence_custom_interval_count="1",
        timeframe_recurrence_custom_interval_option="monthly-ordinal-weekday",
        timeframe_recurrence_end_option="onADate",
        timeframe_recurrence_end_date="20260430",
    )
    assert s.active(at("2026-02-10T19:00"))  # 2nd Tuesday of February
    assert not s.active(at("2026-02-17T19:00"))
    assert s.active(at("2026-04-14T19:00"))
    assert not s.active(at("2026-05-12T19:00"))  # after the end date


# -- specific dates ------------------------------------------------------------------------------


def test_the_spec_example_covers_both_whole_days() -> None:
    s = dates(
        timeframe_specific_dates_begin_date="20290101",
        timeframe_specific_dates_begin_time="0000",
        timeframe_specific_dates_end_date="20290102",
        timeframe_specific_dates_end_time="2359",
        timeframe_recurrence_type="doesNotRecur",
    )
    assert not s.active(at("2028-12-31T23:59:59"))
    assert s.active(at("2029-01-01T00:00"))
    assert s.active(at("2029-01-02T23:59:59"))
    assert not s.active(at("2029-01-03T00:00"))
    assert not s.active(at("2030-01-01T12:00"))


def test_yearly_span_over_midnights() -> None:
    s = dates(
        timeframe_specific_dates_begin_date="20261224",
        timeframe_specific_dates_begin_time="1200",
        timeframe_specific_dates_end_date="20261226",
        timeframe_specific_dates_end_time="2359",
        timeframe_recurrence_type="yearly-on-selected-dates",
    )
    assert not s.active(at("2025-12-25T08:00"))  # before the first occurrence
    assert s.active(at("2027-12-25T08:00"))
    assert not s.active(at("2027-12-24T11:59"))
    assert s.active(at("2027-12-24T12:00"))
    assert s.active(at("2031-12-26T23:00"))
    assert not s.active(at("2031-12-27T00:00"))


@pytest.mark.parametrize(
    ("rule", "begin", "yes", "no"),
    [
        (
            "monthly-on-last-day",
            "20260131",
            ["2026-02-28", "2026-04-30", "2028-02-29"],
            ["2026-04-29", "2026-03-01"],
        ),
        ("monthly-date", "20260131", ["2026-03-31", "2026-05-31"], ["2026-02-28", "2026-04-30"]),
        (
            "monthly-on-ordinal-weekday",
            "20260210",
            ["2026-03-10", "2026-06-09"],
            ["2026-03-03", "2026-03-17"],
        ),
        (
            "monthly-on-first-last",
            "20260105",
            ["2026-02-02", "2026-03-02"],
            ["2026-02-09", "2026-03-30"],
        ),
        (
            "monthly-on-first-last",
            "20260126",
            ["2026-02-23", "2026-03-30"],
            ["2026-03-23", "2026-02-02"],
        ),
        ("yearly-on-selected-dates", "20240229", ["2028-02-29"], ["2025-02-28", "2025-03-01"]),
        ("annual-month-day", "20260704", ["2030-07-04"], ["2030-07-05"]),
        ("yearly-first", "20260907", ["2027-09-06", "2028-09-04"], ["2027-09-13"]),  # Labor Day
        ("yearly-last", "20260525", ["2027-05-31", "2028-05-29"], ["2027-05-24"]),  # Memorial Day
    ],
)
def test_recurrences(rule: str, begin: str, yes: list[str], no: list[str]) -> None:
    s = dates(
        timeframe_specific_dates_begin_date=begin,
        timeframe_specific_dates_end_date=begin,
        timeframe_recurrence_type=rule,
    )
    for d in yes:
        assert s.active(at(f"{d}T12:00")), (rule, d)
    for d in no:
        assert not s.active(at(f"{d}T12:00")), (rule, d)


@pytest.mark.parametrize(
    ("interval", "count", "option", "begin", "yes", "no"),
    [
        ("days", "3", "", "20260301", ["2026-03-04", "2026-03-31"], ["2026-03-05", "2026-02-26"]),
        ("weeks", "2", "", "20260302", ["2026-03-16", "2026-03-30"], ["2026-03-09", "2026-03-17"]),
        (
            "months",
            "2",
            "monthly-same-day",
            "20260115",
            ["2026-03-15", "2027-01-15"],
            ["2026-02-15"],
        ),
        (
            "months",
            "1",
            "monthly-ordinal-weekday",
            "20260119",
            ["2026-02-16", "2026-03-16"],
            ["2026-02-23"],
        ),
        (
            "months",
            "3",
            "monthly-on-last-day",
            "20260131",
            ["2026-04-30", "2026-07-31"],
            ["2026-02-28", "2026-05-31"],
        ),
        (
            "months",
            "1",
            "monthly-first-last-weekday",
            "20260130",
            ["2026-02-27", "2026-05-29"],
            ["2026-05-22"],
        ),
        ("years", "1", "yearly-same-day", "20261111", ["2027-11-11"], ["2027-11-12"]),
        (
            "years",
            "1",
            "yearly-ordinal-weekday",
            "20261126",
            ["2027-11-25", "2028-11-23"],
            ["2027-11-26"],
        ),
        ("years", "1", "yearly-first-last-weekday", "20260105", ["2027-01-04"], ["2027-01-11"]),
    ],
)
def test_custom_recurrences(
    interval: str, count: str, option: str, begin: str, yes: list[str], no: list[str]
) -> None:
    s = dates(
        timeframe_specific_dates_begin_date=begin,
        timeframe_specific_dates_end_date=begin,
        timeframe_recurrence_type="custom",
        timeframe_recurrence_custom_interval=interval,
        timeframe_recurrence_custom_interval_count=count,
        timeframe_recurrence_custom_interval_option=option,
    )
    for d in yes:
        assert s.active(at(f"{d}T12:00")), (interval, option, d)
    for d in no:
        assert not s.active(at(f"{d}T12:00")), (interval, option, d)


def test_weekend_span_recurs_across_days() -> None:
    """Friday 18:00 → Monday 08:00, every week: a span crossing two midnights."""
    s = dates(
        timeframe_specific_dates_begin_date="20260306",
        timeframe_specific_dates_begin_time="1800",
        timeframe_specific_dates_end_date="20260309",
        timeframe_specific_dates_end_time="0800",
        timeframe_recurrence_type="custom",
        timeframe_recurrence_custom_interval="weeks",
        timeframe_recurrence_custom_interval_count="1",
        timeframe_recurrence_end_option="onADate",
        timeframe_recurrence_end_date="20260320",
    )
    assert s.active(at("2026-03-15T03:00"))  # Sunday
    assert s.active(at("2026-03-16T07:59"))
    assert not s.active(at("2026-03-16T08:00"))
    assert not s.active(at("2026-03-13T17:59"))
    assert s.active(at("2026-03-22T12:00"))  # the last occurrence began on the 20th
    assert not s.active(at("2026-03-28T12:00"))


# -- holidays ------------------------------------------------------------------------------------


def test_holiday_yearly_with_weekend_observance() -> None:
    s = holiday(
        timeframe_holiday_name="Independence Day",
        timeframe_holiday_begin_date="20250704",
        timeframe_recurrence_type="yearlyOnHoliday",
        timeframe_weekly_saturday_observance_option="observe-on-prior-workday",
        timeframe_weekly_sunday_observance_option="observe-on-next-workday",
    )
    assert s.active(at("2025-07-04T10:00"))  # a Friday
    # 2026-07-04 is a Saturday: observed on Friday the 3rd only.
    assert s.active(at("2026-07-03T10:00")) and not s.active(at("2026-07-04T10:00"))
    # 2027-07-04 is a Sunday: observed on Monday the 5th.
    assert s.active(at("2027-07-05T10:00")) and not s.active(at("2027-07-04T10:00"))
    assert not s.active(at("2024-07-04T10:00"))  # before the first occurrence


@pytest.mark.parametrize(
    ("option", "observed"),
    [
        ("observe-on-holiday-only", {"2027-07-04"}),
        ("observe-on-holiday-and-next-day", {"2027-07-04", "2027-07-05"}),
        ("observe-on-holiday-and-prior-day", {"2027-07-03", "2027-07-04"}),
        ("observe-on-exact-date-and-next-workday", {"2027-07-04", "2027-07-05"}),
        ("observe-on-holiday-and-prior-workday", {"2027-07-02", "2027-07-04"}),
        ("observe-on-next-workday", {"2027-07-05"}),
        ("observe-on-prior-workday", {"2027-07-02"}),
    ],
)
def test_every_observance_of_a_sunday_holiday(option: str, observed: set[str]) -> None:
    """4 July 2027 is a Sunday; the work week is Monday to Friday."""
    s = holiday(
        timeframe_holiday_begin_date="20270704",
        timeframe_weekly_sunday_observance_option=option,
        timeframe_weekly_monday_observance_option="observe-on-next-workday",  # not this year
    )
    days = {f"2027-07-{n:02d}" for n in range(1, 8) if s.active(at(f"2027-07-{n:02d}T10:00"))}
    assert days == observed


def test_holiday_observance_crosses_the_year() -> None:
    """1 January 2022 was a Saturday: observed on Friday 31 December 2021."""
    s = holiday(
        timeframe_holiday_begin_date="20210101",
        timeframe_recurrence_type="yearlyOnHoliday",
        timeframe_weekly_saturday_observance_option="observe-on-prior-workday",
    )
    assert s.active(at("2021-12-31T09:00"))
    assert not s.active(at("2022-01-01T09:00"))


def test_holiday_workweek_and_both_days() -> None:
    s = holiday(
        timeframe_holiday_begin_date="20260704",  # Saturday
        timeframe_weekly_saturday_observance_option="observe-on-exact-date-and-next-workday",
        timeframe_workweek_list="T,W,Th,F,S",  # Monday is not a workday
    )
    assert s.active(at("2026-07-04T09:00"))
    assert not s.active(at("2026-07-06T09:00"))  # Monday
    assert s.active(at("2026-07-07T09:00"))  # next workday: Tuesday


def test_holiday_not_recurring_and_windows() -> None:
    s = holiday(
        timeframe_holiday_begin_date="20261224",
        timeframe_holiday_begin_time_1="1200",
        timeframe_holiday_end_time_1="2359",
    )
    assert not s.active(at("2026-12-24T11:59")) and s.active(at("2026-12-24T12:00"))
    assert not s.active(at("2027-12-24T15:00"))


def test_holiday_on_29_february_only_in_leap_years() -> None:
    s = holiday(
        timeframe_holiday_begin_date="20240229", timeframe_recurrence_type="yearlyOnHoliday"
    )
    assert s.active(at("2028-02-29T09:00"))
    assert not s.active(at("2027-02-28T09:00")) and not s.active(at("2027-03-01T09:00"))


def test_holiday_end_date() -> None:
    s = holiday(
        timeframe_holiday_begin_date="20261225",
        timeframe_recurrence_type="yearlyOnHoliday",
        timeframe_recurrence_end_option="onDate",
        timeframe_recurrence_end_date="20271231",
    )
    assert s.active(at("2027-12-25T09:00")) and not s.active(at("2028-12-25T09:00"))


def test_always_and_custom() -> None:
    assert compile_schedule("always", {}).active(at("2026-01-01T00:00"))
    mixed = compile_schedule(
        "custom",
        {
            DOW_ARRAY: [
                normalize_dow(
                    {
                        "timeframe-weekly-monday-begin-time-1": "0900",
                        "timeframe-weekly-monday-end-time-1": "1000",
                    }
                )
            ],
            HOLIDAY_ARRAY: [normalize_holiday({"timeframe-holiday-begin-date": "20261225"})],
        },
    )
    assert mixed.active(at("2026-03-09T09:30")) and mixed.active(at("2026-12-25T20:00"))
    assert not mixed.active(at("2026-03-10T09:30"))
    assert not compile_schedule("custom", {}).active(at("2026-01-01T00:00"))


# -- properties ----------------------------------------------------------------------------------

windows = st.lists(st.integers(0, 1440), max_size=4, unique=True).map(
    lambda ps: list(zip(sorted(ps)[::2], sorted(ps)[1::2], strict=False))
)
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31))


def _hhmm(m: int, end: bool = False) -> str:
    return "2400" if end and m == 1440 else f"{m // 60:02d}{m % 60:02d}"


@settings(max_examples=300, deadline=None)
@given(week=st.lists(windows, min_size=7, max_size=7), t=moments)
def test_days_of_week_match_an_oracle(week: list[list[tuple[int, int]]], t: datetime) -> None:
    raw: dict[str, str] = {}
    for day, spans in zip(DAYS, week, strict=True):
        for n, (b, e) in enumerate(spans, 1):
            raw[f"timeframe-weekly-{day}-begin-time-{n}"] = _hhmm(b)
            raw[f"timeframe-weekly-{day}-end-time-{n}"] = _hhmm(e, end=True)
    if not raw:
        with pytest.raises(EntryError):
            normalize_dow(raw)
        return
    entry = normalize_dow(raw)
    assert normalize_dow(entry) == entry  # normalizing is idempotent
    s = compile_schedule("days-of-week", {DOW_ARRAY: [entry]})
    minute = t.hour * 60 + t.minute
    # An end of 2359 is the end of the day (timeframes.schedule), as on NetSapiens.
    ends = {1439: 1440}
    assert s.active(t) == any(b <= minute < ends.get(e, e) for b, e in week[t.weekday()])


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1)),
    minutes=st.integers(1, 31 * 1440),
    every=st.integers(1, 40),
    probe=st.integers(-2 * 1440, 400 * 1440),
)
def test_recurring_every_n_days_matches_brute_force(
    start: datetime, minutes: int, every: int, probe: int
) -> None:
    start = start.replace(second=0, microsecond=0)
    stop = start + timedelta(minutes=minutes)
    raw = {
        "timeframe-specific-dates-begin-date": start.strftime("%Y%m%d"),
        "timeframe-specific-dates-begin-time": start.strftime("%H%M"),
        "timeframe-specific-dates-end-date": stop.strftime("%Y%m%d"),
        "timeframe-specific-dates-end-time": stop.strftime("%H%M"),
        "timeframe-recurrence-type": "custom",
        "timeframe-recurrence-custom-interval": "days",
        "timeframe-recurrence-custom-interval-count": str(every),
    }
    if stop.strftime("%H%M") == "0000":
        raw["timeframe-specific-dates-end-date"] = (stop - timedelta(days=1)).strftime("%Y%m%d")
        raw["timeframe-specific-dates-end-time"] = "2400"
    entry = normalize_dates(raw)
    assert normalize_dates(entry) == entry
    s = compile_schedule("specific-dates", {DATES_ARRAY: [entry]})
    t = start + timedelta(minutes=probe, seconds=30)
    # An end written 2359 means the end of the day (the minute 23:59 included).
    minutes += stop.strftime("%H%M") == "2359"
    expected = any(
        start + timedelta(days=k * every) <= t < start + timedelta(days=k * every, minutes=minutes)
        for k in range(0, 500 // every + 2)
    )
    assert s.active(t) == expected


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1)),
    minutes=st.integers(1, 3 * 365 * 1440),
    probe=st.integers(-1440, 4 * 365 * 1440),
)
def test_one_off_ranges_are_half_open(start: datetime, minutes: int, probe: int) -> None:
    start = start.replace(second=0, microsecond=0)
    stop = start + timedelta(minutes=minutes)
    entry = normalize_dates(
        {
            "timeframe-specific-dates-begin-date": start.strftime("%Y%m%d"),
            "timeframe-specific-dates-begin-time": start.strftime("%H%M"),
            "timeframe-specific-dates-end-date": stop.strftime("%Y%m%d"),
            "timeframe-specific-dates-end-time": stop.strftime("%H%M"),
        }
    )
    s = compile_schedule("specific-dates", {DATES_ARRAY: [entry]})
    t = start + timedelta(minutes=probe)
    if stop.strftime("%H%M") == "2359":  # the end of the day
        stop += timedelta(minutes=1)
    assert s.active(t) == (start <= t < stop)


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)), t=moments)
def test_a_yearly_holiday_is_observed_once_a_year_on_its_date(day: date, t: datetime) -> None:
    s = holiday(
        timeframe_holiday_begin_date=day.strftime("%Y%m%d"),
        timeframe_recurrence_type="yearlyOnHoliday",
    )
    same = (t.month, t.day) == (day.month, day.day) and t.date() >= day
    assert s.active(t) == same
