"""Conference bridges over HTTP: extension plan, PINs, limits, owner and roles."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.conferences import service as conferences
from celito.db import Database
from celito.domains.models import Domain
from tests.support.live import LiveServer
from tests.support.tenants import Tenant

V2 = "/ns-api/v2"


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json()


def refused(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    assert r.json()["code"] == status
    return str(r.json()["message"])


def test_conferences(tenant: Tenant) -> None:
    d = tenant.domain
    c = f"{V2}/domains/{d}/conferences"
    ok(tenant.api.su.put(f"{V2}/domains/{d}", json={"limits-max-conferences": 1}))
    with tenant.as_role("Office Manager") as om:
        for body, status, words in (
            ({"conference": "3005", "leader_pin": "12a4"}, 422, "leader_pin"),
            ({"conference": "3005", "participants_pin": "12"}, 422, "participants_pin"),
            (
                {"conference": "3005", "leader_pin": "1111", "participants_pin": "1111"},
                422,
                "must differ",
            ),
            ({"conference": "3005", "max_participants": "1"}, 422, "max_participants"),
            ({"conference": "3005", "max_participants": 600}, 422, "max_participants"),
            ({"conference": "3005", "quorum": 11}, 422, "quorum (11) cannot exceed"),
            ({"conference": "3005", "owner": "4242"}, 422, "user 4242 does not exist"),
            ({"conference": "3005", "owner": "2000"}, 422, "does not exist"),
            (
                {"conference": "3005", "time_begin": "2026-12-01 10:00", "time_end": "2026-12-01"},
                422,
                "time_end must be after",
            ),
            ({"conference": "3005", "time_begin": "soon"}, 422, "time_begin"),
            ({"conference": "3005", "SipSipAuthKey": "secret"}, 422, "unknown field"),
            ({"conference": "3005", "leader-pin": "1234"}, 422, "unknown field"),
            ({"conference": "1000"}, 409, "already belongs to a user"),
            ({"conference": "count"}, 422, "reserved"),
            ({"name": "no extension"}, 422, "conference"),
        ):
            assert words in refused(om.post(c, json=body), status), body
        assert ok(om.get(f"{c}/count")) == {"total": 0}
        created = ok(
            om.post(
                c,
                json={
                    "conference": "3005",
                    "owner": "1001",
                    "name": "My Conference Room",
                    "conference_type": "dedicated",
                    "leader_pin": "5678",
                    "participants_pin": "1111",
                    "max_participants": "10",
                    "save_participants": "yes",
                    "request_name": "no",
                    "annc_part": "yes",
                    "leader_required": "to-start",
                    "quorum": "2",
                    "time_begin": "2026-12-01T10:00:00-05:00",
                    "confOptions": "record",
                    "synchronous": "yes",
                },
            ),
            201,
        )
        assert created["aor"] == f"3005@{d}" and created["owner_uid"] == f"1001@{d}"
        assert created["max_participants"] == "10" and created["quorum"] == "2"
        assert created["leader_pin"] == "5678" and created["participants_pin"] == "1111"
        assert created["direct_dial"] == "3005" and created["save_participants"] == "yes"
        assert created["time_begin"] == "2026-12-01T15:00:00Z"
        assert created["confOptions"] == "record" and created["leader_required"] == "to-start"
        assert "limit of 1 conferences" in refused(om.post(c, json={"conference": "3006"}), 409)
        assert ok(om.get(f"{c}/count")) == {"total": 1}
        # A read sent back is accepted unchanged.
        assert ok(om.put(f"{c}/3005", json=created)) == {
            **created,
            "last-modified-datetime": ok(om.get(f"{c}/3005"))["last-modified-datetime"],
        }
        assert "cannot change" in refused(om.put(f"{c}/3005", json={"conference": "3006"}), 422)
        refused(om.get(f"{c}/3999"), 404)
        # The bridge holds its extension.
        refused(om.post(f"{V2}/domains/{d}/callqueues", json={"callqueue": "3005"}), 409)
    # The owner sees and changes its PINs, but cannot give the bridge away.
    with tenant.as_role("Basic User") as owner:
        mine = ok(owner.get(f"{c}/3005"))
        assert mine["leader_pin"] == "5678"
        changed = ok(owner.put(f"{c}/3005", json={"leader_pin": "2468", "name": "Ada's room"}))
        assert changed["leader_pin"] == "2468" and changed["name"] == "Ada's room"
        assert "owner" in refused(owner.put(f"{c}/3005", json={"owner": "1300"}), 403)
        refused(owner.delete(f"{c}/3005"), 403)
        refused(owner.post(c, json={"conference": "3007"}), 403)
    # Anyone else in the domain reads the bridge without its PINs.
    for role in ("Call Center Agent", "Site Manager", "Call Center Supervisor"):
        with tenant.as_role(role) as other:
            seen = ok(other.get(c))[0]
            assert seen["conference"] == "3005" and seen["name"] == "Ada's room"
            assert seen["leader_pin"] is None and seen["participants_pin"] is None, role
            refused(other.put(f"{c}/3005", json={"name": "mine"}), 403)
            refused(other.delete(f"{c}/3005"), 403)
            refused(other.post(c, json={"conference": "3007"}), 403)
    with tenant.as_role("Reseller") as reseller:
        assert ok(reseller.get(f"{c}/3005"))["leader_pin"] == "2468"
        moved = ok(reseller.put(f"{c}/3005", json={"owner": ""}))
        assert moved["owner"] == "" and moved["owner_uid"] == ""
    with tenant.as_role("Basic User") as former:
        assert ok(former.get(f"{c}/3005"))["leader_pin"] is None
        refused(former.put(f"{c}/3005", json={"name": "still mine?"}), 403)
    with tenant.as_role("Office Manager") as om:
        gone = ok(om.delete(f"{c}/3005"))
        assert gone["conference"] == "3005"
        refused(om.get(f"{c}/3005"), 404)
        ok(om.post(f"{V2}/domains/{d}/callqueues", json={"callqueue": "3005"}), 201)


def test_deleting_the_owner_gives_the_bridge_to_the_domain(
    tenant: Tenant, server: LiveServer
) -> None:
    d = tenant.domain
    c = f"{V2}/domains/{d}/conferences"
    with tenant.as_role("Office Manager") as om:
        ok(om.post(c, json={"conference": "3005", "owner": "1001", "leader_pin": "1234"}), 201)
        ok(om.post(c, json={"conference": "3006", "owner": "1300"}), 201)

    async def release(session: AsyncSession) -> list[str]:
        domain_id = await session.scalar(select(Domain.id).where(Domain.name == d))
        assert domain_id is not None
        return await conferences.release_owner(session, domain_id, "1001")

    async def run() -> list[str]:
        db = Database(server.settings.resolved_database_url)
        try:
            async with db.writer() as session:
                released = await release(session)
                await session.commit()
                return released
        finally:
            await db.dispose()

    assert asyncio.run(run()) == ["3005"]
    with tenant.as_role("Office Manager") as om:
        owners = {x["conference"]: x["owner"] for x in ok(om.get(c))}
        assert owners == {"3005": "", "3006": "1300"}
    with tenant.as_role("Basic User") as former:
        assert ok(former.get(f"{c}/3005"))["leader_pin"] is None
