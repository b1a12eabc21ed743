"""The Yealink phone emulator (tests/support/yealink_phone) against servers written here.

The provisioning server checks Digest answers with its own code, the Action URL listener is a raw
socket (so it sees the exact bytes), and the phone's web server is called with httpx's Digest,
so each side of the emulator meets an implementation that is not its own.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.live import free_port
from tests.support.yealink_phone import YealinkPhone, ip_allowed, parse_cfg
from tests.support.yealink_phone.action_url import URL_LIMIT

ROOT = Path(__file__).resolve().parents[2]
MAC = "001565aabbcc"
HEADER = "#!version:1.0.0.1"
PROV_USER, PROV_PASSWORD = "phone-1", "Prov-" + secrets.token_hex(4)
WEB_PASSWORD = "Web-" + secrets.token_hex(4)


def cfg(*lines: str) -> bytes:
    return "\n".join([HEADER, *lines, ""]).encode()


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class ProvisioningServer:
    """Serves canned files under /cfg/ behind Digest (or Basic) auth, recording each request."""

    def __init__(self, scheme: str = "digest") -> None:
        self.scheme = scheme
        self.files: dict[str, bytes] = {}
        self.requests: list[dict[str, str]] = []
        self.realm, self.nonce = "celito-cfg", secrets.token_hex(8)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                auth = self.headers.get("Authorization", "")
                outer.requests.append(
                    {"path": self.path, "ua": self.headers.get("User-Agent", ""), "auth": auth}
                )
                if not outer.authorized(auth, self.path):
                    self.send_response(401)
                    challenge = (
                        f'Basic realm="{outer.realm}"'
                        if outer.scheme == "basic"
                        else f'Digest realm="{outer.realm}", nonce="{outer.nonce}", qop="auth"'
                    )
                    self.send_header("WWW-Authenticate", challenge)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = outer.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/cfg/"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def authorized(self, header: str, path: str) -> bool:
        if self.scheme == "basic":
            import base64

            return (
                header
                == "Basic " + base64.b64encode(f"{PROV_USER}:{PROV_PASSWORD}".encode()).decode()
            )
        if not header.startswith("Digest "):
            return False
        p = dict(re.findall(r'(\w+)="?([^",]*)"?', header[len("Digest ") :]))
        ha1 = _md5(f"{PROV_USER}:{self.realm}:{PROV_PASSWORD}")
        ha2 = _md5(f"GET:{path}")
        expected = _md5(f"{ha1}:{self.nonce}:{p.get('nc')}:{p.get('cnonce')}:auth:{ha2}")
        return (
            p.get("username") == PROV_USER
            and p.get("uri") == path
            and p.get("qop") == "auth"
            and p.get("response") == expected
        )

    def put(self, name: str, body: bytes) -> None:
        self.files[f"/cfg/{name}"] = body

    def paths(self) -> list[str]:
        """Requested paths, one per file (the unauthenticated first try of each is left out)."""
        return [r["path"] for r in self.requests if r["auth"]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RawListener:
    """Receives Action URL requests on a plain socket and keeps their bytes untouched."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.received.append(data)
                head = f"HTTP/1.1 {self.status} X\r\nContent-Length: 0\r\nConnection: close"
                conn.sendall(head.encode() + b"\r\n\r\n")

    def request_lines(self) -> list[bytes]:
        return [r.split(b"\r\n", 1)[0] for r in self.received]

    def close(self) -> None:
        self.sock.close()


@pytest.fixture()
def prov() -> Iterator[ProvisioningServer]:
    server = ProvisioningServer()
    yield server
    server.close()


@pytest.fixture()
def listener() -> Iterator[RawListener]:
    server = RawListener()
    yield server
    server.close()


@pytest.fixture()
def phones() -> Iterator[list[YealinkPhone]]:
    made: list[YealinkPhone] = []
    yield made
    for phone in made:
        phone.close()


def make_phone(
    phones: list[YealinkPhone], prov: ProvisioningServer, mac: str = MAC, **options: Any
) -> YealinkPhone:
    phone = YealinkPhone(
        mac,
        provisioning_url=prov.url,
        username=PROV_USER,
        password=PROV_PASSWORD,
        action_url_timeout=3,
        **options,
    )
    phones.append(phone)
    return phone


def v8x_mac_cfg(listener: RawListener, *extra: str, query: str = "") -> bytes:
    """Two accounts (the second disabled), Action URI open to loopback, every event's URL."""
    events = [
        "setup_completed", "setup_autop_finish", "registered", "unregistered", "register_failed",
        "incoming_call", "outgoing_call", "call_established", "call_terminated", "off_hook",
        "on_hook", "idle_to_busy", "busy_to_idle", "hold", "unhold", "mute", "unmute", "dnd_on",
        "dnd_off", "always_fwd_on", "always_fwd_off", "missed_call", "call_remote_canceled",
        "reject_incoming_call", "cancel_callout", "remote_busy", "handfree",
    ]  # fmt: skip
    q = query or "mac=$mac&user=$active_user&cid=$call_id&num=$calledNumber&dir=$callDirection"
    return cfg(
        "account.1.enable = 1",
        "account.1.user_name = 1001",
        "account.1.display_name = Front Desk",
        "account.1.sip_server.1.address = pbx.example",
        "account.2.enable = 0",
        "account.2.user_name = 1002",
        "static.security.user_name.admin = admin",
        f"static.security.user_password = admin:{WEB_PASSWORD}",
        "static.security.user_password = user:other",
        "features.action_uri_limit_ip = 127.0.0.1",
        "features.show_action_uri_option = 0",
        *[f"action_url.{e} = {listener.base}/{e}?{q}" for e in events],
        *extra,
    )


def events_of(phone: YealinkPhone) -> list[str]:
    return [r.event for r in phone.fired()]


# provisioning ----------------------------------------------------------------------------


def test_v8x_without_boot_files_asks_for_the_legacy_pair_with_digest(
    prov: ProvisioningServer, phones: list[YealinkPhone]
) -> None:
    prov.put("y000000000066.cfg", cfg("features.text = common", "lang.gui = English"))
    prov.put(f"{MAC}.cfg", cfg("features.text = mac"))
    phone = make_phone(phones, prov)
    fetches = phone.provision()

    assert [(f.name, f.status) for f in fetches] == [
        (f"{MAC}.boot", 404),
        ("y000000000000.boot", 404),
        ("y000000000066.cfg", 200),
        (f"{MAC}.cfg", 200),
    ]
    assert prov.paths() == [f"/cfg/{f.name}" for f in fetches]
    # The phone waits to be challenged, then answers with Digest, with its own User-Agent.
    assert [bool(r["auth"]) for r in prov.requests[:2]] == [False, True]
    assert {r["ua"] for r in prov.requests} == {"Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc"}
    assert prov.requests[1]["auth"].startswith("Digest ")
    assert phone.config.get("features.text") == "mac"
    assert phone.config.get("lang.gui") == "English"
    assert fetches[2].md5 == hashlib.md5(prov.files["/cfg/y000000000066.cfg"]).hexdigest()


def test_v7x_asks_for_its_model_file_then_the_mac_file_and_answers_basic(
    phones: list[YealinkPhone],
) -> None:
    prov = ProvisioningServer(scheme="basic")
    try:
        prov.put("y000000000028.cfg", cfg("account.1.enable = 1"))
        phone = make_phone(
            phones, prov, mac="00:15:65:AA:BB:CC", model="T46G", firmware="28.73.0.50",
            generation="v7x",
        )  # fmt: skip
        fetches = phone.provision()
        assert [(f.name, f.status) for f in fetches] == [
            ("y000000000028.cfg", 200),
            (f"{MAC}.cfg", 404),
        ]
        assert prov.requests[1]["auth"].startswith("Basic ")
        assert prov.requests[1]["ua"] == "Yealink SIP-T46G 28.73.0.50 00:15:65:aa:bb:cc"
    finally:
        prov.close()


def test_boot_file_includes_are_fetched_in_order_and_later_files_win(
    prov: ProvisioningServer, phones: list[YealinkPhone]
) -> None:
    other = ProvisioningServer()
    try:
        other.put("override.cfg", cfg("features.text = absolute", "features.only_abs = 1"))
        prov.put(
            f"{MAC}.boot",
            "\n".join(
                [
                    HEADER,
                    "# the common file, then a sub-folder, then another server",
                    'include:config "y000000000066.cfg"',
                    'include:config "site/extra.cfg"',
                    f'include:config "{other.url}override.cfg"',
                    "",
                ]
            ).encode(),
        )
        prov.put("y000000000066.cfg", cfg("features.text = common", "features.keep = common"))
        prov.files["/cfg/site/extra.cfg"] = cfg("features.text = extra")
        prov.put("y000000000000.boot", cfg())  # must not be asked for
        phone = make_phone(phones, prov)
        fetches = phone.provision()
        assert [f.url for f in fetches] == [
            f"{prov.url}{MAC}.boot",
            f"{prov.url}y000000000066.cfg",
            f"{prov.url}site/extra.cfg",
            f"{other.url}override.cfg",
        ]
        assert [f.applied for f in fetches] == [False, True, True, True]
        assert phone.config.get("features.text") == "absolute"
        assert phone.config.get("features.keep") == "common"
        assert other.paths() == ["/cfg/override.cfg"]
    finally:
        other.close()


def test_common_boot_file_is_used_when_the_mac_boot_file_is_missing(
    prov: ProvisioningServer, phones: list[YealinkPhone]
) -> None:
    prov.put("y000000000000.boot", f'{HEADER}\ninclude:config "{MAC}.cfg"\n'.encode())
    prov.put(f"{MAC}.cfg", cfg("features.text = via common boot"))
    phone = make_phone(phones, prov)
    assert [(f.name, f.status) for f in phone.provision()] == [
        (f"{MAC}.boot", 404),
        ("y000000000000.boot", 200),
        (f"{MAC}.cfg", 200),
    ]
    assert phone.config.get("features.text") == "via common boot"


@pytest.mark.parametrize(
    "body",
    [
        b"\xef\xbb\xbf" + cfg("features.text = bom"),
        b"\n" + cfg("features.text = blank first line"),
        cfg("features.text = x").replace(HEADER.encode(), b"#!version:1.0.0.1 "),
        cfg("features.text = x").replace(HEADER.encode(), b"#!version:1.0.0.2"),
        b"features.text = no header\n",
    ],
    ids=["bom", "blank-line", "trailing-space", "other-version", "missing"],
)
def test_a_file_whose_first_line_is_not_exactly_the_header_is_rejected(
    prov: ProvisioningServer, phones: list[YealinkPhone], body: bytes
) -> None:
    prov.put("y000000000066.cfg", body)
    prov.put(f"{MAC}.cfg", cfg("features.other = applied"))
    phone = make_phone(phones, prov)
    common = phone.provision()[2]
    assert common.status == 200 and not common.applied
    assert common.error is not None and "not '#!version:1.0.0.1'" in common.error
    assert "features.text" not in phone.config.values
    assert phone.config.get("features.other") == "applied"


def test_cfg_values_null_blank_comments_and_junk_lines(
    prov: ProvisioningServer, phones: list[YealinkPhone]
) -> None:
    prov.put(
        "y000000000066.cfg",
        cfg("a.keep = common", "a.blank_me = common", "a.null_me = common", "b.x=1"),
    )
    prov.put(
        f"{MAC}.cfg",
        cfg(
            "# a comment = not a setting",
            "a.keep =",
            "a.null_me = %NULL%",
            "this line has no equals sign",
            "   ",
            "a.spaced   =   value with  spaces  ",
            "a.url = http://x/y?a=1&b=2",
        ).replace(b"\n", b"\r\n"),
    )
    phone = make_phone(phones, prov)
    mac_fetch = phone.provision()[3]
    values = phone.config.values
    assert values["a.keep"] == "common"  # empty value leaves it alone
    assert values["a.null_me"] == ""  # %NULL% blanks it
    assert values["a.spaced"] == "value with  spaces"
    assert values["a.url"] == "http://x/y?a=1&b=2"
    assert values["b.x"] == "1"
    assert "# a comment" not in values
    assert mac_fetch.ignored_lines == ["this line has no equals sign"]


def test_overwrite_mode_resets_what_is_no_longer_provisioned(
    prov: ProvisioningServer, phones: list[YealinkPhone]
) -> None:
    prov.put(f"{MAC}.boot", f'{HEADER}\ninclude:config "{MAC}.cfg"\n'.encode())
    prov.put(f"{MAC}.cfg", cfg("a.one = 1", "a.two = 2"))
    phone = make_phone(phones, prov)
    phone.provision()
    prov.put(f"{MAC}.boot", f'{HEADER}\ninclude:config "{MAC}.cfg"\noverwrite_mode = 1\n'.encode())
    prov.put(f"{MAC}.cfg", cfg("a.one =", "a.three = 3"))
    phone.provision()
    assert phone.config.values == {"a.three": "3"}


def test_unchanged_files_are_not_applied_again_and_a_change_reapplies_in_order(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    prov.put("y000000000066.cfg", cfg("features.text = common", "lang.gui = English"))
    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener, "features.text = mac"))
    phone = make_phone(phones, prov)
    first = phone.provision()
    assert [f.applied for f in first[2:]] == [True, True]

    phone.config.values["features.text"] = "changed on the phone"
    second = phone.provision()
    assert [(f.unchanged, f.applied) for f in second[2:]] == [(True, False), (True, False)]
    assert phone.config.get("features.text") == "changed on the phone"

    # The common file changes: both are applied again, so the MAC file still wins.
    prov.put("y000000000066.cfg", cfg("features.text = common 2", "lang.gui = German"))
    third = phone.provision()
    assert [(f.unchanged, f.applied) for f in third[2:]] == [(False, True), (True, True)]
    assert phone.config.get("features.text") == "mac"
    assert phone.config.get("lang.gui") == "German"
    # Every run ends with setup_autop_finish; setup_completed and registration only at boot.
    assert events_of(phone) == [
        "setup_autop_finish", "setup_completed", "registered",
        "setup_autop_finish", "setup_autop_finish",
    ]  # fmt: skip


def test_wrong_credentials_apply_nothing(
    prov: ProvisioningServer, phones: list[YealinkPhone]
) -> None:
    prov.put(f"{MAC}.cfg", cfg("features.text = secret"))
    phone = YealinkPhone(MAC, provisioning_url=prov.url, username=PROV_USER, password="wrong")
    phones.append(phone)
    fetches = phone.provision()
    assert {f.status for f in fetches} == {401}
    assert phone.config.values == {}


def test_credentials_in_the_provisioning_url(
    prov: ProvisioningServer, phones: list[YealinkPhone]
) -> None:
    prov.put(f"{MAC}.cfg", cfg("features.text = ok"))
    url = prov.url.replace("http://", f"http://{PROV_USER}:{PROV_PASSWORD}@")
    phone = YealinkPhone(MAC, provisioning_url=url)
    phones.append(phone)
    phone.provision()
    assert phone.config.get("features.text") == "ok"
    assert phone.provisioning_url == prov.url


# Action URL -------------------------------------------------------------------------------


def test_boot_fires_autop_finish_setup_completed_and_registered_per_enabled_account(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    prov.put(
        f"{MAC}.cfg",
        v8x_mac_cfg(
            listener,
            "account.3.enable = 1",
            "account.3.user_name = 1003",
            "account.3.sip_server.1.address = pbx.example",
        ),
    )
    phone = make_phone(phones, prov)
    phone.provision()
    assert events_of(phone) == [
        "setup_autop_finish", "setup_completed", "registered", "registered"
    ]  # fmt: skip
    assert listener.request_lines()[2:] == [
        b"GET /registered?mac=001565aabbcc&user=1001&cid=&num=&dir=unknown HTTP/1.1",
        b"GET /registered?mac=001565aabbcc&user=1003&cid=&num=&dir=unknown HTTP/1.1",
    ]
    assert all(r.status == 200 and r.error is None for r in phone.fired())
    assert phone.registered == {1: True, 3: True}


def test_register_failure_and_v7x_key_names(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    prov.put(
        "y000000000028.cfg",
        cfg(
            "account.1.enable = 1",
            "account.1.user_name = 1001",
            "account.1.sip_server_host = pbx7.example",
            f"action_url.log_on = {listener.base}/on?host=$active_host",
            f"action_url.register_failed = {listener.base}/failed?host=$active_host",
            f"action_url.registered = {listener.base}/v8x-name-ignored",
            f"action_url.setup_autop_finish = {listener.base}/not-on-v7x",
            f"action_url.setup_completed = {listener.base}/setup",
        ),
    )
    phone = make_phone(phones, prov, model="T46G", generation="v7x")
    phone.provision()
    assert listener.request_lines() == [
        b"GET /setup HTTP/1.1",
        b"GET /on?host=pbx7.example HTTP/1.1",
    ]
    phone.register_ok = False
    phone.reboot()
    assert listener.request_lines()[-1] == b"GET /failed?host=pbx7.example HTTP/1.1"
    assert phone.registered == {1: False}


def test_account_changes_on_autop_unregister_and_register(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener))
    phone = make_phone(phones, prov)
    phone.provision()
    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener, "account.1.user_name = 1009"))
    phone.autop()
    assert events_of(phone)[3:] == ["setup_autop_finish", "unregistered", "registered"]
    assert b"user=1009" in listener.request_lines()[-1]


def test_values_arrive_raw_and_unencoded_in_the_request_line(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    template = f"  127.0.0.1:{listener.port}/in?from=$remote&name=$display_remote#$call_id  "
    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener, f"action_url.incoming_call = {template}"))
    phone = make_phone(phones, prov)
    phone.provision()
    call = phone.incoming_call("+4930123", "John Doe & Co Zoë")
    assert call is not None
    expected = (
        f"GET /in?from=sip:+4930123@pbx.example&name=John Doe & Co Zoë#{call.id} HTTP/1.1"
    ).encode()
    assert listener.request_lines()[-2] == expected  # idle_to_busy came after it
    record = phone.fired("incoming_call")[0]
    assert record.url is not None and record.url.startswith("http://127.0.0.1:")
    assert listener.received[-2].split(b"\r\n")[1] == f"Host: 127.0.0.1:{listener.port}".encode()


def test_action_urls_are_cut_at_511_bytes(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    template = f"{listener.base}/long?name=$display_remote"
    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener, f"action_url.incoming_call = {template}"))
    phone = make_phone(phones, prov)
    phone.provision()
    phone.incoming_call("1002", "N" * 600)
    record = phone.fired("incoming_call")[0]
    assert len(record.raw_url) == URL_LIMIT == 511
    target = record.raw_url.removeprefix(listener.base.encode())
    assert listener.request_lines()[-2] == b"GET " + target + b" HTTP/1.1"


def test_an_unreachable_receiver_is_recorded_and_not_retried(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    dead = free_port()
    prov.put(
        f"{MAC}.cfg",
        v8x_mac_cfg(listener, f"action_url.dnd_on = http://127.0.0.1:{dead}/dnd"),
    )
    phone = make_phone(phones, prov)
    phone.provision()
    listener.status = 503
    phone.dnd(True)
    phone.dnd(False)
    on, off = phone.fired("dnd_on")[0], phone.fired("dnd_off")[0]
    assert on.status is None and on.error is not None and "Refused" in on.error
    assert off.status == 503 and off.error is None
    assert len(phone.fired("dnd_on")) == 1


def test_incoming_call_answered_and_hung_up(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener))
    phone = make_phone(phones, prov)
    phone.provision()
    before = len(listener.received)
    call = phone.incoming_call("1002", "Jane Doe")
    assert call is not None
    phone.answer()
    phone.hang_up()
    assert events_of(phone)[3:] == [
        "incoming_call", "idle_to_busy", "off_hook", "call_established", "call_terminated",
        "busy_to_idle", "on_hook",
    ]  # fmt: skip
    lines = listener.request_lines()[before:]
    tail = f"cid={call.id}&num=1002&dir=in HTTP/1.1".encode()
    assert lines[0] == b"GET /incoming_call?mac=001565aabbcc&user=1001&" + tail
    assert lines[3].endswith(tail) and lines[4].endswith(tail)
    assert lines[2] == b"GET /off_hook?mac=001565aabbcc&user=1001&cid=&num=&dir=unknown HTTP/1.1"
    assert phone.calls == []


def test_outgoing_call_hold_mute_and_the_remote_hanging_up(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener, query="cid=$call_id&dur=$duration"))
    phone = make_phone(phones, prov)
    phone.provision()
    call = phone.dial("1002")
    assert call.state == "dialing"
    phone.remote_answers()
    phone.mute()
    phone.hold()
    phone.unhold()
    phone.remote_hang_up()
    assert events_of(phone)[3:] == [
        "off_hook", "outgoing_call", "idle_to_busy", "call_established", "mute", "hold",
        "unhold", "call_terminated", "busy_to_idle",
    ]  # fmt: skip
    assert phone.off_hook  # the handset is still in the hand
    terminated = phone.fired("call_terminated")[0]
    assert terminated.url is not None and re.search(rf"cid={call.id}&dur=\d+$", terminated.url)


def test_missed_rejected_cancelled_and_busy_calls(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener))
    phone = make_phone(phones, prov)
    phone.provision()
    phone.missed_call("1002", "Jane")
    phone.incoming_call("1003")
    phone.reject()
    phone.dial("1004", handset=False)
    phone.hang_up(handset=False)
    phone.dial("1005", handset=False)
    phone.remote_busy()
    assert events_of(phone)[3:] == [
        "incoming_call", "idle_to_busy", "call_remote_canceled", "missed_call", "busy_to_idle",
        "incoming_call", "idle_to_busy", "reject_incoming_call", "busy_to_idle",
        "outgoing_call", "idle_to_busy", "cancel_callout", "busy_to_idle",
        "outgoing_call", "idle_to_busy", "remote_busy", "busy_to_idle",
    ]  # fmt: skip


def test_dnd_and_forwarding_turn_calls_away(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    prov.put(
        f"{MAC}.cfg",
        v8x_mac_cfg(
            listener,
            f"action_url.always_fwd_on = {listener.base}/fwd?line=$fwd_line&to=$target",
        ),
    )
    phone = make_phone(phones, prov)
    phone.provision()
    assert phone.dnd(True) and not phone.dnd(True)
    assert phone.incoming_call("1002") is None
    phone.dnd(False)
    phone.forward("always", "+15551234")
    assert phone.incoming_call("1002") is None
    phone.forward("always", None)
    assert events_of(phone)[3:] == ["dnd_on", "dnd_off", "always_fwd_on", "always_fwd_off"]
    assert listener.request_lines()[-2] == b"GET /fwd?line=1&to=+15551234 HTTP/1.1"


def test_fire_by_hand_fills_the_call_variables(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    query = "l=$local&r=$remote&d=$display_remote&c=$callerID&n=$calledNumber&dl=$display_local"
    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener, query=query))
    phone = make_phone(phones, prov)
    phone.provision()
    phone.fire("call_established", remote="1002", display="Jane Doe", call_id=7)
    assert listener.request_lines()[-1] == (
        b"GET /call_established?l=sip:1001@pbx.example&r=sip:1002@pbx.example&d=Jane Doe"
        b"&c=Jane Doe&n=1002&dl=Front Desk HTTP/1.1"
    )
    with pytest.raises(ValueError, match="unknown Yealink action URL event"):
        phone.fire("forward_on")


def test_parse_cfg_keeps_repeated_keys_in_order() -> None:
    parsed = parse_cfg(cfg("static.security.user_password = admin:a", "x = 1", "y"))
    assert parsed.entries == [("static.security.user_password", "admin:a"), ("x", "1")]
    assert parsed.ignored == ["y"]


# Action URI -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("allow_list", "ip", "allowed"),
    [
        ("", "127.0.0.1", False),
        ("127.0.0.1", "127.0.0.1", True),
        ("10.0.0.5, 127.0.0.1", "127.0.0.1", True),
        ("127.0.*.*", "127.0.9.1", True),
        ("127.0.*.*", "127.1.0.1", False),
        ("127.0.0.0/8", "127.0.0.1", False),
        ("localhost", "127.0.0.1", False),
        ("any", "203.0.113.9", True),
        ("127.0.0", "127.0.0.1", False),
    ],
)
def test_the_action_uri_allow_list(allow_list: str, ip: str, allowed: bool) -> None:
    assert ip_allowed(allow_list, ip) is allowed


def servlet(
    phone: YealinkPhone,
    key: str | None = None,
    *,
    password: str = WEB_PASSWORD,
    source: str = "127.0.0.1",
    path: str = "/servlet",
    query: str | None = None,
    basic: bool = False,
    timeout: float = 5,
) -> httpx.Response:
    auth: httpx.Auth = (
        httpx.BasicAuth("admin", password) if basic else httpx.DigestAuth("admin", password)
    )
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(auth=auth, transport=transport, timeout=timeout) as client:
        response = client.get(
            f"{phone.web_url}{path}?" + (query if query is not None else f"key={key}")
        )
    # The phone answers before it acts; let it finish so the test sees the effect.
    phone.wait_servlet()
    return response


@pytest.fixture()
def phone(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> YealinkPhone:
    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener))
    made = make_phone(phones, prov)
    made.provision()
    return made


def test_servlet_needs_digest_with_the_provisioned_web_password(phone: YealinkPhone) -> None:
    bare = httpx.get(f"{phone.web_url}/servlet?key=DNDOn", timeout=5)
    phone.wait_servlet()
    assert bare.status_code == 401
    assert bare.headers["www-authenticate"].startswith("Digest ")
    assert servlet(phone, "DNDOn", password="admin").status_code == 401
    assert servlet(phone, "DNDOn", basic=True).status_code == 401  # Digest only
    assert not phone.dnd_enabled
    assert servlet(phone, "DNDOn").status_code == 200
    assert phone.dnd_enabled
    # httpx's Digest asks without credentials first, as browsers do; Basic sends them at once.
    assert [(r.user, r.status) for r in phone.servlet_requests] == [(None, 401)] * 5 + [
        ("admin", 200)
    ]


def test_servlet_basic_option_and_legacy_path(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener))
    phone = make_phone(phones, prov, basic=True)
    phone.provision()
    response = servlet(phone, "DNDOn", basic=True, path="/cgi-bin/ConfigManApp.com")
    assert response.status_code == 200 and phone.dnd_enabled
    assert servlet(phone, "DNDOff", path="/other").status_code == 404


def test_servlet_allow_list_and_enable_switch(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener))
    phone = make_phone(phones, prov)
    phone.provision()
    refused = servlet(phone, "DNDOn", source="127.0.0.2")
    assert refused.status_code == 403 and not phone.dnd_enabled
    assert phone.servlet_requests[-1].source_ip == "127.0.0.2"

    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener, "features.action_uri_limit_ip = 127.0.0.*"))
    phone.autop()
    assert servlet(phone, "DNDOn", source="127.0.0.2").status_code == 200 and phone.dnd_enabled

    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener, "features.action_uri_limit_ip = %NULL%"))
    phone.autop()
    assert servlet(phone, "DNDOff").status_code == 403

    prov.put(
        f"{MAC}.cfg",
        v8x_mac_cfg(
            listener, "features.action_uri_limit_ip = any", "features.action_uri.enable = 0"
        ),
    )
    phone.autop()
    assert servlet(phone, "DNDOff").status_code == 403 and phone.dnd_enabled


def test_the_first_request_from_a_new_address_waits_for_ok(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    prov.put(
        f"{MAC}.cfg",
        v8x_mac_cfg(listener, "features.show_action_uri_option = 1"),
    )
    phone = make_phone(phones, prov)
    phone.provision()
    assert servlet(phone, "number=1002").status_code == 200
    assert phone.calls == [] and len(phone.pending) == 1
    assert phone.servlet_requests[-1].result.startswith("pending")
    [approved] = phone.press_ok()
    assert approved.result.startswith("dialed 1002")
    assert [c.remote_user for c in phone.calls] == ["1002"]
    servlet(phone, "CALLEND")  # the address is trusted now
    assert phone.calls == []


def test_keys_drive_the_call_and_fire_action_urls(
    phone: YealinkPhone, listener: RawListener
) -> None:
    assert servlet(phone, "number=1002").status_code == 200
    assert phone.wait_servlet().result == "dialed 1002 on account 1 (call 1)"
    outgoing = phone.fired("outgoing_call")[0]
    assert outgoing.url is not None and outgoing.url.endswith("num=1002&dir=out")
    phone.remote_answers()
    servlet(phone, "HOLD:1")
    phone.wait_fired("hold")
    servlet(phone, "UNHOLD:1")
    phone.wait_fired("unhold")
    servlet(phone, "CANCEL:1")
    phone.wait_fired("call_terminated")
    # Through Action URI the phone uses the speaker: no hook events.
    assert events_of(phone)[3:] == [
        "outgoing_call", "idle_to_busy", "call_established", "hold", "unhold",
        "call_terminated", "busy_to_idle",
    ]  # fmt: skip

    call = phone.incoming_call("1003", "Ann")
    assert call is not None
    servlet(phone, f"ASW:{call.id}")
    phone.wait_fired("call_established", count=2)
    assert call.state == "connected"
    servlet(phone, "F_HOLD")
    phone.wait_fired("hold", count=2)
    servlet(phone, "F_HOLD")
    phone.wait_fired("unhold", count=2)
    servlet(phone, "MUTE")
    phone.wait_fired("mute")
    servlet(phone, "X")
    phone.wait_fired("call_terminated", count=2)
    assert phone.calls == []


def test_key_sequences_presses_and_unknown_keys(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener))
    phone = make_phone(phones, prov)
    phone.provision()
    servlet(phone, "F1;DOWN;2;L27;OK")
    assert phone.key_presses == ["F1", "DOWN", "2", "L27", "OK"]
    servlet(phone, "L28")
    assert phone.servlet_requests[-1].result == "ignored: unknown key 'L28'"
    servlet(phone, "SPEAKER")
    assert events_of(phone)[-1] == "handfree"
    servlet(phone, "NOPE")
    assert phone.servlet_requests[-1].status == 200
    assert phone.key_presses == ["F1", "DOWN", "2", "L27", "OK", "SPEAKER"]


def test_touch_models_refuse_key_sequences(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener))
    phone = make_phone(phones, prov, model="T48S")
    phone.provision()
    assert [f.name for f in phone.fetches][2] == "y000000000065.cfg"
    servlet(phone, "F1;OK")
    assert phone.key_presses == []
    assert "touch" in phone.servlet_requests[-1].result


def test_phonecfg_get_reports_state(phone: YealinkPhone) -> None:
    servlet(phone, "DNDOn")
    report = servlet(phone, query="key=phonecfg=get&accounts=1&dnd=1")
    assert report.headers["content-type"] == "application/json"
    body = json.loads(report.text)
    assert body["accounts"] == [{"account": 1, "user": "1001", "registered": True}]
    assert body["dnd"] is True and "firmware" not in body


def test_reboot_and_autop_keys_provision_again(phone: YealinkPhone) -> None:
    fetched = len(phone.fetches)
    servlet(phone, "AutoP")
    phone.wait_fired("setup_autop_finish", count=2)
    servlet(phone, "Reboot")
    phone.wait_fired("registered", count=2)
    assert events_of(phone)[3:] == [
        "setup_autop_finish", "setup_autop_finish", "setup_completed", "registered",
    ]  # fmt: skip
    assert len(phone.fetches) == fetched * 3


def test_web_port_comes_from_the_provisioned_setting(
    prov: ProvisioningServer, phones: list[YealinkPhone], listener: RawListener
) -> None:
    port = free_port()
    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener, f"static.network.port.http = {port}"))
    phone = make_phone(phones, prov)
    phone.start()
    assert phone.web_port != port
    phone.provision()
    assert phone.web_port == port
    assert servlet(phone, "DNDOn").status_code == 200


def test_unresponsive_and_stopped_phones(phone: YealinkPhone) -> None:
    phone.unresponsive = True
    with pytest.raises(httpx.ReadTimeout):
        servlet(phone, "DNDOn", timeout=0.5)
    assert phone.servlet_requests[-1].result == "unanswered" and not phone.dnd_enabled
    phone.unresponsive = False
    phone.stopped = True
    with pytest.raises(httpx.ConnectError):
        servlet(phone, "DNDOn")
    phone.stopped = False
    assert servlet(phone, "DNDOn").status_code == 200


def test_command_line_provisions_and_fires(prov: ProvisioningServer, listener: RawListener) -> None:
    prov.put(f"{MAC}.cfg", v8x_mac_cfg(listener, query="name=$display_remote&num=$calledNumber"))
    command = [
        sys.executable, "-m", "tests.support.yealink_phone", "--url", prov.url,
        "--user", PROV_USER, "--password", PROV_PASSWORD, "--mac", MAC,
        "--event", "call_established", "--remote", "1002", "--display", "Jane Doe",
    ]  # fmt: skip
    result = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"fetch  200 {prov.url}{MAC}.cfg" in result.stdout
    assert "fired  call_established: GET " in result.stdout
    assert listener.request_lines()[-1] == b"GET /call_established?name=Jane Doe&num=1002 HTTP/1.1"


def test_a_taken_web_port_is_a_clear_error() -> None:
    """Two emulators of one phone: the file sets the same web port for both."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        phone = YealinkPhone(MAC, provisioning_url="http://127.0.0.1:9/cfg/", web_port=port)
        with pytest.raises(RuntimeError, match=f"127.0.0.1:{port}.*another emulator"):
            phone.start()
        phone.close()
