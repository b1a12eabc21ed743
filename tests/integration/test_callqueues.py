"""Call queues and agents over HTTP: strategies, overflow, limits, agent states, events, and
the call-center roles (supervisors manage only their queues' agents; agents only themselves)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.callqueues import service as callqueues
from celito.db import Database
from celito.domains.models import Domain
from celito.events.models import Event
from tests.support.live import LiveServer
from tests.support.tenants import Tenant

V2 = "/ns-api/v2"
T = TypeVar("T")


def in_db(server: LiveServer, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def go() -> T:
        db = Database(server.settings.resolved_database_url)
        try:
            async with db.writer() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await db.dispose()

    return asyncio.run(go())


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json()


def refused(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    body = r.json()
    assert body["code"] == status and body["message"]
    return str(body["message"])


def setup_queues(t: Tenant) -> None:
    """Queue 2000 (supervised by 1200, agents 1300 and its device 1300a), queue 2001 (agents
    1300 and 1001, no supervisor)."""
    d = t.domain
    with t.as_role("Office Manager") as om:
        ok(
            om.post(
                f"{V2}/domains/{d}/callqueues",
                json={
                    "callqueue": "2000",
                    "callqueue-supervisors": ["1200"],
                    "callqueue-agent-wrap-up-allowance-seconds": 20,
                },
            ),
            201,
        )
        ok(om.post(f"{V2}/domains/{d}/callqueues", json={"callqueue": "2001"}), 201)
        for queue, agent in (("2000", f"1300@{d}"), ("2000", f"sip:1300a@{d}")):
            ok(
                om.post(
                    f"{V2}/domains/{d}/callqueues/{queue}/agents",
                    json={"callqueue-agent-id": agent},
                ),
                201,
            )
        for agent in (f"1300@{d}", f"1001@{d}"):
            ok(
                om.post(
                    f"{V2}/domains/{d}/callqueues/2001/agents", json={"callqueue-agent-id": agent}
                ),
                201,
            )


def test_queue_crud_strategies_overflow_and_limits(tenant: Tenant) -> None:
    d = tenant.domain
    q = f"{V2}/domains/{d}/callqueues"
    ok(tenant.api.su.put(f"{V2}/domains/{d}", json={"limits-max-call-queues": 2}))
    with tenant.as_role("Office Manager") as om:
        created = ok(
            om.post(
                q,
                json={
                    "callqueue": "2000",
                    "description": "Sales",
                    "callqueue-dispatch-strategy": "fewest-calls",
                    "callqueue-max-wait-timeout-minutes": 5,
                    "callqueue-overflow-destination-application": "to-voicemail",
                    "callqueue-overflow-destination-user": "1000",
                    "callqueue-supervisors": ["1200"],
                    "synchronous": "yes",
                },
            ),
            201,
        )
        assert created["callqueue-dispatch-type"] == "Round-robin"
        assert created["callqueue-dispatch-strategy"] == "fewest-calls"
        assert created["callqueue-supervisors"] == ["1200"]
        assert created["callqueue-overflow-destination-user"] == "1000"
        assert created["callqueue-agent-dispatch-timeout-seconds"] == 30
        assert created["callqueue-calculate-statistics"] == "yes"
        assert created["callqueue-count-agents-total"] == 0
        # A NetSapiens client sending the dispatch type it read keeps the strategy …
        same = ok(om.put(f"{q}/2000", json={"callqueue-dispatch-type": "Round-robin"}))
        assert same["callqueue-dispatch-strategy"] == "fewest-calls"
        # … and a read sent back whole is accepted as it is.
        echoed = ok(om.put(f"{q}/2000", json=ok(om.get(f"{q}/2000"))))
        assert echoed["callqueue-dispatch-strategy"] == "fewest-calls"
        for strategy, dispatch in (
            ("ring-all", "Ring All"),
            ("round-robin", "Tiered Round-robin"),
            ("linear-hunt", "Linear Hunt"),
            ("longest-idle", "Round-robin"),
        ):
            r = ok(om.put(f"{q}/2000", json={"callqueue-dispatch-strategy": strategy}))
            assert r["callqueue-dispatch-type"] == dispatch
        assert (
            ok(om.put(f"{q}/2000", json={"callqueue-dispatch-type": "Linear Cascade"}))[
                "callqueue-dispatch-strategy"
            ]
            == "linear-cascade"
        )
        before = ok(om.get(f"{q}/2000"))
        for body, status, words in (
            (
                {"callqueue-dispatch-type": "Ring All", "callqueue-dispatch-strategy": "call-park"},
                422,
                "not 'Ring All'",
            ),
            ({"callqueue-dispatch-type": "Fastest"}, 422, "callqueue-dispatch-type"),
            ({"callqueue-max-callback-queueing-hours": 7}, 422, "callqueue-max-callback"),
            ({"callqueue-agent-dispatch-timeout-seconds": 0}, 422, "timeout"),
            ({"callqueue-ring-tone": "x"}, 422, "unknown field"),
            ({"callqueue-overflow-destination-user": "4242"}, 422, "does not exist"),
            (
                {
                    "callqueue-overflow-destination-application": "to-callqueue",
                    "callqueue-overflow-destination-user": "1000",
                },
                422,
                "not a call queue",
            ),
            (
                {
                    "callqueue-overflow-destination-application": "to-user",
                    "callqueue-overflow-destination-user": "2000",
                },
                422,
                "cannot overflow to itself",
            ),
            (
                {"callqueue-overflow-destination-application": "spam-screening"},
                422,
                "not a call destination",
            ),
            ({"callqueue-supervisors": ["1001"]}, 422, "not a Call Center Supervisor"),
            ({"callqueue-supervisors": ["4242"]}, 422, "does not exist"),
            ({"callqueue": "2002"}, 422, "cannot change"),
        ):
            assert words in refused(om.put(f"{q}/2000", json=body), status), body
        assert ok(om.get(f"{q}/2000")) == before
        # Overflow to an outside number; and back to nothing.
        r = ok(
            om.put(
                f"{q}/2000",
                json={
                    "callqueue-overflow-destination-application": "to-connection",
                    "callqueue-overflow-destination-user": "+1 212 555 0100",
                },
            )
        )
        assert r["callqueue-overflow-destination-user"] == "+12125550100"
        r = ok(
            om.put(
                f"{q}/2000",
                json={
                    "callqueue-overflow-destination-application": "",
                    "callqueue-overflow-destination-user": None,
                },
            )
        )
        assert r["callqueue-overflow-destination-application"] is None
        # The extension plan is shared with users; paths words are reserved.
        assert "already belongs to a user" in refused(om.post(q, json={"callqueue": "1000"}), 409)
        assert "reserved" in refused(om.post(q, json={"callqueue": "all"}), 422)
        ok(
            om.post(
                q,
                json={
                    "callqueue": "2001",
                    "callqueue-overflow-destination-application": "to-callqueue",
                    "callqueue-overflow-destination-user": "2000",
                },
            ),
            201,
        )
        assert "limit of 2 call queues" in refused(om.post(q, json={"callqueue": "2002"}), 409)
        assert ok(om.get(f"{q}/count")) == {"total": 2}
        assert [x["callqueue"] for x in ok(om.get(f"{q}/list"))] == ["2000", "2001"]
        assert [x["callqueue"] for x in ok(om.get(q, params={"fields": "callqueue"}))] == [
            "2000",
            "2001",
        ]
        assert refused(om.get(q, params={"fields": "nope"}), 400)
        assert "call queue 2001 (overflow)" in refused(om.delete(f"{q}/2000"), 409)
        assert ok(om.delete(f"{q}/2001"))["callqueue"] == "2001"
        ok(om.delete(f"{q}/2000"))
        refused(om.get(f"{q}/2000"), 404)
        refused(om.delete(f"{q}/2000"), 404)
        # The extension was released.
        ok(om.post(q, json={"callqueue": "2000"}), 201)
    with tenant.as_role("Reseller") as reseller:
        ok(reseller.post(q, json={"callqueue": "2009"}), 201)
        assert "limit of 2" in refused(reseller.post(q, json={"callqueue": "2010"}), 409)


def test_agents_states_and_events(tenant: Tenant, server: LiveServer) -> None:
    d = tenant.domain
    q = f"{V2}/domains/{d}/callqueues"
    setup_queues(tenant)
    with tenant.as_role("Office Manager") as om:
        agents = ok(om.get(f"{q}/2000/agents"))
        assert [
            (a["callqueue-agent-id"], a["callqueue-agent-entry-type"], a["user"]) for a in agents
        ] == [
            (f"1300@{d}", "user", "1300"),
            (f"sip:1300a@{d}", "device", "1300"),
        ]
        first = agents[0]
        assert first["callqueue-agent-wrap-up-allowance-seconds"] == 20  # the queue's
        assert first["callqueue-agent-availability-type"] == "automatic"
        assert first["callqueue-agent-availability-for-dispatch"] == "available"
        assert first["agent-user-scope"] == "Call Center Agent"
        assert first["name-full-name"] == "Call Tester"
        assert ok(om.get(f"{q}/2000/agents/count")) == {"total": 2}
        assert ok(om.get(f"{q}/2000"))["callqueue-count-agents-available"] == 2
        for body, status, words in (
            ({"callqueue-agent-id": f"1300@{d}"}, 409, "already in call queue"),
            ({"callqueue-agent-id": f"4242@{d}"}, 422, "user 4242 does not exist"),
            ({"callqueue-agent-id": "1300@elsewhere.example"}, 422, "must be users of domain"),
            ({"callqueue-agent-id": f"sip:9999x@{d}"}, 422, "owns device 9999x"),
            ({"callqueue-agent-id": "not an id"}, 422, "not valid"),
            ({"callqueue-agent-id": f"1001@{d}", "callqueue": "2001"}, 422, "in the path"),
            (
                {"callqueue-agent-id": f"1001@{d}", "callqueue-agent-availability-type": "away"},
                422,
                "availability-type",
            ),
            ({}, 422, "callqueue-agent-id"),
        ):
            assert words in refused(om.post(f"{q}/2000/agents", json=body), status), body
        refused(om.get(f"{q}/2000/agents/1001@{d}"), 404)
        refused(om.get(f"{q}/2999/agents"), 404)
        # A read sent back is accepted; the id cannot change.
        echoed = ok(om.put(f"{q}/2000/agents/1300@{d}", json=first))
        assert echoed["callqueue-agent-wrap-up-allowance-seconds"] == 20
        assert "cannot change" in refused(
            om.put(f"{q}/2000/agents/1300@{d}", json={"callqueue-agent-id": f"1001@{d}"}), 422
        )
    with tenant.as_role("Call Center Agent") as agent:
        out = ok(agent.patch(f"{q}/2000/agents/~/logout"))
        assert out["callqueue-agent-availability-for-dispatch"] == "logged-out"
        out = ok(agent.patch(f"{q}/2000/agents/1300@{d}/onecall"))
        assert out["callqueue-agent-single-call"] == "yes"
        assert out["callqueue-agent-availability-for-dispatch"] == "single-call"
        out = ok(agent.patch(f"{q}/2000/agents/1300@{d}/login"))
        assert out["callqueue-agent-availability-type"] == "automatic"
        everywhere = ok(agent.patch(f"{q}/all/agents/~/lunch"))
        assert sorted((a["callqueue"], a["callqueue-agent-id"]) for a in everywhere) == [
            ("2000", f"1300@{d}"),
            ("2000", f"sip:1300a@{d}"),
            ("2001", f"1300@{d}"),
        ]
        assert {a["callqueue-agent-availability-for-dispatch"] for a in everywhere} == {"lunch"}
        assert {
            a["callqueue-agent-status"] for a in ok(agent.patch(f"{q}/all/agents/~/cust3"))
        } == {"cust3"}
        assert "cust1" in refused(agent.patch(f"{q}/all/agents/~/dance"), 400)
        assert {
            a["callqueue-agent-availability-for-dispatch"]
            for a in ok(agent.patch(f"{q}/all/agents/1300@{d}/login"))
        } == {"available"}
    with tenant.as_role("Office Manager") as om:
        disabled = ok(
            om.put(
                f"{q}/2001/agents/1300@{d}",
                json={
                    "callqueue-agent-availability-type": "disabled",
                    "limits-max-active-calls-total": 2,
                },
            )
        )
        assert disabled["callqueue-agent-availability-for-dispatch"] == "disabled"
        assert disabled["limits-max-active-calls-total"] == 2
    with tenant.as_role("Call Center Agent") as agent:
        assert "disabled" in refused(agent.patch(f"{q}/2001/agents/~/login"), 409)
        after = {
            a["callqueue"] + a["callqueue-agent-id"]: a
            for a in ok(agent.patch(f"{q}/all/agents/~/break"))
        }
        assert after[f"20011300@{d}"]["callqueue-agent-availability-type"] == "disabled"
        assert after[f"20001300@{d}"]["callqueue-agent-status"] == "break"
    with tenant.as_role("Office Manager") as om:
        removed = ok(om.delete(f"{q}/2000/agents/sip:1300a@{d}"))
        assert removed["device"] == "1300a"
        refused(om.get(f"{q}/2000/agents/sip:1300a@{d}"), 404)

    async def agent_events(session: AsyncSession) -> list[Event]:
        rows = await session.scalars(
            select(Event).where(Event.domain == d, Event.model == "agent").order_by(Event.id)
        )
        return list(rows.all())

    emitted = in_db(server, agent_events)
    actions = [e.action for e in emitted]
    assert actions == [
        *["create"] * 4,
        "update",  # the echoed read
        "logout",
        "onecall",
        "login",
        *["lunch"] * 3,
        *["cust3"] * 3,
        *["login"] * 3,
        "update",  # disabled in 2001
        *["break"] * 2,  # not the disabled entry
        "delete",
    ]
    assert emitted[-1].payload["callqueue-agent-id"] == f"sip:1300a@{d}"
    assert all(e.user for e in emitted)

    # Deleting a user: its memberships and supervisor attachments go, with events.
    async def remove(session: AsyncSession) -> tuple[list[str], list[str]]:
        domain_id = await session.scalar(select(Domain.id).where(Domain.name == d))
        assert domain_id is not None
        agent = await callqueues.remove_user_memberships(session, domain_id, "1300")
        supervisor = await callqueues.remove_user_memberships(session, domain_id, "1200")
        return agent, supervisor

    agent_rows, supervisor_rows = in_db(server, remove)
    assert sorted(agent_rows) == [f"2000/1300@{d}", f"2001/1300@{d}"]
    assert supervisor_rows == ["supervisor of 2000"]
    assert [e.action for e in in_db(server, agent_events)][-2:] == ["delete", "delete"]
    with tenant.as_role("Office Manager") as om:
        assert ok(om.get(f"{q}/2000"))["callqueue-supervisors"] == []
        assert [a["user"] for a in ok(om.get(f"{V2}/domains/{d}/agents"))] == ["1001"]
        # A user deleted without that clean-up leaves no membership behind either.
        ok(om.delete(f"{V2}/domains/{d}/users/1001"))
        assert ok(om.get(f"{V2}/domains/{d}/agents")) == []
    # And a domain with queues, attendants and conferences can be deleted.
    ok(tenant.api.su.delete(f"{V2}/domains/{d}"))


def test_a_supervisor_manages_only_its_queues_agents(tenant: Tenant) -> None:
    d = tenant.domain
    q = f"{V2}/domains/{d}/callqueues"
    setup_queues(tenant)
    with tenant.as_role("Call Center Supervisor") as sup:
        assert [x["callqueue"] for x in ok(sup.get(q))] == ["2000"]
        assert [x["callqueue"] for x in ok(sup.get(f"{q}/list"))] == ["2000"]
        assert ok(sup.get(f"{q}/count")) == {"total": 1}
        assert {a["callqueue"] for a in ok(sup.get(f"{V2}/domains/{d}/agents"))} == {"2000"}
        assert "not one of the queues you supervise" in refused(sup.get(f"{q}/2001"), 403)
        refused(sup.get(f"{q}/2001/agents"), 403)
        refused(sup.get(f"{q}/2001/agents/1300@{d}"), 403)
        ok(sup.post(f"{q}/2000/agents", json={"callqueue-agent-id": f"1001@{d}"}), 201)
        refused(sup.post(f"{q}/2001/agents", json={"callqueue-agent-id": f"1000@{d}"}), 403)
        ok(
            sup.put(
                f"{q}/2000/agents/1001@{d}", json={"callqueue-agent-wrap-up-allowance-seconds": 5}
            )
        )
        refused(sup.put(f"{q}/2001/agents/1300@{d}", json={"auto-answer-enabled": "yes"}), 403)
        assert (
            ok(sup.patch(f"{q}/2000/agents/1300@{d}/logout"))["callqueue-agent-availability-type"]
            == "manual"
        )
        refused(sup.patch(f"{q}/2001/agents/1300@{d}/logout"), 403)
        # `all` reaches only the supervisor's queues.
        changed = ok(sup.patch(f"{q}/all/agents/1001@{d}/meeting"))
        assert [(a["callqueue"], a["callqueue-agent-status"]) for a in changed] == [
            ("2000", "meeting")
        ]
        # The queues themselves are not the supervisor's to change.
        refused(sup.put(f"{q}/2000", json={"description": "mine"}), 403)
        refused(sup.put(f"{q}/2000", json={"callqueue-supervisors": []}), 403)
        refused(sup.post(q, json={"callqueue": "2005"}), 403)
        refused(sup.delete(f"{q}/2000"), 403)
        ok(sup.delete(f"{q}/2000/agents/1001@{d}"))
    with tenant.as_role("Office Manager") as om:
        untouched = ok(om.get(f"{q}/2001/agents/1001@{d}"))
        assert untouched["callqueue-agent-status"] == "available"
        assert ok(om.get(f"{q}/2001/agents/1300@{d}"))["callqueue-agent-availability-type"] == (
            "automatic"
        )
        ok(om.put(f"{q}/2000", json={"callqueue-supervisors": []}))
    with tenant.as_role("Call Center Supervisor") as sup:
        assert ok(sup.get(q)) == []
        refused(sup.get(f"{q}/2000"), 403)
        refused(sup.patch(f"{q}/all/agents/1300@{d}/login"), 403)


def test_agents_and_users_see_only_what_their_role_allows(tenant: Tenant) -> None:
    d = tenant.domain
    q = f"{V2}/domains/{d}/callqueues"
    setup_queues(tenant)
    with tenant.as_role("Call Center Agent") as agent:
        assert [x["callqueue"] for x in ok(agent.get(q))] == ["2000", "2001"]
        mine = ok(agent.get(f"{q}/2001/agents"))
        assert [a["callqueue-agent-id"] for a in mine] == [f"1300@{d}"]
        assert ok(agent.get(f"{q}/2001/agents/count")) == {"total": 1}
        assert len(ok(agent.get(f"{V2}/domains/{d}/agents"))) == 3
        refused(agent.get(f"{q}/2001/agents/1001@{d}"), 403)
        refused(agent.patch(f"{q}/2001/agents/1001@{d}/logout"), 403)
        refused(agent.patch(f"{q}/all/agents/1001@{d}/logout"), 403)
        refused(
            agent.put(f"{q}/2001/agents/~", json={"callqueue-agent-wrap-up-allowance-seconds": 0}),
            403,
        )
        refused(agent.delete(f"{q}/2001/agents/~"), 403)
        refused(agent.post(f"{q}/2001/agents", json={"callqueue-agent-id": f"1000@{d}"}), 403)
        refused(agent.put(f"{q}/2001", json={"description": "x"}), 403)
        refused(agent.post(q, json={"callqueue": "2005"}), 403)
    with tenant.as_role("Office Manager") as om:
        ok(om.delete(f"{q}/2000/agents/1300@{d}"))
        ok(om.delete(f"{q}/2000/agents/sip:1300a@{d}"))
    with tenant.as_role("Call Center Agent") as agent:
        assert "not an agent of call queue 2000" in refused(agent.get(f"{q}/2000"), 403)
        assert [x["callqueue"] for x in ok(agent.get(q))] == ["2001"]
    # A Basic User is refused everything, even one that is an agent (1001 is, in 2001).
    with tenant.as_role("Basic User") as user:
        for path in (
            q,
            f"{q}/list",
            f"{q}/count",
            f"{q}/2001",
            f"{q}/2001/agents",
            f"{q}/2001/agents/count",
            f"{q}/2001/agents/~",
            f"{V2}/domains/{d}/agents",
        ):
            refused(user.get(path), 403)
        refused(user.patch(f"{q}/2001/agents/~/logout"), 403)
        refused(user.patch(f"{q}/all/agents/~/logout"), 403)
        refused(user.post(q, json={"callqueue": "2005"}), 403)
    with tenant.as_role("Site Manager") as site:
        assert len(ok(site.get(q))) == 2
        assert len(ok(site.get(f"{V2}/domains/{d}/agents"))) == 2
        refused(site.put(f"{q}/2001", json={"description": "x"}), 403)
        refused(site.post(f"{q}/2001/agents", json={"callqueue-agent-id": f"1100@{d}"}), 403)
        refused(site.patch(f"{q}/2001/agents/1001@{d}/logout"), 403)
        refused(site.patch(f"{q}/all/agents/1001@{d}/logout"), 403)
    with tenant.as_role("Office Manager") as om:
        assert {a["callqueue-agent-availability-type"] for a in ok(om.get(f"{q}/2001/agents"))} == {
            "automatic"
        }
