"""The webhook HTTP client against a scripted HTTP server on loopback: keep-alive, the answer
shapes receivers use, stale connections, timeouts, what goes on the wire."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from celito.events.poster import Poster, PostError

Answer = Callable[[int, bytes], list[bytes] | None]
"""(request number, raw request) → the chunks to write back, then None to close."""


@dataclass
class Scripted:
    port: int
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@asynccontextmanager
async def scripted(answer: Answer, close_after: bool = False) -> AsyncIterator[Scripted]:
    state = Scripted(0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                request = head + await reader.readexactly(length)
                state.requests.append(request)
                chunks = answer(len(state.requests), request)
                for chunk in chunks or []:
                    writer.write(chunk)
                    await writer.drain()
                if chunks is None or close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield state


def ok(body: bytes = b"ok", extra: bytes = b"") -> list[bytes]:
    return [b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s" % (len(body), extra, body)]


def test_keeps_the_connection_and_sends_what_a_receiver_verifies() -> None:
    async def run() -> None:
        async with scripted(lambda n, req: ok()) as server:
            poster = Poster(5)
            for i in range(3):
                answer = await poster.post(
                    server.url("/hook?a=1&b=x%20y"), b'[{"n":%d}]' % i, {"webhook-id": f"msg_{i}"}
                )
                assert answer.status == 200 and answer.excerpt == "ok"
            await poster.aclose()
            assert server.connections == 1
            head, _, body = server.requests[2].partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            assert lines[0] == b"POST /hook?a=1&b=x%20y HTTP/1.1"
            assert f"host: 127.0.0.1:{server.port}".encode() in lines
            assert b"webhook-id: msg_2" in lines and b"content-length: 9" in lines
            assert body == b'[{"n":2}]'

    asyncio.run(run())


def test_basic_auth_from_the_url() -> None:
    async def run() -> None:
        async with scripted(lambda n, req: ok()) as server:
            poster = Poster(5)
            url = server.url().replace("http://", "http://crm%40x:s3cr%3At@")
            await poster.post(url, b"[]", {})
            await poster.aclose()
            expected = base64.b64encode(b"crm@x:s3cr:t")
            assert b"authorization: Basic " + expected in server.requests[0]

    asyncio.run(run())


@pytest.mark.parametrize(
    ("chunks", "status", "excerpt"),
    [
        # chunked, with a charset
        (
            [
                b"HTTP/1.1 202 Accepted\r\ntransfer-encoding: chunked\r\n"
                b"content-type: text/plain; charset=latin-1\r\n\r\n",
                b"3\r\ncaf\r\n",
                b"1\r\n\xe9\r\n0\r\n\r\n",
            ],
            202,
            "café",
        ),
        # an interim answer first
        ([b"HTTP/1.1 100 Continue\r\n\r\n", *ok(b"done")], 200, "done"),
        # an error status is an answer, not an exception
        ([b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\n\r\noops"], 500, "oops"),
    ],
)
def test_answer_shapes(chunks: list[bytes], status: int, excerpt: str) -> None:
    async def run() -> None:
        async with scripted(lambda n, req: chunks) as server:
            poster = Poster(5)
            answer = await poster.post(server.url(), b"[]", {})
            await poster.aclose()
            assert (answer.status, answer.excerpt) == (status, excerpt)

    asyncio.run(run())


def test_a_body_that_ends_with_the_connection() -> None:
    async def run() -> None:
        answer_10 = [b"HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nfine"]
        async with scripted(lambda n, req: answer_10, close_after=True) as server:
            poster = Poster(5)
            for _ in range(2):
                answer = await poster.post(server.url(), b"[]", {})
                assert (answer.status, answer.excerpt) == (200, "fine")
            await poster.aclose()
            assert server.connections == 2

    asyncio.run(run())


def test_a_kept_connection_the_receiver_closed_is_not_reused() -> None:
    async def run() -> None:
        async with scripted(lambda n, req: ok(), close_after=True) as server:
            poster = Poster(5)
            for _ in range(3):
                assert (await poster.post(server.url(), b"[]", {})).status == 200
                await asyncio.sleep(0.05)  # the receiver's close arrives
            await poster.aclose()
            assert len(server.requests) == 3 and server.connections == 3

    asyncio.run(run())


def test_a_kept_connection_that_dies_under_a_post_is_replaced_once() -> None:
    async def run() -> None:
        # The second POST goes out on the kept connection, which the receiver then drops
        # without answering: the POST goes again on a new connection.
        async with scripted(lambda n, req: None if n == 2 else ok()) as server:
            poster = Poster(5)
            for _ in range(2):
                assert (await poster.post(server.url(), b"[]", {})).status == 200
            await poster.aclose()
            assert len(server.requests) == 3 and server.connections == 2

    asyncio.run(run())


def test_no_answer_in_time_is_a_read_timeout() -> None:
    async def run() -> None:
        async with scripted(lambda n, req: []) as server:  # reads, never answers
            poster = Poster(0.3)
            with pytest.raises(PostError) as caught:
                await poster.post(server.url(), b"[]", {})
            await poster.aclose()
            assert caught.value.kind == "ReadTimeout" and "Timeout" in str(caught.value)

    asyncio.run(run())


def test_nobody_listening_is_a_connect_error() -> None:
    async def run() -> None:
        async with scripted(lambda n, req: ok()) as server:
            port = server.port
        poster = Poster(1)
        with pytest.raises(PostError) as caught:
            await poster.post(f"http://127.0.0.1:{port}/hook", b"[]", {})
        assert caught.value.kind == "ConnectError"

    asyncio.run(run())


def test_garbage_is_a_protocol_error() -> None:
    async def run() -> None:
        async with scripted(lambda n, req: [b"SMTP ready\r\n\r\n"]) as server:
            poster = Poster(2)
            with pytest.raises(PostError) as caught:
                await poster.post(server.url(), b"[]", {})
            await poster.aclose()
            assert caught.value.kind == "RemoteProtocolError"

    asyncio.run(run())


def _self_signed(tmp_path: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


def test_https_is_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A receiver whose certificate nobody vouches for is refused; once it is trusted (as
    httpx would trust it: SSL_CERT_FILE), the same POST goes through over TLS."""
    server_tls = _self_signed(tmp_path)

    async def run() -> tuple[str, int]:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                await reader.readuntil(b"\r\n\r\n")
                await reader.readexactly(2)
                writer.write(ok(b"secure")[0])
                await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_tls)
        port = server.sockets[0].getsockname()[1]
        async with server:
            with pytest.raises(PostError) as caught:
                await Poster(5).post(f"https://127.0.0.1:{port}/hook", b"[]", {})
            monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
            trusted = Poster(5)
            answer = await trusted.post(f"https://127.0.0.1:{port}/hook", b"[]", {})
            await trusted.aclose()
        return str(caught.value), answer.status

    refused, status = asyncio.run(run())
    assert refused.startswith("ConnectError") and "CERTIFICATE_VERIFY_FAILED" in refused
    assert status == 200
