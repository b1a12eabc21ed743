"""Pure rules of CDRs, calls and presence: type filter, direction, ids, times, derivation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from celito.calls.models import ActiveCall
from celito.calls.service import call_event, origid_event, state_of
from celito.cdrs import service
from celito.cdrs.fields import (
    CDR_FIELDS,
    EVENT_FIELDS,
    billed_minutes,
    cdr_id_for,
    derive_direction,
    like_pattern,
    output_zone,
    parse_type,
    render_datetime,
    to_int,
    to_utc,
)
from celito.errors import BadRequest
from celito.presence.service import derive

START = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
ACME = {"acme": service._DomainInfo(7, "acme", "northwind")}


def test_type_filter_names_and_numbers() -> None:
    assert parse_type(None) is None and parse_type(" ") is None
    assert parse_type("Inbound") == {1, 2}
    assert parse_type("outbound") == {0}
    assert parse_type("Missed") == {2} and parse_type("RECEIVED") == {1}
    assert parse_type("On-net") == {3} and parse_type("Off-net") == {0, 1, 2}
    assert parse_type("3") == {3} and parse_type("0") == {0}
    for bad in ("4", "-1", "sideways", "1.0"):
        with pytest.raises(BadRequest):
            parse_type(bad)


def test_direction_from_which_ends_are_local() -> None:
    assert derive_direction({"call-orig-user": "1001"}, "acme", True) == 0
    assert derive_direction({"call-orig-user": "1001", "call-term-user": "1002"}, "acme", True) == 3
    assert derive_direction({"call-term-user": "1002"}, "acme", True) == 1
    assert derive_direction({"call-term-user": "1002"}, "acme", False) == 2
    other = {"call-orig-user": "1001", "call-orig-domain": "other", "call-term-user": "1002"}
    assert derive_direction(other, "acme", False) == 2


def test_times_and_numbers_from_sources() -> None:
    assert to_utc("2026-11-20 13:00:00", "x") == START
    assert to_utc("2026-11-20T08:00:00-05:00", "x") == START
    assert to_utc(int(START.timestamp()), "x") == START
    assert to_utc(str(int(START.timestamp())), "x") == START
    assert to_utc("0000-00-00 00:00:00", "x") is None and to_utc("", "x") is None
    assert to_utc(START.replace(tzinfo=None), "x") == START
    with pytest.raises(ValueError, match="not a datetime"):
        to_utc("yesterday", "call-start-datetime")
    assert to_int("42", "x") == 42 and to_int(None, "x") is None and to_int(True, "x") == 1
    with pytest.raises(ValueError, match="not a number"):
        to_int("many", "x")


def test_stable_ids_output_zones_and_counts() -> None:
    row = {"call-orig-call-id": "a@b", "call-term-call-id": "c@d"}
    assert cdr_id_for("acme", row, START) == cdr_id_for("acme", dict(row), START)
    assert cdr_id_for("acme", row, START) != cdr_id_for("acme", row, START + timedelta(seconds=1))
    assert len(cdr_id_for("acme", row, START)) == 20
    zone = output_zone("2026-11-20T08:00:00-05:00[America/New_York]")
    assert zone == ZoneInfo("America/New_York") and output_zone("2026-11-20 13:00:00") is None
    assert render_datetime(START, None) == "2026-11-20T13:00:00Z"
    assert render_datetime(START, zone) == "2026-11-20T08:00:00-05:00"
    assert like_pattern("50%_x\\") == "%50\\%\\_x\\\\%"
    assert billed_minutes(0) == 0 and billed_minutes(60) == 1 and billed_minutes(61) == 2
    assert billed_minutes(48389714) == 806496  # the spec's example


def test_prepare_fills_defaults_and_refuses_bad_rows() -> None:
    row = {
        "domain": "ACME",
        "call-start-datetime": START,
        "call-answer-datetime": START + timedelta(seconds=5),
        "call-disconnect-datetime": START + timedelta(seconds=65),
        "call-orig-user": 1001,
        "call-orig-caller-id": 12125550101,
        "call-orig-to-user": "14155550123",
        "call-ringing-datetime": "2026-11-20T08:00:01-05:00",
        "call-term-pre-routing-uri": "sip:x@y",
        "call-leg-ordinal-index": "2",
    }
    out = service._prepare(row, ACME)._asdict()
    assert out["domain_id"] == 7 and out["domain"] == "acme" and out["reseller"] == "northwind"
    assert out["total_seconds"] == 65 and out["talking_seconds"] == 60 and out["direction"] == 0
    assert out["orig_user"] == "1001" and out["orig_domain"] == "acme"
    assert out["caller"] == "12125550101" and out["dialled"] == "14155550123"
    assert out["data"]["call-ringing-datetime"] == "2026-11-20T13:00:01Z"
    assert out["data"]["call-term-pre-reouting-uri"] == "sip:x@y"
    assert out["data"]["call-leg-ordinal-index"] == 2
    assert "call-orig-user" not in out["data"]
    refusals = {
        "unknown field": {**row, "colour": "blue"},
        "does not exist": {**row, "domain": "nowhere"},
        "is required": {k: v for k, v in row.items() if k != "call-start-datetime"},
        "not 0-3": {**row, "call-direction": 7},
        "longer than": {**row, "call-orig-user": "9" * 65},
        "NUL": {**row, "call-term-user": "10\x0002"},
        "not a plain value": {**row, "call-tag": ["a"]},
        "not a datetime": {**row, "call-answer-datetime": 10**20},
        "not a number": {**row, "call-total-duration-seconds": float("inf")},
        "does not fit": {**row, "call-total-duration-seconds": 2**31},
        "lone surrogate": {**row, "call-orig-user": "10\ud80001"},
        "call-tag holds a lone surrogate": {**row, "call-tag": "x\udfff"},
    }
    for reason, bad in refusals.items():
        with pytest.raises(ValueError, match=reason):
            service._prepare(bad, ACME)


def test_render_gives_every_field_in_spec_order_and_user_view() -> None:
    out = service._prepare(
        {
            "domain": "acme",
            "call-start-datetime": START,
            "call-term-user": "1002",
            "call-orig-caller-id": "12125550101",
            "call-orig-from-name": "Grace",
        },
        ACME,
    )._asdict()
    shown = service.render(out, None, None)
    assert list(shown) == list(CDR_FIELDS)
    assert shown["call-direction"] == 2 and shown["call-start-datetime"] == "2026-11-20T13:00:00Z"
    mine = service.render(out, None, "1002")
    assert mine["uid"] == "1002@acme" and mine["number"] == "12125550101"
    assert mine["name"] == "Grace" and mine["time_start"] == int(START.timestamp())
    assert mine["time_answer"] == 0 and mine["onnet"] == 0


def test_presence_derivation_order() -> None:
    assert derive(registered=False, dnd=False, legs=()) == "inactive"
    assert derive(registered=True, dnd=False, legs=()) == "open"
    assert derive(registered=True, dnd=True, legs=()) == "dnd"
    assert derive(registered=True, dnd=True, legs=[(False, True)]) == "ringing"
    assert derive(registered=False, dnd=False, legs=[(False, False)]) == "busy"
    assert derive(registered=True, dnd=True, legs=[(False, True), (True, False)]) == "busy"


def test_call_events_use_netsapiens_names() -> None:
    leg = ActiveCall(
        orig_callid="o1",
        term_callid="t1",
        orig_user="1001",
        orig_domain="acme",
        term_user="1002",
        term_domain="acme",
        ani="1001",
        dnis="1002",
        orig_info="active",
        term_info="held",
        codec="PCMU",
        start_time=START,
        answer_time=None,
        extra={"orig_leg_tag": "abc"},
    )
    assert state_of(leg) == "ringing"
    body = call_event(leg, removed=False)
    assert body["orig_callid"] == "o1" and body["term_sub"] == "1002" and body["media"] == "PCMU"
    assert body["time_answer"] == "0000-00-00 00:00:00" and body["remove"] == "no"
    assert body["time_start"] == "2026-11-20 13:00:00" and body["orig_leg_tag"] == "abc"
    leg.answer_time = START
    assert state_of(leg) == "held"
    assert origid_event(leg, removed=True)["remove"] == "yes"


def test_bulk_event_copy_lines_escape_fields() -> None:
    from celito.cdrs.bulk_events import Encoder

    pg = Encoder("cdr", "create", postgres=True)
    line = pg('{"x":"\\n"}', "a\tb", "c\\d\ne\r", "10\t01")
    assert line == '\tcdr\tcreate\ta\\tb\tc\\\\d\\ne\\r\t10\\t01\t\t{"x":"\\\\n"}\n'
    sqlite = Encoder("cdr", "create", postgres=False)
    assert sqlite("{}", "r", "d", "u") == ("cdr", "create", "r", "d", "u", "", "{}")
    with pytest.raises(ValueError, match="unknown event model"):
        Encoder("nonsense", "create", postgres=True)


def test_values_cover_the_table() -> None:
    from celito.cdrs.models import Cdr

    assert set(service._Values._fields) == {c.name for c in Cdr.__table__.columns} - {"id"}


def test_event_json_is_the_payload_dict_as_json() -> None:
    """The event text is written by hand for speed: it must be exactly what json.dumps gives
    for the payload, whatever the values hold."""
    rows = [
        {"domain": "acme", "call-start-datetime": START, "call-term-user": "1002"},
        {
            "domain": "acme",
            "id": 'q"uote\\back',
            "call-start-datetime": "2026-11-20T13:00:00.250-05:00",
            "call-answer-datetime": START + timedelta(seconds=3, microseconds=7),
            "call-disconnect-datetime": START + timedelta(seconds=90),
            "call-orig-user": "Zoë",
            "call-orig-domain": "other",
            "call-orig-call-id": "tab\there\nnewline",
            "call-orig-caller-id": 12125550101,
            "call-orig-request-user": "☎ 911",
            "call-term-user": "1001",
            "call-term-call-id": "\u2028",
            "call-direction": "1",
        },
    ]
    for row in rows:
        v = service._prepare(row, ACME)
        start = v.start_time.isoformat(" ", "microseconds")
        answer = v.answer_time and v.answer_time.isoformat(" ", "microseconds")
        end = v.end_time and v.end_time.isoformat(" ", "microseconds")
        shown = service.render(v._asdict(), None, None)
        expected = {name: shown[name] for name in EVENT_FIELDS}
        assert service._event_json(v, start, answer, end) == json.dumps(
            expected, separators=(",", ":")
        )


def test_data_fields_zero_datetimes_and_numbers() -> None:
    row = {"domain": "acme", "call-start-datetime": START}
    out = service._prepare({**row, "call-ringing-datetime": "0000-00-00 00:00:00"}, ACME)
    assert "call-ringing-datetime" not in out.data  # no value, like an empty one
    with pytest.raises(ValueError, match="not a finite number"):
        service._prepare({**row, "call-intelligence-percent-positive": float("nan")}, ACME)
    out = service._prepare({**row, "call-intelligence-percent-positive": 12.5}, ACME)
    assert out.data == {"call-intelligence-percent-positive": 12.5}
