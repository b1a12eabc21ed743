"""dialplans: the v1 ⇄ v2 application table, v1 field names, the pattern language, rule ids."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest
from pydantic import ValidationError

from celito.dialplans import applications
from celito.dialplans.patterns import PatternError, Rule, best_match, parse_uri
from celito.dialplans.schemas import DialruleCreate, DialruleUpdate
from celito.dialplans.service import canonical_key, rule_key

# DialruleApplication in the v45 spec, in its order.
SPEC_ENUM = [
    "available-number",
    "to-voicemail-residential",
    "to-callqueue",
    "to-callqueue-announce-count-callers-ahead",
    "to-callqueue-announce-expected-wait-time",
    "to-connection",
    "to-connection-or-user-no-failover",
    "to-single-device",
    "to-user",
    "to-user-residential",
    "to-voicemail",
    "spam-screening",
    "to-connection-block-caller-id",
    "to-connection-no-timeout",
    "to-connection-add-header-force-caller-id",
    "to-connection-add-header-no-timeout",
    "to-connection-add-header",
    "to-single-device-add-header-allow-voicemail",
    "to-single-device-add-header-allow-voicemail-residential",
    "to-single-device-add-header",
    "to-user-add-header",
    "to-user-residential-add-header",
    "to-user-notify-of-recording",
    "hangup",
    "to-user-answer-and-fake-ringback",
    "toggle-timeframe",
]


def test_the_table_covers_the_spec_enum_exactly() -> None:
    assert sorted(applications.V2_NAMES) == sorted(SPEC_ENUM)
    v1 = [a.v1 for a in applications.APPLICATIONS]
    assert len(set(v1)) == len(v1), "two applications share a v1 responder"


@pytest.mark.parametrize("app", applications.APPLICATIONS, ids=lambda a: a.v2)
def test_each_application_maps_both_ways(app: applications.Application) -> None:
    assert applications.to_v1(app.v2) == app.v1
    assert applications.to_v2(app.v1) == app.v2
    assert applications.to_v2(app.v2) == app.v2
    assert applications.to_v2(app.v1.upper()) == app.v2  # v1 responders, case-insensitively
    assert applications.to_v1(applications.to_v2(app.v1)) == app.v1


@pytest.mark.parametrize(
    ("v1", "v2"),
    [
        ("sip:start@to-user", "to-user"),
        ("sip:start@call-queuing", "to-callqueue"),
        ("sip:start@call-queueing", "to-callqueue"),  # the historical spelling
        ("sip:start@to-vmail", "to-voicemail"),
        ("AvailableDID", "available-number"),
        ("To-Conn-For-DNIS-Add-Header", "to-connection-add-header-force-caller-id"),
        ("Residential VMail", "to-voicemail-residential"),
        ("Hangup", "hangup"),
    ],
)
def test_netsapiens_section_2_4_pairs(v1: str, v2: str) -> None:
    assert applications.to_v2(v1) == v2


def test_targets_say_what_a_destination_must_be() -> None:
    assert applications.get("to-callqueue").kinds == ("callqueue",)
    assert applications.get("to-voicemail").kinds == ("user",)
    assert "autoattendant" in applications.get("to-user").kinds
    assert applications.get("to-single-device").target == "device"
    assert applications.get("available-number").target == "none"
    assert applications.get("to-connection").target == "offnet"


def test_unknown_application_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown dial-rule-application"):
        applications.to_v2("to-teleporter")
    with pytest.raises(ValueError):
        applications.to_v1("sip:start@nowhere")


def test_v1_field_names_are_renamed_and_duplicates_refused() -> None:
    body = applications.rename_v1_fields(
        {"responder": "AvailableDID", "to_user": "[*]", "plan_description": "x", "enabled": "yes"}
    )
    assert body == {
        "dial-rule-application": "AvailableDID",
        "dial-rule-translation-destination-user": "[*]",
        "dial-rule-description": "x",
        "enabled": "yes",
    }
    assert applications.V2_FIELDS["dial-rule-matching-to-uri"] == "matchrule"
    with pytest.raises(ValueError, match="name the same field"):
        applications.rename_v1_fields({"enable": "no", "enabled": "no"})
    assert applications.rename_v1_fields([1]) == [1]


def test_schemas_accept_v1_bodies_and_store_v2_names() -> None:
    rule = DialruleCreate.model_validate(
        {"matchrule": "611", "responder": "sip:start@to-user", "to_user": "1001"}
    )
    assert rule.dial_rule_matching_to_uri == "611"
    assert rule.dial_rule_application == "to-user"
    with pytest.raises(ValidationError, match="unknown dial-rule-application"):
        DialruleCreate.model_validate({"matchrule": "611", "responder": "nope"})
    with pytest.raises(ValidationError, match="cannot be changed"):
        DialruleUpdate.model_validate({"matchrule": "612"})
    with pytest.raises(ValidationError, match="cannot be changed"):
        DialruleUpdate.model_validate({"dial-rule-matching-start-time": "08:00"})


@pytest.mark.parametrize(
    ("pattern", "yes", "no"),
    [
        ("sip:611@*", ["611"], ["6110", "61", "612"]),
        ("611", ["611"], ["612"]),
        ("sip:1NXXNXXXXXX@*", ["12125550100"], ["11125550100", "1212555010", "12120550100"]),
        ("sip:NXXNXXXXXX@*", ["2125550100"], ["0125550100"]),
        ("sip:1??????????@*", ["1abcdefghij", "12125550100"], ["1212555010"]),
        ("sip:Z1@*", ["91", "11"], ["01"]),
        ("sip:[2-4]00@*", ["200", "400"], ["500", "100"]),
        ("sip:[147*#]@*", ["1", "*", "#"], ["2"]),
        ("sip:011*@*", ["011", "01144207", "011x"], ["01", "0011"]),
        ("sip:*97@*", ["*97"], ["97", "x97", "*970"]),
        ("sip:*@*", ["", "anything"], []),
        ("*", ["1001", ""], []),
        ("sip:9*@*", ["9", "91212"], ["8"]),
        ("sip:operator@*", ["operator"], ["Operator"]),
    ],
)
def test_user_part_matching(pattern: str, yes: list[str], no: list[str]) -> None:
    rule = Rule.parse(pattern)
    for number in yes:
        assert rule.matches(number), (pattern, number)
    for number in no:
        assert not rule.matches(number), (pattern, number)


def test_normalisation() -> None:
    assert parse_uri("611").text == "sip:611@*"
    assert parse_uri("SIP:611@acme.example").text == "sip:611@acme.example"
    assert parse_uri("sip:*@*").text == "*"
    assert parse_uri(" * ").text == "*"
    assert Rule.parse("611").key_fields == ("sip:611@*", "*", "*", "*", "*", "*", "*")


def test_hosts() -> None:
    rule = Rule.parse("sip:611@<OwnDomain>")
    assert rule.matches("611", to_host="acme", own_domain="acme")
    assert not rule.matches("611", to_host="other", own_domain="acme")
    assert Rule.parse("sip:611@acme").matches("611", to_host="ACME")


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        (("sip:1[9-2]@*",), "backwards"),
        (("sip:1[23@*",), "never closed"),
        (("sip:12]@*",), "closes nothing"),
        (("sip:1[]@*",), "not a character class"),
        (("sip:1[a-]@*",), "not a character class"),
        (("sip:61 1@*",), "not allowed"),
        (("sip:6%1@*",), "not allowed"),
        (("sip:@*",), "empty"),
        (("",), "must not be empty"),
        (("sip:611@bad host",), "host"),
        (("sip:" + "1" * 65 + "@*",), "longer than 64"),
        (("611", "*", "7"), "day"),
        (("611", "*", "[1-7]"), "day"),
        (("611", "*", "*", "2026-02-30"), "date"),
        (("611", "*", "*", "26-01-01"), "date"),
        (("611", "*", "*", "*", "*", "24:00"), "time"),
        (("611", "*", "*", "*", "*", "8:00"), "time"),
        (("611", "*", "*", "2026-12-02", "2026-12-01"), "before"),
    ],
)
def test_invalid_patterns_say_why(fields: tuple[str, ...], needle: str) -> None:
    with pytest.raises(PatternError, match=needle):
        Rule.parse(*fields)


def test_times_days_and_dates() -> None:
    weekdays = Rule.parse("611", "*", "[1-5]", "*", "*", "08:00", "18:00")
    monday_9 = datetime(2026, 11, 30, 9, 0)  # a Monday
    assert weekdays.matches("611", at=monday_9)
    assert not weekdays.matches("611", at=monday_9.replace(hour=19))
    assert not weekdays.matches("611", at=datetime(2026, 11, 29, 9, 0))  # Sunday
    sunday = Rule.parse("611", "*", "0")
    assert sunday.matches("611", at=datetime(2026, 11, 29, 9, 0))
    night = Rule.parse("611", "*", "*", "*", "*", "22:00", "06:00")
    assert night.matches("611", at=monday_9.replace(hour=23))
    assert night.matches("611", at=monday_9.replace(hour=5))
    assert not night.matches("611", at=monday_9)
    december = Rule.parse("611", "*", "*", "2026-12-01", "2026-12-31")
    assert december.matches("611", at=datetime(2026, 12, 24, 12, 0))
    assert not december.matches("611", at=datetime(2027, 1, 1, 12, 0))
    assert december.matches("611")  # no time given: the time fields are not checked


def test_the_most_specific_rule_wins() -> None:
    rules = [
        (Rule.parse("*"), "catch-all"),
        (Rule.parse("sip:9*@*"), "outside line"),
        (Rule.parse("sip:1XXX@*"), "extensions"),
        (Rule.parse("sip:1??????????@*"), "eleven characters"),
        (Rule.parse("sip:1NXXNXXXXXX@*"), "long distance"),
        (Rule.parse("sip:1001@*"), "the boss"),
        (Rule.parse("sip:911@*"), "emergency"),
    ]
    assert best_match(rules, "1001") == "the boss"
    assert best_match(rules, "1002") == "extensions"
    assert best_match(rules, "12125550100") == "long distance"
    assert best_match(rules, "10125550100") == "eleven characters"
    assert best_match(rules, "911") == "emergency"
    assert best_match(rules, "9123") == "outside line"
    assert best_match(rules, "x") == "catch-all"
    assert best_match(rules[1:3], "x") is None
    timed = [
        (Rule.parse("611"), "always"),
        (Rule.parse("611", "*", "*", "*", "*", "08:00", "18:00"), "office hours"),
    ]
    assert best_match(timed, "611", at=datetime(2026, 11, 30, 9, 0)) == "office hours"
    assert best_match(timed, "611", at=datetime(2026, 11, 30, 20, 0)) == "always"


def test_rule_ids_are_the_spec_base64_and_accept_client_spellings() -> None:
    rule = Rule.parse("sip:611@*")
    key = rule_key(rule)
    assert key == base64.b64encode(b"sip:611@*||*||*||*||*||*||*").decode()
    urlsafe = key.replace("+", "-").replace("/", "_").rstrip("=")
    assert canonical_key(urlsafe) == key
    assert canonical_key(base64.b64encode(b"611||*||*||*||*||*||*").decode()) == key
    assert canonical_key("not base64!") == "not base64!"
    assert canonical_key(base64.b64encode(b"a||b").decode()) == base64.b64encode(b"a||b").decode()
