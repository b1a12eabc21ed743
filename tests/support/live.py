"""A real celitoVoice server on loopback, in a thread, for integration tests."""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from celito.app import create_app
from celito.auth.caller import system_caller
from celito.config import Settings
from celito.migrate import upgrade
from celito.runtime import Runtime
from celito.seed import create_client, create_superuser
from celito.yealink.lenient import LenientHttpToolsProtocol

SUPER_PASSWORD = "Operator-" + secrets.token_urlsafe(12)
FAST_ARGON2: dict[str, Any] = {
    "argon2_memory_kib": 1024,
    "argon2_time_cost": 1,
    "argon2_parallelism": 1,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_settings(data_dir: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "node_id": "test-node",
        **FAST_ARGON2,
        **overrides,
    }
    return Settings(**values)


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def bootstrap(settings: Settings) -> tuple[str, str]:
    """Schema, a Super User `admin@system` and an operator client, the way an operator starts.

    Returns the client's id and secret.
    """
    upgrade(settings.resolved_database_url)

    async def run() -> tuple[str, str]:
        runtime = Runtime.build(settings)
        try:
            async with runtime.db.writer() as session:
                caller = system_caller()
                await create_superuser(session, runtime, caller, "admin", SUPER_PASSWORD)
                made = await create_client(
                    session,
                    runtime,
                    caller,
                    name="operator",
                    reseller="system",
                    domain=None,
                    client_id="operator",
                    accept_terms_as="tests",
                )
                await session.commit()
                return made
        finally:
            await runtime.db.dispose()

    return asyncio.run(run())


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=self.port,
            proxy_headers=False,
            http=LenientHttpToolsProtocol,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@contextmanager
def live_server(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def client(base_url: str, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=30)
