"""The Action URL events the platform configures, per firmware generation, and the variables
each one carries (yealink.md §1.1, §2.3).

The query string the platform writes into every action URL lists the variables in a fixed
order, with the ones that may hold spaces or `&` (display names) last: the phone substitutes
values without URL-encoding them, and a known order is what lets the receiver split
`display=John & Jane Doe` back into the right parameter (yealink.receiver).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from celito.yealink.catalog import Generation

Kind = Literal["boot", "account", "call", "forward", "state", "peripheral"]

ALWAYS = ("mac", "ip", "model", "firmware")
ACCOUNT = ("active_user", "active_host", "local")
CALL = ("call_id", "callDirection", "duration", "calledNumber", "remote")
FORWARD = ("target", "fwd_time")
PERIPHERAL = (
    "exp_number",
    "ehs_number",
    "udisk_number",
    "usbheadset_number",
    "wifi_number",
    "bluetooth_number",
)
# Free text from people: always at the end of the query, in this order.
DISPLAY = ("display_local", "display_remote")


@dataclass(frozen=True)
class PhoneEvent:
    name: str  # the V8x key suffix: action_url.<name>; the name hooks and events use
    kind: Kind
    v7x_key: str | None  # None: V7x firmware has no such event

    def key(self, generation: Generation) -> str | None:
        suffix = self.name if generation == "v8x" else self.v7x_key
        return f"action_url.{suffix}" if suffix else None

    @property
    def variables(self) -> tuple[str, ...]:
        """The variables the event carries, in the order the query string lists them."""
        if self.kind == "account":
            return (*ALWAYS, *ACCOUNT, "display_local")
        if self.kind == "call":
            return (*ALWAYS, *ACCOUNT, *CALL, *DISPLAY)
        if self.kind == "forward":
            return (*ALWAYS, "active_user", *FORWARD)
        if self.kind == "peripheral":
            return (*ALWAYS, *PERIPHERAL)
        if self.kind == "state":
            return (*ALWAYS, "active_user")
        return ALWAYS


def _e(name: str, kind: Kind, v7x: str | None = "") -> PhoneEvent:
    return PhoneEvent(name, kind, name if v7x == "" else v7x)


EVENTS: dict[str, PhoneEvent] = {
    e.name: e
    for e in (
        _e("setup_completed", "boot"),
        _e("setup_autop_finish", "boot", None),
        _e("ip_change", "boot"),
        _e("registered", "account", "log_on"),
        _e("unregistered", "account", "log_off"),
        _e("register_failed", "account"),
        _e("off_hook", "state"),
        _e("on_hook", "state"),
        _e("incoming_call", "call"),
        _e("outgoing_call", "call"),
        _e("call_established", "call"),
        _e("call_terminated", "call"),
        _e("missed_call", "call"),
        _e("reject_incoming_call", "call"),
        _e("answer_new_incoming_call", "call"),
        _e("forward_incoming_call", "call"),
        _e("transfer_call", "call"),
        _e("blind_transfer_call", "call"),
        _e("attended_transfer_call", "call"),
        _e("transfer_finished", "call"),
        _e("transfer_failed", "call"),
        _e("hold", "call"),
        _e("unhold", "call"),
        _e("held", "call", None),
        _e("unheld", "call", None),
        _e("mute", "call"),
        _e("unmute", "call"),
        _e("cancel_callout", "call"),
        _e("remote_busy", "call"),
        _e("call_remote_canceled", "call"),
        _e("idle_to_busy", "state"),
        _e("busy_to_idle", "state"),
        _e("dnd_on", "state"),
        _e("dnd_off", "state"),
        _e("always_fwd_on", "forward"),
        _e("always_fwd_off", "forward"),
        _e("busy_fwd_on", "forward"),
        _e("busy_fwd_off", "forward"),
        _e("no_answer_fwd_on", "forward"),
        _e("no_answer_fwd_off", "forward"),
        _e("call_waiting_on", "state", None),
        _e("call_waiting_off", "state", None),
        _e("headset", "state", None),
        _e("handfree", "state", None),
        _e("peripheral_information", "peripheral", None),
    )
}

# Names people and older tools use for the same events (yealink.md §1.1).
ALIASES = {
    "log_on": "registered",
    "log_off": "unregistered",
    "open_dnd": "dnd_on",
    "close_dnd": "dnd_off",
    "established": "call_established",
    "terminated": "call_terminated",
}

# Every variable a URL hook template may use: what the phone reports, plus names for the
# same values the firmware also knows ($callerID = $display_remote, $callNumber = $calledNumber).
HOOK_VARIABLES = frozenset(
    {
        *ALWAYS,
        *ACCOUNT,
        "active_url",
        *CALL,
        *FORWARD,
        *PERIPHERAL,
        *DISPLAY,
        "callerID",
        "callNumber",
        "event",
        "domain",
        "user",
    }
)


def find(name: str) -> PhoneEvent | None:
    return EVENTS.get(ALIASES.get(name, name))
