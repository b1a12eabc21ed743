"""The datetime forms NetSapiens clients send in time-window queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from celito.errors import BadRequest

_BRACKET = re.compile(r"^(?P<stamp>[^\[]+)\[(?P<zone>[^\]]+)\]$")


def parse_api_datetime(raw: str, *, field: str) -> datetime:
    """Accept `2023-11-27 13:00:00`, `…T13:00:00Z`, `…-08:00`, `…-08:00[US/Pacific]`.

    A bare stamp is read in its bracketed zone when one is given, else in UTC.
    """
    text = raw.strip()
    zone: ZoneInfo | None = None
    bracket = _BRACKET.match(text)
    if bracket:
        text = bracket["stamp"].strip()
        try:
            zone = ZoneInfo(bracket["zone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise BadRequest(f"{field}: unknown time zone '{bracket['zone']}'") from None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            f"{field}: '{raw}' is not a datetime; use e.g. 2026-11-27 13:00:00 or "
            "2026-11-27T13:00:00-08:00[US/Pacific]"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone or UTC)
    return value.astimezone(UTC)
