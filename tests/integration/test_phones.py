"""Phones through the v2 API: MAC spellings, models, lines, overrides, role and tenant rules,
bad input that changes nothing, audit entries, provisioning settings, hooks' rules."""

from __future__ import annotations

import time

import httpx

from tests.support.live import LiveServer
from tests.support.tenants import Tenant

V2 = "/ns-api/v2"


def _mac(tenant: Tenant, n: int = 1) -> str:
    return f"805ec0{tenant.domain.encode().hex()[-4:]}{n:02x}"


def _device(om: httpx.Client, d: str, user: str = "1001") -> None:
    r = om.post(f"{V2}/domains/{d}/users/{user}/devices", json={"device": user})
    assert r.status_code in (201, 409), r.text


def test_phone_lifecycle_and_bad_input(tenant: Tenant, other_tenant: Tenant) -> None:
    d = tenant.domain
    mac = _mac(tenant)
    spelled = "-".join(mac[i : i + 2] for i in range(0, 12, 2)).upper()
    with tenant.as_role("Office Manager") as om:
        _device(om, d)
        _device(om, d, "1100")
        made = om.post(
            f"{V2}/domains/{d}/phones",
            json={
                "device-provisioning-mac-address": spelled,
                "device-models-brand-and-model": "T54W",
                "device-provisioning-sip-uri-1": "1001",
                "device-models-overrides-blob": "lang.gui = English",
                "notes": "front desk",
            },
        )
        assert made.status_code == 201, made.text
        body = made.json()
        assert body["device-provisioning-mac-address"] == mac
        assert body["device-models-model"] == "T54W" and body["device-models-model-code"] == "096"
        assert body["device-provisioning-sip-uri-1"] == f"sip:1001@{d}"
        assert body["phone-lines"][0]["user"] == "1001"
        # The same MAC again, in any spelling, in any domain: 409.
        again = om.post(
            f"{V2}/domains/{d}/phones",
            json={"device-provisioning-mac-address": mac, "device-models-brand-and-model": "T46S"},
        )
        assert again.status_code == 409
        before = om.get(f"{V2}/domains/{d}/phones/{mac}").json()
        for bad in (
            {"device-models-brand-and-model": "Cisco 7960"},
            {"device-provisioning-sip-uri-2": "sip:9999@elsewhere.example"},
            {"device-provisioning-sip-uri-2": "nosuchdevice"},
            {"device-models-overrides-blob": "action_url.call_established = http://x/"},
            {"device-provisioning-line-3-enabled": "yes"},
            {"unknown-field": 1},
        ):
            r = om.put(f"{V2}/domains/{d}/phones/{mac}", json=bad)
            assert r.status_code == 422, (bad, r.text)
        after = om.get(f"{V2}/domains/{d}/phones/{mac}").json()
        assert after == before
        changed = om.put(
            f"{V2}/domains/{d}/phones",
            json={
                "device-provisioning-mac-address": spelled,
                "device-provisioning-sip-uri-2": f"sip:1100@{d}",
                "device-provisioning-sip-uri-2-shared-line-enabled": "yes",
            },
        )
        assert changed.status_code == 200, changed.text
        assert [line["user"] for line in changed.json()["phone-lines"]] == ["1001", "1100"]
        assert om.get(f"{V2}/domains/{d}/phones/count").json() == {"total": 1}
        assert om.get(f"{V2}/phones/{spelled}").status_code == 200
        window = {"datetime-start": "2000-01-01T00:00:00Z", "datetime-end": "2100-01-01T00:00:00Z"}
        audit = om.get(f"{V2}/auditlog", params={**window, "target-object": "phone"}).json()
        actions = [e["action-type"] for e in audit if e["target-id"] == mac]
        assert "create" in actions and "update" in actions
        # The phone's own password is never shown, but its change is on record.
        secret = om.put(
            f"{V2}/domains/{d}/phones/{mac}",
            json={
                "device-provisioning-username": "desk1",
                "device-provisioning-password": "phone-secret-2026x",
            },
        )
        assert secret.status_code == 200, secret.text
        audit = om.get(f"{V2}/auditlog", params={**window, "target-object": "phone"}).json()
        latest = next(e for e in audit if e["target-id"] == mac)
        assert latest["action-type"] == "update"
        details = latest["auditlog-details"]
        assert details["password-changed"] is True
        assert details["after"]["device-provisioning-username"] == "desk1"
        assert "phone-secret-2026x" not in str(latest)
    # Other tenants and ordinary users do not see it.
    with other_tenant.as_role("Office Manager") as other:
        assert other.get(f"{V2}/phones/{mac}").status_code == 404
        malformed = other.get(f"{V2}/phones/not-a-mac")
        assert malformed.status_code == 400 and "not a MAC address" in malformed.json()["message"]
        own = f"{V2}/domains/{other_tenant.domain}/phones/xyz"
        assert other.put(own, json={"notes": "x"}).status_code == 400
        assert other.get(f"{V2}/domains/{d}/phones/{mac}").status_code == 404
        assert other.put(f"{V2}/domains/{d}/phones/{mac}", json={"notes": "x"}).status_code == 404
    with tenant.as_role("Basic User") as user:
        assert user.get(f"{V2}/domains/{d}/phones").status_code == 403
        refused = user.post(
            f"{V2}/domains/{d}/phones",
            json={
                "device-provisioning-mac-address": _mac(tenant, 2),
                "device-models-brand-and-model": "T46S",
            },
        )
        assert refused.status_code == 403
    with tenant.as_role("Office Manager") as om:
        gone = om.request(
            "DELETE", f"{V2}/domains/{d}/phones", json={"device-provisioning-mac-address": mac}
        )
        assert gone.status_code == 200, gone.text
        assert om.get(f"{V2}/domains/{d}/phones/{mac}").status_code == 404


def test_models_and_provisioning_settings(tenant: Tenant, server: LiveServer) -> None:
    d = tenant.domain
    with tenant.as_role("Office Manager") as om:
        models = {m["model"]: m for m in om.get(f"{V2}/phones/models").json()}
        assert models["T46S"]["code"] == "066" and models["T46G"]["firmware_generation"] == "v7x"
        prov = om.get(f"{V2}/domains/{d}/provisioning").json()
        assert prov["url"].endswith("/cfg/") and prov["username"] == d
        assert len(prov["password"]) >= 12
        rotated = om.put(
            f"{V2}/domains/{d}/provisioning",
            json={
                "password": "generate",
                "resync-minutes": 60,
                "overrides": {"lang.gui": "German"},
            },
        ).json()
        assert rotated["password"] != prov["password"] and rotated["resync-minutes"] == 60
        for bad in (
            {"overrides": {"static.security.user_password": "admin:x"}},
            {"time-zone": "Mars/Olympus"},
            {"password": "short"},
            {"sip-port": 70000},
        ):
            r = om.put(f"{V2}/domains/{d}/provisioning", json=bad)
            assert r.status_code == 422, (bad, r.text)
        assert om.get(f"{V2}/domains/{d}/provisioning").json()["password"] == rotated["password"]
    with tenant.as_role("Basic User") as user:
        assert user.get(f"{V2}/domains/{d}/provisioning").status_code == 403


def test_phone_hooks_rules(tenant: Tenant, other_tenant: Tenant) -> None:
    d = tenant.domain
    url = "https://crm.example.com/call.php?user=$active_user&display=$display_local"
    with tenant.as_role("Office Manager") as om:
        # The session server refuses private targets, like production.
        private = om.post(
            f"{V2}/domains/{d}/phone-hooks",
            json={"event": "call_established", "url": "http://127.0.0.1/x"},
        )
        assert private.status_code == 422
        unknown_event = om.post(
            f"{V2}/domains/{d}/phone-hooks", json={"event": "coffee_ready", "url": url}
        )
        assert unknown_event.status_code == 422
        assert om.get(f"{V2}/domains/{d}/phone-hooks").json() == []
    with tenant.as_role("Basic User") as user:
        assert user.get(f"{V2}/domains/{d}/phone-hooks").status_code == 403
        own = user.get(f"{V2}/domains/{d}/users/1001/phone-hooks")
        assert own.status_code == 200 and own.json() == []
        other_user = user.post(
            f"{V2}/domains/{d}/users/1100/phone-hooks", json={"event": "dnd_on", "url": url}
        )
        assert other_user.status_code in (403, 404)
    with other_tenant.as_role("Office Manager") as other:
        assert other.get(f"{V2}/domains/{d}/phone-hooks").status_code == 404


def test_phone_configuration_buttons_reach_the_file(tenant: Tenant, server: LiveServer) -> None:
    d = tenant.domain
    mac = _mac(tenant, 3)
    with tenant.as_role("Office Manager") as om:
        _device(om, d)
        made = om.post(
            f"{V2}/domains/{d}/phones",
            json={
                "device-provisioning-mac-address": mac,
                "device-models-brand-and-model": "T42S",
                "device-provisioning-sip-uri-1": f"sip:1001@{d}",
            },
        )
        assert made.status_code == 201, made.text
        prov = om.get(f"{V2}/domains/{d}/provisioning").json()
        auth = httpx.DigestAuth(prov["username"], prov["password"])

        def cfg() -> str:
            r = httpx.get(f"{server.base_url}/cfg/{mac}.cfg", auth=auth)
            assert r.status_code == 200, r.text
            return r.text

        automatic = cfg()
        assert "linekey.1.type = 15" in automatic and "linekey.2.type = 16" in automatic
        # Downloads are recorded behind (about once a second): wait until this one is.
        deadline = time.monotonic() + 15
        while (
            om.get(f"{V2}/domains/{d}/phones/{mac}").json()[
                "device-provisioning-last-retrieved-datetime"
            ]
            is None
        ):
            assert time.monotonic() < deadline, "the download was never recorded"
            time.sleep(0.1)
        assert (
            om.get(f"{V2}/domains/{d}/phones/{mac}").json()["device-provisioning-resync-pending"]
            == "no"
        )
        assert om.get(f"{V2}/domains/{d}/phoneconfiguration/{mac}").status_code == 404
        buttons = [
            {
                "phoneconfiguration-button-order": 1,
                "phoneconfiguration-button-feature": "line",
                "phoneconfiguration-button-target": 1,
                "phoneconfiguration-button-label": "Me",
            },
            {
                "phoneconfiguration-button-order": 5,
                "phoneconfiguration-button-feature": "speed dial",
                "phoneconfiguration-button-target": "+15551234567",
                "phoneconfiguration-button-label": "Support",
            },
        ]
        for bad in (
            [{**buttons[0], "phoneconfiguration-button-order": 99}],
            [{**buttons[0], "phoneconfiguration-button-feature": "coffee"}],
            [{**buttons[0], "phoneconfiguration-button-target": 13}],
            [buttons[0], {**buttons[1], "phoneconfiguration-button-order": 1}],
        ):
            r = om.post(
                f"{V2}/domains/{d}/phoneconfiguration",
                json={"phoneconfiguration-mac-address": mac, "phoneconfiguration-buttons": bad},
            )
            assert r.status_code == 422, (bad, r.text)
        assert cfg() == automatic  # nothing changed
        created = om.post(
            f"{V2}/domains/{d}/phoneconfiguration",
            json={"phoneconfiguration-mac-address": mac, "phoneconfiguration-buttons": buttons},
        )
        assert created.status_code == 201, created.text
        assert om.get(f"{V2}/domains/{d}/phoneconfiguration/count").json() == {"total": 1}
        configured = cfg()
        assert (
            "linekey.5.type = 13" in configured and "linekey.5.value = +15551234567" in configured
        )
        assert "linekey.5.label = Support" in configured and "linekey.2.type" not in configured
        changed = om.get(f"{V2}/domains/{d}/phones/{mac}").json()
        assert changed["device-provisioning-resync-pending"] == "yes"
        assert om.delete(f"{V2}/domains/{d}/phoneconfiguration/{mac}").status_code == 200
        assert cfg() == automatic
    with tenant.as_role("Basic User") as user:
        r = user.post(
            f"{V2}/domains/{d}/phoneconfiguration",
            json={"phoneconfiguration-mac-address": mac, "phoneconfiguration-buttons": buttons},
        )
        assert r.status_code == 403
