"""Facts about Yealink phones the emulator needs (shared/reference/yealink.md §1, §3.2, §4.3)."""

from __future__ import annotations

import re
from typing import Literal

Generation = Literal["v8x", "v7x"]
GENERATIONS: tuple[Generation, ...] = ("v8x", "v7x")

# Model → the XX of the common file y0000000000XX.cfg (§4.3). Models sharing firmware still ask
# for their own code, which is what makes a server that serves one code per family fail.
MODEL_CODES: dict[str, str] = {
    "T28P": "000",
    "T26P": "004",
    "T22P": "005",
    "T20P": "007",
    "VP530": "023",
    "T46G": "028",
    "T42G": "029",
    "T32G": "032",
    "T48G": "035",
    "T41P": "036",
    "T38G": "038",
    "T23G": "044",
    "T27P": "045",
    "T29G": "046",
    "VP-T49G": "051",
    "T21P_E2": "052",
    "T19P_E2": "053",
    "T40P": "054",
    "T56A": "056",
    "T58A": "058",
    "T48S": "065",
    "T46S": "066",
    "T42S": "067",
    "T41S": "068",
    "T27G": "069",
    "T54S": "070",
    "CP960": "073",
    "T52S": "074",
    "T40G": "076",
    "CP920": "078",
    "T53W": "095",
    "T54W": "096",
    "T57W": "097",
    "T43U": "107",
    "T46U": "108",
    "T48U": "109",
    "T42U": "116",
    "T31G": "123",
    "T33G": "124",
    "T58W": "150",
}

# Key sequences (`key=A;B;C`) do not work on touch-screen models (§3.1).
TOUCH_MODELS = frozenset({"T48G", "T48S", "T48U", "T57W", "VP-T49G"})

# Highest line key L<n> per model (§3.2); models not listed get 1 to 15, an UNVERIFIED default.
LINE_KEYS: dict[str, int] = {
    "T48G": 29,
    "T48S": 29,
    "T54S": 27,
    "T46G": 27,
    "T46S": 27,
    "T29G": 27,
    "T52S": 21,
    "T27G": 21,
    "T42S": 15,
    "T41S": 15,
    "T40P": 3,
    "T23G": 3,
    "T21P_E2": 2,
}
DEFAULT_LINE_KEYS = 15

# Action URL events by their V8x names; the cfg key is `action_url.<event>` (§1.1).
EVENTS = frozenset(
    {"setup_completed", "registered", "unregistered", "register_failed", "off_hook", "on_hook"}
    | {"incoming_call", "outgoing_call", "call_established", "call_terminated"}
    | {"dnd_on", "dnd_off", "always_fwd_on", "always_fwd_off", "busy_fwd_on", "busy_fwd_off"}
    | {"no_answer_fwd_on", "no_answer_fwd_off", "transfer_call", "blind_transfer_call"}
    | {"attended_transfer_call", "hold", "unhold", "held", "unheld", "mute", "unmute"}
    | {"missed_call", "ip_change", "idle_to_busy", "busy_to_idle", "reject_incoming_call"}
    | {"answer_new_incoming_call", "transfer_finished", "transfer_failed"}
    | {"forward_incoming_call", "setup_autop_finish", "call_waiting_on", "call_waiting_off"}
    | {"headset", "handfree", "cancel_callout", "remote_busy", "call_remote_canceled"}
    | {"peripheral_information"}
)
# V7x firmware names these two differently and lacks the later additions. cancel_callout,
# remote_busy and call_remote_canceled existed on the VP530 only; the emulator's V7x is the
# T2x/T4x line.
V7X_NAMES = {"registered": "log_on", "unregistered": "log_off"}
NOT_ON_V7X = frozenset(
    {"held", "unheld", "setup_autop_finish", "call_waiting_on", "call_waiting_off", "headset"}
    | {"handfree", "cancel_callout", "remote_busy", "call_remote_canceled"}
    | {"peripheral_information"}
)
# Informal and V7x names people use for the same events (§1.1 "Mapping …").
EVENT_ALIASES = {
    "log_on": "registered",
    "log_off": "unregistered",
    "open_dnd": "dnd_on",
    "close_dnd": "dnd_off",
}

ACCOUNT_EVENTS = frozenset({"registered", "unregistered", "register_failed"})
FORWARD_EVENTS = frozenset(
    {"always_fwd_on", "always_fwd_off", "busy_fwd_on", "busy_fwd_off"}
    | {"no_answer_fwd_on", "no_answer_fwd_off"}
)
# Events that carry call data (§2.3). idle_to_busy/busy_to_idle are not named there; they are
# given the call that caused them, which is UNVERIFIED but what a receiver would hope for.
CALL_EVENTS = frozenset(
    {"incoming_call", "outgoing_call", "call_established", "call_terminated"}
    | {"transfer_call", "blind_transfer_call", "attended_transfer_call"}
    | {"hold", "unhold", "held", "unheld", "mute", "unmute", "missed_call"}
    | {"reject_incoming_call", "answer_new_incoming_call", "transfer_finished"}
    | {"transfer_failed", "forward_incoming_call", "cancel_callout", "remote_busy"}
    | {"call_remote_canceled", "idle_to_busy", "busy_to_idle"}
)

_MAC = re.compile(r"[0-9a-f]{12}")


def canonical_event(event: str) -> str:
    name = EVENT_ALIASES.get(event, event)
    if name not in EVENTS:
        raise ValueError(f"unknown Yealink action URL event {event!r}")
    return name


def action_url_key(event: str, generation: Generation) -> str | None:
    """The cfg key that holds the URL of `event` on this generation, or None if it has none."""
    name = canonical_event(event)
    if generation == "v7x":
        if name in NOT_ON_V7X:
            return None
        name = V7X_NAMES.get(name, name)
    return "action_url." + name


def normalize_mac(mac: str) -> str:
    """`00:15:65:AA:BB:CC` or `001565aabbcc` → `001565aabbcc` (file names use lowercase, §4.1)."""
    bare = re.sub(r"[:\-.]", "", mac).lower()
    if not _MAC.fullmatch(bare):
        raise ValueError(f"not a MAC address: {mac!r}")
    return bare


def colon_mac(mac: str) -> str:
    bare = normalize_mac(mac)
    return ":".join(bare[i : i + 2] for i in range(0, 12, 2))


def model_code(model: str) -> str:
    try:
        return MODEL_CODES[model]
    except KeyError:
        raise ValueError(
            f"no common-file code known for model {model!r}; known: {', '.join(MODEL_CODES)}"
        ) from None


def user_agent(model: str, firmware: str, mac: str) -> str:
    """`Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc` (§4.7)."""
    return f"Yealink SIP-{model} {firmware} {colon_mac(mac)}"


def line_keys(model: str) -> int:
    return LINE_KEYS.get(model, DEFAULT_LINE_KEYS)
