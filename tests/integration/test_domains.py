"""/ns-api/v2/domains: Super Users and Resellers own domains; everyone reads their own."""

from __future__ import annotations

import secrets

import pytest

from tests.support.tenants import ROLE_USERS, Api, Tenant, password

V2 = "/ns-api/v2"
BELOW_RESELLER = [
    "Office Manager",
    "Site Manager",
    "Call Center Supervisor",
    "Call Center Agent",
    "Basic User",
]


def fresh_name() -> str:
    return f"dm{secrets.token_hex(4)}.example"


def test_super_user_creates_a_domain(tenant: Tenant) -> None:
    name = fresh_name()
    r = tenant.api.su.post(
        f"{V2}/domains",
        json={
            "domain": name.upper(),
            "reseller": tenant.reseller,
            "description": "Acme Corporation",
            "time-zone": "America/New_York",
            "limits-max-users": 50,
            "caller-id-number": "+12125550100",
            "voicemail-enabled": "no",
            "synchronous": "yes",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["domain"] == name
    assert body["reseller"] == tenant.reseller
    assert body["description"] == "Acme Corporation"
    assert body["time-zone"] == "America/New_York"
    assert body["limits-max-users"] == 50
    assert body["caller-id-number"] == "+12125550100"
    assert body["voicemail-enabled"] == "no"
    assert body["api-access"] == "no"
    assert body["count-users-total"] == 0
    assert body["created-datetime"].endswith("Z")
    got = tenant.api.su.get(f"{V2}/domains/{name}").json()
    assert {k: got[k] for k in body if k != "last-modified-datetime"} == {
        k: body[k] for k in body if k != "last-modified-datetime"
    }
    reseller = tenant.api.su.get(f"{V2}/resellers/{tenant.reseller}").json()
    assert reseller["domains-total"] == 2


def test_get_count_and_missing(tenant: Tenant) -> None:
    su = tenant.api.su
    got = su.get(f"{V2}/domains/{tenant.domain}")
    assert got.status_code == 200
    assert got.json()["count-users-total"] == 6
    assert got.json()["api-access"] == "yes"
    assert su.get(f"{V2}/domains/{tenant.domain}/count").json() == {"total": 1}
    missing = su.get(f"{V2}/domains/nosuch.example")
    assert missing.status_code == 404
    assert missing.json() == {"code": 404, "message": "Domain nosuch.example does not exist"}
    assert su.get(f"{V2}/domains/nosuch.example/count").status_code == 404


def test_duplicate_domain_is_a_conflict(tenant: Tenant) -> None:
    r = tenant.api.su.post(
        f"{V2}/domains", json={"domain": tenant.domain, "reseller": tenant.reseller}
    )
    assert r.status_code == 409
    assert r.json() == {"code": 409, "message": f"Domain {tenant.domain} already exists"}


def test_unknown_reseller_is_404(api: Api) -> None:
    r = api.su.post(f"{V2}/domains", json={"domain": fresh_name(), "reseller": "nosuchreseller"})
    assert r.status_code == 404
    assert r.json()["message"] == "Reseller nosuchreseller does not exist"


def test_list_paging_sorting_fields(api: Api, tenant: Tenant) -> None:
    su = api.su
    for _ in range(2):
        r = su.post(f"{V2}/domains", json={"domain": fresh_name(), "reseller": tenant.reseller})
        assert r.status_code == 201
    everything = su.get(f"{V2}/domains", params={"limit": 1000}).json()
    names = [d["domain"] for d in everything]
    assert names == sorted(names)
    assert su.get(f"{V2}/domains/count").json() == {"total": len(names)}
    page = su.get(f"{V2}/domains", params={"start": 1, "limit": 2}).json()
    assert [d["domain"] for d in page] == names[1:3]
    desc = su.get(f"{V2}/domains", params={"sort": "domain", "order": "desc", "limit": 1000})
    assert [d["domain"] for d in desc.json()] == names[::-1]
    by_reseller = su.get(f"{V2}/domains", params={"sort": "reseller", "limit": 1000}).json()
    assert [d["reseller"] for d in by_reseller] == sorted(d["reseller"] for d in everything)
    projected = su.get(f"{V2}/domains", params={"fields": "domain,time-zone", "limit": 2})
    assert projected.status_code == 200
    assert projected.json() == [
        {"domain": d["domain"], "time-zone": d["time-zone"]} for d in everything[:2]
    ]
    default = su.get(f"{V2}/domains").json()
    assert len(default) == min(100, len(names))


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"limit": 1001}, "limit"),
        ({"limit": 0}, "limit"),
        ({"start": "x"}, "start"),
        ({"sort": "nope"}, "Cannot sort by 'nope'"),
        ({"fields": "domain,nope"}, "nope"),
    ],
)
def test_bad_list_parameters_are_400(api: Api, params: dict[str, object], needle: str) -> None:
    r = api.su.get(f"{V2}/domains", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == 400
    assert needle in r.json()["message"]


def test_super_user_updates_only_given_fields(tenant: Tenant) -> None:
    su = tenant.api.su
    before = su.get(f"{V2}/domains/{tenant.domain}").json()
    r = su.put(
        f"{V2}/domains/{tenant.domain}",
        json={"description": "Changed", "time-zone": "Europe/London", "synchronous": "no"},
    )
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["description"] == "Changed"
    assert after["time-zone"] == "Europe/London"
    unchanged = {k for k in before if k not in ("description", "time-zone")}
    unchanged.discard("last-modified-datetime")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert su.get(f"{V2}/domains/{tenant.domain}").json()["description"] == "Changed"


def test_api_access_off_locks_the_domain_out(tenant: Tenant) -> None:
    su = tenant.api.su
    with tenant.as_role("Office Manager") as c:
        assert c.get(f"{V2}/domains/~").status_code == 200
        off = su.put(f"{V2}/domains/{tenant.domain}", json={"api-access": "no"})
        assert off.status_code == 200
        assert off.json()["api-access"] == "no"
        locked = c.get(f"{V2}/domains/~")
        assert locked.status_code == 403, locked.text
        assert "API access is not enabled" in locked.json()["message"]
        on = su.put(f"{V2}/domains/{tenant.domain}", json={"api-access": "yes"})
        assert on.json()["api-access"] == "yes"
        assert c.get(f"{V2}/domains/~").status_code == 200


def test_limits_max_users_is_enforced(tenant: Tenant) -> None:
    su = tenant.api.su
    users = f"{V2}/domains/{tenant.domain}/users"
    r = su.put(f"{V2}/domains/{tenant.domain}", json={"limits-max-users": 7})
    assert r.status_code == 200
    assert r.json()["limits-max-users"] == 7
    assert su.post(users, json={"user": "2001"}).status_code == 201
    refused = su.post(users, json={"user": "2002"})
    assert refused.status_code == 409
    assert refused.json() == {
        "code": 409,
        "message": f"Domain {tenant.domain} has reached its limit of 7 users",
    }
    with tenant.as_role("Office Manager") as c:
        assert c.post(users, json={"user": "2003"}).status_code == 409
    assert su.get(f"{users}/count").json() == {"total": 7}
    assert su.get(f"{users}/2002").status_code == 404
    # Raising the limit lets the next one in.
    su.put(f"{V2}/domains/{tenant.domain}", json={"limits-max-users": None})
    assert su.post(users, json={"user": "2002"}).status_code == 201


def test_reseller_manages_domains_of_its_reseller(tenant: Tenant) -> None:
    name = fresh_name()
    with tenant.as_role("Reseller") as c:
        made = c.post(f"{V2}/domains", json={"domain": name, "description": "Via reseller"})
        assert made.status_code == 201, made.text
        assert made.json()["reseller"] == tenant.reseller
        assert made.json()["api-access"] == "no"
        explicit = c.post(
            f"{V2}/domains",
            json={"domain": fresh_name(), "reseller": tenant.reseller, "api-access": "no"},
        )
        assert explicit.status_code == 201, explicit.text
        names = {d["domain"] for d in c.get(f"{V2}/domains").json()}
        assert names == {tenant.domain, name, explicit.json()["domain"]}
        assert c.get(f"{V2}/domains/count").json() == {"total": 3}
        updated = c.put(f"{V2}/domains/{name}", json={"description": "Renamed", "reseller": "~"})
        assert updated.status_code == 200, updated.text
        assert updated.json()["description"] == "Renamed"
        refused = c.put(f"{V2}/domains/{name}", json={"api-access": "yes"})
        assert refused.status_code == 403
        assert refused.json()["message"] == "Only a Super User can turn API access on or off"
        api_on = c.post(f"{V2}/domains", json={"domain": fresh_name(), "api-access": "yes"})
        assert api_on.status_code == 403
        deleted = c.delete(f"{V2}/domains/{name}")
        assert deleted.status_code == 200
        assert deleted.json()["domain"] == name
        assert deleted.json()["description"] == "Renamed"
        assert c.get(f"{V2}/domains/{name}").status_code == 404
    assert tenant.api.su.get(f"{V2}/domains/count").status_code == 200
    assert tenant.api.su.get(f"{V2}/domains/{name}").status_code == 404
    assert tenant.api.su.get(f"{V2}/resellers/{tenant.reseller}").json()["domains-total"] == 2


def test_office_manager_reads_but_cannot_edit_its_domain(tenant: Tenant) -> None:
    su = tenant.api.su
    before = su.get(f"{V2}/domains/{tenant.domain}").json()
    with tenant.as_role("Office Manager") as c:
        mine = c.get(f"{V2}/domains/~")
        assert mine.status_code == 200
        assert mine.json()["domain"] == tenant.domain
        assert c.get(f"{V2}/domains/{tenant.domain}").json()["domain"] == tenant.domain
        assert [d["domain"] for d in c.get(f"{V2}/domains").json()] == [tenant.domain]
        assert c.get(f"{V2}/domains/count").json() == {"total": 1}
        r = c.put(f"{V2}/domains/{tenant.domain}", json={"description": "OM was here"})
        assert r.status_code == 403
        assert r.json() == {
            "code": 403,
            "message": "A Office Manager cannot change the domain itself",
        }
        r = c.delete(f"{V2}/domains/{tenant.domain}")
        assert r.status_code == 403
        assert r.json()["code"] == 403
        r = c.post(f"{V2}/domains", json={"domain": fresh_name()})
        assert r.status_code == 403
        assert r.json()["message"] == "A Office Manager cannot create domains"
    assert su.get(f"{V2}/domains/{tenant.domain}").json() == before


@pytest.mark.parametrize("role", BELOW_RESELLER[1:])
def test_lower_roles_read_their_domain_only(tenant: Tenant, role: str) -> None:
    su = tenant.api.su
    before = su.get(f"{V2}/domains/{tenant.domain}").json()
    with tenant.as_role(role) as c:
        assert c.get(f"{V2}/domains/~").json()["domain"] == tenant.domain
        assert c.get(f"{V2}/domains/{tenant.domain}/count").json() == {"total": 1}
        for attempt in (
            c.put(f"{V2}/domains/{tenant.domain}", json={"description": "x"}),
            c.put(f"{V2}/domains/~", json={"api-access": "no"}),
            c.delete(f"{V2}/domains/{tenant.domain}"),
            c.post(f"{V2}/domains", json={"domain": fresh_name()}),
        ):
            assert attempt.status_code == 403, attempt.text
            assert attempt.json()["code"] == 403
    assert su.get(f"{V2}/domains/{tenant.domain}").json() == before


def test_invalid_time_zone_is_refused(tenant: Tenant) -> None:
    su = tenant.api.su
    name = fresh_name()
    r = su.post(
        f"{V2}/domains",
        json={"domain": name, "reseller": tenant.reseller, "time-zone": "Mars/Olympus"},
    )
    assert r.status_code == 422
    assert "time-zone 'Mars/Olympus'" in r.json()["message"]
    assert su.get(f"{V2}/domains/{name}").status_code == 404
    r = su.put(f"{V2}/domains/{tenant.domain}", json={"time-zone": "Nowhere/Land"})
    assert r.status_code == 422
    assert su.get(f"{V2}/domains/{tenant.domain}").json()["time-zone"] == "UTC"


def test_domain_type_must_be_known(tenant: Tenant) -> None:
    r = tenant.api.su.put(f"{V2}/domains/{tenant.domain}", json={"domain-type": "Castle"})
    assert r.status_code == 422
    assert r.json()["message"].startswith("domain-type:")
    ok = tenant.api.su.put(f"{V2}/domains/{tenant.domain}", json={"domain-type": "Hospitality"})
    assert ok.json()["domain-type"] == "Hospitality"


def test_only_a_super_user_moves_a_domain(tenant: Tenant, other_tenant: Tenant) -> None:
    su = tenant.api.su
    with tenant.as_role("Reseller") as c:
        r = c.put(f"{V2}/domains/{tenant.domain}", json={"reseller": other_tenant.reseller})
        assert r.status_code == 404
    assert su.get(f"{V2}/domains/{tenant.domain}").json()["reseller"] == tenant.reseller
    om = tenant.as_role("Office Manager")
    moved = su.put(f"{V2}/domains/{tenant.domain}", json={"reseller": other_tenant.reseller})
    assert moved.status_code == 200
    assert moved.json()["reseller"] == other_tenant.reseller
    assert su.get(f"{V2}/resellers/{other_tenant.reseller}").json()["domains-total"] == 2
    assert su.get(f"{V2}/resellers/{tenant.reseller}").json()["domains-total"] == 0
    # A token issued before the move sees the new reseller at once.
    assert om.get(f"{V2}/domains/~").json()["reseller"] == other_tenant.reseller
    om.close()


def test_deleting_a_domain_removes_its_users_and_their_tokens(tenant: Tenant) -> None:
    su = tenant.api.su
    basic = tenant.as_role("Basic User")
    assert basic.get(f"{V2}/domains/~/users/~").status_code == 200
    r = su.delete(f"{V2}/domains/{tenant.domain}")
    assert r.status_code == 200, r.text
    assert r.json()["domain"] == tenant.domain
    assert r.json()["count-users-total"] == len(ROLE_USERS)
    assert su.get(f"{V2}/domains/{tenant.domain}").status_code == 404
    assert su.get(f"{V2}/domains/{tenant.domain}/users/1001").status_code == 404
    gone = basic.get(f"{V2}/domains/~/users/~")
    assert gone.status_code == 401, gone.text
    basic.close()
    # The name is free again.
    again = su.post(f"{V2}/domains", json={"domain": tenant.domain, "reseller": tenant.reseller})
    assert again.status_code == 201
    assert again.json()["count-users-total"] == 0
    new_user = su.post(
        f"{V2}/domains/{tenant.domain}/users", json={"user": "1001", "login-password": password()}
    )
    assert new_user.status_code == 201
