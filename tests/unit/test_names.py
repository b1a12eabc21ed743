"""kit.names: reseller/domain names, extensions and time zones."""

from __future__ import annotations

import pytest

from celito.errors import Unprocessable
from celito.kit.names import check_extension, check_name, check_time_zone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acme", "acme"),
        ("Acme.Example", "acme.example"),
        ("  acme-1_2  ", "acme-1_2"),
        ("acme\n", "acme"),
        ("0day", "0day"),
        ("a" * 128, "a" * 128),
    ],
)
def test_names_are_lowered(raw: str, expected: str) -> None:
    assert check_name("domain", raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        " ",
        "-acme",
        ".acme",
        "_acme",
        "a b",
        "a/b",
        "a\x00b",
        "exämple",
        "😀",
        "a" * 129,
        "'; DROP TABLE users;--",
        "ac\nme",
    ],
)
def test_bad_names_are_422(raw: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        check_name("domain", raw)
    assert caught.value.status == 422
    assert caught.value.message.startswith(f"domain '{raw}' is not valid")


@pytest.mark.parametrize("raw", ["1001", "Front.Desk", "a", "x" * 64, "1001_b-2"])
def test_extensions(raw: str) -> None:
    assert check_extension(raw) == raw


@pytest.mark.parametrize(
    "raw", ["", "-1", "10 01", "1001\n", "x" * 65, "😀", "\u202e1001", "../1001", "10@01"]
)
def test_bad_extensions_are_422(raw: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        check_extension(raw)
    assert caught.value.message.startswith(f"user '{raw}' is not valid")


@pytest.mark.parametrize("zone", ["UTC", "America/Chicago", "Europe/London", "US/Pacific"])
def test_time_zones(zone: str) -> None:
    assert check_time_zone(zone) == zone


@pytest.mark.parametrize(
    "zone", ["", "Mars/Olympus", "america/chicago", "UTC+5", "../../etc/passwd", " UTC"]
)
def test_bad_time_zones_are_422(zone: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        check_time_zone(zone)
    assert caught.value.message == (
        f"time-zone '{zone}' is not an IANA time zone (e.g. America/Chicago)"
    )
