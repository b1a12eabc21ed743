"""Sites, departments and contacts: CRUD, role rules, limits and tenant isolation."""

from __future__ import annotations

from tests.support.tenants import Tenant


def test_sites_crud_limits_and_roles(tenant: Tenant) -> None:
    su = tenant.api.su
    d = tenant.domain
    assert su.put(f"/ns-api/v2/domains/{d}", json={"limits-max-sites": 2}).status_code == 200
    with tenant.as_role("Office Manager") as om:
        r = om.post(
            f"/ns-api/v2/domains/{d}/sites", json={"site": "Branch", "time-zone": "Europe/Paris"}
        )
        assert r.status_code == 201, r.text
        assert r.json()["time-zone"] == "Europe/Paris" and r.json()["count-users-total"] == 0
        assert om.post(f"/ns-api/v2/domains/{d}/sites", json={"site": "Branch"}).status_code == 409
        assert om.post(f"/ns-api/v2/domains/{d}/sites", json={"site": "Annex"}).status_code == 201
        over = om.post(f"/ns-api/v2/domains/{d}/sites", json={"site": "Third"})
        assert over.status_code == 409 and "limit of 2 sites" in over.json()["message"]
        bad = om.post(f"/ns-api/v2/domains/{d}/sites", json={"site": "X", "time-zone": "Mars"})
        assert bad.status_code == 422
        assert om.get(f"/ns-api/v2/domains/{d}/sites/count").json() == {"total": 2}
        assert (
            om.put(f"/ns-api/v2/domains/{d}/users/1001", json={"site": "Branch"}).status_code == 200
        )
        busy = om.delete(f"/ns-api/v2/domains/{d}/sites/Branch")
        assert busy.status_code == 409
        assert om.get(f"/ns-api/v2/domains/{d}/sites/Branch").json()["count-users-total"] == 1
        assert om.delete(f"/ns-api/v2/domains/{d}/sites/Annex").status_code == 200
        assert om.get(f"/ns-api/v2/domains/{d}/sites/Annex").status_code == 404
    with tenant.as_role("Basic User") as user:
        assert user.get(f"/ns-api/v2/domains/{d}/sites").status_code == 200
        denied = user.post(f"/ns-api/v2/domains/{d}/sites", json={"site": "Mine"})
        assert denied.status_code == 403 and denied.json()["code"] == 403


def test_departments(tenant: Tenant) -> None:
    d = tenant.domain
    with tenant.as_role("Office Manager") as om:
        assert (
            om.post(f"/ns-api/v2/domains/{d}/departments", json={"department": "Sales"}).status_code
            == 201
        )
        om.put(f"/ns-api/v2/domains/{d}/users/1001", json={"department": "Support"})
        listed = {
            x["department"]: x["count-users-total"]
            for x in om.get(f"/ns-api/v2/domains/{d}/departments/list").json()
        }
        assert listed == {"Sales": 0, "Support": 1}
        assert om.delete(f"/ns-api/v2/domains/{d}/departments/Sales").status_code == 200
        assert om.delete(f"/ns-api/v2/domains/{d}/departments/Sales").status_code == 404


def test_user_contacts_are_private_and_shared_contacts_are_shared(tenant: Tenant) -> None:
    d = tenant.domain
    with tenant.as_role("Basic User") as user:
        r = user.post(
            "/ns-api/v2/domains/~/users/~/contacts",
            json={
                "name-first-name": "Grace",
                "name-last-name": "Hopper",
                "phonenumber-work": "+1 212 555 0199",
                "email": "grace@navy.example",
            },
        )
        assert r.status_code == 201, r.text
        contact = r.json()
        assert contact["user"] == "1001" and contact["shared"] == "no"
        assert user.get("/ns-api/v2/domains/~/users/~/contacts/count").json() == {"total": 1}
        changed = user.put(
            f"/ns-api/v2/domains/~/users/~/contacts/{contact['unique-id']}", json={"tags": "vip"}
        )
        assert changed.json()["tags"] == "vip"
        bad = user.post(
            "/ns-api/v2/domains/~/users/~/contacts", json={"phonenumber-cell": "call me"}
        )
        assert bad.status_code == 422
        # Another user's book, and the shared book's writes, are off limits.
        assert user.get(f"/ns-api/v2/domains/{d}/users/1000/contacts").status_code == 403
        assert (
            user.post(f"/ns-api/v2/domains/{d}/contacts", json={"company": "Acme"}).status_code
            == 403
        )
    with tenant.as_role("Office Manager") as om:
        shared = om.post(
            f"/ns-api/v2/domains/{d}/contacts",
            json={"company": "Plumber", "phonenumber-work": "555 0100"},
        )
        assert shared.status_code == 201 and shared.json()["shared"] == "yes"
        # A manager sees the user's book, but by unique-id only within that book.
        assert len(om.get(f"/ns-api/v2/domains/{d}/users/1001/contacts").json()) == 1
        assert om.get(f"/ns-api/v2/domains/{d}/contacts/{contact['unique-id']}").status_code == 404
    with tenant.as_role("Basic User") as user:
        assert [c["company"] for c in user.get(f"/ns-api/v2/domains/{d}/contacts").json()] == [
            "Plumber"
        ]


def test_cross_tenant(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = other_tenant.domain
    with other_tenant.as_role("Office Manager") as om:
        om.post(f"/ns-api/v2/domains/{theirs}/sites", json={"site": "Secret"})
        cid = om.post(f"/ns-api/v2/domains/{theirs}/contacts", json={"company": "Theirs"}).json()[
            "unique-id"
        ]
    for role in ("Office Manager", "Reseller", "Basic User"):
        with tenant.as_role(role) as c:
            for path in (
                f"/ns-api/v2/domains/{theirs}/sites",
                f"/ns-api/v2/domains/{theirs}/sites/Secret",
                f"/ns-api/v2/domains/{theirs}/contacts",
                f"/ns-api/v2/domains/{theirs}/contacts/{cid}",
                f"/ns-api/v2/domains/{theirs}/departments/list",
                f"/ns-api/v2/domains/{theirs}/users/1001/contacts",
            ):
                assert c.get(path).status_code == 404, (role, path)
            assert (
                c.put(
                    f"/ns-api/v2/domains/{theirs}/sites/Secret", json={"caller-id-name": "x"}
                ).status_code
                == 404
            )
            assert c.delete(f"/ns-api/v2/domains/{theirs}/contacts/{cid}").status_code == 404
            assert (
                c.post(
                    f"/ns-api/v2/domains/{theirs}/users/1001/contacts", json={"company": "x"}
                ).status_code
                == 404
            )
    with other_tenant.as_role("Office Manager") as om:
        assert om.get(f"/ns-api/v2/domains/{theirs}/contacts/{cid}").json()["company"] == "Theirs"
        assert om.get(f"/ns-api/v2/domains/{theirs}/sites/Secret").status_code == 200
