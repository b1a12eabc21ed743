"""One call makes a usable user; deleting it leaves nothing dangling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.tenants import Tenant


def test_one_call_creates_a_usable_user_and_delete_cleans_up(tenant: Tenant) -> None:
    d = tenant.domain
    number = "+1 212 555 " + str(7000 + int(tenant.domain[1:4], 16) % 2000).zfill(4)
    with tenant.as_role("Office Manager") as om:
        r = om.post(
            f"/ns-api/v2/domains/{d}/users",
            json={
                "user": "2001",
                "name-first-name": "Ada",
                "name-last-name": "Lovelace",
                "voicemail-login-pin": "4826",
                "devices": ["2001", "2001a"],
                "phonenumber": number,
            },
        )
        assert r.status_code == 201, r.text
        made = r.json()
        provisioned = made["provisioned"]
        assert provisioned["voicemail"] == "yes"
        assert [x["device"] for x in provisioned["devices"]] == ["2001", "2001a"]
        assert all(len(x["device-sip-registration-password"]) >= 12 for x in provisioned["devices"])
        assert provisioned["phonenumber"]["dial-rule-translation-destination-user"] == "2001"
        assert made.get("voicemail-login-pin") in (None, "")
        assert om.get(f"/ns-api/v2/domains/{d}/users/2001/devices/count").json() == {"total": 2}
        rules = om.get(f"/ns-api/v2/domains/{d}/users/2001/answerrules")
        assert rules.status_code == 200 and len(rules.json()) == 1
        assert om.get(f"/ns-api/v2/domains/{d}/users/2001/voicemails/new").status_code == 200
        # A device name cannot later become a user.
        clash = om.post(f"/ns-api/v2/domains/{d}/users", json={"user": "2001a"})
        assert clash.status_code == 409

        gone = om.delete(f"/ns-api/v2/domains/{d}/users/2001")
        assert gone.status_code == 200, gone.text
        assert om.get(f"/ns-api/v2/domains/{d}/users/2001").status_code == 404
        assert om.get(f"/ns-api/v2/domains/{d}/devices/count").json()["total"] == 0
        numbers = om.get(f"/ns-api/v2/domains/{d}/phonenumbers").json()
        assert [n["dial-rule-application"] for n in numbers] == ["available-number"]
        # The extension is free again.
        assert om.post(f"/ns-api/v2/domains/{d}/users", json={"user": "2001"}).status_code == 201
    now = datetime.now(UTC)
    audit = tenant.api.su.get(
        "/ns-api/v2/auditlog",
        params={
            "datetime-start": (now - timedelta(minutes=5)).isoformat(),
            "datetime-end": (now + timedelta(minutes=1)).isoformat(),
            "target-domain": d,
            "target-object": "subscriber",
            "action-type": "delete",
        },
    ).json()
    details = audit[0]["auditlog-details"]
    assert details["devices"] == ["2001", "2001a"] and details["phonenumbers"]


def test_one_call_creation_is_all_or_nothing(tenant: Tenant) -> None:
    d = tenant.domain
    with tenant.as_role("Office Manager") as om:
        bad = om.post(
            f"/ns-api/v2/domains/{d}/users", json={"user": "2002", "devices": ["2002", "9999"]}
        )
        assert bad.status_code in (409, 422), bad.text
        assert om.get(f"/ns-api/v2/domains/{d}/users/2002").status_code == 404
        assert om.get(f"/ns-api/v2/domains/{d}/devices/count").json()["total"] == 0


def test_a_user_still_routed_to_cannot_be_deleted(tenant: Tenant) -> None:
    d = tenant.domain
    with tenant.as_role("Office Manager") as om:
        q = om.post(
            f"/ns-api/v2/domains/{d}/callqueues",
            json={
                "callqueue": "3001",
                "description": "Sales",
                "callqueue-overflow-destination-application": "to-user",
                "callqueue-overflow-destination-user": "1001",
            },
        )
        if q.status_code != 201:
            # Field names per the queue schema; fall back to what it accepts.
            assert q.status_code == 201, q.text
        refused = om.delete(f"/ns-api/v2/domains/{d}/users/1001")
        assert refused.status_code == 409 and "3001" in refused.json()["message"]
        assert om.get(f"/ns-api/v2/domains/{d}/users/1001").status_code == 200
