"""`celito serve` as a real child process, the way a user starts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.live import FAST_ARGON2, free_port

CELITO = Path(sys.executable).parent / "celito"


def celito_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELITO_")}
    env["CELITO_DATA_DIR"] = str(data_dir)
    for key, value in FAST_ARGON2.items():
        env[f"CELITO_{key.upper()}"] = str(value)
    env.update(extra)
    return env


def run_celito(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CELITO), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def serve(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, startup_seconds: float = 60
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [str(CELITO), "serve", "--port", str(port), *args],
        env=env or celito_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + startup_seconds
    try:
        while True:
            if process.poll() is not None:
                out = process.stdout.read() if process.stdout else ""
                raise RuntimeError(f"celito serve exited with {process.returncode}:\n{out}")
            try:
                if httpx.get(f"{base}/ns-api/v2/version", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("celito serve did not answer in time")
            time.sleep(0.1)
        yield base, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
