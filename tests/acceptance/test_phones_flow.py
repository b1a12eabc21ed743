"""Phones end to end without a phone: provisioning with Digest, the action URL a phone would
send (raw, unencoded), phone hooks reaching a real receiver, events in the outbox."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.support.live import LiveServer
from tests.support.receiver import receiver
from tests.support.tenants import Tenant

V2 = "/ns-api/v2"
MAC = "0015651a2b3c"


def add_phone(tenant: Tenant, mac: str = MAC) -> dict[str, str]:
    d = tenant.domain
    with tenant.as_role("Office Manager") as om:
        device = om.post(f"{V2}/domains/{d}/users/1001/devices", json={"device": "1001"})
        assert device.status_code == 201, device.text
        r = om.post(
            f"{V2}/domains/{d}/phones",
            json={
                "device-provisioning-mac-address": ":".join(
                    mac[i : i + 2] for i in range(0, 12, 2)
                ),
                "device-models-brand-and-model": "yealink T46S",
                "device-provisioning-sip-uri-1": f"sip:1001@{d}",
            },
        )
        assert r.status_code == 201, r.text
        prov = om.get(f"{V2}/domains/{d}/provisioning")
        assert prov.status_code == 200, prov.text
        return prov.json()


def raw_get(base_url: str, target: str) -> int:
    """Sends a request line as a Yealink phone does: values not URL-encoded."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    return int(data.split(b" ", 2)[1])


def test_provision_report_and_hook(
    etenant: Tenant, other_etenant: Tenant, events_server: LiveServer, tmp_path: Path
) -> None:
    mac = f"001565{etenant.domain.encode().hex()[-6:]}"
    prov = add_phone(etenant, mac)
    base = events_server.base_url
    url = f"{base}/cfg/{mac}.cfg"
    ua = {"User-Agent": f"Yealink SIP-T46S 66.86.0.15 {mac}"}
    assert httpx.get(url, headers=ua).status_code == 401
    wrong = httpx.get(url, headers=ua, auth=httpx.DigestAuth(prov["username"], "nope-nope-nope"))
    assert wrong.status_code == 401
    r = httpx.get(url, headers=ua, auth=httpx.DigestAuth(prov["username"], prov["password"]))
    assert r.status_code == 200, r.text
    text = r.text
    assert text.startswith("#!version:1.0.0.1\n")
    assert "account.1.user_name = 1001\n" in text
    assert "static.auto_provision.server.url" in text
    established = re.search(r"^action_url\.call_established = (\S+)$", text, re.M)
    assert established is not None
    # Another domain's credentials do not reach this phone, and say nothing about it.
    with other_etenant.as_role("Office Manager") as om:
        other = om.get(f"{V2}/domains/{other_etenant.domain}/provisioning").json()
    foreign = httpx.get(url, auth=httpx.DigestAuth(other["username"], other["password"]))
    assert foreign.status_code == 404
    boot = httpx.get(
        f"{base}/cfg/{mac}.boot", auth=httpx.DigestAuth(prov["username"], prov["password"])
    )
    assert boot.status_code == 200 and 'include:config "y000000000066.cfg"' in boot.text
    common = httpx.get(
        f"{base}/cfg/y000000000066.cfg", auth=httpx.DigestAuth(prov["username"], prov["password"])
    )
    assert common.status_code == 200 and common.text.startswith("#!version:1.0.0.1")

    with receiver(tmp_path / "hooks") as rx:
        template = (
            f"http://127.0.0.1:{rx.port}/call_established.php"
            "?user=$active_user&display=$display_local&who=$display_remote"
        )
        with etenant.as_role("Office Manager") as om:
            made = om.post(
                f"{V2}/domains/{etenant.domain}/phone-hooks",
                json={"event": "call_established", "url": template},
            )
            assert made.status_code == 201, made.text
            bad = om.post(
                f"{V2}/domains/{etenant.domain}/phone-hooks",
                json={"event": "call_established", "url": "http://127.0.0.1/x?u=$nope"},
            )
            assert bad.status_code == 422 and "$nope" in bad.json()["message"]
        values = {
            "$mac": mac,
            "$ip": "127.0.0.1",
            "$model": "T46S",
            "$firmware": "66.86.0.15",
            "$active_user": "1001",
            "$active_host": etenant.domain,
            "$local": f"sip:1001@{etenant.domain}",
            "$call_id": "7",
            "$callDirection": "in",
            "$duration": "0",
            "$calledNumber": "5551234",
            "$remote": "sip:5551234@carrier",
            "$display_local": "Jane Doe",
            "$display_remote": "Smith & Jones",
        }
        fired = established.group(1)
        for name in sorted(values, key=len, reverse=True):
            fired = fired.replace(name, values[name])
        target = fired[len(base) :]
        assert " " in target and "&" in target.split("display_remote=")[1]
        assert raw_get(base, target) == 200
        spoofed = re.sub(r"/yealink/(\w+)/[^/]+/", r"/yealink/\1/AAAAAAAAAAAAAAAAAAAAAAAA/", target)
        assert raw_get(base, spoofed) == 403
        rx.wait_for(lambda: len(rx.requests()) >= 1)
        call = rx.requests()[0]
        assert call["path"] == (
            "/call_established.php?user=1001&display=Jane%20Doe&who=Smith%20%26%20Jones"
        )
    with etenant.as_role("Office Manager") as om:
        phone = om.get(f"{V2}/domains/{etenant.domain}/phones/{mac}").json()
        assert phone["phone-call"]["state"] == "talking"
        assert phone["phone-call"]["remote-name"] == "Smith & Jones"
        assert phone["phone-last-event"] == "call_established"
        # Downloads are recorded behind, once a second (yealink.downloads).
        deadline = time.monotonic() + 5
        while phone["device-provisioning-last-retrieved-datetime"] is None:
            assert time.monotonic() < deadline, "the download was never recorded"
            time.sleep(0.2)
            phone = om.get(f"{V2}/domains/{etenant.domain}/phones/{mac}").json()


def test_failing_hook_shows_why_until_a_call_succeeds(
    etenant: Tenant, events_server: LiveServer, tmp_path: Path
) -> None:
    """While a hook's calls fail and are retried, the hook says what the last failure was;
    the first call that succeeds clears it."""
    mac = f"001566{etenant.domain.encode().hex()[-6:]}"
    prov = add_phone(etenant, mac)
    base = events_server.base_url
    text = httpx.get(
        f"{base}/cfg/{mac}.cfg", auth=httpx.DigestAuth(prov["username"], prov["password"])
    ).text
    found = re.search(r"^action_url\.dnd_on = (\S+)$", text, re.M)
    assert found is not None
    dnd_on = found.group(1).split("?")[0][len(base) :]
    with receiver(tmp_path / "hooks") as rx, etenant.as_role("Office Manager") as om:
        rx.answer(500, 500)  # then 200
        hooks = f"{V2}/domains/{etenant.domain}/phone-hooks"
        made = om.post(
            hooks, json={"event": "dnd_on", "url": f"http://127.0.0.1:{rx.port}/dnd?u=$active_user"}
        )
        assert made.status_code == 201, made.text
        hook = made.json()["id"]
        assert raw_get(base, f"{dnd_on}?active_user=1001") == 200

        def state() -> dict[str, Any]:
            answer: dict[str, Any] = om.get(f"{hooks}/{hook}").json()
            return answer

        rx.wait_for(lambda: state()["error-count"] >= 1, timeout=10)
        failing = state()
        assert failing["status"] == "active"
        assert failing["status-reason"] == "last call failed: HTTP 500; retrying"
        rx.wait_for(lambda: any(r["status"] == 200 for r in rx.requests()), timeout=15)
        rx.wait_for(lambda: state()["error-count"] == 0, timeout=10)
        healed = state()
        assert healed["status-reason"] == "" and healed["calls-count"] == 1
        assert [r["path"] for r in rx.requests()] == ["/dnd?u=1001"] * 3
