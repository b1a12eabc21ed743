"""Action URL requests the way the firmware sends them (§2.3, §2.4).

Values are substituted by plain string replacement, nothing is URL-encoded, and the request line
carries the raw bytes: spaces, `&`, `#`, `@` and UTF-8 as they are. An HTTP library would encode
or refuse them, so the request is written by hand over a socket. The firmware hands the URL to a
download task and ignores the result, with no retry; the emulator does the same from one sender
thread (so events go out in order) and records what happened for the tests.
"""

from __future__ import annotations

import base64
import queue
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field

URL_LIMIT = 511
"""The firmware keeps an Action URL in a 512-byte buffer; the limit counts bytes, so it can cut a
UTF-8 sequence in half (UNVERIFIED for multi-byte text; ASCII is what the guides describe)."""


@dataclass
class ActionUrlRecord:
    event: str
    key: str | None
    """The cfg key looked up; None when this generation has no such event."""
    url: str | None
    """The URL after substitution and truncation, decoded for reading; None when none is set."""
    raw_url: bytes = b""
    raw_target: bytes = b""
    """The request target exactly as it went on the wire."""
    status: int | None = None
    body: bytes = b""
    error: str | None = None
    at: float = field(default_factory=time.time)
    sent_at: float | None = None
    elapsed: float | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    @property
    def sent(self) -> bool:
        return self.url is not None


def substitute(template: str, variables: dict[str, str]) -> str:
    # Longest names first, or `$exp` would eat the front of `$exp_number`. Each replacement runs
    # over the whole string, so a value that itself contains `$ip` gets replaced again, as a
    # chain of plain replaces in the firmware would.
    text = template
    for name in sorted(variables, key=len, reverse=True):
        text = text.replace(name, variables[name])
    return text


def build_url(template: str, variables: dict[str, str]) -> bytes:
    url = substitute(template, variables).strip()
    if "://" not in url:
        url = "http://" + url
    return url.encode("utf-8")[:URL_LIMIT]


@dataclass
class Target:
    scheme: str
    host: str
    port: int
    host_header: bytes
    request_target: bytes
    userinfo: bytes | None


_AUTHORITY = re.compile(rb"([^/?#]*)(.*)", re.S)


def split_url(url: bytes) -> Target:
    scheme, sep, rest = url.partition(b"://")
    if not sep:
        raise ValueError("no scheme")
    match = _AUTHORITY.fullmatch(rest)
    assert match is not None  # the pattern matches any byte string
    authority, target = match.group(1), match.group(2)
    if not target.startswith(b"/"):
        target = b"/" + target
    userinfo = None
    if b"@" in authority:
        userinfo, _, authority = authority.rpartition(b"@")
    host, port_text = authority, b""
    if authority.startswith(b"["):
        end = authority.find(b"]")
        host, port_text = authority[1:end], authority[end + 2 :]
    elif b":" in authority:
        host, _, port_text = authority.partition(b":")
    name = scheme.decode("ascii", errors="replace").lower()
    if name not in ("http", "https"):
        raise ValueError(f"unsupported scheme {name!r}")
    port = int(port_text) if port_text else (443 if name == "https" else 80)
    return Target(name, host.decode("idna"), port, authority, target, userinfo)


def request_bytes(target: Target, user_agent: str) -> bytes:
    # Whether Action URL requests carry the provisioning User-Agent is UNVERIFIED (§2.4); the
    # same download task sends them, so the emulator uses it. Receivers must not rely on it.
    lines = [
        b"GET " + target.request_target + b" HTTP/1.1",
        b"Host: " + target.host_header,
        b"User-Agent: " + user_agent.encode(),
        b"Accept: */*",
        b"Connection: close",
    ]
    if target.userinfo is not None:
        # `user:pass@` in an Action URL is UNVERIFIED; a download library would send Basic.
        lines.append(b"Authorization: Basic " + base64.b64encode(target.userinfo))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _read_response(sock: socket.socket, record: ActionUrlRecord) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) >= 2 and status_line[1].isdigit():
        record.status = int(status_line[1])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            length = int(value.strip())
    while length is None or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    record.body = body


class Sender:
    """One thread sending queued Action URLs in order; no retry, failures only recorded."""

    def __init__(self, user_agent: str, timeout: float) -> None:
        self.user_agent = user_agent
        self.timeout = timeout
        self._queue: queue.Queue[ActionUrlRecord | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="yealink-action-url", daemon=True)
        self._thread.start()

    def submit(self, record: ActionUrlRecord) -> None:
        self._queue.put(record)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=self.timeout + 5)

    def _loop(self) -> None:
        while (record := self._queue.get()) is not None:
            try:
                self._send(record)
            finally:
                record.done.set()

    def _send(self, record: ActionUrlRecord) -> None:
        assert record.url is not None
        started = time.monotonic()
        record.sent_at = time.time()
        try:
            target = split_url(record.raw_url)
            record.raw_target = target.request_target
            with socket.create_connection((target.host, target.port), self.timeout) as raw:
                sock: socket.socket = raw
                if target.scheme == "https":
                    sock = ssl.create_default_context().wrap_socket(
                        raw, server_hostname=target.host
                    )
                sock.settimeout(self.timeout)
                sock.sendall(request_bytes(target, self.user_agent))
                _read_response(sock, record)
        except (OSError, ValueError) as error:
            record.error = f"{type(error).__name__}: {error}"
        finally:
            record.elapsed = time.monotonic() - started
