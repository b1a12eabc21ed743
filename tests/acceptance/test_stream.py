"""The live stream over WebSocket and SSE: latency, isolation, resume, re-authentication."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.support.live import bootstrap, live_server, test_settings
from tests.support.tenants import Api, Tenant, make_tenant


@contextmanager
def _ws(api: Api, token: str, query: str = "models=subscriber") -> Iterator[ClientConnection]:
    url = api.base_url.replace("http://", "ws://") + f"/ns-api/v2/stream?{query}"
    with connect(
        url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=10
    ) as ws:
        first = json.loads(ws.recv(timeout=5))
        assert first["type"] == "subscribed", first
        yield ws


def _token(tenant: Tenant, role: str) -> str:
    return tenant.api.token(tenant.uid(role), tenant.passwords[role])


def _events(ws: ClientConnection, count: int, timeout: float = 5) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(found) < count:
        message = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if message["type"] == "event":
            found.append(message)
    return found


def _quiet(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Events (not heartbeats) that arrive within `seconds`."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            message = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        except TimeoutError:
            break
        if message["type"] == "event":
            got.append(message)
    return got


def _rename(tenant: Tenant, name: str, ext: str = "1001") -> None:
    with tenant.as_role("Office Manager") as om:
        assert (
            om.put(f"/ns-api/v2/domains/~/users/{ext}", json={"name-first-name": name}).status_code
            == 200
        )


def test_events_arrive_quickly_and_only_within_reach(
    etenant: Tenant, other_etenant: Tenant
) -> None:
    with (
        _ws(etenant.api, _token(etenant, "Office Manager")) as manager,
        _ws(etenant.api, _token(etenant, "Basic User")) as user,
        _ws(other_etenant.api, _token(other_etenant, "Office Manager")) as stranger,
    ):
        started = time.monotonic()
        _rename(etenant, "Live")
        (event,) = _events(manager, 1)
        assert time.monotonic() - started < 2
        assert event["model"] == "subscriber"
        assert event["data"]["name-first-name"] == "Live"
        assert event["data"]["domain"] == etenant.domain
        # The Basic User 1001 sees its own change; a change to 1300 it must not see.
        assert _events(user, 1)[0]["data"]["user"] == "1001"
        _rename(etenant, "Other", ext="1300")
        assert _events(manager, 1)[0]["data"]["user"] == "1300"
        assert _quiet(user, 1.0) == []
        assert _quiet(stranger, 0.5) == []


def test_a_user_cannot_widen_its_stream(etenant: Tenant, other_etenant: Tenant) -> None:
    url = etenant.api.base_url.replace("http://", "ws://")
    token = _token(etenant, "Basic User")
    for query in (
        "models=subscriber&user=1300",
        f"models=subscriber&domain={other_etenant.domain}",
    ):
        with connect(
            f"{url}/ns-api/v2/stream?{query}",
            additional_headers={"Authorization": f"Bearer {token}"},
        ) as ws:
            assert json.loads(ws.recv(timeout=5))["type"] == "error"
    with connect(
        f"{url}/ns-api/v2/stream?models=subscriber",
        additional_headers={"Authorization": "Bearer cva_not-a-token"},
    ) as bad:
        assert json.loads(bad.recv(timeout=5))["type"] == "error"


def test_resume_after_reconnect_loses_nothing(etenant: Tenant) -> None:
    token = _token(etenant, "Office Manager")
    with _ws(etenant.api, token) as ws:
        _rename(etenant, "A")
        last = _events(ws, 1)[0]["id"]
    for name in ("B", "C", "D"):
        _rename(etenant, name)
    with _ws(etenant.api, token, f"models=subscriber&since={last}") as ws:
        missed = _events(ws, 3)
        assert [m["data"]["name-first-name"] for m in missed] == ["B", "C", "D"]
        _rename(etenant, "E")
        assert _events(ws, 1)[0]["data"]["name-first-name"] == "E"


def test_models_nobody_streamed_are_replayed_then_live(etenant: Tenant) -> None:
    """With no client asking for `device` events the node's reader leaves them in the outbox;
    a client that comes for them later replays them, in order with the rest, then gets them
    live."""
    token = _token(etenant, "Office Manager")
    with _ws(etenant.api, token) as ws:
        _rename(etenant, "Before")
        last = _events(ws, 1)[0]["id"]
    with etenant.as_role("Office Manager") as om:
        made = om.post("/ns-api/v2/domains/~/users/1001/devices", json={"device": "1001r"})
        assert made.status_code == 201, made.text
    _rename(etenant, "After")
    with _ws(etenant.api, token, f"models=device,subscriber&since={last}") as ws:
        missed = _events(ws, 2)
        assert [m["model"] for m in missed] == ["device", "subscriber"], missed
        assert missed[0]["data"]["device"] == "1001r"
        assert missed[0]["id"] < missed[1]["id"]
        with etenant.as_role("Office Manager") as om:
            made = om.post("/ns-api/v2/domains/~/users/1001/devices", json={"device": "1001s"})
            assert made.status_code == 201, made.text
        live = _events(ws, 1)[0]
        assert live["model"] == "device" and live["data"]["device"] == "1001s"


def test_heartbeats_and_auth_by_message(etenant: Tenant) -> None:
    url = etenant.api.base_url.replace("http://", "ws://") + "/ns-api/v2/stream"
    with connect(url) as ws:
        ws.send(json.dumps({"type": "auth", "token": _token(etenant, "Office Manager")}))
        ws.send(json.dumps({"type": "subscribe", "models": ["subscriber"]}))
        assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"
        # Earlier tests' changes to this tenant may still be on their way: a heartbeat must
        # come all the same.
        kinds = []
        while not kinds or kinds[-1] == "event":
            kinds.append(json.loads(ws.recv(timeout=3))["type"])
        assert kinds[-1] == "heartbeat", kinds


def test_sse_stream_and_last_event_id(etenant: Tenant) -> None:
    token = _token(etenant, "Office Manager")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=etenant.api.base_url, timeout=10) as c:
        with c.stream("GET", "/ns-api/v2/stream/events?models=subscriber", headers=headers) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            _rename(etenant, "S1")
            lines = r.iter_lines()
            event_id = None
            for line in lines:
                if line.startswith("id: "):
                    event_id = int(line[4:])
                if line.startswith("data: ") and event_id is not None:
                    assert json.loads(line[6:])["name-first-name"] == "S1"
                    break
        _rename(etenant, "S2")
        with c.stream(
            "GET",
            "/ns-api/v2/stream/events?models=subscriber",
            headers={**headers, "Last-Event-ID": str(event_id)},
        ) as r:
            for line in r.iter_lines():
                if line.startswith("data: "):
                    assert json.loads(line[6:])["name-first-name"] == "S2"
                    break


@pytest.mark.parametrize("kind", ["ws", "sse"])
def test_expiring_token_gets_a_reauthenticate_message(tmp_path: Path, kind: str) -> None:
    settings = test_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        access_token_seconds=2,
        stream_heartbeat_seconds=0.5,
        caller_cache_seconds=0,
    )
    client_id, secret = bootstrap(settings)
    with live_server(settings) as live:
        tenant = make_tenant(Api(live.base_url, "sqlite", client_id, secret))
        token = _token(tenant, "Office Manager")
        if kind == "sse":
            with (
                httpx.Client(base_url=live.base_url, timeout=10) as c,
                c.stream(
                    "GET",
                    "/ns-api/v2/stream/events",
                    headers={"Authorization": f"Bearer {token}"},
                ) as r,
            ):
                text = ""
                for chunk in r.iter_text():
                    text += chunk
                    if "reauthenticate" in text:
                        break
            assert "event: reauthenticate" in text
            return
        with _ws(tenant.api, token) as ws:
            deadline = time.monotonic() + 6
            while True:
                message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
                if message["type"] == "reauthenticate":
                    break
            tenant.api._tokens.clear()
            ws.send(json.dumps({"type": "auth", "token": _token(tenant, "Office Manager")}))
            while json.loads(ws.recv(timeout=5))["type"] != "authenticated":
                pass
            _rename(tenant, "After")
            assert _events(ws, 1)[0]["data"]["name-first-name"] == "After"
