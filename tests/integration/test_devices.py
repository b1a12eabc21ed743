"""Devices: names, generated and chosen SIP passwords (who sees them, how they are stored),
limits, role rules, registration state from the telephony plane, events, and tenancy."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.devices import service as devices
from celito.devices.models import Device
from celito.events.models import Event
from celito.users.models import User
from tests.integration.numbers_support import V2, domain_id, in_db
from tests.support.live import LiveServer
from tests.support.tenants import ROLE_USERS, Tenant

STRONG = "Str0ng-Sip-Pass"


def devices_of(c: httpx.Client, domain: str, user: str) -> httpx.Response:
    return c.get(f"{V2}/domains/{domain}/users/{user}/devices")


def test_create_generates_a_strong_password_shown_to_managers_only(
    tenant: Tenant, server: LiveServer
) -> None:
    d = tenant.domain
    with tenant.as_role("Office Manager") as om:
        r = om.post(f"{V2}/domains/{d}/users/1001/devices", json={"device": "1001a"})
        assert r.status_code == 201, r.text
        made = r.json()
        password = made["device-sip-registration-password"]
        assert len(password) == 20 and password.isalnum()
        assert made["device-sip-registration-uri"] == f"sip:1001a@{d}"
        assert made["device-sip-registration-state"] == "unregistered"
        assert made["user"] == "1001" and made["domain"] == d
        assert made["device-push-enabled"] == "yes"
        assert made["device-sip-registration-expiry-seconds"] == 60
        second = om.post(f"{V2}/domains/{d}/users/1001/devices", json={"device": "1001b"})
        assert second.json()["device-sip-registration-password"] != password
        # Managers read it again; the count and the domain list agree.
        assert (
            om.get(f"{V2}/domains/{d}/users/1001/devices/1001a").json()[
                "device-sip-registration-password"
            ]
            == password
        )
        assert om.get(f"{V2}/domains/{d}/users/1001/devices/count").json() == {"total": 2}
        listed = om.get(f"{V2}/domains/{d}/devices", params={"user": "1001"}).json()
        assert [x["device"] for x in listed] == ["1001a", "1001b"]
        assert om.get(f"{V2}/domains/{d}/devices/1001a/count").json() == {"total": 1}
        assert om.get(f"{V2}/domains/{d}/devices/nothere/count").json() == {"total": 0}
        only = om.get(f"{V2}/domains/{d}/devices", params={"fields": "device,user"})
        assert only.json()[0].keys() == {"device", "user"}
    with tenant.as_role("Basic User") as user:
        mine = user.get(f"{V2}/domains/~/users/~/devices/1001a")
        assert mine.status_code == 200
        assert mine.json()["device-sip-registration-password"] is None
        assert password not in mine.text
    with tenant.as_role("Reseller") as reseller:
        seen = devices_of(reseller, d, "1001").json()
        assert seen[0]["device-sip-registration-password"] == password
        assert reseller.get(f"{V2}/resellers/~/devices/count").json() == {"total": 2}

    # Stored sealed, never in clear; the registrar gets an HA1 digest of it.
    async def stored(session: AsyncSession) -> tuple[str, devices.RegistrarDigests]:
        row = await session.scalar(
            select(Device).where(
                Device.domain_id == await domain_id(session, d), Device.name == "1001a"
            )
        )
        assert row is not None
        return row.sip_secret, await devices.registrar_digests(session, d, "1001a")

    sealed, digests = in_db(server, stored)
    assert password not in sealed and sealed.startswith("v1:")
    expected = hashlib.md5(f"1001a:{d}:{password}".encode()).hexdigest()
    assert digests.ha1 == expected and digests.realm == d

    # Neither events nor the audit log carry it.
    async def leaks(session: AsyncSession) -> list[str]:
        rows = await session.scalars(select(Event).where(Event.domain == d))
        return [str(e.payload) for e in rows.all() if password in str(e.payload)]

    assert in_db(server, leaks) == []
    with tenant.as_role("Office Manager") as om:
        now = datetime.now(UTC)
        audit = om.get(
            f"{V2}/auditlog",
            params={
                "datetime-start": (now - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S"),
                "datetime-end": (now + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S"),
                "target-object": "device",
            },
        )
        assert audit.status_code == 200 and len(audit.json()) >= 2
        assert password not in audit.text
        created = [e for e in audit.json() if e["target-id"] == f"sip:1001a@{d}"]
        assert (
            created[0]["auditlog-details"]["after"]["device-sip-registration-password"]
            == "[redacted]"
        )


def test_names_passwords_mac_and_limits(tenant: Tenant) -> None:
    d, su = tenant.domain, tenant.api.su
    path = f"{V2}/domains/{d}/users/1001/devices"
    with tenant.as_role("Office Manager") as om:
        for name in ("2000a", "1001 a", "a1001", "1001/x", ""):
            bad = om.post(path, json={"device": name})
            assert bad.status_code == 422, (name, bad.text)
        assert (
            "must start with the user's extension 1001"
            in om.post(path, json={"device": "1000x"}).json()["message"]
        )
        for weak in (
            "short1",
            "allletterslong",
            "123456789012345",
            "1001aPassword9",
            "a b c 1 2 3 4 5",
        ):
            r = om.post(path, json={"device": "1001c", "device-sip-registration-password": weak})
            assert r.status_code == 422, (weak, r.text)
            assert "device-sip-registration-password" in r.json()["message"]
        chosen = om.post(path, json={"device": "1001c", "device-sip-registration-password": STRONG})
        assert chosen.status_code == 201
        assert chosen.json()["device-sip-registration-password"] == STRONG
        assert om.post(path, json={"device": "1001c"}).status_code == 409
        no_model = om.post(
            path, json={"device": "1001d", "device-provisioning-mac-address": "80:5E:C0:AA:BB:CC"}
        )
        assert no_model.status_code == 422 and "device-models-model" in no_model.json()["message"]
        phone = om.post(
            path,
            json={
                "device": "1001d",
                "device-provisioning-mac-address": "80-5e-c0-aa-bb-cc",
                "device-models-model": "T54W",
                "device-srtp-enabled": "opportunistic",
            },
        )
        assert phone.status_code == 201, phone.text
        assert phone.json()["device-provisioning-mac-address"] == "805ec0aabbcc"
        assert phone.json()["device-srtp-enabled"] == "opportunistic"
        for body in (
            {"device": "1001e", "device-provisioning-mac-address": "80:5e:c0:aa:bb"},
            {"device": "1001e", "device-sip-registration-state": "registered"},
            {"device": "1001e", "device-srtp-enabled": "always"},
            {"device": "1001e", "device-sip-registration-expiry-seconds": 0},
            {"device": "1001e", "colour": "red"},
        ):
            assert om.post(path, json=body).status_code == 422, body
        ro = om.put(f"{path}/1001c", json={"device-sip-registration-user-agent": "x"})
        assert ro.status_code == 422 and "read-only" in ro.json()["message"]
        rotated = om.put(
            f"{path}/1001c", json={"device-sip-registration-password": "N3w-Pass-Word"}
        )
        assert rotated.json()["device-sip-registration-password"] == "N3w-Pass-Word"
        assert (
            om.put(f"{path}/1001c", json={"device-sip-registration-password": "weak"}).status_code
            == 422
        )
        assert om.get(f"{path}/1001c").json()["device-sip-registration-password"] == "N3w-Pass-Word"
    # A device may not take another extension of the domain as its name.
    assert su.post(f"{V2}/domains/{d}/users", json={"user": "10"}).status_code == 201
    clash = su.post(f"{V2}/domains/{d}/users/10/devices", json={"device": "1001"})
    assert clash.status_code == 409 and "extension of a user" in clash.json()["message"]
    assert su.post(f"{V2}/domains/{d}/users/10/devices", json={"device": "10"}).status_code == 201
    # limits-max-devices (the domain now has 1001c, 1001d, 10).
    assert su.put(f"{V2}/domains/{d}", json={"limits-max-devices": 3}).status_code == 200
    over = su.post(f"{V2}/domains/{d}/users/10/devices", json={"device": "10b"})
    assert over.status_code == 409 and "limit of 3 devices" in over.json()["message"]
    with tenant.as_role("Office Manager") as om:
        gone = om.delete(f"{path}/1001d")
        assert gone.status_code == 200 and gone.json()["device"] == "1001d"
        assert gone.json()["device-sip-registration-password"] is None
        assert om.get(f"{path}/1001d").status_code == 404
        assert om.delete(f"{path}/1001d").status_code == 404
    assert su.post(f"{V2}/domains/{d}/users/10/devices", json={"device": "10b"}).status_code == 201


def test_roles(tenant: Tenant) -> None:
    d = tenant.domain
    path = f"{V2}/domains/{d}/users/1001/devices"
    with tenant.as_role("Office Manager") as om:
        assert om.post(path, json={"device": "1001a"}).status_code == 201
        assert (
            om.post(f"{V2}/domains/{d}/users/1000/devices", json={"device": "1000"}).status_code
            == 201
        )
    with tenant.as_role("Basic User") as user:
        assert (
            user.post(f"{V2}/domains/~/users/~/devices", json={"device": "1001z"}).status_code
            == 403
        )
        allowed = user.put(
            f"{V2}/domains/~/users/~/devices/1001a",
            json={"device-push-enabled": "no", "auto-answer-enabled": "yes"},
        )
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["device-push-enabled"] == "no"
        assert allowed.json()["device-sip-registration-password"] is None
        for body in (
            {"device-srtp-enabled": "yes"},
            {"device-sip-registration-password": STRONG},
            {"device-push-enabled": "yes", "device-models-model": "T46U"},
        ):
            denied = user.put(f"{V2}/domains/~/users/~/devices/1001a", json=body)
            assert denied.status_code == 403, body
            assert denied.json()["code"] == 403
        assert user.delete(f"{path}/1001a").status_code == 403
        assert devices_of(user, d, "1000").status_code == 403
        assert user.get(f"{V2}/domains/{d}/users/1000/devices/1000").status_code == 403
        assert (
            user.put(
                f"{V2}/domains/{d}/users/1000/devices/1000", json={"device-push-enabled": "no"}
            ).status_code
            == 403
        )
        assert [x["device"] for x in user.get(f"{V2}/domains/~/devices").json()] == ["1001a"]
        assert user.get(f"{V2}/domains/~/devices/count").json() == {"total": 1}
        assert user.get(f"{V2}/resellers/~/devices/count").status_code == 403
    with tenant.as_role("Call Center Supervisor") as sup:
        seen = devices_of(sup, d, "1001")
        assert (
            seen.status_code == 200 and seen.json()[0]["device-sip-registration-password"] is None
        )
        assert sup.get(f"{V2}/domains/{d}/devices/count").json() == {"total": 2}
        assert sup.put(f"{path}/1001a", json={"device-push-enabled": "yes"}).status_code == 403
        assert sup.post(path, json={"device": "1001s"}).status_code == 403
        assert sup.delete(f"{path}/1001a").status_code == 403
    with tenant.as_role("Site Manager") as sm:
        # 1001 is not in the Site Manager's site; its own user is.
        assert devices_of(sm, d, "1001").status_code == 403
        assert sm.post(path, json={"device": "1001m"}).status_code == 403
        mine = sm.post(f"{V2}/domains/{d}/users/1100/devices", json={"device": "1100a"})
        assert mine.status_code == 201 and mine.json()["device-sip-registration-password"]
        assert [x["device"] for x in sm.get(f"{V2}/domains/{d}/devices").json()] == ["1100a"]
    with tenant.as_role("Call Center Agent") as agent:
        assert devices_of(agent, d, "1001").status_code == 403
        assert agent.get(f"{V2}/domains/{d}/devices/count").json() == {"total": 0}
    with tenant.as_role("Office Manager") as om:
        assert om.get(f"{path}/1001a").json()["device-push-enabled"] == "no"


def _snapshot(t: Tenant) -> list[dict[str, Any]]:
    r = t.api.su.get(f"{V2}/domains/{t.domain}/devices")
    assert r.status_code == 200
    return r.json()


def test_cross_tenant(tenant: Tenant, other_tenant: Tenant) -> None:
    """Every role of one tenant finds nothing of another's devices, and changes nothing."""
    o = other_tenant.domain
    with other_tenant.as_role("Office Manager") as om:
        made = om.post(f"{V2}/domains/{o}/users/1001/devices", json={"device": "1001a"})
        assert made.status_code == 201
    before = _snapshot(other_tenant)
    for role in ROLE_USERS:
        with tenant.as_role(role) as c:
            for path in (
                f"/domains/{o}/users/1001/devices",
                f"/domains/{o}/users/1001/devices/count",
                f"/domains/{o}/users/1001/devices/1001a",
                f"/domains/{o}/devices",
                f"/domains/{o}/devices/count",
                f"/domains/{o}/devices/1001a/count",
                f"/resellers/{other_tenant.reseller}/devices/count",
            ):
                r = c.get(V2 + path)
                assert r.status_code == 404, (role, path, r.text)
            base = f"{V2}/domains/{o}/users/1001/devices"
            assert c.post(base, json={"device": "1001x"}).status_code == 404, role
            assert c.put(f"{base}/1001a", json={"device-push-enabled": "no"}).status_code == 404
            assert c.delete(f"{base}/1001a").status_code == 404, role
    assert _snapshot(other_tenant) == before


def test_registration_state_comes_from_the_telephony_plane(
    tenant: Tenant, server: LiveServer
) -> None:
    d = tenant.domain
    with tenant.as_role("Office Manager") as om:
        assert (
            om.post(f"{V2}/domains/{d}/users/1001/devices", json={"device": "1001a"}).status_code
            == 201
        )
    now = datetime.now(UTC).replace(microsecond=0)
    seen = devices.Registration(
        registered=True,
        contact="sip:1001a@192.0.2.10:5060",
        user_agent="Yealink SIP-T54W 96.86.0.70",
        ip_address="192.0.2.10:5060",
        core_server="core1",
        registered_at=now,
        expires_at=now + timedelta(minutes=5),
        latency_seconds=0.25,
    )

    async def register(session: AsyncSession) -> None:
        await devices.set_registration(session, d, "1001a", seen)

    async def events(session: AsyncSession) -> list[Event]:
        rows = await session.scalars(
            select(Event).where(Event.domain == d, Event.model == "device").order_by(Event.id)
        )
        return list(rows.all())

    in_db(server, register)
    in_db(server, register)  # a re-registration that changes nothing of interest
    with tenant.as_role("Basic User") as user:
        dev = user.get(f"{V2}/domains/~/users/~/devices/1001a").json()
    assert dev["device-sip-registration-state"] == "registered"
    assert dev["device-sip-registration-user-agent"] == "Yealink SIP-T54W 96.86.0.70"
    assert dev["device-sip-registration-ip-address"] == "192.0.2.10:5060"
    assert dev["device-sip-registration-contact"] == "sip:1001a@192.0.2.10:5060"
    assert dev["device-sip-registration-core-server"] == "core1"
    assert dev["device-sip-latency-seconds-current"] == 0.25
    assert dev["device-sip-registration-expires-datetime"] == (now + timedelta(minutes=5)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    emitted = in_db(server, events)
    assert [e.action for e in emitted] == ["create", "registration"]
    assert emitted[1].payload["device-sip-registration-state"] == "registered"
    assert "device-sip-registration-password" not in emitted[1].payload

    # A registration whose expiry has passed reads as unregistered.
    lapsed = devices.Registration(
        registered=True,
        contact=seen.contact,
        user_agent=seen.user_agent,
        ip_address=seen.ip_address,
        core_server="core1",
        expires_at=now - timedelta(seconds=1),
    )

    async def lapse(session: AsyncSession) -> None:
        await devices.set_registration(session, d, "1001a", lapsed)

    in_db(server, lapse)
    with tenant.as_role("Office Manager") as om:
        assert (
            om.get(f"{V2}/domains/{d}/users/1001/devices/1001a").json()[
                "device-sip-registration-state"
            ]
            == "unregistered"
        )
        # Registration fields are not the API's to set.
        r = om.put(
            f"{V2}/domains/{d}/users/1001/devices/1001a",
            json={"device-sip-registration-state": "registered"},
        )
        assert r.status_code == 422
    assert [e.action for e in in_db(server, events)][-1] == "registration"

    # The user-deletion flow removes a user's devices with events.
    async def remove(session: AsyncSession) -> list[str]:
        owner = await session.scalar(
            select(Device.user_id).where(
                Device.domain_id == await domain_id(session, d), Device.name == "1001a"
            )
        )
        user = await session.get(User, owner)
        assert user is not None
        return await devices.delete_for_user(session, user)

    assert in_db(server, remove) == ["1001a"]
    assert [e.action for e in in_db(server, events)][-1] == "delete"
    with tenant.as_role("Office Manager") as om:
        assert om.get(f"{V2}/domains/{d}/users/1001/devices").json() == []
