"""Dial-rule applications and field names, v2 ⇄ v1, as data (netsapiens.md §2.4).

A v2 client says `"dial-rule-application": "to-user"`, a v1 client `responder=sip:start@to-user`;
both mean the same rule. The one table below is read both ways: `to_v2` accepts either spelling
(the v1 one case-insensitively, with its historical variants), `to_v1` gives the canonical v1
responder. What each application routes to (its *target*) is data here too, so phone numbers and
dial rules check their destination the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

# What `dial-rule-translation-destination-user` names for an application:
#   extension  - an extension of the domain whose kind is in `kinds`
#   device     - one SIP device of the domain (`1001a`)
#   offnet     - a number or SIP user beyond the domain (through a connection); not checked
#   any        - a local extension or an off-net number; checked only when it is local
#   none       - nothing (`[*]` or empty)
Target = Literal["extension", "device", "offnet", "any", "none"]


@dataclass(frozen=True)
class Application:
    v2: str
    v1: str
    target: Target
    kinds: tuple[str, ...] = ()
    v1_variants: tuple[str, ...] = ()


# A user, an auto attendant and a conference bridge are all reached with `to-user` in
# NetSapiens (attendants and bridges are system users there), so the spec has no
# `to-autoattendant`: `to-user` accepts any of the three kinds; voicemail only a user's.
_USERS = ("user", "autoattendant", "conference")
_MAILBOX = ("user",)
_QUEUE = ("callqueue",)

APPLICATIONS: tuple[Application, ...] = (
    Application("available-number", "AvailableDID", "none"),
    Application("to-user", "sip:start@to-user", "extension", _USERS),
    Application("to-user-residential", "sip:start@to-user-resi", "extension", _USERS),
    Application("to-user-add-header", "To-User-Add-Header", "extension", _USERS),
    Application("to-user-residential-add-header", "To-UserResi-Add-Header", "extension", _USERS),
    Application("to-user-notify-of-recording", "ToUserRecordingNotice", "extension", _USERS),
    Application("to-user-answer-and-fake-ringback", "ToUserRingback", "extension", _USERS),
    Application("to-voicemail", "sip:start@to-vmail", "extension", _MAILBOX),
    Application("to-voicemail-residential", "Residential VMail", "extension", _MAILBOX),
    Application(
        "to-callqueue",
        "sip:start@call-queuing",
        "extension",
        _QUEUE,
        v1_variants=("sip:start@call-queueing",),
    ),
    Application(
        "to-callqueue-announce-count-callers-ahead",
        "sip:say-que-size@call-queuing",
        "extension",
        _QUEUE,
    ),
    Application(
        "to-callqueue-announce-expected-wait-time",
        "sip:say-que-time@call-queuing",
        "extension",
        _QUEUE,
    ),
    Application("to-single-device", "sip:start@to-owned-device", "device"),
    Application("to-single-device-add-header", "To-Owned-Device-Add-Header", "device"),
    Application(
        "to-single-device-add-header-allow-voicemail", "To-Device-wVM-Add-Header", "device"
    ),
    Application(
        "to-single-device-add-header-allow-voicemail-residential",
        "To-DevResi-wVM-Add-Header",
        "device",
    ),
    Application("to-connection", "sip:start@to-connection", "offnet"),
    Application("to-connection-block-caller-id", "sip:no-rna@to-connection", "offnet"),
    Application("to-connection-no-timeout", "sip:privacy@to-connection", "offnet"),
    Application("to-connection-add-header", "To-Connection-Add-Header", "offnet"),
    Application(
        "to-connection-add-header-force-caller-id", "To-Conn-For-DNIS-Add-Header", "offnet"
    ),
    Application("to-connection-add-header-no-timeout", "To-Conn-No-RNA-Add-Header", "offnet"),
    Application("to-connection-or-user-no-failover", "sip:start@one-shot", "any"),
    Application("spam-screening", "SPAM-Screen", "any"),
    Application("toggle-timeframe", "Toggle-Timeframe", "any"),
    Application("hangup", "Hangup", "none"),
)

V2_NAMES: tuple[str, ...] = tuple(a.v2 for a in APPLICATIONS)
_BY_V2: dict[str, Application] = {a.v2: a for a in APPLICATIONS}
_BY_V1: dict[str, Application] = {
    name.lower(): a for a in APPLICATIONS for name in (a.v1, *a.v1_variants)
}


def lookup(name: str) -> Application | None:
    """The application a v2 name or a v1 responder names, or None."""
    text = name.strip()
    return _BY_V2.get(text) or _BY_V2.get(text.lower()) or _BY_V1.get(text.lower())


def to_v2(name: str) -> str:
    """The v2 name for a v2 name or a v1 responder; ValueError for an unknown one."""
    found = lookup(name)
    if found is None:
        raise ValueError(
            f"unknown dial-rule-application '{name}'; use one of: {', '.join(V2_NAMES)}"
        )
    return found.v2


def to_v1(name: str) -> str:
    """The canonical v1 responder for a v2 (or v1) name."""
    found = lookup(name)
    if found is None:
        raise ValueError(f"unknown dial-rule-application '{name}'")
    return found.v1


def get(v2_name: str) -> Application:
    return _BY_V2[v2_name]


# v1 (snake_case dial-rule columns) → v2 body field names. The spec's own examples for the
# phone-number "use case" PUTs and dial-rule updates send these, so bodies accept them.
V1_FIELDS: Mapping[str, str] = {
    "dialplan": "dial-rule-dial-plan",
    "matchrule": "dial-rule-matching-to-uri",
    "match_from": "dial-rule-matching-from-uri",
    "dow": "dial-rule-matching-day-of-week",
    "valid_from": "dial-rule-matching-start-date",
    "valid_to": "dial-rule-matching-end-date",
    "tod_from": "dial-rule-matching-start-time",
    "tod_to": "dial-rule-matching-end-time",
    "responder": "dial-rule-application",
    "parameter": "dial-rule-parameter",
    "to_scheme": "dial-rule-translation-destination-scheme",
    "to_user": "dial-rule-translation-destination-user",
    "to_host": "dial-rule-translation-destination-host",
    "from_name": "dial-rule-translation-source-name",
    "from_scheme": "dial-rule-translation-source-scheme",
    "from_user": "dial-rule-translation-source-user",
    "from_host": "dial-rule-translation-source-host",
    "plan_description": "dial-rule-description",
    "enable": "enabled",
}
V2_FIELDS: Mapping[str, str] = {v2: v1 for v1, v2 in V1_FIELDS.items()}


def rename_v1_fields(body: Any) -> Any:
    """A body with its v1 field names replaced by the v2 ones (a name sent both ways is a 422
    from the model, as a duplicate would be ambiguous)."""
    if not isinstance(body, dict):
        return body
    renamed: dict[str, Any] = {}
    for key, value in body.items():
        name = V1_FIELDS.get(key, key) if isinstance(key, str) else key
        if name in renamed:
            raise ValueError(f"'{key}' and '{name}' name the same field; send one of them")
        renamed[name] = value
    return renamed
