"""The datetime forms NetSapiens clients send in time-window queries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from celito.errors import BadRequest
from celito.kit.timeparse import parse_api_datetime

NOON_UTC = datetime(2026, 11, 27, 21, 0, 0, tzinfo=UTC)  # 13:00 in US/Pacific (PST, -08:00)


@pytest.mark.parametrize(
    "raw",
    [
        "2026-11-27 21:00:00",
        "2026-11-27T21:00:00",
        "2026-11-27T21:00:00Z",
        "2026-11-27 21:00:00Z",
        "2026-11-27T21:00:00+00:00",
        "2026-11-27T13:00:00-08:00",
        "2026-11-27 13:00:00-08:00",
        "2026-11-27T13:00:00-08:00[US/Pacific]",
        "2026-11-27T13:00:00[US/Pacific]",
        "2026-11-27 13:00:00[America/Los_Angeles]",
        "2026-11-27T21:00:00Z[America/Phoenix]",
        "2026-11-27T14:00:00-07:00[America/Phoenix]",
        "2026-11-28T06:00:00+09:00",
        "  2026-11-27 21:00:00  ",
    ],
)
def test_every_form_means_the_same_instant(raw: str) -> None:
    parsed = parse_api_datetime(raw, field="datetime-start")
    assert parsed == NOON_UTC
    assert parsed.tzinfo is UTC


def test_a_bare_stamp_is_utc() -> None:
    assert parse_api_datetime("2026-01-01 00:00:00", field="x").utcoffset() is not None
    assert parse_api_datetime("2026-01-01 00:00:00", field="x") == datetime(2026, 1, 1, tzinfo=UTC)


def test_a_bracketed_zone_follows_daylight_saving() -> None:
    summer = parse_api_datetime("2026-07-01T12:00:00[US/Pacific]", field="x")
    winter = parse_api_datetime("2026-01-01T12:00:00[US/Pacific]", field="x")
    assert summer.hour == 19  # PDT, -07:00
    assert winter.hour == 20  # PST, -08:00


def test_an_explicit_offset_wins_over_the_bracket() -> None:
    parsed = parse_api_datetime("2026-11-27T13:00:00-05:00[US/Pacific]", field="x")
    assert parsed == datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def test_a_date_alone_is_midnight_utc() -> None:
    assert parse_api_datetime("2026-11-27", field="x") == datetime(2026, 11, 27, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "yesterday",
        "2026-13-01 00:00:00",
        "2026-11-31 00:00:00",
        "2026-11-27 25:00:00",
        "27/11/2026 13:00",
        "2026-11-27T13:00:00[US/Pacific",
        "1700000000",
        "'; DROP TABLE audit_log;--",
    ],
)
def test_garbage_is_a_400_naming_the_field(raw: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_api_datetime(raw, field="datetime-end")
    assert caught.value.status == 400
    assert caught.value.message.startswith("datetime-end: ")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../etc/passwd", "", "US/Pacific "])
def test_an_unknown_bracketed_zone_is_a_400(zone: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_api_datetime(f"2026-11-27T13:00:00[{zone}]", field="datetime-start")
    assert caught.value.message.startswith("datetime-start: ")
