"""Validation of the names that appear in paths: resellers, domains, users."""

from __future__ import annotations

import re
from zoneinfo import available_timezones

from celito.errors import Unprocessable

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}")
_EXTENSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_ZONES = frozenset(available_timezones())


def check_name(kind: str, value: str) -> str:
    lowered = value.strip().lower()
    if not _NAME.fullmatch(lowered):
        raise Unprocessable(
            f"{kind} '{value}' is not valid: use letters, digits, '.', '_' or '-' "
            "(up to 128, starting with a letter or digit)"
        )
    return lowered


def check_extension(value: str) -> str:
    if not _EXTENSION.fullmatch(value):
        raise Unprocessable(
            f"user '{value}' is not valid: use letters, digits, '.', '_' or '-' (up to 64)"
        )
    return value


def check_time_zone(value: str) -> str:
    if value not in _ZONES:
        raise Unprocessable(f"time-zone '{value}' is not an IANA time zone (e.g. America/Chicago)")
    return value
