"""The grammar of routing destinations, as answer rules and phone numbers write them. Pure.

A destination is either prefixed with what it is, as NetSapiens writes them, or bare:

| written | means |
|---|---|
| `user_1002` | user 1002 (its answer rules apply) |
| `vmail_1002` (`voicemail_1002`) | the voicemail box of user 1002 |
| `queue_2000` | call queue 2000 |
| `aa_3000` | auto attendant 3000 |
| `conf_4000` | conference 4000 |
| `park_701` | park orbit 701 |
| `phone_18005551234` | an outside number |
| `<OwnDevices>` | the user's own devices (simultaneous ring only) |
| `1002`, `1002a`, `+1 800 555 1234` | bare: see below |

A bare destination is, in this order: an extension of the domain (user, call queue, auto
attendant, conference), a device, a phone number of the domain (where it points), or else an
outside number (7 to 15 digits).

A simultaneous-ring parameter may add `confirm_` in front (the callee presses 1 to accept)
and `;delay=N` after (start ringing that leg N seconds late).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

PREFIXES = {
    "user_": "user",
    "vmail_": "voicemail",
    "voicemail_": "voicemail",
    "queue_": "queue",
    "aa_": "attendant",
    "conf_": "conference",
    "park_": "park",
    "phone_": "external",
}
OWN_DEVICES = "<OwnDevices>"
ANONYMOUS = "anonymous"
ANONYMOUS_CALLERS = frozenset({"", "anonymous", "restricted", "unavailable", "unknown", "private"})
MAX_DELAY_SECONDS = 600

_VALUE = re.compile(r"^[A-Za-z0-9+][A-Za-z0-9._+*#-]{0,63}$")
_NUMBER_CHARS = re.compile(r"[\s().\-]")
_EXTERNAL = re.compile(r"^\+?\d{7,15}$")
_RING = re.compile(r"^(?P<confirm>confirm_)?(?P<target>[^;]+?)(?:;delay=(?P<delay>\d{1,4}))?$")
_PATTERN = re.compile(r"^\+?\d{1,15}\*?$")


@dataclass(frozen=True, slots=True)
class Target:
    """`kind` is one of the prefixes' meanings, `own-devices`, or `any` (bare: resolved later)."""

    kind: str
    value: str

    def __str__(self) -> str:
        if self.kind == "any":
            return self.value
        if self.kind == "own-devices":
            return OWN_DEVICES
        prefix = next(p for p, k in PREFIXES.items() if k == self.kind)
        return f"{prefix}{self.value}"


@dataclass(frozen=True, slots=True)
class RingParam:
    target: Target
    delay: int = 0
    confirm: bool = False


def digits(number: str) -> str:
    """A phone number reduced to the digits it is matched by (`+1 (212) 555-0100` → 1212…)."""
    return _NUMBER_CHARS.sub("", number).lstrip("+")


def is_external(text: str) -> bool:
    return bool(_EXTERNAL.match(_NUMBER_CHARS.sub("", text)))


def parse_target(text: str) -> Target:
    """The destination `text` names; ValueError says what is wrong with it."""
    raw = text.strip()
    if raw == OWN_DEVICES:
        return Target("own-devices", "")
    for prefix, kind in PREFIXES.items():
        if raw.startswith(prefix):
            value = raw[len(prefix) :]
            if kind == "external":
                if not is_external(value):
                    raise ValueError(f"'{text}' is not a phone number (7 to 15 digits)")
                return Target(kind, _NUMBER_CHARS.sub("", value))
            if not _VALUE.match(value):
                raise ValueError(f"'{text}' does not name a {kind}")
            return Target(kind, value)
    if is_external(raw):
        return Target("any", _NUMBER_CHARS.sub("", raw))
    if not _VALUE.match(raw):
        raise ValueError(
            f"'{text}' is not a destination: use an extension, a phone number, or "
            "user_/vmail_/queue_/aa_/conf_/park_/phone_ followed by one"
        )
    return Target("any", raw)


def parse_ring(text: str) -> RingParam:
    """A simultaneous-ring parameter: `[confirm_]target[;delay=N]`."""
    m = _RING.match(text.strip())
    if m is None:
        raise ValueError(f"'{text}' is not a simultaneous-ring destination")
    delay = int(m.group("delay") or 0)
    if delay > MAX_DELAY_SECONDS:
        raise ValueError(f"'{text}': the delay may be at most {MAX_DELAY_SECONDS} seconds")
    target = parse_target(m.group("target"))
    if target.kind not in ("any", "user", "external", "own-devices"):
        raise ValueError(
            f"'{text}': simultaneous ring calls devices, users and phone numbers, not a "
            f"{target.kind}"
        )
    return RingParam(target, delay, bool(m.group("confirm")))


def parse_number_pattern(text: str) -> str:
    """An allow/reject list entry: `anonymous`, a number, or a number prefix ending in `*`."""
    raw = text.strip()
    if raw.lower() == ANONYMOUS:
        return ANONYMOUS
    cleaned = _NUMBER_CHARS.sub("", raw)
    if not _PATTERN.match(cleaned):
        raise ValueError(f"'{text}' is not a phone number, a prefix ending in '*', or 'anonymous'")
    return cleaned.lstrip("+")


def caller_matches(patterns: Iterable[str], caller: str | None) -> bool:
    """Whether the caller id matches one of the normalized patterns."""
    anonymous = caller is None or caller.strip().lower() in ANONYMOUS_CALLERS
    number = "" if anonymous or caller is None else digits(caller)
    for p in patterns:
        if p == ANONYMOUS:
            if anonymous:
                return True
        elif number and (number.startswith(p[:-1]) if p.endswith("*") else number == p):
            return True
    return False
