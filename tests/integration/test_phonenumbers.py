"""Phone numbers: +E.164 from any spelling, unique system-wide, routing checked against the
extension plan (users, queues, attendants, devices), v1 names, moves, the inventory, the
release/assign helpers other flows call, roles and tenancy."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auth.caller import system_caller
from celito.errors import CelitoError
from celito.phonenumbers import service as numbers
from tests.integration.numbers_support import V2, claim, domain_id, in_db, new_number
from tests.support.live import LiveServer
from tests.support.tenants import ROLE_USERS, Tenant


def add(c: httpx.Client, domain: str, number: str, **route: str) -> httpx.Response:
    return c.post(f"{V2}/domains/{domain}/phonenumbers", json={"phonenumber": number, **route})


def test_numbers_are_e164_and_unique_system_wide(tenant: Tenant, other_tenant: Tenant) -> None:
    d = tenant.domain
    number = new_number()
    ns_spelling = number[1:]  # NetSapiens writes 12125550123
    pretty = f"+1 ({number[2:5]}) {number[5:8]}-{number[8:]}"
    with tenant.as_role("Office Manager") as om:
        r = add(om, d, ns_spelling, **{"dial-rule-description": "spare"})
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["phonenumber"] == number and made["domain"] == d
        assert made["dial-rule-application"] == "available-number"
        assert made["dial-rule-translation-destination-user"] == "[*]"
        assert made["enabled"] == "yes" and made["dial-rule-description"] == "spare"
        dup = add(om, d, pretty)
        assert dup.status_code == 409
        assert dup.json()["message"] == f"Phone number already exists in domain {d}"
        for spelling in (number, ns_spelling, pretty, "00" + number[1:]):
            got = om.get(f"{V2}/domains/{d}/phonenumbers/{spelling}")
            assert got.status_code == 200, spelling
            assert got.json()["phonenumber"] == number
        assert om.get(f"{V2}/domains/{d}/phonenumbers/not-a-number").status_code == 400
        assert om.get(f"{V2}/domains/{d}/phonenumbers/{new_number()}").status_code == 404
        for bad in ("hello", "+1555", "12", "+1 212 555 01000000000000"):
            r = add(om, d, bad)
            assert r.status_code == 422, (bad, r.text)
        assert om.get(f"{V2}/domains/{d}/phonenumbers/count").json() == {"total": 1}
    # Another tenant cannot take it either, and is not told whose it is.
    with other_tenant.as_role("Office Manager") as theirs:
        taken = add(theirs, other_tenant.domain, number)
        assert taken.status_code == 409
        assert taken.json()["message"] == "Phone number already exists"


def test_routing_is_checked_against_the_extension_plan(tenant: Tenant, server: LiveServer) -> None:
    d = tenant.domain
    claim(server, d, "3000", "callqueue")
    claim(server, d, "4000", "autoattendant")
    number = new_number()
    url = f"{V2}/domains/{d}/phonenumbers/{number}"
    with tenant.as_role("Office Manager") as om:
        created = add(om, d, number, **{"dial-rule-translation-destination-user": "1001"})
        assert created.status_code == 201
        assert created.json()["dial-rule-application"] == "to-user"
        assert created.json()["dial-rule-translation-destination-host"] == d

        def route(**body: Any) -> httpx.Response:
            return om.put(url, json=body)

        ok = route(
            **{
                "dial-rule-application": "to-callqueue",
                "dial-rule-translation-destination-user": "3000",
            }
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["dial-rule-application"] == "to-callqueue"
        refusals = [
            (
                {
                    "dial-rule-application": "to-callqueue",
                    "dial-rule-translation-destination-user": "1001",
                },
                "is a user",
            ),
            (
                {
                    "dial-rule-application": "to-user",
                    "dial-rule-translation-destination-user": "3000",
                },
                "is a callqueue",
            ),
            (
                {
                    "dial-rule-application": "to-voicemail",
                    "dial-rule-translation-destination-user": "4000",
                },
                "is a autoattendant",
            ),
            (
                {
                    "dial-rule-application": "to-user",
                    "dial-rule-translation-destination-user": "7777",
                },
                "does not exist",
            ),
            ({"dial-rule-application": "to-user"}, "needs dial-rule-translation-destination-user"),
            (
                {
                    "dial-rule-application": "to-user",
                    "dial-rule-translation-destination-user": "[*]",
                },
                "needs",
            ),
            (
                {
                    "dial-rule-application": "to-single-device",
                    "dial-rule-translation-destination-user": "1001a",
                },
                "Device 1001a",
            ),
            (
                {
                    "dial-rule-application": "available-number",
                    "dial-rule-translation-destination-user": "1001",
                },
                "takes no destination",
            ),
            (
                {
                    "dial-rule-application": "to-user",
                    "dial-rule-translation-destination-user": "1001",
                    "dial-rule-translation-destination-host": "elsewhere.example",
                },
                "inside domain",
            ),
            (
                {
                    "dial-rule-application": "to-teleporter",
                    "dial-rule-translation-destination-user": "1001",
                },
                "unknown dial-rule-application",
            ),
            (
                {
                    "dial-rule-application": "to-user",
                    "dial-rule-translation-destination-user": "10 01",
                },
                "spaces",
            ),
        ]
        for body, needle in refusals:
            r = route(**body)
            assert r.status_code == 422, (body, r.text)
            assert needle in r.json()["message"], (body, r.json())
        # Nothing changed by the refusals.
        assert om.get(url).json()["dial-rule-translation-destination-user"] == "3000"
        # An auto attendant (and a conference) is reached with to-user, as in NetSapiens.
        assert (
            route(
                **{
                    "dial-rule-translation-destination-user": "4000",
                    "dial-rule-application": "to-user",
                }
            ).status_code
            == 200
        )
        assert (
            route(
                **{
                    "dial-rule-application": "to-voicemail",
                    "dial-rule-translation-destination-user": "1001",
                }
            ).json()["dial-rule-application"]
            == "to-voicemail"
        )
        # Off-net: any number, through a connection.
        offnet = route(
            **{
                "dial-rule-application": "to-connection",
                "dial-rule-translation-destination-user": "18005551234",
                "dial-rule-translation-destination-host": "carrier-a",
            }
        )
        assert (
            offnet.status_code == 200
            and offnet.json()["dial-rule-translation-destination-host"] == "carrier-a"
        )
        # A device of the domain.
        assert (
            om.post(f"{V2}/domains/{d}/users/1001/devices", json={"device": "1001a"}).status_code
            == 201
        )
        dev = route(
            **{
                "dial-rule-application": "to-single-device",
                "dial-rule-translation-destination-user": "1001a",
            }
        )
        assert dev.status_code == 200
        # v1 names: the spec's own "use case" body, at PUT …/phonenumbers.
        v1 = om.put(
            f"{V2}/domains/{d}/phonenumbers",
            json={
                "phonenumber": number[1:],
                "responder": "sip:start@call-queuing",
                "to_user": "3000",
                "to_host": d,
                "plan_description": "Marketing",
            },
        )
        assert v1.status_code == 200, v1.text
        assert v1.json()["dial-rule-application"] == "to-callqueue"
        assert v1.json()["dial-rule-description"] == "Marketing"
        back = om.put(
            f"{V2}/domains/{d}/phonenumbers",
            json={"phonenumber": number, "responder": "AvailableDID", "to_user": "[*]"},
        )
        assert back.json()["dial-rule-application"] == "available-number"
        assert (
            om.put(f"{V2}/domains/{d}/phonenumbers", json={"responder": "Hangup"}).status_code
            == 422
        )
        assert om.put(url, json={"phonenumber": new_number()}).status_code == 422
        assert om.put(url, json={"enable": "no", "enabled": "no"}).status_code == 422
        off = om.put(url, json={"enabled": "no"})
        assert (
            off.json()["enabled"] == "no"
            and off.json()["dial-rule-application"] == "available-number"
        )
        listed = om.get(
            f"{V2}/domains/{d}/phonenumbers", params={"dial-rule-application": "AvailableDID"}
        )
        assert [n["phonenumber"] for n in listed.json()] == [number]
        assert (
            om.get(
                f"{V2}/domains/{d}/phonenumbers", params={"dial-rule-application": "nope"}
            ).status_code
            == 400
        )
        gone = om.delete(url)
        assert gone.status_code == 200 and gone.json()["phonenumber"] == number
        assert om.get(url).status_code == 404
        assert om.delete(url).status_code == 404


def test_assign_and_release_for_other_flows(tenant: Tenant, server: LiveServer) -> None:
    d = tenant.domain
    direct, to_device, to_queue = new_number(), new_number(), new_number()
    claim(server, d, "3000", "callqueue")
    with tenant.as_role("Office Manager") as om:
        assert (
            om.post(f"{V2}/domains/{d}/users/1001/devices", json={"device": "1001a"}).status_code
            == 201
        )
        assert (
            add(
                om,
                d,
                to_device,
                **{
                    "dial-rule-application": "to-single-device",
                    "dial-rule-translation-destination-user": "1001a",
                },
            ).status_code
            == 201
        )
        assert (
            add(
                om,
                d,
                to_queue,
                **{
                    "dial-rule-application": "to-callqueue",
                    "dial-rule-translation-destination-user": "3000",
                },
            ).status_code
            == 201
        )

    async def assign(session: AsyncSession) -> str:
        out = await numbers.assign_to_user(session, system_caller(), d, direct[1:], "1001")
        return out.dial_rule_application

    assert in_db(server, assign) == "to-user"
    with tenant.as_role("Basic User") as user:
        mine = {n["phonenumber"] for n in user.get(f"{V2}/domains/~/phonenumbers").json()}
        assert mine == {direct, to_device}
        assert user.get(f"{V2}/domains/~/phonenumbers/count").json() == {"total": 2}

    async def release(session: AsyncSession) -> list[str]:
        return await numbers.release_for_user(session, await domain_id(session, d), "1001")

    assert sorted(in_db(server, release)) == sorted([direct, to_device])
    with tenant.as_role("Office Manager") as om:
        apps = {
            n["phonenumber"]: n["dial-rule-application"]
            for n in om.get(f"{V2}/domains/{d}/phonenumbers").json()
        }
    assert apps == {
        direct: "available-number",
        to_device: "available-number",
        to_queue: "to-callqueue",
    }
    assert in_db(server, release) == []

    async def elsewhere(session: AsyncSession) -> int:
        try:
            await numbers.assign_to_user(session, system_caller(), d, "+1 555", "1001")
        except CelitoError as e:
            return e.status
        return 200

    assert in_db(server, elsewhere) == 422


def test_roles_moves_and_inventory(tenant: Tenant, other_tenant: Tenant) -> None:
    d, su = tenant.domain, tenant.api.su
    mine, spare = new_number(), new_number()
    with tenant.as_role("Office Manager") as om:
        assert (
            add(om, d, mine, **{"dial-rule-translation-destination-user": "1001"}).status_code
            == 201
        )
        assert add(om, d, spare).status_code == 201
    with tenant.as_role("Basic User") as user:
        assert [n["phonenumber"] for n in user.get(f"{V2}/domains/~/phonenumbers").json()] == [mine]
        assert user.get(f"{V2}/domains/~/phonenumbers/{mine}").status_code == 200
        assert user.get(f"{V2}/domains/~/phonenumbers/{spare}").status_code == 403
        assert add(user, d, new_number()).status_code == 403
        assert (
            user.put(f"{V2}/domains/~/phonenumbers/{mine}", json={"enabled": "no"}).status_code
            == 403
        )
        assert user.delete(f"{V2}/domains/~/phonenumbers/{mine}").status_code == 403
        assert user.get(f"{V2}/phonenumbers").status_code == 403
    for role in ("Site Manager", "Call Center Supervisor"):
        with tenant.as_role(role) as c:
            assert c.get(f"{V2}/domains/{d}/phonenumbers/count").json() == {"total": 2}, role
            assert add(c, d, new_number()).status_code == 403
            assert (
                c.put(f"{V2}/domains/{d}/phonenumbers/{spare}", json={"enabled": "no"}).status_code
                == 403
            )
            assert c.delete(f"{V2}/domains/{d}/phonenumbers/{spare}").status_code == 403
    # Moving between domains: a Reseller's (or Super User's) call.
    second = f"m{d}"
    assert (
        su.post(f"{V2}/domains", json={"domain": second, "reseller": tenant.reseller}).status_code
        == 201
    )
    with tenant.as_role("Office Manager") as om:
        refused = om.put(f"{V2}/domains/{d}/phonenumbers/{mine}", json={"domain": second})
        assert refused.status_code == 404  # the OM does not see the other domain at all
        same = om.put(f"{V2}/domains/{d}/phonenumbers/{mine}", json={"domain": d})
        assert same.status_code == 200 and same.json()["dial-rule-application"] == "to-user"
    with tenant.as_role("Reseller") as reseller:
        moved = reseller.put(f"{V2}/domains/{d}/phonenumbers/{mine}", json={"domain": second})
        assert moved.status_code == 200, moved.text
        assert moved.json()["domain"] == second
        assert moved.json()["dial-rule-application"] == "available-number"
        assert moved.json()["dial-rule-translation-destination-user"] == "[*]"
        # Routing in the new domain is checked there (it has no user 1001).
        back = reseller.put(
            f"{V2}/domains/{second}/phonenumbers/{mine}",
            json={
                "domain": d,
                "dial-rule-application": "to-user",
                "dial-rule-translation-destination-user": "1001",
            },
        )
        assert back.status_code == 200 and back.json()["domain"] == d
        assert back.json()["dial-rule-translation-destination-user"] == "1001"
        inv = reseller.get(f"{V2}/phonenumbers", params={"limit": 1000}).json()
        assert {n["phonenumber"] for n in inv} == {mine, spare}
        assert reseller.get(f"{V2}/phonenumbers/count").json() == {"total": 2}
        assert (
            reseller.put(
                f"{V2}/domains/{d}/phonenumbers/{mine}", json={"domain": other_tenant.domain}
            ).status_code
            == 404
        )
    with tenant.as_role("Office Manager") as om:
        assert om.get(f"{V2}/phonenumbers").status_code == 403
        assert om.get(f"{V2}/domains/{d}/phonenumbers/{mine}").json()["domain"] == d
    everything = su.get(f"{V2}/phonenumbers", params={"domain": d}).json()
    assert {n["phonenumber"] for n in everything} == {mine, spare}
    spares = su.get(
        f"{V2}/phonenumbers", params={"domain": d, "dial-rule-application": "available-number"}
    ).json()
    assert [n["phonenumber"] for n in spares] == [spare]


def test_cross_tenant(tenant: Tenant, other_tenant: Tenant) -> None:
    o = other_tenant.domain
    theirs = new_number()
    with other_tenant.as_role("Office Manager") as om:
        assert (
            add(om, o, theirs, **{"dial-rule-translation-destination-user": "1001"}).status_code
            == 201
        )
    before = other_tenant.api.su.get(f"{V2}/domains/{o}/phonenumbers").json()
    for role in ROLE_USERS:
        with tenant.as_role(role) as c:
            for path in (
                f"/domains/{o}/phonenumbers",
                f"/domains/{o}/phonenumbers/count",
                f"/domains/{o}/phonenumbers/{theirs}",
            ):
                assert c.get(V2 + path).status_code == 404, (role, path)
            assert add(c, o, new_number()).status_code == 404, role
            assert (
                c.put(f"{V2}/domains/{o}/phonenumbers/{theirs}", json={"enabled": "no"}).status_code
                == 404
            )
            assert (
                c.put(
                    f"{V2}/domains/{o}/phonenumbers",
                    json={"phonenumber": theirs, "responder": "Hangup"},
                ).status_code
                == 404
            )
            assert c.delete(f"{V2}/domains/{o}/phonenumbers/{theirs}").status_code == 404
            if role == "Reseller":
                inv = c.get(f"{V2}/phonenumbers", params={"limit": 1000}).json()
                assert theirs not in {n["phonenumber"] for n in inv}
                assert c.get(f"{V2}/phonenumbers", params={"domain": o}).json() == []
            # Nor can it be pulled into one's own domain.
            own = tenant.domain
            assert c.put(
                f"{V2}/domains/{own}/phonenumbers/{theirs}", json={"domain": own}
            ).status_code in (403, 404)
    assert other_tenant.api.su.get(f"{V2}/domains/{o}/phonenumbers").json() == before
