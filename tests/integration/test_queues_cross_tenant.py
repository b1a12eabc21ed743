"""Call queues, agents, auto attendants and conferences of another tenant do not exist for
any role of yours (404), and nothing you try changes them."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.tenants import ROLE_USERS, Tenant

V2 = "/ns-api/v2"


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json()


def state(t: Tenant) -> dict[str, Any]:
    su = t.api.su
    base = f"{V2}/domains/{t.domain}"
    return {
        "queues": ok(su.get(f"{base}/callqueues")),
        "agents": ok(su.get(f"{base}/agents")),
        "attendants": ok(su.get(f"{base}/autoattendants")),
        "conferences": ok(su.get(f"{base}/conferences")),
    }


def test_other_tenants_queues_attendants_and_conferences_are_missing(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    o = other_tenant.domain
    theirs = f"{V2}/domains/{o}"
    with other_tenant.as_role("Office Manager") as om:
        ok(
            om.post(
                f"{theirs}/callqueues",
                json={"callqueue": "2000", "callqueue-supervisors": ["1200"]},
            ),
            201,
        )
        ok(
            om.post(f"{theirs}/callqueues/2000/agents", json={"callqueue-agent-id": f"1300@{o}"}),
            201,
        )
        ok(om.post(f"{theirs}/autoattendants", json={"user": "3000", "attendant-name": "x"}), 201)
        ok(om.post(f"{theirs}/conferences", json={"conference": "3005", "leader_pin": "1234"}), 201)
    before = state(other_tenant)
    agent = f"1300@{o}"
    reads = (
        "callqueues",
        "callqueues/list",
        "callqueues/count",
        "callqueues/2000",
        "callqueues/2000/agents",
        "callqueues/2000/agents/count",
        f"callqueues/2000/agents/{agent}",
        "agents",
        "autoattendants",
        "autoattendants/count",
        "autoattendants/Prompt_300001",
        "users/3000/autoattendants/Prompt_300001",
        "conferences",
        "conferences/count",
        "conferences/3005",
    )
    for role in ROLE_USERS:
        with tenant.as_role(role) as c:
            for path in reads:
                r = c.get(f"{theirs}/{path}")
                assert r.status_code == 404, (role, path, r.status_code, r.text)
                assert r.json() == {"code": 404, "message": f"Domain {o} does not exist"}
            writes = (
                c.post(f"{theirs}/callqueues", json={"callqueue": "2001"}),
                c.put(f"{theirs}/callqueues/2000", json={"description": "mine"}),
                c.delete(f"{theirs}/callqueues/2000"),
                c.post(f"{theirs}/callqueues/2000/agents", json={"callqueue-agent-id": agent}),
                c.put(
                    f"{theirs}/callqueues/2000/agents/{agent}", json={"auto-answer-enabled": "yes"}
                ),
                c.delete(f"{theirs}/callqueues/2000/agents/{agent}"),
                c.patch(f"{theirs}/callqueues/2000/agents/{agent}/logout"),
                c.patch(f"{theirs}/callqueues/2000/agents/{agent}/onecall"),
                c.patch(f"{theirs}/callqueues/all/agents/{agent}/lunch"),
                c.patch(f"{theirs}/callqueues/all/agents/~/lunch"),
                c.post(f"{theirs}/autoattendants", json={"user": "3001", "attendant-name": "x"}),
                c.put(f"{theirs}/autoattendants/Prompt_300001", json={"attendant-name": "x"}),
                c.delete(f"{theirs}/users/3000/autoattendants/Prompt_300001"),
                c.post(f"{theirs}/conferences", json={"conference": "3006"}),
                c.put(f"{theirs}/conferences/3005", json={"leader_pin": "9999"}),
                c.delete(f"{theirs}/conferences/3005"),
            )
            for r in writes:
                assert r.status_code == 404, (role, r.request.method, r.request.url, r.text)
            # Their agent cannot be added to our queues either.
            if role in ("Office Manager", "Reseller"):
                ok(c.post(f"{V2}/domains/~/callqueues", json={"callqueue": "2500"}), 201)
                r = c.post(
                    f"{V2}/domains/{tenant.domain}/callqueues/2500/agents",
                    json={"callqueue-agent-id": agent},
                )
                assert r.status_code == 422, r.text
                assert ok(c.delete(f"{V2}/domains/{tenant.domain}/callqueues/2500"))
    assert state(other_tenant) == before
