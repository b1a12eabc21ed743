"""Two server processes on one PostgreSQL share deliveries; kill -9 loses no event."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
import pytest

from tests.support import pg
from tests.support.proc import celito_env, serve
from tests.support.receiver import receiver

pytestmark = pytest.mark.postgres


def test_kill_9_of_the_delivering_node_loses_nothing(tmp_path: Path) -> None:
    pg.require()
    with pg.fresh_database() as url, receiver(tmp_path / "rx") as rx:
        common = {
            "CELITO_DATABASE_URL": url,
            "CELITO_WEBHOOK_ALLOW_PRIVATE": "true",
            "CELITO_WEBHOOK_LEASE_SECONDS": "3",
        }
        env_a = celito_env(tmp_path / "a", CELITO_NODE_ID="node-a", **common)
        env_b = celito_env(tmp_path / "b", CELITO_NODE_ID="node-b", **common)
        with (
            serve(tmp_path / "a", env=env_a) as (a, proc_a),
            serve(tmp_path / "b", "--no-demo", env=env_b) as (b, proc_b),
        ):
            creds = json.loads((tmp_path / "a" / "demo-credentials.json").read_text())
            manager = next(u for u in creds["users"] if u["scope"] == "Office Manager")
            token = httpx.post(
                f"{a}/ns-api/oauth2/token",
                data={
                    "grant_type": "password",
                    "client_id": creds["client_id"],
                    "client_secret": creds["client_secret"],
                    "username": manager["username"],
                    "password": manager["password"],
                },
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            sub = httpx.post(
                f"{a}/ns-api/v2/subscriptions",
                headers=headers,
                json={"model": "subscriber", "post-url": rx.url},
            ).json()

            def rename(base: str, i: int) -> None:
                r = httpx.put(
                    f"{base}/ns-api/v2/domains/~/users/1001",
                    headers=headers,
                    json={"name-first-name": f"N{i}"},
                )
                assert r.status_code == 200, r.text

            def names() -> list[str]:
                return [
                    e["name-first-name"]
                    for e in rx.delivered()
                    if e.get("event-action") == "update"
                ]

            # Normal operation, both nodes up: every event exactly once, in order.
            for i in range(30):
                rename(a if i % 2 else b, i)
            rx.wait_for(lambda: len(names()) >= 30)
            assert names() == [f"N{i}" for i in range(30)]

            # Slow the receiver so a delivery is in flight, then kill -9 whoever delivers.
            rx.answer(default=200, delay=0.3)
            for i in range(30, 60):
                rename(a, i)
            rx.wait_for(lambda: len(names()) >= 31)
            holder = httpx.get(f"{a}/ns-api/v2/subscriptions/{sub['id']}", headers=headers).json()[
                "current-active-server"
            ]
            victim, survivor = (proc_a, b) if holder == "node-a" else (proc_b, a)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            rx.answer(default=200)
            for i in range(60, 80):
                rename(survivor, i)
            rx.wait_for(lambda: set(names()) >= {f"N{i}" for i in range(80)}, timeout=60)
            got = names()
            assert list(dict.fromkeys(got)) == [f"N{i}" for i in range(80)]
