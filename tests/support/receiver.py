"""Drives tests/support/webhook_receiver.py from a test."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.live import free_port

ROOT = Path(__file__).resolve().parents[2]


class Receiver:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.log = folder / "received.jsonl"
        self.control = folder / "control.json"
        self.process: subprocess.Popen[str] | None = None

    def answer(self, *statuses: int, default: int = 200, delay: float = 0) -> None:
        self.control.write_text(
            json.dumps({"statuses": list(statuses), "default": default, "delay": delay})
        )

    def requests(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def delivered(self) -> list[dict[str, Any]]:
        """Events from the POSTs that were answered 2xx, in arrival order."""
        events: list[dict[str, Any]] = []
        for request in self.requests():
            if 200 <= request["status"] < 300:
                events.extend(json.loads(request["body"]))
        return events

    def wait_for(self, predicate: Any, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; received {len(self.requests())} requests")
            time.sleep(0.05)


@contextmanager
def receiver(folder: Path) -> Iterator[Receiver]:
    r = Receiver(folder)
    r.answer()
    r.process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.webhook_receiver",
            str(r.port),
            str(r.log),
            str(r.control),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert r.process.stdout is not None
    assert r.process.stdout.readline().strip() == "ready"
    try:
        yield r
    finally:
        r.process.kill()
        r.process.wait()
