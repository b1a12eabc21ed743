"""Provisioning files, rendered from plain data: no database, no I/O, so they are cheap and
testable. The phones service gathers a `PhoneSpec`; this module turns it into the text of
`<mac>.cfg`, `<mac>.boot` and the per-model common file, with the key names of the phone's
firmware generation (yealink.md §4, §6.1).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celito.yealink import events
from celito.yealink.catalog import Generation, PhoneModel

HEADER = "#!version:1.0.0.1"
TRANSPORTS = {"udp": 0, "tcp": 1, "tls": 2, "dns-srv": 3}
# DSS key types (yealink.md §4.3).
KEY_TYPES = {"line": 15, "blf": 16, "speed-dial": 13, "park": 10, "none": 0}
OVERRIDE_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
# Keys the platform owns: overriding them would break events, control or security.
RESERVED_PREFIXES = (
    "action_url.",
    "static.security.user_password",
    "security.user_password",
    "static.security.user_name.",
    "security.user_name.",
    "features.action_uri_limit_ip",
    # Where the phone fetches its files: an override would take the domain's phones elsewhere.
    "static.auto_provision.server.",
    "auto_provision.server.",
)


@dataclass(frozen=True)
class Account:
    position: int
    enabled: bool
    label: str
    display_name: str
    user_name: str
    password: str
    server: str
    port: int
    transport: str
    outbound_proxy: str = ""
    outbound_port: int = 5060
    voicemail_number: str = ""
    shared: bool = False


@dataclass(frozen=True)
class Key:
    kind: str  # one of KEY_TYPES
    value: str
    label: str
    line: int = 1
    position: int | None = None  # the line key number; None = the next one


@dataclass(frozen=True)
class PhoneSpec:
    mac: str
    model: PhoneModel
    generation: Generation
    domain: str
    accounts: tuple[Account, ...]
    keys: tuple[Key, ...]
    time_zone: str
    action_url_base: str  # …/ns-api/hooks/yealink/<mac>/<token>
    control_ips: tuple[str, ...]
    provisioning_url: str
    resync_minutes: int
    web_password: str
    overrides: tuple[tuple[str, str], ...] = field(default=())


def override_problem(key: str, value: str) -> str | None:
    """Why an override is refused, or None. Values are one line; keys look like Yealink's."""
    if not OVERRIDE_KEY.fullmatch(key):
        return f"'{key}' is not a phone setting name (letters, digits, '.', '_', '-')"
    # Matched in any case: nothing says every firmware reads key names case-sensitively.
    if key.lower().startswith(RESERVED_PREFIXES):
        return (
            f"'{key}' is managed by the platform (action URLs, web credentials, control IPs, "
            "provisioning server)"
        )
    if any(c in value for c in "\r\n\0"):
        return f"the value of '{key}' must be a single line"
    if len(value) > 1024:
        return f"the value of '{key}' is longer than 1024 characters"
    return None


def action_url(base: str, event: events.PhoneEvent) -> str:
    query = "&".join(f"{name}=${name}" for name in event.variables)
    return f"{base}/{event.name}?{query}"


@functools.cache
def _action_urls(generation: Generation) -> tuple[tuple[str, str], ...]:
    """Each configured event's setting and what follows the phone's base in its URL: the same
    for every phone of the generation (they are most of a file's text)."""
    return tuple(
        (setting, action_url("", event))
        for event in events.EVENTS.values()
        if (setting := event.key(generation))
    )


def _lines(pairs: Iterable[tuple[str, object]]) -> list[str]:
    return [f"{k} = {v}" for k, v in pairs]


@functools.lru_cache(maxsize=1024)
def _zone(name: str) -> tuple[str, int]:
    """Yealink's `local_time.time_zone` (standard offset, e.g. +1 or -5:30) and whether the
    zone keeps daylight saving time (then the phone applies it automatically, by its rules)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(name)
    january = datetime(2026, 1, 15, tzinfo=zone).utcoffset() or timedelta()
    july = datetime(2026, 7, 15, tzinfo=zone).utcoffset() or timedelta()
    standard = min(january, july)
    minutes = int(standard.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    text = f"{sign}{hours}" + (f":{rest:02d}" if rest else "")
    return text, int(january != july)


def _account(a: Account, generation: Generation) -> list[str]:
    p = f"account.{a.position}"
    pairs: list[tuple[str, object]] = [
        (f"{p}.enable", int(a.enabled)),
        (f"{p}.label", a.label),
        (f"{p}.display_name", a.display_name),
        (f"{p}.auth_name", a.user_name),
        (f"{p}.user_name", a.user_name),
        (f"{p}.password", a.password),
    ]
    transport = TRANSPORTS[a.transport]
    if generation == "v8x":
        pairs += [
            (f"{p}.sip_server.1.address", a.server),
            (f"{p}.sip_server.1.port", a.port),
            (f"{p}.sip_server.1.transport_type", transport),
            (f"{p}.sip_server.1.expires", 3600),
        ]
        if a.outbound_proxy:
            pairs += [
                (f"{p}.outbound_proxy_enable", 1),
                (f"{p}.outbound_proxy.1.address", a.outbound_proxy),
                (f"{p}.outbound_proxy.1.port", a.outbound_port),
            ]
    else:
        pairs += [
            (f"{p}.sip_server_host", a.server),
            (f"{p}.sip_server_port", a.port),
            (f"{p}.transport", transport),
            (f"{p}.expires", 3600),
        ]
        if a.outbound_proxy:
            pairs += [
                (f"{p}.outbound_proxy_enable", 1),
                (f"{p}.outbound_host", a.outbound_proxy),
                (f"{p}.outbound_port", a.outbound_port),
            ]
    pairs += [
        (f"{p}.subscribe_mwi", int(bool(a.voicemail_number))),
        (f"{p}.subscribe_mwi_to_vm", int(bool(a.voicemail_number))),
        (f"{p}.shared_line", int(a.shared)),
        (f"{p}.nat.udp_update_enable", 3),
        (f"{p}.dtmf.type", 1),
    ]
    if a.voicemail_number:
        pairs.append((f"voice_mail.number.{a.position}", a.voicemail_number))
    return _lines(pairs)


def phone_file(spec: PhoneSpec) -> str:
    """`<mac>.cfg`: accounts, keys, time, control, re-provisioning, action URLs, overrides."""
    static = "static." if spec.generation == "v8x" else ""
    out = [
        HEADER,
        f"## celitoVoice: phone {spec.mac} ({spec.model.name}) of {spec.domain}.",
        "## Generated by the platform; change it through the API, not here.",
    ]
    for account in spec.accounts:
        out += _account(account, spec.generation)
    for n, key in enumerate(spec.keys, start=1):
        n = key.position or n
        out += _lines(
            [
                (f"linekey.{n}.type", KEY_TYPES[key.kind]),
                (f"linekey.{n}.line", key.line),
                (f"linekey.{n}.value", key.value),
                (f"linekey.{n}.label", key.label),
            ]
        )
    offset, dst = _zone(spec.time_zone)
    out += _lines(
        [
            ("local_time.time_zone", offset),
            ("local_time.summer_time", 2 if dst else 0),
            ("local_time.ntp_server1", "pool.ntp.org"),
            ("features.action_uri.enable", 1),
            ("features.action_uri_limit_ip", ",".join(spec.control_ips)),
            ("features.show_action_uri_option", 0),
            ("sip.notify_reboot_enable", 0),
            (f"{static}security.user_name.admin", "admin"),
            (f"{static}security.user_password", f"admin:{spec.web_password}"),
            (f"{static}auto_provision.server.url", spec.provisioning_url),
            (f"{static}auto_provision.repeat.enable", int(spec.resync_minutes > 0)),
            (f"{static}auto_provision.repeat.minutes", max(spec.resync_minutes, 1)),
        ]
    )
    base = spec.action_url_base
    out += [f"{setting} = {base}{rest}" for setting, rest in _action_urls(spec.generation)]
    if spec.overrides:
        out.append("## overrides (domain, then phone)")
        out += _lines(spec.overrides)
    return "\n".join(out) + "\n"


def common_file(model: PhoneModel) -> str:
    """`y0000000000XX.cfg`: tenant-free defaults for the model; the phone file overrides it."""
    static = "static." if model.generation == "v8x" else ""
    return (
        "\n".join(
            [
                HEADER,
                f"## celitoVoice: common settings for Yealink {model.family} ({model.code}).",
                *_lines(
                    [
                        (f"{static}auto_provision.pnp_enable", 0),
                        (f"{static}auto_provision.custom.protect", 1),
                        ("features.show_action_uri_option", 0),
                        ("sip.notify_reboot_enable", 0),
                        ("features.dnd.enable", 1),
                        ("call_waiting.enable", 1),
                    ]
                ),
            ]
        )
        + "\n"
    )


def boot_file(mac: str, model: PhoneModel) -> str:
    """`<mac>.boot` (V8x): the common file, then the phone's own, later one wins."""
    return "\n".join(
        [HEADER, f'include:config "{model.common_file}"', f'include:config "{mac}.cfg"', ""]
    )


def md5(text: str | bytes) -> str:
    """The digest a phone compares to skip unchanged files; stored to know when to resync.
    Given the bytes served, it spares encoding the file a second time."""
    data = text.encode() if isinstance(text, str) else text
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def merged_overrides(*layers: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    merged: dict[str, str] = {}
    for layer in layers:
        merged.update(layer)
    return tuple(sorted(merged.items()))
