"""Dial-rule matching: the pattern language, its validation, and a matcher.

What a rule matches (`dial-rule-matching-to-uri`, `…-from-uri`) is a SIP URI pattern
`sip:<user>@<host>`; a bare `<user>` means `sip:<user>@*` and a lone `*` matches anything.

In the user part, as in NetSapiens:

| token     | matches                                                           |
|-----------|-------------------------------------------------------------------|
| `0-9 # +` | itself; letters other than X, N, Z and `. _ -` match themselves  |
| `X`       | one digit 0-9                                                     |
| `N`       | one digit 2-9                                                     |
| `Z`       | one digit 1-9                                                     |
| `?`       | any one character                                                 |
| `[…]`     | one character of a class: digits, ranges `2-5`, `*`, `#` (`[*]` is a literal star) |
| `*`       | at the END of the pattern: any rest, possibly empty (`011*`, `*`); |
|           | anywhere else the star key itself (`*97`, `*7X`)                  |

So `sip:611@*` is exact, `sip:1NXXNXXXXXX@*` a North American number with its 1,
`sip:1??????????@*` any 11 characters after a 1, `sip:011*@*` any international call, and
`sip:*97@*` the star code. The host part is `*`, `<OwnDomain>` or a host name.

The time fields: day of week `*`, one day `0`-`6` (Sunday = 0) or a class `[1-5]`; dates
`*` or `YYYY-MM-DD`; times `*` or `HH:MM` (00:00-23:59; an end before the start spans
midnight). When several rules match, the most specific wins: exact characters beat
classes, classes beat `?`, and a trailing `*` loses to everything of fixed length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TypeVar

_LITERAL = re.compile(r"[0-9A-Za-z#+._-]")
_HOST = re.compile(r"(\*|<OwnDomain>|[A-Za-z0-9]([A-Za-z0-9._-]{0,126}))")
_CLASS_ITEM = re.compile(r"\d-\d|[0-9*#A-Za-z+]")
_DOW = re.compile(r"\*|[0-6]|\[([0-6]|[0-6]-[0-6])+\]")
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
MAX_USER = 64

_WILDCARDS = {"X": "[0-9]", "N": "[2-9]", "Z": "[1-9]", "?": "."}


class PatternError(ValueError):
    """A pattern that is not valid; the message says what is wrong, for a person."""


@dataclass(frozen=True)
class UriPattern:
    user: str
    host: str
    regex: re.Pattern[str]
    # (fixed-length?, exact chars, classes, single wildcards): larger is more specific.
    specificity: tuple[int, int, int, int]

    @property
    def text(self) -> str:
        if self.user == "*" and self.host == "*":
            return "*"
        return f"sip:{self.user}@{self.host}"


def _compile_user(user: str, field: str) -> tuple[re.Pattern[str], tuple[int, int, int, int]]:
    if not user:
        raise PatternError(f"{field}: the user part is empty")
    if len(user) > MAX_USER:
        raise PatternError(f"{field}: the user part is longer than {MAX_USER} characters")
    out: list[str] = []
    exact = classes = singles = 0
    fixed = 1
    i = 0
    while i < len(user):
        c = user[i]
        if c == "[":
            end = user.find("]", i + 1)
            if end < 0:
                raise PatternError(f"{field}: '[' at position {i + 1} is never closed")
            body = user[i + 1 : end]
            items = _CLASS_ITEM.findall(body)
            if not body or "".join(items) != body:
                raise PatternError(
                    f"{field}: '[{body}]' is not a character class (digits, ranges like 2-5, *, #)"
                )
            parts: list[str] = []
            for item in items:
                if len(item) == 3:
                    if item[0] > item[2]:
                        raise PatternError(f"{field}: the range {item} runs backwards")
                    parts.append(item)
                else:
                    parts.append(re.escape(item))
            out.append("[" + "".join(parts) + "]")
            classes += 1
            i = end + 1
            continue
        if c == "*":
            if i == len(user) - 1:
                out.append(".*")
                fixed = 0
            else:
                out.append(re.escape("*"))
                exact += 1
        elif c in _WILDCARDS:
            out.append(_WILDCARDS[c])
            if c == "?":
                singles += 1
            else:
                classes += 1
        elif _LITERAL.fullmatch(c):
            out.append(re.escape(c))
            exact += 1
        elif c == "]":
            raise PatternError(f"{field}: ']' at position {i + 1} closes nothing")
        else:
            raise PatternError(
                f"{field}: '{c}' is not allowed in a pattern (digits, letters, # + . _ -, "
                "X N Z ? [..] and *)"
            )
        i += 1
    return re.compile("".join(out), re.DOTALL), (fixed, exact, classes, singles)


def parse_uri(text: str, *, field: str = "pattern") -> UriPattern:
    """Validates and normalises a matching URI (bare `611` → `sip:611@*`)."""
    value = text.strip()
    if value in ("", "*"):
        if not value:
            raise PatternError(f"{field}: must not be empty (use * to match anything)")
        return UriPattern("*", "*", re.compile(".*", re.DOTALL), (0, 0, 0, 0))
    rest = value[4:] if value.lower().startswith("sip:") else value
    user, at, host = rest.partition("@")
    if not at:
        host = "*"
    if not _HOST.fullmatch(host):
        raise PatternError(
            f"{field}: host '{host}' must be *, <OwnDomain> or a host name (letters, digits, . -)"
        )
    regex, specificity = _compile_user(user, field)
    return UriPattern(user, host, regex, specificity)


def check_day_of_week(value: str, *, field: str = "dial-rule-matching-day-of-week") -> str:
    text = value.strip()
    if not _DOW.fullmatch(text):
        raise PatternError(
            f"{field}: '{value}' must be *, a day 0-6 (Sunday = 0) or a class like [1-5]"
        )
    return text


def check_date(value: str, *, field: str) -> str:
    text = value.strip()
    if text == "*":
        return text
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise PatternError(f"{field}: '{value}' must be * or a date YYYY-MM-DD")


def check_time(value: str, *, field: str) -> str:
    text = value.strip()
    if text != "*" and not _TIME.fullmatch(text):
        raise PatternError(f"{field}: '{value}' must be * or a time HH:MM from 00:00 to 23:59")
    return text


def check_date_range(start: str, end: str) -> None:
    if start != "*" and end != "*" and end < start:
        raise PatternError(
            f"dial-rule-matching-end-date {end} is before dial-rule-matching-start-date {start}"
        )


def _day_matches(dow: str, day: int) -> bool:
    if dow == "*":
        return True
    if dow.isdigit():
        return int(dow) == day
    return re.fullmatch(dow, str(day)) is not None


def _time_matches(start: str, end: str, now: time) -> bool:
    if start == "*" and end == "*":
        return True
    hhmm = now.strftime("%H:%M")
    lo = start if start != "*" else "00:00"
    hi = end if end != "*" else "23:59"
    if lo <= hi:
        return lo <= hhmm <= hi
    return hhmm >= lo or hhmm <= hi  # spans midnight


@dataclass(frozen=True)
class Rule:
    """The matching half of a dial rule, validated."""

    to_uri: UriPattern
    from_uri: UriPattern
    day_of_week: str = "*"
    start_date: str = "*"
    end_date: str = "*"
    start_time: str = "*"
    end_time: str = "*"

    @classmethod
    def parse(
        cls,
        to_uri: str,
        from_uri: str = "*",
        day_of_week: str = "*",
        start_date: str = "*",
        end_date: str = "*",
        start_time: str = "*",
        end_time: str = "*",
    ) -> Rule:
        rule = cls(
            parse_uri(to_uri, field="dial-rule-matching-to-uri"),
            parse_uri(from_uri, field="dial-rule-matching-from-uri"),
            check_day_of_week(day_of_week),
            check_date(start_date, field="dial-rule-matching-start-date"),
            check_date(end_date, field="dial-rule-matching-end-date"),
            check_time(start_time, field="dial-rule-matching-start-time"),
            check_time(end_time, field="dial-rule-matching-end-time"),
        )
        check_date_range(rule.start_date, rule.end_date)
        return rule

    @property
    def key_fields(self) -> tuple[str, ...]:
        """The fields whose `||` join, base64-encoded, is the rule's id (as in the spec)."""
        return (
            self.to_uri.text,
            self.from_uri.text,
            self.day_of_week,
            self.start_date,
            self.end_date,
            self.start_time,
            self.end_time,
        )

    def matches(
        self,
        to_user: str,
        *,
        to_host: str = "",
        from_user: str = "",
        from_host: str = "",
        own_domain: str = "",
        at: datetime | None = None,
    ) -> bool:
        if not _uri_matches(self.to_uri, to_user, to_host, own_domain):
            return False
        if not _uri_matches(self.from_uri, from_user, from_host, own_domain):
            return False
        if at is None:
            return True
        day = at.date().isoformat()
        if self.start_date != "*" and day < self.start_date:
            return False
        if self.end_date != "*" and day > self.end_date:
            return False
        # Python's Monday is 0; NetSapiens' (cron's) Sunday is 0.
        if not _day_matches(self.day_of_week, (at.weekday() + 1) % 7):
            return False
        return _time_matches(self.start_time, self.end_time, at.time())

    @property
    def specificity(self) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int], int]:
        timed = sum(
            f != "*"
            for f in (
                self.day_of_week,
                self.start_date,
                self.end_date,
                self.start_time,
                self.end_time,
            )
        )
        return (self.to_uri.specificity, self.from_uri.specificity, timed)


def _uri_matches(pattern: UriPattern, user: str, host: str, own_domain: str) -> bool:
    if pattern.host not in ("*", "") and host:
        wanted = own_domain if pattern.host == "<OwnDomain>" else pattern.host
        if wanted.lower() != host.lower():
            return False
    return pattern.regex.fullmatch(user) is not None


T = TypeVar("T")


def best_match(
    rules: Iterable[tuple[Rule, T]],
    to_user: str,
    *,
    to_host: str = "",
    from_user: str = "",
    from_host: str = "",
    own_domain: str = "",
    at: datetime | None = None,
) -> T | None:
    """The payload of the most specific rule that matches, or None."""
    candidates: Sequence[tuple[Rule, T]] = [
        (rule, payload)
        for rule, payload in rules
        if rule.matches(
            to_user,
            to_host=to_host,
            from_user=from_user,
            from_host=from_host,
            own_domain=own_domain,
            at=at,
        )
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[0].specificity)[1]
