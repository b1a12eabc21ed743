"""Dial plans and dial rules: who may change them, rule ids as the spec defines them, v1 and v2
names meaning the same rule, pattern and destination checks, system-wide plans, tenancy."""

from __future__ import annotations

import base64
from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from celito.dialplans import service as dialplans
from celito.dialplans.patterns import best_match
from tests.integration.numbers_support import V2, claim, domain_id, in_db
from tests.support.live import LiveServer
from tests.support.tenants import ROLE_USERS, Tenant


def rule_id(*fields: str) -> str:
    padded = (*fields, *["*"] * (7 - len(fields)))
    return base64.b64encode("||".join(padded).encode()).decode()


def make_plan(c: httpx.Client, domain: str, name: str = "main") -> httpx.Response:
    return c.post(
        f"{V2}/domains/{domain}/dialplans",
        json={"dial-rule-dial-plan": name, "dial-rule-description": "Main translations"},
    )


def test_plans_roles_and_lifecycle(tenant: Tenant) -> None:
    d, su = tenant.domain, tenant.api.su
    with tenant.as_role("Reseller") as reseller:
        made = make_plan(reseller, d)
        assert made.status_code == 201, made.text
        assert made.json()["domain"] == d and made.json()["dial-rule-dial-plan"] == "main"
        assert made.json()["count-dial-rules-total"] == 0
        assert make_plan(reseller, d).status_code == 409
        for bad in ("", " ", "-x", "a/b", "x" * 65, "semi;colon"):
            assert make_plan(reseller, d, bad).status_code == 422, bad
        assert make_plan(reseller, d, "Cloud PBX (v2)").status_code == 201
        changed = reseller.put(
            f"{V2}/domains/{d}/dialplans/main", json={"dial-rule-description": "Updated"}
        )
        assert changed.status_code == 200 and changed.json()["dial-rule-description"] == "Updated"
    with tenant.as_role("Office Manager") as om:
        names = [p["dial-rule-dial-plan"] for p in om.get(f"{V2}/domains/~/dialplans").json()]
        assert names == ["Cloud PBX (v2)", "main"]
        assert om.get(f"{V2}/domains/{d}/dialplans/Cloud PBX (v2)").status_code == 200
        assert om.get(f"{V2}/domains/{d}/dialplans/main/dialrules").json() == []
        denied = make_plan(om, d, "mine")
        assert denied.status_code == 403 and "Reseller" in denied.json()["message"]
        assert om.put(f"{V2}/domains/{d}/dialplans/main", json={}).status_code == 403
        assert om.delete(f"{V2}/domains/{d}/dialplans/main").status_code == 403
        assert (
            om.post(
                f"{V2}/domains/{d}/dialplans/main/dialrules",
                json={"dial-rule-matching-to-uri": "611", "dial-rule-application": "hangup"},
            ).status_code
            == 403
        )
        assert om.get(f"{V2}/dialplans").status_code == 403
        assert om.get(f"{V2}/domains/*/dialplans").status_code == 403
    for role in ("Site Manager", "Call Center Supervisor", "Call Center Agent", "Basic User"):
        with tenant.as_role(role) as c:
            assert c.get(f"{V2}/domains/{d}/dialplans").status_code == 403, role
            assert c.get(f"{V2}/domains/{d}/dialplans/main/dialrules").status_code == 403, role
            assert make_plan(c, d, "x").status_code == 403, role
    # A plan some domain, site or user names as its dial-plan stays.
    assert su.put(f"{V2}/domains/{d}", json={"dial-plan": "main"}).status_code == 200
    busy = su.delete(f"{V2}/domains/{d}/dialplans/main")
    assert busy.status_code == 409 and f"domain {d}" in busy.json()["message"]
    assert su.put(f"{V2}/domains/{d}", json={"dial-plan": "Cloud PBX (v2)"}).status_code == 200
    assert su.put(f"{V2}/domains/{d}/users/1001", json={"dial-plan": "main"}).status_code == 200
    busy = su.delete(f"{V2}/domains/{d}/dialplans/main")
    assert busy.status_code == 409 and "user 1001" in busy.json()["message"]
    assert su.put(f"{V2}/domains/{d}/users/1001", json={"dial-plan": "other"}).status_code == 200
    with tenant.as_role("Reseller") as reseller:
        reseller.post(
            f"{V2}/domains/{d}/dialplans/main/dialrules",
            json={"dial-rule-matching-to-uri": "611", "dial-rule-application": "hangup"},
        )
        gone = reseller.delete(f"{V2}/domains/{d}/dialplans/main")
        assert gone.status_code == 200 and gone.json()["count-dial-rules-total"] == 1
        assert reseller.get(f"{V2}/domains/{d}/dialplans/main").status_code == 404
        assert reseller.get(f"{V2}/domains/{d}/dialplans/main/dialrules").status_code == 404


def test_rules_ids_v1_names_patterns_and_destinations(tenant: Tenant, server: LiveServer) -> None:
    d = tenant.domain
    claim(server, d, "3000", "callqueue")
    rules = f"{V2}/domains/{d}/dialplans/main/dialrules"
    with tenant.as_role("Reseller") as reseller:
        assert make_plan(reseller, d).status_code == 201
        v2 = reseller.post(
            rules,
            json={
                "synchronous": "yes",
                "dial-rule-matching-to-uri": "sip:611@*",
                "dial-rule-application": "to-callqueue",
                "dial-rule-translation-destination-user": "3000",
                "dial-rule-translation-source-name": "611 - [*]",
                "dial-rule-description": "Customer service",
            },
        )
        assert v2.status_code == 201, v2.text
        rule = v2.json()
        assert rule["dialrule"] == rule_id("sip:611@*")
        assert rule["dial-rule-translation-destination-host"] == d
        assert rule["dial-rule-dial-plan"] == "main" and rule["enabled"] == "yes"
        # The same rule, written by a v1 client, is the same rule (409) …
        v1_same = reseller.post(
            rules,
            json={"matchrule": "611", "responder": "sip:start@call-queuing", "to_user": "3000"},
        )
        assert v1_same.status_code == 409
        # … and a v1 rule reads back in v2 names.
        v1 = reseller.post(
            rules,
            json={
                "matchrule": "sip:1NXXNXXXXXX@*",
                "dow": "[1-5]",
                "tod_from": "08:00",
                "tod_to": "18:00",
                "responder": "sip:start@to-connection",
                "to_user": "[*]",
                "to_host": "carrier-a",
                "plan_description": "Weekday long distance",
                "enable": "yes",
            },
        )
        assert v1.status_code == 201, v1.text
        out = v1.json()
        assert out["dial-rule-application"] == "to-connection"
        assert out["dial-rule-matching-day-of-week"] == "[1-5]"
        assert out["dial-rule-matching-start-time"] == "08:00"
        assert out["dialrule"] == rule_id(
            "sip:1NXXNXXXXXX@*", "*", "[1-5]", "*", "*", "08:00", "18:00"
        )
        # A template destination is fine in a rule (the dialled digits as the extension).
        four = reseller.post(
            rules,
            json={
                "dial-rule-matching-to-uri": "sip:1XXX@*",
                "dial-rule-application": "to-user",
                "dial-rule-translation-destination-user": "[*]",
            },
        )
        assert four.status_code == 201, four.text
        assert reseller.get(f"{rules}/count").json() == {"total": 3}
        listed = [r["dial-rule-matching-to-uri"] for r in reseller.get(rules).json()]
        assert listed == sorted(listed) and len(listed) == 3
        # Read back by id: standard or URL-safe base64, or computed from the bare fields.
        key = rule["dialrule"]
        for form in (key, key.rstrip("="), key.replace("+", "-").replace("/", "_"), rule_id("611")):
            got = reseller.get(f"{rules}/{form}")
            assert got.status_code == 200, form
            assert got.json()["dialrule"] == key
        assert reseller.get(f"{rules}/bm9wZQ==").status_code == 404
        # Bad patterns and times are 422 with a reason; nothing is added.
        for body, needle in (
            ({"dial-rule-matching-to-uri": "sip:1[9-2]@*"}, "backwards"),
            ({"dial-rule-matching-to-uri": "sip:61 1@*"}, "not allowed"),
            ({"dial-rule-matching-to-uri": "sip:1[23@*"}, "never closed"),
            ({"dial-rule-matching-to-uri": "sip:@*"}, "empty"),
            ({"dial-rule-matching-to-uri": "sip:611@bad host"}, "host"),
            ({"dial-rule-matching-to-uri": "612", "dial-rule-matching-day-of-week": "7"}, "day"),
            (
                {"dial-rule-matching-to-uri": "612", "dial-rule-matching-start-date": "2026-13-01"},
                "date",
            ),
            (
                {"dial-rule-matching-to-uri": "612", "dial-rule-matching-start-time": "25:00"},
                "time",
            ),
            (
                {
                    "dial-rule-matching-to-uri": "612",
                    "dial-rule-matching-start-date": "2026-12-02",
                    "dial-rule-matching-end-date": "2026-12-01",
                },
                "before",
            ),
            (
                {
                    "dial-rule-matching-to-uri": "612",
                    "dial-rule-application": "to-user",
                    "dial-rule-translation-destination-user": "3000",
                },
                "is a callqueue",
            ),
            (
                {
                    "dial-rule-matching-to-uri": "612",
                    "dial-rule-application": "to-user",
                    "dial-rule-translation-destination-user": "1001",
                    "dial-rule-translation-destination-host": "other.example",
                },
                "inside domain",
            ),
            ({"dial-rule-matching-to-uri": "612"}, "dial-rule-application is required"),
            (
                {"dial-rule-matching-to-uri": "612", "dial-rule-application": "warp"},
                "unknown dial-rule-application",
            ),
            (
                {
                    "dial-rule-matching-to-uri": "612",
                    "dial-rule-dial-plan": "other",
                    "dial-rule-application": "hangup",
                },
                "differs",
            ),
        ):
            if "dial-rule-application" not in body and "required" not in needle:
                body = {**body, "dial-rule-application": "hangup"}
            r = reseller.post(rules, json=body)
            assert r.status_code == 422, (body, r.text)
            assert needle in r.json()["message"], (body, r.json())
        assert reseller.get(f"{rules}/count").json() == {"total": 3}

        # The stored rules route as the telephony plane will read them.
        async def route(session: AsyncSession) -> list[str | None]:
            plan = await dialplans.rules_for(session, await domain_id(session, d), "main")
            weekday = datetime(2026, 11, 30, 9, 0)
            return [
                getattr(best_match(plan, dialled, at=weekday), "application", None)
                for dialled in ("611", "1234", "12125550100", "999")
            ]

        assert in_db(server, route) == ["to-callqueue", "to-user", "to-connection", None]
        # Updates: the route changes, what the rule matches does not.
        fixed = reseller.put(f"{rules}/{key}", json={"dial-rule-matching-to-uri": "sip:612@*"})
        assert fixed.status_code == 422 and "cannot be changed" in fixed.json()["message"]
        assert reseller.put(f"{rules}/{key}", json={"matchrule": "612"}).status_code == 422
        wrong = reseller.put(f"{rules}/{key}", json={"dial-rule-application": "to-voicemail"})
        assert wrong.status_code == 422  # to-voicemail needs a user; 3000 is not carried over
        updated = reseller.put(
            f"{rules}/{key}",
            json={
                "responder": "sip:start@to-vmail",
                "to_user": "1001",
                "enable": "no",
                "from_name": "611 (vm)",
            },
        )
        assert updated.status_code == 200, updated.text
        assert updated.json()["dial-rule-application"] == "to-voicemail"
        assert updated.json()["enabled"] == "no"
        assert updated.json()["dial-rule-translation-source-name"] == "611 (vm)"
        assert reseller.put(f"{rules}/{key}", json={"dialrule": rule_id("999")}).status_code == 400
        assert reseller.get(f"{rules}/{key}").json()["dial-rule-application"] == "to-voicemail"
        gone = reseller.delete(f"{rules}/{key}")
        assert gone.status_code == 200 and gone.json()["dialrule"] == key
        assert reseller.get(f"{rules}/{key}").status_code == 404
        assert reseller.delete(f"{rules}/{key}").status_code == 404
    with tenant.as_role("Office Manager") as om:
        assert om.get(f"{rules}/count").json() == {"total": 2}
        assert om.put(f"{rules}/{rule_id('sip:1XXX@*')}", json={"enabled": "no"}).status_code == 403
        assert om.delete(f"{rules}/{rule_id('sip:1XXX@*')}").status_code == 403


def test_system_wide_plans(tenant: Tenant, other_tenant: Tenant) -> None:
    su = tenant.api.su
    name = f"System {tenant.domain[:7]}"
    made = su.post(
        f"{V2}/dialplans",
        json={"domain": "*", "dial-rule-dial-plan": name, "dial-rule-description": "All domains"},
    )
    assert made.status_code == 201, made.text
    assert made.json()["domain"] == "*"
    rules = f"{V2}/domains/*/dialplans/{name}/dialrules"
    emergency = su.post(
        rules,
        json={
            "dial-rule-matching-to-uri": "sip:911@*",
            "dial-rule-application": "to-connection",
            "dial-rule-translation-destination-user": "911",
        },
    )
    assert emergency.status_code == 201, emergency.text
    # A system plan's local destinations are templates (no domain to check them in).
    assert (
        su.post(
            rules,
            json={
                "dial-rule-matching-to-uri": "sip:NXXX@*",
                "dial-rule-application": "to-user",
                "dial-rule-translation-destination-user": "[*]",
            },
        ).status_code
        == 201
    )
    with tenant.as_role("Reseller") as reseller:
        assert make_plan(reseller, tenant.domain, "ours").status_code == 201
        seen = {
            (p["domain"], p["dial-rule-dial-plan"])
            for p in reseller.get(f"{V2}/dialplans", params={"limit": 1000}).json()
        }
        assert ("*", name) in seen and (tenant.domain, "ours") in seen
        assert all(dom in ("*", tenant.domain) for dom, _ in seen)
        assert reseller.get(rules).status_code == 200
        assert reseller.get(f"{V2}/dialplans", params={"domain": "*"}).status_code == 200
        refused = reseller.post(
            f"{V2}/dialplans", json={"domain": "*", "dial-rule-dial-plan": "mine"}
        )
        assert refused.status_code == 403
        assert (
            reseller.post(
                rules,
                json={"dial-rule-matching-to-uri": "sip:933@*", "dial-rule-application": "hangup"},
            ).status_code
            == 403
        )
        assert reseller.delete(f"{V2}/domains/*/dialplans/{name}").status_code == 403
        via_global = reseller.post(
            f"{V2}/dialplans", json={"domain": tenant.domain, "dial-rule-dial-plan": "global form"}
        )
        assert via_global.status_code == 201 and via_global.json()["domain"] == tenant.domain
        assert (
            reseller.post(
                f"{V2}/dialplans", json={"domain": other_tenant.domain, "dial-rule-dial-plan": "x"}
            ).status_code
            == 404
        )
    assert su.put(f"{V2}/domains/{tenant.domain}", json={"dial-plan": name}).status_code == 200
    assert su.delete(f"{V2}/domains/*/dialplans/{name}").status_code == 409
    assert su.put(f"{V2}/domains/{tenant.domain}", json={"dial-plan": "ours"}).status_code == 200
    gone = su.delete(f"{V2}/domains/*/dialplans/{name}")
    assert gone.status_code == 200 and gone.json()["count-dial-rules-total"] == 2


def test_cross_tenant(tenant: Tenant, other_tenant: Tenant) -> None:
    o = other_tenant.domain
    su = other_tenant.api.su
    assert make_plan(su, o).status_code == 201
    r = su.post(
        f"{V2}/domains/{o}/dialplans/main/dialrules",
        json={"dial-rule-matching-to-uri": "611", "dial-rule-application": "hangup"},
    )
    assert r.status_code == 201
    key = r.json()["dialrule"]
    before = su.get(f"{V2}/domains/{o}/dialplans/main/dialrules").json()
    for role in ROLE_USERS:
        with tenant.as_role(role) as c:
            for path in (
                f"/domains/{o}/dialplans",
                f"/domains/{o}/dialplans/main",
                f"/domains/{o}/dialplans/main/dialrules",
                f"/domains/{o}/dialplans/main/dialrules/count",
                f"/domains/{o}/dialplans/main/dialrules/{key}",
            ):
                assert c.get(V2 + path).status_code == 404, (role, path)
            assert make_plan(c, o, "stolen").status_code == 404, role
            assert (
                c.put(
                    f"{V2}/domains/{o}/dialplans/main", json={"dial-rule-description": "x"}
                ).status_code
                == 404
            )
            assert c.delete(f"{V2}/domains/{o}/dialplans/main").status_code == 404
            assert (
                c.post(
                    f"{V2}/domains/{o}/dialplans/main/dialrules",
                    json={"dial-rule-matching-to-uri": "612", "dial-rule-application": "hangup"},
                ).status_code
                == 404
            )
            assert (
                c.put(
                    f"{V2}/domains/{o}/dialplans/main/dialrules/{key}", json={"enabled": "no"}
                ).status_code
                == 404
            )
            assert c.delete(f"{V2}/domains/{o}/dialplans/main/dialrules/{key}").status_code == 404
            if role == "Reseller":
                listed = c.get(f"{V2}/dialplans", params={"limit": 1000}).json()
                assert o not in {p["domain"] for p in listed}
                assert c.get(f"{V2}/dialplans", params={"domain": o}).status_code == 404
    assert su.get(f"{V2}/domains/{o}/dialplans/main/dialrules").json() == before
