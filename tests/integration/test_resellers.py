"""/ns-api/v2/resellers: Super Users manage territories, a Reseller reads and tunes its own."""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.support.tenants import Api, Tenant

V2 = "/ns-api/v2"
BELOW_RESELLER = [
    "Office Manager",
    "Site Manager",
    "Call Center Supervisor",
    "Call Center Agent",
    "Basic User",
]


def new_reseller(su: httpx.Client, **extra: object) -> dict[str, object]:
    name = f"rs{secrets.token_hex(4)}"
    r = su.post(f"{V2}/resellers", json={"reseller": name, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_create_answers_the_full_object(api: Api) -> None:
    name = f"NW{secrets.token_hex(3)}"
    r = api.su.post(
        f"{V2}/resellers",
        json={"reseller": name, "description": "Northwind Telecom", "synchronous": "yes"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["reseller"] == name.lower()
    assert body["description"] == "Northwind Telecom"
    assert body["api-access"] == "no"
    assert body["domains-total"] == 0
    assert body["users-total"] == 0
    assert body["created-datetime"].endswith("Z")
    got = api.su.get(f"{V2}/resellers/{name.lower()}")
    assert got.status_code == 200
    assert got.json()["description"] == "Northwind Telecom"


def test_duplicate_reseller_is_a_conflict(api: Api) -> None:
    made = new_reseller(api.su)
    r = api.su.post(f"{V2}/resellers", json={"reseller": str(made["reseller"]).upper()})
    assert r.status_code == 409
    assert r.json() == {"code": 409, "message": f"Reseller {made['reseller']} already exists"}


@pytest.mark.parametrize("name", ["has space", "-leading", "semi;colon", "x" * 65, "ünï"])
def test_invalid_reseller_names_are_refused(api: Api, name: str) -> None:
    before = api.su.get(f"{V2}/resellers/count").json()["total"]
    r = api.su.post(f"{V2}/resellers", json={"reseller": name})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == 422
    assert "reseller" in r.json()["message"]
    assert api.su.get(f"{V2}/resellers/count").json()["total"] == before


def test_get_counts_domains_and_users(tenant: Tenant) -> None:
    r = tenant.api.su.get(f"{V2}/resellers/{tenant.reseller}")
    assert r.status_code == 200
    body = r.json()
    assert body["reseller"] == tenant.reseller
    assert body["domains-total"] == 1
    assert body["users-total"] == 6
    assert tenant.api.su.get(f"{V2}/resellers/{tenant.reseller}/count").json() == {"total": 1}


def test_missing_reseller_is_404(api: Api) -> None:
    r = api.su.get(f"{V2}/resellers/nosuchreseller")
    assert r.status_code == 404
    assert r.json() == {"code": 404, "message": "Reseller nosuchreseller does not exist"}
    assert api.su.get(f"{V2}/resellers/nosuchreseller/count").status_code == 404


def test_list_is_a_bare_array_and_count_matches(api: Api, tenant: Tenant) -> None:
    listed = api.su.get(f"{V2}/resellers", params={"limit": 1000})
    assert listed.status_code == 200
    rows = listed.json()
    assert isinstance(rows, list)
    assert tenant.reseller in [row["reseller"] for row in rows]
    assert api.su.get(f"{V2}/resellers/count").json() == {"total": len(rows)}


def test_paging_sorting_and_fields(api: Api) -> None:
    for _ in range(3):
        new_reseller(api.su)
    everything = [r["reseller"] for r in api.su.get(f"{V2}/resellers?limit=1000").json()]
    assert everything == sorted(everything)
    page = api.su.get(f"{V2}/resellers", params={"start": 1, "limit": 2}).json()
    assert [r["reseller"] for r in page] == everything[1:3]
    desc = api.su.get(f"{V2}/resellers", params={"order": "desc", "limit": 1000}).json()
    assert [r["reseller"] for r in desc] == everything[::-1]
    projected = api.su.get(f"{V2}/resellers", params={"fields": "reseller,api-access"}).json()
    assert projected and all(set(r) == {"reseller", "api-access"} for r in projected)
    assert api.su.get(f"{V2}/resellers", params={"start": 10**6}).json() == []


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"limit": 1001}, "limit"),
        ({"limit": 0}, "limit"),
        ({"start": -1}, "start"),
        ({"order": "sideways"}, "order"),
        ({"sort": "password"}, "sort by 'password'"),
        ({"fields": "reseller,secret"}, "secret"),
    ],
)
def test_bad_query_parameters_are_400(api: Api, params: dict[str, object], needle: str) -> None:
    r = api.su.get(f"{V2}/resellers", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == 400
    assert needle in r.json()["message"]


def test_super_user_updates_and_smtp_password_is_never_returned(api: Api) -> None:
    made = new_reseller(api.su)
    name = made["reseller"]
    r = api.su.put(
        f"{V2}/resellers/{name}",
        json={
            "description": "Renamed",
            "api-access": "yes",
            "email-send-smtp-hostname": "smtp.example.com",
            "email-send-smtp-port": 587,
            "email-send-smtp-password": "smtp-Secret-123",
            "synchronous": "yes",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["description"] == "Renamed"
    assert body["api-access"] == "yes"
    assert body["email-send-smtp-hostname"] == "smtp.example.com"
    assert body["email-send-smtp-port"] == 587
    assert "smtp-Secret-123" not in r.text
    got = api.su.get(f"{V2}/resellers/{name}")
    assert got.json()["description"] == "Renamed"
    assert "smtp-Secret-123" not in got.text


def test_reseller_reads_and_tunes_only_its_own(tenant: Tenant) -> None:
    with tenant.as_role("Reseller") as c:
        mine = c.get(f"{V2}/resellers/~")
        assert mine.status_code == 200
        assert mine.json()["reseller"] == tenant.reseller
        assert [r["reseller"] for r in c.get(f"{V2}/resellers").json()] == [tenant.reseller]
        assert c.get(f"{V2}/resellers/count").json() == {"total": 1}
        r = c.put(f"{V2}/resellers/{tenant.reseller}", json={"description": "Our territory"})
        assert r.status_code == 200, r.text
        assert r.json()["description"] == "Our territory"
        # Restating the current api-access is not a change; turning it on is Super User only.
        same = c.put(f"{V2}/resellers/~", json={"api-access": "no"})
        assert same.status_code == 200, same.text
        refused = c.put(f"{V2}/resellers/~", json={"api-access": "yes"})
        assert refused.status_code == 403
        assert refused.json() == {
            "code": 403,
            "message": "Only a Super User can turn API access on or off",
        }
        created = c.post(f"{V2}/resellers", json={"reseller": f"rx{secrets.token_hex(3)}"})
        assert created.status_code == 403
        assert created.json()["code"] == 403
        deleted = c.delete(f"{V2}/resellers/{tenant.reseller}")
        assert deleted.status_code == 403
    after = tenant.api.su.get(f"{V2}/resellers/{tenant.reseller}").json()
    assert after["api-access"] == "no"
    assert after["description"] == "Our territory"


@pytest.mark.parametrize("role", BELOW_RESELLER)
def test_roles_below_reseller_may_not_read_resellers(tenant: Tenant, role: str) -> None:
    before = tenant.api.su.get(f"{V2}/resellers/{tenant.reseller}").json()
    with tenant.as_role(role) as c:
        for path in (
            "/resellers",
            "/resellers/count",
            f"/resellers/{tenant.reseller}",
            "/resellers/~",
            f"/resellers/{tenant.reseller}/count",
        ):
            r = c.get(V2 + path)
            assert r.status_code == 403, (path, r.text)
            assert r.json()["code"] == 403
            assert r.json()["message"] == f"A {role} cannot read resellers"
        r = c.put(f"{V2}/resellers/{tenant.reseller}", json={"description": "mine now"})
        assert r.status_code == 403
        assert c.delete(f"{V2}/resellers/{tenant.reseller}").status_code == 403
        assert c.post(f"{V2}/resellers", json={"reseller": "nope"}).status_code == 403
    assert tenant.api.su.get(f"{V2}/resellers/{tenant.reseller}").json() == before


def test_delete_needs_an_empty_reseller(tenant: Tenant) -> None:
    su = tenant.api.su
    r = su.delete(f"{V2}/resellers/{tenant.reseller}")
    assert r.status_code == 409
    assert r.json() == {
        "code": 409,
        "message": f"Cannot delete reseller {tenant.reseller}: it still has domains",
    }
    assert su.get(f"{V2}/resellers/{tenant.reseller}").status_code == 200
    assert su.delete(f"{V2}/domains/{tenant.domain}").status_code == 200
    gone = su.delete(f"{V2}/resellers/{tenant.reseller}")
    assert gone.status_code == 200, gone.text
    assert gone.json()["reseller"] == tenant.reseller
    assert su.get(f"{V2}/resellers/{tenant.reseller}").status_code == 404
    # Its OAuth client went with it.
    refused = tenant.api.grant("admin@system", "irrelevant")
    assert refused.status_code == 401, refused.text


def test_super_user_creates_a_reseller_with_api_access(api: Api) -> None:
    made = new_reseller(api.su, **{"api-access": "yes", "description": "On"})
    assert made["api-access"] == "yes"
    off = api.su.put(f"{V2}/resellers/{made['reseller']}", json={"api-access": "no"})
    assert off.status_code == 200
    assert off.json()["api-access"] == "no"
