"""Time frames as pure data: validation of the API's entries and "is it active at this moment".

No I/O here. The service validates bodies with `normalize_*` (clear messages naming the field),
stores the normalized entries, and `compile_schedule` turns them into a frozen `Schedule` that
the routing function evaluates many thousands of times a second.

Semantics (documented on the API too):

- Times are `hhmm` (24 h; `09:00` is accepted and stored as `0900`). A window is half-open:
  `[begin, end)`. An end of `2359` or `2400` means the end of the day, so `0000`-`2359` is the
  whole day. A window must not cross midnight (use two days) and begin must be before end.
- Dates are `YYYYMMDD` (`2026-03-08` is accepted and stored as `20260308`).
- A time frame is evaluated on the wall clock of its time zone: its own `time-zone` when set,
  else the zone of the user whose answer rule uses it (then the domain's, then UTC). On a
  daylight-saving change the wall clock is what counts: a window inside the skipped hour never
  happens that day, and a window inside the repeated hour is active through both passes.
- `days-of-week`: windows per weekday (two per day at most), every week, or every N weeks
  (`custom` + `weeks`) counted from the week of `timeframe-recurrence-begin-date`, or every N
  months (`custom` + `months`) on the days `timeframe-recurrence-custom-interval-option` picks.
- `specific-dates`: a continuous span from begin date+time to end date+time; recurring spans
  repeat from each occurrence's start date (recurring spans last 31 days at most).
- `holiday`: a date (every year with `yearlyOnHoliday`), moved or extended by the observance
  option of the weekday it falls on, using the work week (`M,T,W,Th,F` by default); all day
  unless time windows are given. There is no holiday calendar lookup: a holiday whose date moves
  every year (e.g. the 4th Thursday of November) is a `specific-dates` entry with a yearly
  ordinal recurrence.
- `custom`: active when any of its entries (of any of the three kinds) is.
- `always`: always active.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

TYPES = ("always", "days-of-week", "specific-dates", "holiday", "custom")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DOW_ARRAY = "timeframe-days-of-week-array"
DATES_ARRAY = "timeframe-specific-dates-array"
HOLIDAY_ARRAY = "timeframe-holiday-array"
ARRAYS = (DOW_ARRAY, DATES_ARRAY, HOLIDAY_ARRAY)
# Which arrays each type may hold.
ALLOWED_ARRAYS: dict[str, tuple[str, ...]] = {
    "always": (),
    "days-of-week": (DOW_ARRAY,),
    "specific-dates": (DATES_ARRAY,),
    "holiday": (HOLIDAY_ARRAY,),
    "custom": ARRAYS,
}
DATES_RECURRENCES = (
    "doesNotRecur",
    "monthly-on-last-day",
    "monthly-on-first-last",
    "monthly-on-ordinal-weekday",
    "monthly-date",
    "yearly-on-selected-dates",
    "annual-month-day",
    "yearly-first",
    "yearly-last",
    "custom",
)
DATES_INTERVALS = ("days", "weeks", "months", "years")
MONTH_OPTIONS = (
    "monthly-same-day",
    "monthly-ordinal-weekday",
    "monthly-first-last-weekday",
    "monthly-on-last-day",
)
YEAR_OPTIONS = ("yearly-same-day", "yearly-ordinal-weekday", "yearly-first-last-weekday")
OBSERVANCES = (
    "observe-on-holiday-only",
    "observe-on-holiday-and-next-day",
    "observe-on-holiday-and-prior-day",
    "observe-on-exact-date-and-next-workday",
    "observe-on-holiday-and-prior-workday",
    "observe-on-next-workday",
    "observe-on-prior-workday",
)
WORKDAY_TOKENS = {"M": 0, "T": 1, "W": 2, "Th": 3, "F": 4, "S": 5, "Su": 6}
WORKDAY_NAMES = ("M", "T", "W", "Th", "F", "S", "Su")
DEFAULT_WORKWEEK = "M,T,W,Th,F"
MAX_RECURRING_SPAN_DAYS = 31
MAX_INTERVAL_COUNT = 999
DAY_MINUTES = 1440

_TIME = re.compile(r"^(\d{2}):?(\d{2})$")
_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$")


class EntryError(ValueError):
    """A field of a time frame entry is wrong; `field` names it the way the API does."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# ---------------------------------------------------------------------------------------------
# Field parsing


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def parse_time(value: str, field: str, *, end: bool = False) -> int:
    """Minutes since midnight of `hhmm`/`hh:mm`; an end of 2359 or 2400 is the end of the day."""
    m = _TIME.match(value.strip())
    hours, minutes = (int(m.group(1)), int(m.group(2))) if m else (-1, -1)
    if end and (hours, minutes) in ((23, 59), (24, 0)):
        return DAY_MINUTES
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        allowed = "0000-2359, or 2400 for the end of the day" if end else "0000-2359"
        raise EntryError(field, f"'{value}' is not a time (hhmm, {allowed})")
    return hours * 60 + minutes


def format_time(minutes: int) -> str:
    """`hhmm`; the end of the day is written `2359`, as NetSapiens does."""
    if minutes >= DAY_MINUTES:
        return "2359"
    return f"{minutes // 60:02d}{minutes % 60:02d}"


def parse_date(value: str, field: str) -> date:
    m = _DATE.match(value.strip())
    try:
        if m is None:
            raise ValueError
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise EntryError(field, f"'{value}' is not a date (YYYYMMDD)") from None


def format_date(d: date) -> str:
    return d.strftime("%Y%m%d")


def _text(raw: Mapping[str, Any], field: str) -> str:
    value = raw.get(field)
    if _blank(value):
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EntryError(field, "must be a string")
    return str(value).strip()


def _choice(raw: Mapping[str, Any], field: str, choices: tuple[str, ...], default: str) -> str:
    value = _text(raw, field)
    if not value:
        return default
    if value not in choices:
        raise EntryError(field, f"'{value}' is not one of: {', '.join(choices)}")
    return value


def _count(raw: Mapping[str, Any], field: str) -> int:
    value = _text(raw, field)
    if not value.isdigit() or not 1 <= int(value) <= MAX_INTERVAL_COUNT:
        raise EntryError(field, f"must be a whole number from 1 to {MAX_INTERVAL_COUNT}")
    return int(value)


def _end_of(
    raw: Mapping[str, Any], option_field: str, date_field: str, options: tuple[str, ...]
) -> str:
    # Holidays spell it onDate, the other entries onADate: either is understood.
    spelled = {**raw, option_field: "onADate"} if _text(raw, option_field) == "onDate" else raw
    option = _choice(spelled, option_field, options, options[0])
    if option != options[0] and not _text(raw, date_field):
        raise EntryError(date_field, f"is required when {option_field} is '{option}'")
    if _text(raw, date_field):
        parse_date(_text(raw, date_field), date_field)
    return option


# ---------------------------------------------------------------------------------------------
# Normalizing API entries (validation). Each returns the entry as stored: API names, normalized
# values, "" for unset.


def _windows(
    raw: Mapping[str, Any], prefix: str, label: str
) -> tuple[dict[str, str], list[tuple[int, int]]]:
    """Two optional windows `{prefix}-begin-time-N`/`{prefix}-end-time-N`."""
    out: dict[str, str] = {}
    spans: list[tuple[int, int]] = []
    for n in (1, 2):
        bf, ef = f"{prefix}-begin-time-{n}", f"{prefix}-end-time-{n}"
        b, e = _text(raw, bf), _text(raw, ef)
        out[bf] = out[ef] = ""
        if not b and not e:
            continue
        if not b or not e:
            missing = bf if not b else ef
            raise EntryError(missing, f"{label}: a window needs both a begin and an end time")
        begin, end = parse_time(b, bf), parse_time(e, ef, end=True)
        if begin >= end:
            raise EntryError(
                ef,
                f"{label}: the window must end after it begins ({b}-{e}); a window cannot "
                "cross midnight, split it over two days",
            )
        if spans and begin < spans[-1][1]:
            raise EntryError(bf, f"{label}: the second window must begin after the first ends")
        spans.append((begin, end))
        out[bf], out[ef] = format_time(begin), format_time(end)
    return out, spans


def normalize_dow(raw: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {"timeframe-id": _text(raw, "timeframe-id")}
    any_window = False
    for day in DAYS:
        windows, spans = _windows(raw, f"timeframe-weekly-{day}", day.capitalize())
        out.update(windows)
        any_window = any_window or bool(spans)
    if not any_window:
        raise EntryError(
            "timeframe-weekly-monday-begin-time-1",
            "a days-of-week entry needs begin and end times on at least one day",
        )
    kind = _choice(raw, "timeframe-recurrence-type", ("weekly", "custom"), "weekly")
    out["timeframe-recurrence-type"] = kind
    for f in (
        "timeframe-recurrence-begin-date",
        "timeframe-recurrence-custom-interval",
        "timeframe-recurrence-custom-interval-count",
        "timeframe-recurrence-custom-interval-option",
    ):
        out[f] = ""
    if kind == "custom":
        begin_field = "timeframe-recurrence-begin-date"
        if not _text(raw, begin_field):
            raise EntryError(begin_field, "is required for a custom recurrence")
        out[begin_field] = format_date(parse_date(_text(raw, begin_field), begin_field))
        interval = _choice(raw, "timeframe-recurrence-custom-interval", ("weeks", "months"), "")
        if not interval:
            raise EntryError(
                "timeframe-recurrence-custom-interval", "is required (weeks or months)"
            )
        out["timeframe-recurrence-custom-interval"] = interval
        out["timeframe-recurrence-custom-interval-count"] = str(
            _count(raw, "timeframe-recurrence-custom-interval-count")
        )
        if interval == "months":
            option = _choice(
                raw, "timeframe-recurrence-custom-interval-option", MONTH_OPTIONS[:3], ""
            )
            if not option:
                raise EntryError(
                    "timeframe-recurrence-custom-interval-option",
                    f"is required for months ({', '.join(MONTH_OPTIONS[:3])})",
                )
            out["timeframe-recurrence-custom-interval-option"] = option
    out.update(_end(raw, out.get("timeframe-recurrence-begin-date", "")))
    return out


def _end(raw: Mapping[str, Any], begin: str) -> dict[str, str]:
    option = _end_of(
        raw,
        "timeframe-recurrence-end-option",
        "timeframe-recurrence-end-date",
        ("never", "onADate"),
    )
    end = _text(raw, "timeframe-recurrence-end-date")
    if option == "never":
        return {"timeframe-recurrence-end-option": "never", "timeframe-recurrence-end-date": ""}
    until = parse_date(end, "timeframe-recurrence-end-date")
    if begin and until < parse_date(begin, "timeframe-recurrence-begin-date"):
        raise EntryError("timeframe-recurrence-end-date", "must not be before the first occurrence")
    return {
        "timeframe-recurrence-end-option": "onADate",
        "timeframe-recurrence-end-date": format_date(until),
    }


def normalize_dates(raw: Mapping[str, Any]) -> dict[str, str]:
    p = "timeframe-specific-dates"
    for f in (f"{p}-begin-date", f"{p}-end-date"):
        if not _text(raw, f):
            raise EntryError(f, "is required")
    begin_d = parse_date(_text(raw, f"{p}-begin-date"), f"{p}-begin-date")
    end_d = parse_date(_text(raw, f"{p}-end-date"), f"{p}-end-date")
    begin_t = parse_time(_text(raw, f"{p}-begin-time") or "0000", f"{p}-begin-time")
    end_t = parse_time(_text(raw, f"{p}-end-time") or "2359", f"{p}-end-time", end=True)
    start = datetime.combine(begin_d, datetime.min.time()) + timedelta(minutes=begin_t)
    stop = datetime.combine(end_d, datetime.min.time()) + timedelta(minutes=end_t)
    if stop <= start:
        raise EntryError(
            f"{p}-end-date",
            f"the range must end after it begins ({format_date(begin_d)} "
            f"{format_time(begin_t)} → {format_date(end_d)} {format_time(end_t)})",
        )
    rule = _choice(raw, "timeframe-recurrence-type", DATES_RECURRENCES, "doesNotRecur")
    out = {
        "timeframe-id": _text(raw, "timeframe-id"),
        f"{p}-begin-date": format_date(begin_d),
        f"{p}-begin-time": format_time(begin_t),
        f"{p}-end-date": format_date(end_d),
        f"{p}-end-time": format_time(end_t),
        "timeframe-recurrence-type": rule,
        "timeframe-recurrence-custom-interval": "",
        "timeframe-recurrence-custom-interval-count": "",
        "timeframe-recurrence-custom-interval-option": "",
    }
    if rule != "doesNotRecur" and stop - start > timedelta(days=MAX_RECURRING_SPAN_DAYS):
        raise EntryError(
            f"{p}-end-date",
            f"a recurring range may last at most {MAX_RECURRING_SPAN_DAYS} days",
        )
    if rule == "custom":
        interval = _choice(raw, "timeframe-recurrence-custom-interval", DATES_INTERVALS, "")
        if not interval:
            raise EntryError(
                "timeframe-recurrence-custom-interval",
                f"is required for a custom recurrence ({', '.join(DATES_INTERVALS)})",
            )
        out["timeframe-recurrence-custom-interval"] = interval
        out["timeframe-recurrence-custom-interval-count"] = (
            "1"
            if interval == "years"
            else str(_count(raw, "timeframe-recurrence-custom-interval-count"))
        )
        if interval in ("months", "years"):
            options = MONTH_OPTIONS if interval == "months" else YEAR_OPTIONS
            option = _choice(raw, "timeframe-recurrence-custom-interval-option", options, "")
            if not option:
                raise EntryError(
                    "timeframe-recurrence-custom-interval-option",
                    f"is required for {interval} ({', '.join(options)})",
                )
            out["timeframe-recurrence-custom-interval-option"] = option
    if rule == "doesNotRecur":
        out["timeframe-recurrence-end-option"] = "never"
        out["timeframe-recurrence-end-date"] = ""
    else:
        out.update(_end(raw, format_date(begin_d)))
    return out


def normalize_holiday(raw: Mapping[str, Any]) -> dict[str, str]:
    name_field, date_field = "timeframe-holiday-name", "timeframe-holiday-begin-date"
    if not _text(raw, date_field):
        raise EntryError(date_field, "is required (the holiday's date, YYYYMMDD)")
    day = parse_date(_text(raw, date_field), date_field)
    out: dict[str, str] = {
        "timeframe-id": _text(raw, "timeframe-id"),
        "timeframe-holiday-uuid": _text(raw, "timeframe-holiday-uuid"),
        name_field: _text(raw, name_field) or f"Holiday {format_date(day)}",
        date_field: format_date(day),
        "country-abbreviation": _text(raw, "country-abbreviation"),
        "state-province-abbreviation": _text(raw, "state-province-abbreviation"),
        "holiday-api-location-hint": _text(raw, "holiday-api-location-hint"),
    }
    for f, limit in ((name_field, 100), ("holiday-api-location-hint", 255)):
        if len(out[f]) > limit:
            raise EntryError(f, f"must be at most {limit} characters")
    windows, _ = _windows(raw, "timeframe-holiday", "The holiday")
    out.update(windows)
    for d in DAYS:
        f = f"timeframe-weekly-{d}-observance-option"
        out[f] = _choice(raw, f, OBSERVANCES, OBSERVANCES[0])
    out["timeframe-workweek-list"] = _workweek(raw)
    out["timeframe-recurrence-type"] = _choice(
        raw, "timeframe-recurrence-type", ("never", "yearlyOnHoliday"), "never"
    )
    option_field = "timeframe-recurrence-end-option"
    option = _text(raw, option_field) or "never"
    if option == "onADate":
        option = "onDate"
    if option not in ("never", "onDate"):
        raise EntryError(option_field, f"'{option}' is not one of: never, onDate")
    end = _text(raw, "timeframe-recurrence-end-date")
    out[option_field], out["timeframe-recurrence-end-date"] = "never", ""
    if option == "onDate":
        if not end:
            raise EntryError("timeframe-recurrence-end-date", "is required with onDate")
        until = parse_date(end, "timeframe-recurrence-end-date")
        if until < day:
            raise EntryError("timeframe-recurrence-end-date", "must not be before the holiday")
        out[option_field], out["timeframe-recurrence-end-date"] = "onDate", format_date(until)
    return out


def _workweek(raw: Mapping[str, Any]) -> str:
    field = "timeframe-workweek-list"
    text = _text(raw, field) or DEFAULT_WORKWEEK
    tokens = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in tokens if t not in WORKDAY_TOKENS]
    if unknown:
        raise EntryError(field, f"unknown day(s) {', '.join(unknown)}; use M,T,W,Th,F,S,Su")
    days = sorted({WORKDAY_TOKENS[t] for t in tokens})
    if not 4 <= len(days) <= 6:
        raise EntryError(field, "a work week has 4 to 6 days")
    return ",".join(WORKDAY_NAMES[d] for d in days)


NORMALIZERS = {
    DOW_ARRAY: normalize_dow,
    DATES_ARRAY: normalize_dates,
    HOLIDAY_ARRAY: normalize_holiday,
}


# ---------------------------------------------------------------------------------------------
# Compiled, evaluable form


@dataclass(frozen=True, slots=True)
class Weekly:
    """Windows per weekday (0 = Monday), with an optional every-N-weeks/months recurrence."""

    days: tuple[tuple[tuple[int, int], ...], ...]
    interval: str = ""  # "" (every week), "weeks" or "months"
    count: int = 1
    option: str = ""
    begin: date | None = None
    until: date | None = None

    def active(self, d: date, minute: int) -> bool:
        for b, e in self.days[d.weekday()]:
            if b <= minute < e:
                break
        else:
            return False
        if self.until is not None and d > self.until:
            return False
        if not self.interval:
            return True
        assert self.begin is not None
        if d < self.begin:
            return False
        if self.interval == "weeks":
            first_monday = self.begin - timedelta(days=self.begin.weekday())
            return ((d - first_monday).days // 7) % self.count == 0
        months = (d.year - self.begin.year) * 12 + d.month - self.begin.month
        return months % self.count == 0 and _same_in_month(d, self.begin, self.option)


@dataclass(frozen=True, slots=True)
class Dates:
    """A span of `minutes` starting at `begin` (wall clock), possibly recurring."""

    begin: datetime
    minutes: int
    rule: str = "doesNotRecur"
    interval: str = ""
    count: int = 1
    option: str = ""
    until: date | None = None

    @property
    def end(self) -> datetime:
        return self.begin + timedelta(minutes=self.minutes)

    def active(self, t: datetime) -> bool:
        if self.rule == "doesNotRecur":
            return self.begin <= t < self.end
        # In whole minutes since 0001-01-01: every boundary is on a minute, so flooring `t`
        # to its minute decides `start <= t < end` exactly.
        first = self.begin.toordinal()
        start_minute = self.begin.hour * 60 + self.begin.minute
        today = t.toordinal()
        now = today * DAY_MINUTES + t.hour * 60 + t.minute
        until = self.until.toordinal() if self.until is not None else today
        for day in range(today, today - (start_minute + self.minutes - 1) // DAY_MINUTES - 1, -1):
            if day < first:
                break
            start = day * DAY_MINUTES + start_minute
            if (
                day <= until
                and start <= now < start + self.minutes
                and self.occurs_on(date.fromordinal(day), self.begin.date())
            ):
                return True
        return False

    def occurs_on(self, d: date, first: date) -> bool:
        rule = self.rule
        if rule == "monthly-on-last-day":
            return _is_last_day(d)
        if rule == "monthly-on-first-last":
            return _same_in_month(d, first, "monthly-first-last-weekday")
        if rule == "monthly-on-ordinal-weekday":
            return _same_in_month(d, first, "monthly-ordinal-weekday")
        if rule == "monthly-date":
            return d.day == first.day
        if rule in ("yearly-on-selected-dates", "annual-month-day"):
            return (d.month, d.day) == (first.month, first.day)
        if rule == "yearly-first":
            return d.month == first.month and d.weekday() == first.weekday() and d.day <= 7
        if rule == "yearly-last":
            return d.month == first.month and d.weekday() == first.weekday() and _is_last_week(d)
        # custom
        if self.interval == "days":
            return (d - first).days % self.count == 0
        if self.interval == "weeks":
            return (d - first).days % (7 * self.count) == 0
        if self.interval == "months":
            months = (d.year - first.year) * 12 + d.month - first.month
            return months % self.count == 0 and _same_in_month(d, first, self.option)
        # years
        if d.month != first.month or (d.year - first.year) % self.count:
            return False
        option = {
            "yearly-same-day": "monthly-same-day",
            "yearly-ordinal-weekday": "monthly-ordinal-weekday",
            "yearly-first-last-weekday": "monthly-first-last-weekday",
        }[self.option]
        return _same_in_month(d, first, option)


@dataclass(frozen=True, slots=True)
class Holiday:
    month: int
    day: int
    first_year: int
    yearly: bool
    until: date | None
    windows: tuple[tuple[int, int], ...]  # empty: all day
    observance: tuple[str, ...]  # per weekday, 0 = Monday
    workdays: frozenset[int]

    def active(self, d: date, minute: int) -> bool:
        if self.windows and not any(b <= minute < e for b, e in self.windows):
            return False
        return any(d in _observed(self, year) for year in (d.year - 1, d.year, d.year + 1))


@lru_cache(maxsize=4096)
def _observed(h: Holiday, year: int) -> frozenset[date]:
    """The dates on which the holiday of `year` is observed (none if it does not occur)."""
    if year < h.first_year or (not h.yearly and year != h.first_year):
        return frozenset()
    try:
        day = date(year, h.month, h.day)
    except ValueError:  # 29 February in a common year
        return frozenset()
    if h.until is not None and day > h.until:
        return frozenset()
    option = h.observance[day.weekday()]
    one = timedelta(days=1)

    def workday(step: timedelta) -> date:
        d = day + step
        while d.weekday() not in h.workdays:
            d += step
        return d

    dates = {
        "observe-on-holiday-only": (day,),
        "observe-on-holiday-and-next-day": (day, day + one),
        "observe-on-holiday-and-prior-day": (day, day - one),
        "observe-on-exact-date-and-next-workday": (day, workday(one)),
        "observe-on-holiday-and-prior-workday": (day, workday(-one)),
        "observe-on-next-workday": (workday(one),),
        "observe-on-prior-workday": (workday(-one),),
    }[option]
    return frozenset(dates)


def _is_last_day(d: date) -> bool:
    return (d + timedelta(days=1)).month != d.month


def _is_last_week(d: date) -> bool:
    return (d + timedelta(days=7)).month != d.month


def _same_in_month(d: date, first: date, option: str) -> bool:
    """Whether `d` is the same day of its month as `first` is of its own, as `option` counts."""
    if option == "monthly-same-day":
        return d.day == first.day
    if option == "monthly-on-last-day":
        return _is_last_day(d)
    if d.weekday() != first.weekday():
        return False
    ordinal = (first.day - 1) // 7
    if option == "monthly-ordinal-weekday":
        return (d.day - 1) // 7 == ordinal
    # monthly-first-last-weekday: first when `first` is a first weekday, else the last one.
    if ordinal == 0:
        return d.day <= 7
    if _is_last_week(first):
        return _is_last_week(d)
    return (d.day - 1) // 7 == ordinal


@dataclass(frozen=True, slots=True)
class Schedule:
    """A compiled time frame. `zone` is its own time zone, or None (use the user's)."""

    kind: str
    weekly: tuple[Weekly, ...] = ()
    dates: tuple[Dates, ...] = ()
    holidays: tuple[Holiday, ...] = ()
    zone: str | None = None
    # Observed holiday dates per year (computed once per year seen; not part of equality).
    _years: dict[int, dict[date, tuple[tuple[int, int], ...] | None]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def active(self, local: datetime) -> bool:
        """Active at this wall-clock time (naive, or aware in the zone it should be read in)."""
        if self.kind == "always":
            return True
        d = local.date()
        minute = local.hour * 60 + local.minute
        for w in self.weekly:
            if w.active(d, minute):
                return True
        if self.dates:
            naive = local.replace(tzinfo=None)
            for s in self.dates:
                if s.active(naive):
                    return True
        if not self.holidays:
            return False
        days = self._years.get(d.year)
        if days is None:
            days = self._years[d.year] = self._holiday_days(d.year)
        if d not in days:
            return False
        windows = days[d]
        return windows is None or any(b <= minute < e for b, e in windows)

    def _holiday_days(self, year: int) -> dict[date, tuple[tuple[int, int], ...] | None]:
        """Each date of `year` on which a holiday is observed: None (all day) or its windows."""
        days: dict[date, tuple[tuple[int, int], ...] | None] = {}
        for h in self.holidays:
            for y in (year - 1, year, year + 1):
                for day in _observed(h, y):
                    if day.year != year:
                        continue
                    if not h.windows:
                        days[day] = None
                    elif day not in days:
                        days[day] = h.windows
                    elif days[day] is not None:
                        days[day] = (*(days[day] or ()), *h.windows)
        return days


ALWAYS = Schedule("always")
NEVER = Schedule("custom")


def _maybe_date(value: str) -> date | None:
    return parse_date(value, "date") if value else None


def compile_weekly(e: Mapping[str, str]) -> Weekly:
    days = []
    for day in DAYS:
        spans = []
        for n in (1, 2):
            b = e.get(f"timeframe-weekly-{day}-begin-time-{n}", "")
            if b:
                end = e[f"timeframe-weekly-{day}-end-time-{n}"]
                spans.append((parse_time(b, "begin"), parse_time(end, "end", end=True)))
        days.append(tuple(spans))
    custom = e.get("timeframe-recurrence-type") == "custom"
    return Weekly(
        days=tuple(days),
        interval=e.get("timeframe-recurrence-custom-interval", "") if custom else "",
        count=int(e.get("timeframe-recurrence-custom-interval-count") or 1),
        option=e.get("timeframe-recurrence-custom-interval-option", ""),
        begin=_maybe_date(e.get("timeframe-recurrence-begin-date", "")) if custom else None,
        until=_maybe_date(e.get("timeframe-recurrence-end-date", "")),
    )


def compile_dates(e: Mapping[str, str]) -> Dates:
    p = "timeframe-specific-dates"
    begin = datetime.combine(
        parse_date(e[f"{p}-begin-date"], "begin"), datetime.min.time()
    ) + timedelta(minutes=parse_time(e[f"{p}-begin-time"], "begin"))
    end = datetime.combine(parse_date(e[f"{p}-end-date"], "end"), datetime.min.time()) + timedelta(
        minutes=parse_time(e[f"{p}-end-time"], "end", end=True)
    )
    return Dates(
        begin=begin,
        minutes=int((end - begin).total_seconds() // 60),
        rule=e.get("timeframe-recurrence-type") or "doesNotRecur",
        interval=e.get("timeframe-recurrence-custom-interval", ""),
        count=int(e.get("timeframe-recurrence-custom-interval-count") or 1),
        option=e.get("timeframe-recurrence-custom-interval-option", ""),
        until=_maybe_date(e.get("timeframe-recurrence-end-date", "")),
    )


def compile_holiday(e: Mapping[str, str]) -> Holiday:
    day = parse_date(e["timeframe-holiday-begin-date"], "date")
    windows = []
    for n in (1, 2):
        b = e.get(f"timeframe-holiday-begin-time-{n}", "")
        if b:
            end = e[f"timeframe-holiday-end-time-{n}"]
            windows.append((parse_time(b, "begin"), parse_time(end, "end", end=True)))
    workweek = e.get("timeframe-workweek-list") or DEFAULT_WORKWEEK
    return Holiday(
        month=day.month,
        day=day.day,
        first_year=day.year,
        yearly=e.get("timeframe-recurrence-type") == "yearlyOnHoliday",
        until=_maybe_date(e.get("timeframe-recurrence-end-date", "")),
        windows=tuple(windows),
        observance=tuple(
            e.get(f"timeframe-weekly-{d}-observance-option") or OBSERVANCES[0] for d in DAYS
        ),
        workdays=frozenset(WORKDAY_TOKENS[t] for t in workweek.split(",")),
    )


def compile_schedule(
    kind: str, entries: Mapping[str, list[dict[str, str]]], zone: str | None = None
) -> Schedule:
    """The evaluable form of stored (normalized) entries."""
    if kind == "always":
        return Schedule("always", zone=zone)
    return Schedule(
        kind,
        weekly=tuple(compile_weekly(e) for e in entries.get(DOW_ARRAY, [])),
        dates=tuple(compile_dates(e) for e in entries.get(DATES_ARRAY, [])),
        holidays=tuple(compile_holiday(e) for e in entries.get(HOLIDAY_ARRAY, [])),
        zone=zone,
    )
