"""Active calls, click-to-call and call control (through a fake engine), and presence."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import ColumnElement, false
from sqlalchemy.ext.asyncio import AsyncSession

from celito.calls import service as calls
from celito.calls.models import ActiveCall
from celito.presence import hooks
from celito.users.models import User
from tests.integration.cdr_support import engine, events, in_db
from tests.support.live import LiveServer
from tests.support.tenants import ROLE_USERS, Tenant

V2 = "/ns-api/v2"
ANSWERED = datetime(2026, 11, 27, 10, 0, 5, tzinfo=UTC)


def upsert(server: LiveServer, **leg: Any) -> ActiveCall:
    async def work(session: AsyncSession) -> ActiveCall:
        return await calls.upsert_call(session, calls.CallLeg(**leg))

    return in_db(server, work)


def end(server: LiveServer, orig_callid: str) -> list[ActiveCall]:
    async def work(session: AsyncSession) -> list[ActiveCall]:
        return await calls.end_call(session, orig_callid)

    return in_db(server, work)


def live_calls(server: LiveServer, t: Tenant) -> None:
    """1001 talks to an outside number; an outside number rings 1000; 1100 (HQ) dials out."""
    d = t.domain
    upsert(
        server,
        orig_callid=f"out-{d}",
        term_callid="t1",
        orig_user="1001",
        orig_domain=d,
        caller_id_number="1001",
        dialed_number="14155550123",
        term_uri="sip:14155550123@gw",
        orig_info="active",
        term_info="active",
        answered_at=ANSWERED,
        codec="PCMU",
        hostname="node-a",
    )
    upsert(
        server,
        orig_callid=f"in-{d}",
        term_user="1000",
        term_domain=d,
        caller_id_number="13105550177",
        dialed_number="1000",
    )
    upsert(
        server, orig_callid=f"sm-{d}", orig_user="1100", orig_domain=d, dialed_number="18005550100"
    )


@pytest.fixture()
def on_the_phone(server: LiveServer, tenant: Tenant, other_tenant: Tenant) -> Iterator[None]:
    live_calls(server, tenant)
    live_calls(server, other_tenant)
    yield
    for t in (tenant, other_tenant):
        for prefix in ("out", "in", "sm"):
            end(server, f"{prefix}-{t.domain}")


def call_ids(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    return sorted(c["call-orig-call-id"] for c in r.json())


def test_reading_calls_by_role(tenant: Tenant, on_the_phone: None) -> None:
    d = tenant.domain
    every = sorted([f"in-{d}", f"out-{d}", f"sm-{d}"])
    with tenant.as_role("Office Manager") as om:
        listed = om.get(f"{V2}/domains/{d}/calls")
        assert call_ids(listed) == every
        assert om.get(f"{V2}/domains/{d}/calls/count").json() == {"total": 3}
        out = next(c for c in listed.json() if c["call-orig-call-id"] == f"out-{d}")
        assert out["call-state"] == "active" and out["call-audio-codec"] == "PCMU"
        assert out["call-answer-datetime"] == "2026-11-27T10:00:05Z"
        assert out["call-dialed-number"] == "14155550123" and out["core-server"] == "node-a"
        ringing = om.get(f"{V2}/domains/~/users/~/calls").json()
        assert [(c["call-orig-call-id"], c["call-state"]) for c in ringing] == [
            (f"in-{d}", "ringing")
        ]
        one = om.get(f"{V2}/domains/{d}/users/1001/calls/out-{d}")
        assert one.status_code == 200 and one.json()["call-term-call-id"] == "t1"
        assert om.get(f"{V2}/domains/{d}/users/1001/calls/in-{d}").status_code == 404
        slim = om.get(f"{V2}/domains/{d}/calls", params={"fields": "call-orig-call-id"})
        assert all(set(c) == {"call-orig-call-id"} for c in slim.json())
        assert om.get(f"{V2}/domains/{d}/calls", params={"fields": "colour"}).status_code == 400
    with tenant.as_role("Call Center Supervisor") as ccs:
        assert call_ids(ccs.get(f"{V2}/domains/{d}/calls")) == every
    with tenant.as_role("Site Manager") as sm:
        assert call_ids(sm.get(f"{V2}/domains/{d}/calls")) == [f"sm-{d}"]
    with tenant.as_role("Basic User") as user:
        assert call_ids(user.get(f"{V2}/domains/{d}/calls")) == [f"out-{d}"]
        assert user.get(f"{V2}/domains/{d}/calls/count").json() == {"total": 1}
        assert call_ids(user.get(f"{V2}/domains/~/users/~/calls")) == [f"out-{d}"]
        assert user.get(f"{V2}/domains/{d}/users/1000/calls").status_code == 403
        assert user.get(f"{V2}/domains/{d}/users/1000/calls/in-{d}").status_code == 403
    with tenant.as_role("Reseller") as reseller:
        assert call_ids(reseller.get(f"{V2}/domains/{d}/calls")) == every


def test_other_tenants_calls_are_missing_for_every_role(
    server: LiveServer, tenant: Tenant, other_tenant: Tenant, on_the_phone: None
) -> None:
    o = other_tenant.domain
    with engine(server) as fake:
        for role in ROLE_USERS:
            with tenant.as_role(role) as c:
                for r in (
                    c.get(f"{V2}/domains/{o}/calls"),
                    c.get(f"{V2}/domains/{o}/calls/count"),
                    c.get(f"{V2}/domains/{o}/users/1001/calls"),
                    c.get(f"{V2}/domains/{o}/users/1001/calls/out-{o}"),
                    c.get(f"{V2}/domains/{o}/presence/list"),
                    c.post(f"{V2}/domains/{o}/users/1001/calls", json={"call-term-user": "1"}),
                    c.patch(f"{V2}/domains/{o}/users/1001/calls/out-{o}/hold"),
                    c.delete(f"{V2}/domains/{o}/users/1001/calls/out-{o}"),
                ):
                    assert r.status_code == 404, (role, r.request.url, r.text)
                    assert r.json()["message"] == f"Domain {o} does not exist"
        assert fake.originated == [] and fake.controls == []
    r = other_tenant.api.su.get(f"{V2}/domains/{o}/calls/count")
    assert r.json() == {"total": 3}


def test_click_to_call_without_an_engine_is_refused(server: LiveServer, tenant: Tenant) -> None:
    with tenant.as_role("Basic User") as user:
        r = user.post(f"{V2}/domains/~/users/~/calls", json={"call-term-user": "14155550123"})
        assert r.status_code == 503
        assert "No telephony engine is configured" in r.json()["message"]
        r = user.patch(f"{V2}/domains/~/users/~/calls/whatever/hold")
        assert r.status_code == 503
    audit = tenant.api.su.get(
        f"{V2}/auditlog",
        params={
            "datetime-start": "2000-01-01 00:00:00",
            "datetime-end": "2100-01-01 00:00:00",
            "target-domain": tenant.domain,
            "target-object": "call",
        },
    )
    assert audit.status_code == 200 and audit.json() == []


def test_click_to_call_through_the_engine(server: LiveServer, tenant: Tenant) -> None:
    d = tenant.domain
    with engine(server) as fake, tenant.as_role("Basic User") as user:
        r = user.post(
            f"{V2}/domains/~/users/~/calls",
            json={
                "call-id": "c2c-1",
                "call-term-user": "14155550123",
                "caller-id-number": "12125550100",
                "auto-answer-enabled": "yes",
                "call-term-added-sip-header": "X-Campaign: 42",
            },
        )
        assert r.status_code == 202, r.text
        body = r.json()
        assert body["call-id"] == "c2c-1" and body["call-orig-user"] == f"1001@{d}"
        assert body["telephony-engine"] == "fake" and body["auto-answer-enabled"] == "yes"
        sent = fake.originated[-1]
        assert (sent.domain, sent.user, sent.call_id, sent.destination) == (
            d,
            "1001",
            "c2c-1",
            "14155550123",
        )
        assert sent.auto_answer is True and sent.term_sip_header == "X-Campaign: 42"
        r = user.post(
            f"{V2}/domains/~/users/~/calls",
            json={"call-term-user": "1000", "call-orig-user": "1001a", "synchronous": "yes"},
        )
        assert r.status_code == 200 and len(r.json()["call-id"]) == 16
        assert fake.originated[-1].origin == "1001a"
        for bad in (
            {},
            {"call-term-user": ""},
            {"call-term-user": "1", "colour": "x"},
            {"call-term-user": "1", "call-term-added-sip-header": "bad\r\nheader"},
        ):
            r = user.post(f"{V2}/domains/~/users/~/calls", json=bad)
            assert r.status_code == 422, (bad, r.text)
        assert (
            user.post(
                f"{V2}/domains/{d}/users/1000/calls", json={"call-term-user": "1"}
            ).status_code
            == 403
        )
        fake.fail = "trunk down"
        r = user.post(f"{V2}/domains/~/users/~/calls", json={"call-term-user": "1"})
        assert r.status_code == 502 and "trunk down" in r.json()["message"]
        fake.fail = None
        assert len(fake.originated) == 2
    with engine(server) as fake:
        with tenant.as_role("Call Center Supervisor") as ccs:
            denied = ccs.post(f"{V2}/domains/{d}/users/1001/calls", json={"call-term-user": "1"})
            assert denied.status_code == 403
            own = ccs.post(f"{V2}/domains/~/users/~/calls", json={"call-term-user": "1"})
            assert own.status_code == 202
        with tenant.as_role("Office Manager") as om:
            r = om.post(f"{V2}/domains/{d}/users/1001/calls", json={"call-term-user": "1"})
            assert r.status_code == 202
        assert [(o.user, o.destination) for o in fake.originated] == [("1200", "1"), ("1001", "1")]


def test_call_control_through_the_engine(
    server: LiveServer, tenant: Tenant, on_the_phone: None
) -> None:
    d = tenant.domain
    base = f"{V2}/domains/{d}/users/1001/calls/out-{d}"
    with engine(server) as fake, tenant.as_role("Basic User") as user:
        assert user.patch(base + "/hold").status_code == 202
        assert user.patch(base + "/unhold").status_code == 202
        r = user.patch(base + "/transfer", json={"call-term-user": "1000"})
        assert r.status_code == 202 and r.json()["call-orig-call-id"] == f"out-{d}"
        assert (
            user.patch(base + "/transferPeer", json={"destination": "sip:1002@x"}).status_code
            == 202
        )
        assert user.patch(base + "/transfer", json={}).status_code == 422
        assert user.patch(base + "/transfer", json={"colour": "x"}).status_code == 422
        assert user.delete(base).status_code == 200
        assert user.patch(f"{V2}/domains/~/users/~/calls/nope/hold").status_code == 404
        assert [(c.action, c.destination) for c in fake.controls] == [
            ("hold", ""),
            ("unhold", ""),
            ("transfer", "1000"),
            ("transfer-peer", "sip:1002@x"),
            ("hangup", ""),
        ]
    with engine(server) as fake:
        with tenant.as_role("Office Manager") as om:
            assert (
                om.patch(
                    f"{V2}/domains/~/users/~/calls/in-{d}/answer", json={"destination": "1000a"}
                ).status_code
                == 202
            )
            assert om.delete(f"{V2}/domains/~/users/~/calls/in-{d}/reject").status_code == 202
        with tenant.as_role("Call Center Supervisor") as ccs:
            assert ccs.get(base).status_code == 200  # it watches …
            assert ccs.patch(base + "/hold").status_code == 403  # … but does not touch
        with tenant.as_role("Site Manager") as sm:
            assert sm.delete(base).status_code == 403  # 1001 is not in its site
        assert [(c.action, c.destination) for c in fake.controls] == [
            ("answer", "1000a"),
            ("reject", ""),
        ]


@pytest.fixture()
def registrations() -> Iterator[set[str]]:
    """Plugs a registration lookup in; the test says who is registered."""
    registered: set[str] = set()
    before = hooks._lookups["registration"]

    def lookup() -> ColumnElement[bool]:
        return User.user.in_(sorted(registered)) if registered else false()

    hooks.set_registration_lookup(lookup)
    yield registered
    hooks.set_registration_lookup(before)


def presence_of(c: Any, path: str = "/ns-api/v2/domains/~/presence/list") -> dict[str, str]:
    r = c.get(path)
    assert r.status_code == 200, r.text
    return {p["user"]: p["user-presence-status"] for p in r.json()}


def test_presence_follows_calls_and_registrations(
    server: LiveServer, tenant: Tenant, registrations: set[str]
) -> None:
    d = tenant.domain
    with tenant.as_role("Basic User") as user:
        assert set(presence_of(user).values()) == {"inactive"}
        registrations.update({"1000", "1001"})
        assert presence_of(user)["1000"] == "open"
        upsert(server, orig_callid="p1", orig_user="5551234", term_user="1001", term_domain=d)
        assert presence_of(user)["1001"] == "ringing"
        # An update carries what changed only: the ends are remembered.
        upsert(server, orig_callid="p1", term_callid="p1-t", answered_at=ANSWERED)
        seen = presence_of(user)
        assert seen["1001"] == "busy" and seen["1000"] == "open" and seen["1300"] == "inactive"
        end(server, "p1")
        assert presence_of(user)["1001"] == "open"
        full = user.get(f"{V2}/domains/~/presence/list", params={"limit": 1}).json()
        assert full == [
            {
                "user": "1000",
                "uid": f"1000@{d}",
                "domain": d,
                "site": "",
                "email": "",
                "name-first-name": "Office",
                "name-last-name": "Tester",
                "department": "",
                "user-presence-status": "open",
                "status-message": "",
            }
        ]
    published = [(e.user, e.payload["user-presence-status"]) for e in events(server, d, "presence")]
    # Registration changes reach presence only through a refresh by their owner, so the
    # published changes are those the calls caused.
    assert published == [("1001", "ringing"), ("1001", "busy"), ("1001", "open")]
    call_events = events(server, d, "call")
    assert [(e.action, e.user, e.payload["remove"]) for e in call_events] == [
        ("create", "1001", "no"),
        ("update", "1001", "no"),
        ("delete", "1001", "yes"),
    ]
    assert call_events[1].payload["term_callid"] == "p1-t"
    assert call_events[1].payload["time_answer"] == "2026-11-27 10:00:05"
    assert [e.action for e in events(server, d, "call_origid")] == ["create", "update", "delete"]
    since = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with tenant.as_role("Office Manager") as om:
        assert om.get(f"{V2}/domains/~/presence/list", params={"last_update": since}).json() == []
        recent = om.get(
            f"{V2}/domains/~/presence/list", params={"last_update": "2000-01-01 00:00:00"}
        ).json()
        assert [p["user"] for p in recent] == ["1001"]
        assert (
            om.get(f"{V2}/domains/~/presence/list", params={"last_update": "soon"}).status_code
            == 400
        )


def test_department_presence(tenant: Tenant) -> None:
    d = tenant.domain
    with tenant.as_role("Office Manager") as om:
        assert (
            om.put(f"{V2}/domains/{d}/users/1001", json={"department": "Sales"}).status_code == 200
        )
        got = presence_of(om, f"{V2}/domains/{d}/departments/Sales/presence/list")
        assert got == {"1001": "inactive"}
        r = om.get(f"{V2}/domains/{d}/departments/Nope/presence/list")
        assert r.status_code == 404 and "Department Nope" in r.json()["message"]
    with tenant.as_role("Basic User") as user:
        assert presence_of(user, f"{V2}/domains/~/departments/Sales/presence/list") == {
            "1001": "inactive"
        }


def test_unknown_call_domains_are_refused(server: LiveServer) -> None:
    with pytest.raises(Exception, match="Neither end"):
        upsert(server, orig_callid="x", orig_user="1", orig_domain="nowhere.example")
    assert end(server, "never-was") == []


def test_presence_reads_device_registrations(server: LiveServer, tenant: Tenant) -> None:
    from celito.devices import service as devices
    from celito.presence import service as presence

    d = tenant.domain
    with tenant.as_role("Office Manager") as om:
        for device in ("1000a", "1000b"):
            r = om.post(f"{V2}/domains/{d}/users/1000/devices", json={"device": device})
            assert r.status_code == 201, r.text
        assert presence_of(om)["1000"] == "inactive"

        async def register(
            session: AsyncSession, device: str, up: bool, expires: datetime | None = None
        ) -> dict[str, str]:
            state = devices.Registration(registered=up, contact="sip:x@y", expires_at=expires)
            await devices.set_registration(session, d, device, state)
            # What the devices resource does after a registration change (see presence.hooks).
            return await presence.refresh(session, d, ["1000"])

        # A registration that has lapsed (the phone went silent) does not count.
        lapsed = datetime.now(UTC) - timedelta(seconds=5)
        assert in_db(server, lambda s: register(s, "1000a", True, lapsed)) == {}
        assert presence_of(om)["1000"] == "inactive"
        assert in_db(server, lambda s: register(s, "1000a", True)) == {"1000": "open"}
        assert presence_of(om)["1000"] == "open"
        assert in_db(server, lambda s: register(s, "1000b", True)) == {}
        assert in_db(server, lambda s: register(s, "1000a", False)) == {}
        assert presence_of(om)["1000"] == "open"
        r = om.put(
            f"{V2}/domains/{d}/users/1000/devices/1000b",
            json={"device-sip-registration-ignore-for-presence-calculation": "yes"},
        )
        assert r.status_code == 200, r.text
        assert presence_of(om)["1000"] == "inactive"
    published = [(e.user, e.payload["user-presence-status"]) for e in events(server, d, "presence")]
    assert published == [("1000", "open")]
