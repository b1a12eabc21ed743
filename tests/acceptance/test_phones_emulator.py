"""A Yealink phone (the emulator, tests/support/yealink_phone) against the real server: it
provisions itself, reports its events, drives URL hooks, and obeys Action URI from the API."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support.live import LiveServer, free_port
from tests.support.receiver import receiver
from tests.support.tenants import Tenant
from tests.support.yealink_phone import YealinkPhone

V2 = "/ns-api/v2"


def eventually(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.mark.parametrize("generation", ["v8x", "v7x"])
def test_a_phone_provisions_reports_and_obeys(
    etenant: Tenant, events_server: LiveServer, tmp_path: Path, generation: str
) -> None:
    d = etenant.domain
    mac = f"001565{etenant.domain.encode().hex()[-4:]}{0x8 if generation == 'v8x' else 0x7:02x}"
    model = "T46S" if generation == "v8x" else "T46G"
    firmware = "66.86.0.15" if generation == "v8x" else "28.73.0.50"
    port = free_port()
    with etenant.as_role("Office Manager") as om:
        assert (
            om.post(f"{V2}/domains/{d}/users/1001/devices", json={"device": "1001"}).status_code
            == 201
        )
        made = om.post(
            f"{V2}/domains/{d}/phones",
            json={
                "device-provisioning-mac-address": mac,
                "device-models-brand-and-model": model,
                "device-provisioning-sip-uri-1": f"sip:1001@{d}",
                "device-models-overrides-blob": f"static.network.port.http = {port}"
                if generation == "v8x"
                else f"network.port.http = {port}",
            },
        )
        assert made.status_code == 201, made.text
        prov = om.get(f"{V2}/domains/{d}/provisioning").json()

    def phone_state() -> dict[str, object]:
        with etenant.as_role("Office Manager") as om:
            return dict(om.get(f"{V2}/domains/{d}/phones/{mac}").json())

    with (
        receiver(tmp_path / "hooks") as rx,
        YealinkPhone(
            mac,
            provisioning_url=prov["url"],
            username=prov["username"],
            password=prov["password"],
            model=model,
            firmware=firmware,
            generation=generation,  # type: ignore[arg-type]
            web_port=port,
        ) as phone,
    ):
        with etenant.as_role("Office Manager") as om:
            hook = om.post(
                f"{V2}/domains/{d}/phone-hooks",
                json={
                    "event": "call_established",
                    "url": f"http://127.0.0.1:{rx.port}/call_established.php"
                    "?user=$active_user&display=$display_local",
                },
            )
            assert hook.status_code == 201, hook.text
        fetches = phone.provision()
        assert [f.status for f in fetches if f.name.endswith(f"{mac}.cfg")] == [200], fetches
        assert phone.web_port == port
        phone.wait_fired("registered" if generation == "v8x" else "log_on")
        eventually(lambda: phone_state()["device-sip-registration-state"] == "registered")
        state = phone_state()
        assert state["phone-ip-address"] == "127.0.0.1"
        eventually(lambda: phone_state()["device-provisioning-last-retrieved-datetime"] is not None)

        # A call is established on the phone: the customer's URL is called with its values.
        phone.incoming_call("5551234", "Smith & Jones")
        phone.answer()
        rx.wait_for(lambda: len(rx.requests()) >= 1)
        assert rx.requests()[0]["path"] == "/call_established.php?user=1001&display=Basic%20Tester"
        eventually(lambda: (phone_state().get("phone-call") or {}).get("state") == "talking")
        phone.hang_up()
        eventually(lambda: phone_state().get("phone-call") == {})

        # The API drives the phone: dial, then DND.
        with etenant.as_role("Office Manager") as om:
            dialed = om.post(
                f"{V2}/domains/{d}/phones/{mac}/actions", json={"action": "dial", "number": "1002"}
            )
            assert dialed.status_code == 200, dialed.text
            assert dialed.json()["sent"] == "key=number=1002"
        request = phone.wait_servlet()
        assert request.key.startswith("number=1002") or request.params.get("key") == "number=1002"
        phone.wait_fired("outgoing_call")
        eventually(lambda: (phone_state().get("phone-call") or {}).get("state") == "dialing")
        with etenant.as_role("Office Manager") as om:
            assert (
                om.post(
                    f"{V2}/domains/{d}/phones/{mac}/actions", json={"action": "hangup"}
                ).status_code
                == 200
            )
            phone.wait_fired("call_terminated")
            assert (
                om.post(
                    f"{V2}/domains/{d}/phones/{mac}/actions", json={"action": "dnd-on"}
                ).status_code
                == 200
            )
        phone.wait_fired("dnd_on")
        eventually(lambda: phone_state()["phone-dnd-enabled"] == "yes")
        with etenant.as_role("Office Manager") as om:
            presence = om.get(f"{V2}/domains/{d}/presence/list").json()
            assert {p["user"]: p["user-presence-status"] for p in presence}.get("1001") == "dnd"

        # A phone that does not answer: 504; one that refuses: 502. Both audited.
        phone.stopped = True
        with etenant.as_role("Office Manager") as om:
            silent = om.post(f"{V2}/domains/{d}/phones/{mac}/actions", json={"action": "reboot"})
            assert silent.status_code == 504, silent.text
            assert mac in silent.json()["message"]
        phone.stopped = False
        with etenant.as_role("Office Manager") as om:
            om.put(
                f"{V2}/domains/{d}/phones/{mac}",
                json={
                    "device-models-overrides-blob": "features.action_uri.enable = 0\n"
                    + ("static.network.port.http" if generation == "v8x" else "network.port.http")
                    + f" = {port}"
                },
            )
        phone.autop()
        with etenant.as_role("Office Manager") as om:
            refused = om.post(f"{V2}/domains/{d}/phones/{mac}/actions", json={"action": "dnd-off"})
            assert refused.status_code == 502, refused.text
        with etenant.as_role("Basic User") as owner:
            # The user whose account the phone carries may drive it (click-to-dial) …
            mine = owner.post(f"{V2}/domains/{d}/phones/{mac}/actions", json={"action": "mute"})
            assert mine.status_code == 502  # … and reaches the phone, which refuses now
        with etenant.as_role("Call Center Agent") as stranger:
            other = stranger.post(f"{V2}/domains/{d}/phones/{mac}/actions", json={"action": "mute"})
            assert other.status_code == 403
        with etenant.as_role("Office Manager") as om:
            window = {
                "datetime-start": "2000-01-01T00:00:00Z",
                "datetime-end": "2100-01-01T00:00:00Z",
            }
            audit = om.get(f"{V2}/auditlog", params={**window, "action-type": "action"}).json()
            assert len([e for e in audit if e["target-id"] == mac]) >= 6
    assert httpx.get(f"{events_server.base_url}/ns-api/v2/version").status_code == 200
