"""The v2 CDR ("CdrD") field catalogue, and the pure rules around it.

A CDR is stored with its hot query fields as real columns (see models.Cdr) and every other
CdrD field, when it has a value, in a JSON `data` column. The API always answers every CdrD
field (null when unknown), in the spec's order.

`call-direction` (and the `type` filter) follows NetSapiens' cdr2 `type`:

    0  Outbound  a user of the CDR's domain called out
    1  Received  an inbound call that was answered
    2  Missed    an inbound call that was not answered
    3  On-net    both ends are users of the platform (internal call)

`type=Inbound` is 1 or 2, `type=Off-net` is 0, 1 or 2; an integer picks exactly that value.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from celito.errors import BadRequest

# Every CdrD field, in the order of the v45 spec (its own spelling, typos included).
CDR_FIELDS: tuple[str, ...] = (
    "id",
    "domain",
    "reseller",
    "call-account-code",
    "call-answer-datetime",
    "call-audio-codec",
    "call-audio-relay-side-a-local-port",
    "call-audio-relay-side-a-packet-count",
    "call-audio-relay-side-a-remote-ip",
    "call-audio-relay-side-b-packet-count",
    "call-audio-relay-side-b-remote-ip",
    "call-batch-answer-datetime",
    "call-batch-on-hold-duration-seconds",
    "call-batch-sequence-marker",
    "call-batch-start-datetime",
    "call-batch-total-duration-seconds",
    "call-direction",
    "call-disconnect-datetime",
    "call-disconnect-reason-text",
    "call-disposition",
    "call-disposition-notes",
    "call-disposition-reason",
    "call-disposition-submitted-datetime",
    "call-disposition-type",
    "call-fax-codec",
    "call-fax-relay-side-a-local-port",
    "call-fax-relay-side-a-packet-count",
    "call-fax-relay-side-a-remote-ip",
    "call-fax-relay-side-b-packet-count",
    "call-fax-relay-side-b-remote-ip",
    "call-intelligence-job-id",
    "call-intelligence-percent-negative",
    "call-intelligence-percent-neutral",
    "call-intelligence-percent-positive",
    "call-intelligence-topics-top",
    "call-leg-ordinal-index",
    "call-on-hold-duration-seconds",
    "call-orig-call-id",
    "call-orig-caller-id",
    "call-orig-department",
    "call-orig-domain",
    "call-orig-from-host",
    "call-orig-from-name",
    "call-orig-from-uri",
    "call-orig-from-user",
    "call-orig-ip-address",
    "call-orig-match-uri",
    "call-orig-pre-routing-uri",
    "call-orig-request-host",
    "call-orig-request-uri",
    "call-orig-request-user",
    "call-orig-reseller",
    "call-orig-site",
    "call-orig-to-host",
    "call-orig-to-uri",
    "call-orig-to-user",
    "call-orig-user",
    "call-parent-call-id",
    "call-parent-cdr-id",
    "call-record-creation-datetime",
    "call-ringing-datetime",
    "call-routing-class",
    "call-routing-match-uri",
    "call-start-datetime",
    "call-tag",
    "call-talking-duration-seconds",
    "call-term-call-id",
    "call-term-caller-id",
    "call-term-department",
    "call-term-domain",
    "call-term-ip-address",
    "call-term-match-uri",
    "call-term-pre-reouting-uri",
    "call-term-reseller",
    "call-term-site",
    "call-term-to-uri",
    "call-term-user",
    "call-through-action",
    "call-through-call-id",
    "call-through-caller-id",
    "call-through-department",
    "call-through-domain",
    "call-through-reseller",
    "call-through-site",
    "call-through-uri",
    "call-through-user",
    "call-total-duration-seconds",
    "call-video-codec",
    "call-video-relay-side-a-local-port",
    "call-video-relay-side-a-packet-count",
    "call-video-relay-side-a-remote-ip",
    "call-video-relay-side-b-packet-count",
    "call-video-relay-side-b-remote-ip",
    "call-server-mac-address",
    "core-server",
    "hide-from-results",
    "is-trace-expected",
    "prefilled-trace-api",
    "prefilled-transcription-api",
)
KNOWN = frozenset(CDR_FIELDS)
# Accepted on ingestion as another spelling of a spec field.
ALIASES = {"call-term-pre-routing-uri": "call-term-pre-reouting-uri"}

# API field -> column of models.Cdr. The rest of a CDR lives in `data`.
COLUMNS: dict[str, str] = {
    "id": "cdr_id",
    "domain": "domain",
    "reseller": "reseller",
    "call-direction": "direction",
    "call-start-datetime": "start_time",
    "call-answer-datetime": "answer_time",
    "call-disconnect-datetime": "end_time",
    "call-total-duration-seconds": "total_seconds",
    "call-talking-duration-seconds": "talking_seconds",
    "call-on-hold-duration-seconds": "hold_seconds",
    "call-orig-call-id": "orig_callid",
    "call-orig-user": "orig_user",
    "call-orig-domain": "orig_domain",
    "call-orig-site": "orig_site",
    "call-orig-department": "orig_department",
    "call-term-call-id": "term_callid",
    "call-term-user": "term_user",
    "call-term-domain": "term_domain",
    "call-term-site": "term_site",
    "call-term-department": "term_department",
}
DATETIME_COLUMNS = frozenset({"start_time", "answer_time", "end_time"})
INT_FIELDS = frozenset(
    {
        "call-direction",
        "call-total-duration-seconds",
        "call-talking-duration-seconds",
        "call-on-hold-duration-seconds",
        "call-audio-relay-side-a-local-port",
        "call-audio-relay-side-a-packet-count",
        "call-audio-relay-side-b-packet-count",
        "call-batch-on-hold-duration-seconds",
        "call-batch-total-duration-seconds",
        "call-leg-ordinal-index",
        "call-routing-class",
        "hide-from-results",
    }
)
DATETIME_FIELDS = frozenset(f for f in CDR_FIELDS if f.endswith("-datetime"))
# The compact payload of a `cdr` event (the full CDR is one GET away).
EVENT_FIELDS: tuple[str, ...] = (
    "id",
    "domain",
    "reseller",
    "call-direction",
    "call-start-datetime",
    "call-answer-datetime",
    "call-disconnect-datetime",
    "call-total-duration-seconds",
    "call-talking-duration-seconds",
    "call-orig-call-id",
    "call-orig-user",
    "call-orig-domain",
    "call-orig-caller-id",
    "call-orig-request-user",
    "call-term-call-id",
    "call-term-user",
    "call-term-domain",
)

OUTBOUND, RECEIVED, MISSED, ON_NET = 0, 1, 2, 3
TYPE_NAMES: dict[str, frozenset[int]] = {
    "outbound": frozenset({OUTBOUND}),
    "inbound": frozenset({RECEIVED, MISSED}),
    "received": frozenset({RECEIVED}),
    "missed": frozenset({MISSED}),
    "on-net": frozenset({ON_NET}),
    "onnet": frozenset({ON_NET}),
    "off-net": frozenset({OUTBOUND, RECEIVED, MISSED}),
    "offnet": frozenset({OUTBOUND, RECEIVED, MISSED}),
}


def parse_type(raw: str | None) -> frozenset[int] | None:
    """The `type` filter: a name (any case) or an integer 0-3; None when absent."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if text.isdigit() and int(text) in (0, 1, 2, 3):
        return frozenset({int(text)})
    found = TYPE_NAMES.get(text.lower())
    if found is None:
        raise BadRequest(
            f"type '{raw}' is not valid; use Inbound, Outbound, On-net, Off-net, Missed, "
            "Received or 0-3"
        )
    return found


def derive_direction(row: Mapping[str, Any], domain: str, answered: bool) -> int:
    """call-direction when the source did not say: from which ends belong to `domain`."""
    orig_local = bool(row.get("call-orig-user")) and row.get("call-orig-domain") in (None, domain)
    term_local = bool(row.get("call-term-user")) and row.get("call-term-domain") in (None, domain)
    if orig_local and term_local:
        return ON_NET
    if orig_local:
        return OUTBOUND
    return RECEIVED if answered else MISSED


def to_utc(value: Any, field: str) -> datetime | None:
    """A CDR timestamp: a datetime, epoch seconds, or an ISO string (naive = UTC)."""
    if isinstance(value, datetime) and value.tzinfo is UTC:
        return value
    if value is None or value == "" or value == "0000-00-00 00:00:00":
        return None
    try:
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC) if value > 0 else None
        if isinstance(value, str):
            text = value.strip()
            if text.isdigit():
                return datetime.fromtimestamp(int(text), UTC) if int(text) > 0 else None
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):  # not a date, or out of datetime's range
        raise ValueError(f"{field}: '{value}' is not a datetime") from None
    raise ValueError(f"{field}: {type(value).__name__} is not a datetime")


def to_int(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{field}: '{value}' is not a number") from None


def cdr_id_for(domain: str, row: Mapping[str, Any], start: datetime) -> str:
    """A stable id for a CDR that came without one, so re-ingesting it is a no-op."""
    key = "|".join(
        (
            domain,
            str(row.get("call-orig-call-id") or ""),
            str(row.get("call-term-call-id") or ""),
            str(row.get("call-leg-ordinal-index") or ""),
            start.isoformat(),
        )
    )
    return hashlib.blake2b(key.encode(), digest_size=10).hexdigest()


_BRACKET = re.compile(r"\[([^\]]+)\]\s*$")


def output_zone(raw_start: str) -> ZoneInfo | None:
    """The zone a `datetime-start` names in brackets: response datetimes are shown in it."""
    found = _BRACKET.search(raw_start)
    if not found:
        return None
    try:
        return ZoneInfo(found.group(1))
    except (ZoneInfoNotFoundError, ValueError):
        return None  # parse_api_datetime already refused an unknown zone


def render_datetime(value: datetime | None, zone: ZoneInfo | None) -> str | None:
    """UTC as `…Z`, or local time with its offset when the query named a zone."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if zone is None:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.astimezone(zone).isoformat(timespec="seconds")


def like_pattern(fragment: str) -> str:
    """`%fragment%` with LIKE's wildcards in the fragment taken literally (escape '\\')."""
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def billed_minutes(seconds: int) -> int:
    """NetSapiens' count: minutes = the summed seconds rounded up to whole minutes."""
    return -(-seconds // 60)
