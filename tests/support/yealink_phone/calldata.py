"""What the phone knows about its accounts and calls, and the Action URL variables built from it
(§2.1 to §2.3)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tests.support.yealink_phone.catalog import CALL_EVENTS, FORWARD_EVENTS


@dataclass
class Call:
    id: int
    """The phone's own numeric call id: `$call_id`, and the `<id>` of `ASW:<id>` etc."""
    direction: str
    """`in`, `out` (or `unknown` for an event fired by hand)."""
    remote_user: str
    remote_host: str
    remote_display: str
    account: int
    state: str
    """`ringing` (incoming, alerting), `dialing` (outgoing, ringback), `connected`, `held`."""
    connected_at: float | None = None


@dataclass(frozen=True)
class Account:
    index: int
    enabled: bool
    user: str
    host: str
    display: str
    auth_name: str
    password: str


@dataclass
class Forward:
    target: str
    seconds: int | None = None


@dataclass(frozen=True)
class Device:
    mac: str
    ip: str
    model: str
    firmware: str


def variables(
    event: str,
    device: Device,
    account: Account | None,
    call: Call | None = None,
    forward: Forward | None = None,
) -> dict[str, str]:
    """Every `$name` the firmware replaces, with its value for this event.

    `account` is the event's account: its own for account and forward events, the call's for call
    events, account 1 otherwise (events without a call getting the default account's data is
    UNVERIFIED)."""
    values = {"$mac": device.mac, "$ip": device.ip, "$model": device.model}
    values["$firmware"] = device.firmware
    user, host = (account.user, account.host) if account else ("", "")
    url = f"sip:{user}@{host}" if user else ""
    values |= {"$active_url": url, "$active_user": user, "$active_host": host, "$local": url}
    values["$display_local"] = (account.display or account.user) if account else ""
    # Call data only for call events; otherwise empty, with "0"/"unknown" (§2.3).
    values |= {"$remote": "", "$display_remote": "", "$callerID": "", "$calledNumber": ""}
    values |= {"$callNumber": "", "$call_id": "", "$duration": "0"}
    values |= {"$callDirection": "unknown", "$DiversionNumber": ""}
    if call is not None and event in CALL_EVENTS:
        display = call.remote_display or call.remote_user
        values["$remote"] = f"sip:{call.remote_user}@{call.remote_host}"
        values |= {"$display_remote": display, "$callerID": display}
        values |= {"$calledNumber": call.remote_user, "$callNumber": call.remote_user}
        values["$call_id"] = str(call.id)
        if call.connected_at is not None:
            values["$duration"] = str(int(time.monotonic() - call.connected_at))
        values["$callDirection"] = call.direction
    target = fwd_time = fwd_line = ""
    if event in FORWARD_EVENTS:
        fwd_line = str(account.index) if account else ""
        if forward is not None:
            target = forward.target
            fwd_time = str(forward.seconds) if forward.seconds is not None else ""
    values |= {"$fwd_line": fwd_line, "$target": target, "$fwd_time": fwd_time}
    values |= {"$cfwd_dest": target, "$no_answ_secs": fwd_time}
    # Peripherals: none plugged in. $cfg_all/$cfg_local: how the firmware transports the file is
    # UNVERIFIED (§2.1), so they stay empty rather than guess a format.
    for device_kind in ("exp", "ehs", "udisk", "usbheadset", "wifi", "bluetooth"):
        values[f"${device_kind}_number"] = "0"
    for alias in ("exp", "ehs", "usb", "wifi", "bluetooth", "usbheadset"):
        values[f"${alias}"] = "0"
    for blank in ("vpn_ip", "csta_id", "expansion_module", "active_key", "cfg_all", "cfg_local"):
        values[f"${blank}"] = ""
    return values
