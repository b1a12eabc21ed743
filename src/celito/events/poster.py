"""The HTTP client of webhook deliveries: POST a body, read the status and the start of the answer.

httpx spends about 1.3 ms of CPU on a POST; at thousands of POSTs a second that was the largest
cost of delivering. This client does only what a delivery needs, on asyncio streams with the
httptools parser: HTTP/1.1 with keep-alive connections per origin, TLS verified as httpx
verifies it, Basic auth from the URL's user info, a connect timeout and one deadline for the
rest, redirects not followed. URLs that an HTTP(S)_PROXY setting covers go through httpx, which
honours it.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

import httptools
import httpx

# An idle connection is not reused after this long (httpx's default keep-alive expiry).
KEEPALIVE_SECONDS = 5.0
MAX_IDLE_PER_ORIGIN = 50
# The answer is read whole (to reuse the connection) but only its start is kept.
KEEP_BYTES = 4096
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


class PostError(Exception):
    """A POST that got no HTTP answer; `kind` is named after httpx's exceptions."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


@dataclass(frozen=True)
class Answer:
    status: int
    excerpt: str


@dataclass(frozen=True)
class _Target:
    origin: tuple[str, str, int]
    head: bytes  # request line and the headers that depend only on the URL


class _Response:
    """httptools callbacks: collects the status, the charset and the start of the body."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.headers_done = False
        self.keep_alive = False
        self.complete = False
        self.charset = "utf-8"
        self.body = bytearray()
        self._header = b""

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header = name.lower()
        if self._header == b"content-type":
            for part in value.split(b";")[1:]:
                key, _, charset = part.strip().partition(b"=")
                if key.lower() == b"charset" and charset:
                    self.charset = charset.strip(b"\"'").decode("ascii", "replace")

    def on_headers_complete(self) -> None:
        self.headers_done = True
        # Asked here: once the message is complete the parser has moved on to the next one.
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, data: bytes) -> None:
        if len(self.body) < KEEP_BYTES:
            self.body += data[: KEEP_BYTES - len(self.body)]

    def on_message_complete(self) -> None:
        if self.parser.get_status_code() < 200:  # an interim answer: the real one follows
            self.headers_done = False
            self.charset = "utf-8"
            self.body.clear()
        else:
            self.complete = True

    def text(self) -> str:
        try:
            return bytes(self.body).decode(self.charset, "replace")
        except LookupError:
            return bytes(self.body).decode("utf-8", "replace")


@dataclass(eq=False)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = field(default_factory=time.monotonic)

    def usable(self) -> bool:
        return (
            not self.writer.is_closing()
            and not self.reader.at_eof()
            and time.monotonic() - self.idle_since < KEEPALIVE_SECONDS
        )

    def close(self) -> None:
        self.writer.close()


class Poster:
    def __init__(self, timeout: float, connect_timeout: float = 3.0) -> None:
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._targets: dict[str, _Target | None] = {}
        self._tls: ssl.SSLContext | None = None
        self._proxied: httpx.AsyncClient | None = None

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        """POSTs `body`; raises PostError when no HTTP answer came back in time."""
        target = self._target(url)
        if target is None:
            return await self._post_proxied(url, body, headers)
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = b"%s%scontent-length: %d\r\n\r\n%s" % (
            target.head,
            extra.encode("latin-1"),
            len(body),
            body,
        )
        deadline = time.monotonic() + self.timeout
        conn = self._reuse(target.origin)
        if conn is not None:
            try:
                return await self._exchange(conn, target.origin, request, deadline, fresh=False)
            except _Stale:
                pass  # the receiver closed the idle connection: a new one, once
        conn = await self._connect(target.origin)
        return await self._exchange(conn, target.origin, request, deadline, fresh=True)

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()
        if self._proxied is not None:
            await self._proxied.aclose()

    def _target(self, url: str) -> _Target | None:
        """What a URL needs on the wire, worked out once (None: through a proxy)."""
        if url in self._targets:
            return self._targets[url]
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").encode("idna").decode("ascii")
        port = parts.port or (443 if scheme == "https" else 80)
        proxies = urllib.request.getproxies()
        proxied = (scheme in proxies or "all" in proxies) and not urllib.request.proxy_bypass(
            parts.hostname or ""
        )
        found: _Target | None = None
        if not proxied:
            shown = f"[{host}]" if ":" in host else host
            if port != (443 if scheme == "https" else 80):
                shown = f"{shown}:{port}"
            path = quote(parts.path or "/", safe=_PATH_SAFE)
            if parts.query:
                path = f"{path}?{quote(parts.query, safe=_QUERY_SAFE)}"
            lines = [f"POST {path} HTTP/1.1", f"host: {shown}"]
            if parts.username is not None or parts.password is not None:
                pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
                lines.append("authorization: Basic " + base64.b64encode(pair.encode()).decode())
            head = ("\r\n".join(lines) + "\r\n").encode("latin-1")
            found = _Target((scheme, host, port), head)
        if len(self._targets) > 10_000:
            self._targets.clear()
        self._targets[url] = found
        return found

    def _reuse(self, origin: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if conn.usable():
                return conn
            conn.close()
        return None

    async def _connect(self, origin: tuple[str, str, int]) -> _Connection:
        scheme, host, port = origin
        tls: ssl.SSLContext | None = None
        if scheme == "https":
            if self._tls is None:
                self._tls = httpx.create_ssl_context()
            tls = self._tls
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=host if tls else None, limit=2**20
                )
        except TimeoutError:
            raise PostError("ConnectTimeout", f"no connection to {host}:{port}") from None
        except (OSError, ssl.SSLError) as exc:
            raise PostError("ConnectError", str(exc)) from None
        return _Connection(reader, writer)

    async def _exchange(
        self,
        conn: _Connection,
        origin: tuple[str, str, int],
        request: bytes,
        deadline: float,
        *,
        fresh: bool,
    ) -> Answer:
        response = _Response()
        parser = response.parser
        received = False
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                conn.writer.write(request)
                await conn.writer.drain()
                while True:
                    data = await conn.reader.read(65536)
                    if not data:
                        if not received and not fresh:
                            raise _Stale
                        if not response.headers_done:
                            raise PostError("RemoteProtocolError", "connection closed early")
                        conn.close()  # the body ended with the connection
                        return Answer(parser.get_status_code(), response.text())
                    received = True
                    parser.feed_data(data)
                    if response.complete:
                        break
        except TimeoutError:
            conn.close()
            unsent = conn.writer.transport.get_write_buffer_size()
            kind = "WriteTimeout" if unsent and not received else "ReadTimeout"
            raise PostError(kind, f"no answer within {self.timeout:g} s") from None
        except httptools.HttpParserError as exc:
            conn.close()
            raise PostError("RemoteProtocolError", str(exc)) from None
        except (OSError, ssl.SSLError) as exc:
            conn.close()
            if not received and not fresh:
                raise _Stale from None
            raise PostError("ReadError" if received else "WriteError", str(exc)) from None
        except BaseException:
            conn.close()
            raise
        if response.keep_alive:
            conn.idle_since = time.monotonic()
            idle = self._idle.setdefault(origin, [])
            if len(idle) < MAX_IDLE_PER_ORIGIN:
                idle.append(conn)
            else:
                conn.close()
        else:
            conn.close()
        return Answer(parser.get_status_code(), response.text())

    async def _post_proxied(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        if self._proxied is None:
            self._proxied = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
                follow_redirects=False,
            )
        try:
            response = await self._proxied.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise PostError(type(exc).__name__, str(exc)) from None
        return Answer(response.status_code, response.text[:KEEP_BYTES])


class _Stale(Exception):
    """A reused keep-alive connection the receiver had closed: try a new one."""
