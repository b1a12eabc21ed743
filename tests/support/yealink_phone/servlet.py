"""The phone's web server as far as Action URI goes: `/servlet?key=…` (§3).

Gatekeeping follows §3.3/§3.4: `features.action_uri.enable`, the `features.action_uri_limit_ip`
allow-list, HTTP auth with the web admin credentials, and the "Allow remote control?" prompt of
`features.show_action_uri_option`. The phone answers before it acts, so the handler writes its
200 first and then performs the keys (which fire Action URLs).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from tests.support.yealink_phone.catalog import TOUCH_MODELS, line_keys
from tests.support.yealink_phone.httpauth import Authenticator

if TYPE_CHECKING:
    from tests.support.yealink_phone.phone import YealinkPhone

SERVLET_PATHS = ("/servlet", "/cgi-bin/ConfigManApp.com")
# The realm string of a real phone's web server is UNVERIFIED; clients take it from the challenge.
REALM = "Yealink"

# Keys that are only recorded as presses: navigation, digits, soft keys and the like (§3.2).
_PLAIN_KEYS = frozenset(
    {"UP", "DOWN", "LEFT", "RIGHT", "ENTER", "MSG", "RD", "VOLUME_UP", "VOLUME_DOWN"}
    | {"F1", "F2", "F3", "F4", "F_TRANSFER", "F_CONFERENCE", "POUND", "*"}
    | {str(digit) for digit in range(10)}
    | {f"D{n}" for n in range(1, 11)}
)
_LINE_KEY = re.compile(r"L([1-9][0-9]?)")


@dataclass
class ServletRequest:
    path: str
    query: str
    key: str
    params: dict[str, str]
    source_ip: str
    user: str | None = None
    status: int | None = None
    result: str = ""
    at: float = field(default_factory=time.time)
    done: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)


@dataclass
class WebSettings:
    enabled: bool
    allow_list: str
    prompt: bool
    admin_user: str
    admin_password: str


def ip_allowed(allow_list: str, ip: str) -> bool:
    """§3.3: comma-separated IPv4 literals, `*` standing for one octet, or `any`. A blank list
    allows nobody; host names and CIDR are not understood, so they match nothing."""
    octets = ip.split(".")
    for entry in (part.strip() for part in allow_list.split(",")):
        if entry.lower() == "any":
            return True
        pattern = entry.split(".")
        if (
            len(pattern) == 4
            and len(octets) == 4
            and all(p == "*" or p == o for p, o in zip(pattern, octets, strict=True))
        ):
            return True
    return False


def parse_query(query: str) -> dict[str, str]:
    # `key=number=1234&outgoing_uri=1001@pbx`: split on `&`, then at the first `=`. `+` stays a
    # plus (E.164 numbers); whether the phone reads it as a space is UNVERIFIED.
    params: dict[str, str] = {}
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name:
            params[unquote(name)] = unquote(value)
    return params


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], web: ActionUriServer) -> None:
        self.web = web
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.web.handle(self)

    def log_message(self, format: str, *args: object) -> None:
        return

    def reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == 401:
            self.send_header("WWW-Authenticate", self.server.web.auth.challenge())
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class ActionUriServer:
    def __init__(self, phone: YealinkPhone, ip: str, port: int, *, basic: bool) -> None:
        self.phone = phone
        self.ip = ip
        self.port = port
        self.auth = Authenticator(REALM, basic=basic)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        if self._server is not None:
            return
        self._closing.clear()
        try:
            self._server = _Server((self.ip, self.port), self)
        except OSError as exc:
            # Most often another emulator of the same phone: its file sets the port.
            raise RuntimeError(
                f"the phone's web server cannot listen on {self.ip}:{self.port} ({exc.strerror});"
                " is another emulator of this phone running?"
            ) from exc
        self.port = self._server.server_address[1]
        # A short poll keeps stop() (and a test's teardown) from waiting half a second.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="yealink-web", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._closing.set()  # releases the requests an unresponsive phone is sitting on
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def move(self, port: int) -> None:
        if port == self.port and self.running:
            return
        self.stop()
        self.port = port
        self.start()

    def handle(self, handler: _Handler) -> None:
        phone = self.phone
        parts = urlsplit(handler.path)
        params = parse_query(parts.query)
        request = ServletRequest(
            path=parts.path,
            query=parts.query,
            key=params.get("key", ""),
            params=params,
            source_ip=handler.client_address[0],
        )
        phone.servlet_requests.append(request)
        if phone.unresponsive:
            request.result = "unanswered"
            request.done.set()
            self._closing.wait()
            return
        status, body, content_type = self._gate(handler, request)
        request.status = status
        handler.reply(status, body, content_type)
        if status == 200 and not request.result:
            request.result = run_keys(phone, request.key, params)
        request.done.set()

    def _gate(self, handler: _Handler, request: ServletRequest) -> tuple[int, bytes, str]:
        """Status and body of the answer; leaves `request.result` empty when the keys are to be
        performed after answering."""
        phone = self.phone
        if request.path not in SERVLET_PATHS:
            request.result = "not found"
            return 404, b"Not Found", "text/plain"
        settings = phone.web_settings()
        if not settings.enabled:
            request.result = "refused: features.action_uri.enable = 0"
            return 403, b"Forbidden", "text/plain"
        # The allow-list is checked before credentials: a refused source learns nothing about
        # them. The order on a real phone is UNVERIFIED; both refusals happen either way.
        if not ip_allowed(settings.allow_list, request.source_ip):
            request.result = f"refused: {request.source_ip} not in features.action_uri_limit_ip"
            return 403, b"Forbidden", "text/plain"

        def password_of(user: str) -> str | None:
            return settings.admin_password if user == settings.admin_user else None

        request.user = self.auth.check(
            "GET", handler.path, handler.headers.get("Authorization"), password_of
        )
        if request.user is None:
            request.result = "unauthorized"
            return 401, b"Unauthorized", "text/plain"
        phonecfg = request.params.get("phonecfg") or _phonecfg(request.key)
        if phonecfg is not None:
            if phonecfg != "get":
                request.result = f"unsupported phonecfg={phonecfg}"
                return 400, b"Bad Request", "text/plain"
            request.result = "state reported"
            report = phone.state_report(request.params)
            return 200, json.dumps(report, indent=1).encode(), "application/json"
        if not request.key:
            request.result = "no key"
            return 400, b"Bad Request", "text/plain"
        if settings.prompt and not phone.remote_control_allowed(request.source_ip):
            phone.ask_remote_control(request)
            request.result = "pending: waiting for OK on the phone"
            return 200, b"OK", "text/plain"
        return 200, b"OK", "text/plain"


def _phonecfg(key: str) -> str | None:
    name, sep, value = key.partition("=")
    return value if sep and name == "phonecfg" else None


def run_keys(phone: YealinkPhone, key: str, params: dict[str, str]) -> str:
    """Performs a key or a `A;B;C` sequence and says what it did."""
    if key.startswith("number="):
        return _run_key(phone, key, params)
    keys = key.split(";")
    if len(keys) > 1 and phone.model in TOUCH_MODELS:
        return "ignored: key sequences do not work on touch-screen models"
    return "; ".join(_run_key(phone, one, params) for one in keys)


def _run_key(phone: YealinkPhone, key: str, params: dict[str, str]) -> str:
    name, _, argument = key.partition(":")
    call = phone.current_call()
    ringing = phone.ringing_call()
    if key.startswith("number="):
        number = key.removeprefix("number=")
        if not number:
            return "ignored: empty number"
        account = phone.account_for_uri(params.get("outgoing_uri", ""))
        placed = phone.dial(number, account=account, handset=False)
        return f"dialed {number} on account {account} (call {placed.id})"
    if key in ("OK", "ENTER") and ringing is not None:
        phone.answer(ringing.id, handset=False)
        return f"answered call {ringing.id}"
    if key in ("ANSWER", "ASW") or name == "ASW":
        target = phone.ringing_call(int(argument)) if argument.isdigit() else ringing
        if target is None:
            return "ignored: no ringing call" + (f" {argument}" if argument else "")
        phone.answer(target.id, handset=False)
        return f"answered call {target.id}"
    if key == "X" and (ringing or call) is not None:
        # X on a ringing call rejects it, on anything else ends it.
        target = ringing or call
        assert target is not None
        phone.hang_up(target.id, handset=False)
        return f"{'rejected' if target is ringing else 'ended'} call {target.id}"
    if key in ("CALLEND", "CallEnd") or name == "CANCEL":
        target = phone.find_call(int(argument)) if argument.isdigit() else call
        if target is None:
            return "ignored: no call" + (f" {argument}" if argument else "")
        phone.hang_up(target.id, handset=False)
        return f"ended call {target.id}"
    if key in ("F_HOLD", "HOLD") or name in ("HOLD", "UNHOLD"):
        target = phone.find_call(int(argument)) if argument.isdigit() else call
        if target is None or target.state not in ("connected", "held"):
            return "ignored: no call to hold"
        # The Hold soft key toggles (it reads Resume on a held call); HOLD:/UNHOLD: are explicit.
        resume = name == "UNHOLD" or (not argument and target.state == "held")
        if resume:
            phone.unhold(target.id)
            return f"resumed call {target.id}"
        phone.hold(target.id)
        return f"held call {target.id}"
    if key == "MUTE" and call is not None and call.state == "connected":
        if phone.muted:
            phone.unmute()
            return "unmuted"
        phone.mute()
        return "muted"
    if key in ("DNDOn", "DNDOff"):
        phone.dnd(key == "DNDOn")
        return f"DND {'on' if phone.dnd_enabled else 'off'}"
    if key == "Reboot":
        phone.reboot()
        return "rebooted"
    if key == "AutoP":
        phone.autop()
        return "auto-provisioned"
    line = _LINE_KEY.fullmatch(key)
    if (
        key in _PLAIN_KEYS
        or key in ("OK", "X", "MUTE", "SPEAKER", "HEADSET")
        or (line is not None and int(line.group(1)) <= line_keys(phone.model))
    ):
        phone.press_key(key)
        return f"pressed {key}"
    return f"ignored: unknown key {key!r}"
