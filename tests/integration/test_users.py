"""/ns-api/v2/domains/{d}/users: CRUD, passwords, uniqueness and the role rules of §1.5."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tests.support.tenants import ROLE_USERS, Api, Tenant, make_tenant, password

V2 = "/ns-api/v2"
USER_LEVEL = ["Basic User", "Call Center Agent"]


@pytest.fixture(scope="module")
def untouched(api: Api) -> Tenant:
    """A tenant shared by the tests that must leave it exactly as it is."""
    return make_tenant(api)


def users(t: Tenant) -> str:
    return f"{V2}/domains/{t.domain}/users"


def person(ext: str, **extra: Any) -> dict[str, Any]:
    return {
        "user": ext,
        "name-first-name": "Grace",
        "name-last-name": "Hopper",
        "email-address": f"u{ext}@example.com",
        "user-scope": "Basic User",
        **extra,
    }


def snapshot(t: Tenant) -> list[dict[str, Any]]:
    """Every user of the tenant as a Super User sees it, for 'nothing changed' checks."""
    r = t.api.su.get(users(t), params={"limit": 1000})
    assert r.status_code == 200
    return sorted(r.json(), key=lambda u: u["user"])


# --- CRUD -----------------------------------------------------------------------------------


def test_create_answers_the_full_object_without_the_password(tenant: Tenant) -> None:
    pw = password()
    r = tenant.api.su.post(
        users(tenant),
        json=person(
            "2001",
            **{
                "login-password": pw,
                "login-username": "Grace.Hopper@Example.com",
                "department": "Navy",
                "site": "HQ",
                "time-zone": "America/New_York",
                "voicemail-enabled": "no",
                "area-code": 212,
                "synchronous": "yes",
            },
        ),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["domain"] == tenant.domain
    assert body["user"] == "2001"
    assert body["name-first-name"] == "Grace"
    assert body["name-last-name"] == "Hopper"
    assert body["email-address"] == "u2001@example.com"
    assert body["login-username"] == "grace.hopper@example.com"
    assert body["user-scope"] == "Basic User"
    assert body["department"] == "Navy"
    assert body["site"] == "HQ"
    assert body["time-zone"] == "America/New_York"
    assert body["voicemail-enabled"] == "no"
    assert body["area-code"] == 212
    assert body["password-set"] == "yes"
    assert "login-password" not in body
    assert pw not in r.text
    assert "argon2" not in r.text
    got = tenant.api.su.get(f"{users(tenant)}/2001")
    assert got.status_code == 200
    assert got.json()["voicemail-enabled"] == "no"
    assert "argon2" not in got.text and pw not in got.text
    # The password works, through the login name and through ext@domain.
    assert tenant.api.grant("grace.hopper@example.com", pw).status_code == 200
    assert tenant.api.grant(f"2001@{tenant.domain}", pw).status_code == 200


def test_default_scope_is_basic_user_and_password_is_optional(tenant: Tenant) -> None:
    r = tenant.api.su.post(users(tenant), json={"user": "2002"})
    assert r.status_code == 201, r.text
    assert r.json()["user-scope"] == "Basic User"
    assert r.json()["password-set"] == "no"


def test_update_changes_only_given_fields(tenant: Tenant) -> None:
    su = tenant.api.su
    before = su.get(f"{users(tenant)}/1001").json()
    r = su.put(
        f"{users(tenant)}/1001",
        json={"name-first-name": "Augusta", "time-zone": "Europe/London", "privacy": "yes"},
    )
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["name-first-name"] == "Augusta"
    assert after["time-zone"] == "Europe/London"
    assert after["privacy"] == "yes"
    same = set(before) - {"name-first-name", "time-zone", "privacy", "last-modified-datetime"}
    assert {k: after[k] for k in same} == {k: before[k] for k in same}
    assert su.get(f"{users(tenant)}/1001").json()["name-first-name"] == "Augusta"


def test_delete_answers_the_object_and_revokes_tokens(tenant: Tenant) -> None:
    su = tenant.api.su
    agent = tenant.as_role("Call Center Agent")
    assert agent.get(f"{V2}/domains/~/users/~").status_code == 200
    r = su.delete(f"{users(tenant)}/1300")
    assert r.status_code == 200, r.text
    assert r.json()["user"] == "1300"
    assert r.json()["user-scope"] == "Call Center Agent"
    assert su.get(f"{users(tenant)}/1300").status_code == 404
    assert su.get(f"{users(tenant)}/count").json() == {"total": len(ROLE_USERS) - 1}
    assert agent.get(f"{V2}/domains/~/users/~").status_code == 401
    agent.close()
    missing = su.delete(f"{users(tenant)}/1300")
    assert missing.status_code == 404
    assert missing.json() == {
        "code": 404,
        "message": f"User 1300 does not exist in domain {tenant.domain}",
    }


def test_duplicate_extension_is_a_conflict(tenant: Tenant) -> None:
    r = tenant.api.su.post(users(tenant), json=person("1001"))
    assert r.status_code == 409
    assert r.json() == {
        "code": 409,
        "message": f"User 1001 already exists in domain {tenant.domain}",
    }


def test_login_username_is_unique_system_wide(tenant: Tenant, other_tenant: Tenant) -> None:
    login = f"ada{secrets.token_hex(3)}@example.com"
    su = tenant.api.su
    assert (
        su.post(users(tenant), json=person("2001", **{"login-username": login})).status_code == 201
    )
    for t, ext in ((tenant, "2002"), (other_tenant, "2001")):
        r = su.post(users(t), json=person(ext, **{"login-username": login.upper()}))
        assert r.status_code == 409, r.text
        assert r.json() == {"code": 409, "message": f"login-username {login} is already in use"}
        assert su.get(f"{users(t)}/{ext}").status_code == 404
    taken = su.put(f"{users(other_tenant)}/1001", json={"login-username": login})
    assert taken.status_code == 409
    assert su.get(f"{users(other_tenant)}/1001").json()["login-username"] is None
    # Re-stating one's own login name is fine.
    assert su.put(f"{users(tenant)}/2001", json={"login-username": login}).status_code == 200


def test_tilde_means_my_domain_and_my_user(tenant: Tenant) -> None:
    with tenant.as_role("Office Manager") as c:
        for path in ("/domains/~/users/~", f"/domains/{tenant.domain}/users/~"):
            r = c.get(V2 + path)
            assert r.status_code == 200
            assert r.json()["user"] == "1000"
        assert c.get(f"{V2}/domains/~/users/1001").json()["user"] == "1001"
        assert c.get(f"{V2}/domains/~/users/count").json() == {"total": 6}
    r = tenant.api.su.get(f"{users(tenant)}/~")
    assert r.status_code == 404


# --- lists ----------------------------------------------------------------------------------


def test_list_count_paging_sorting_and_fields(tenant: Tenant) -> None:
    su = tenant.api.su
    rows = su.get(users(tenant)).json()
    assert isinstance(rows, list)
    exts = [u["user"] for u in rows]
    assert exts == sorted(ROLE_USERS.values())
    assert su.get(f"{users(tenant)}/count").json() == {"total": 6}
    page = su.get(users(tenant), params={"start": 2, "limit": 2}).json()
    assert [u["user"] for u in page] == exts[2:4]
    desc = su.get(users(tenant), params={"sort": "user", "order": "desc"}).json()
    assert [u["user"] for u in desc] == exts[::-1]
    by_scope = su.get(users(tenant), params={"sort": "user-scope"}).json()
    assert [u["user-scope"] for u in by_scope] == sorted(ROLE_USERS)
    projected = su.get(users(tenant), params={"fields": "user,user-scope", "limit": 2})
    assert projected.status_code == 200, projected.text
    assert projected.json() == [
        {"user": u["user"], "user-scope": u["user-scope"]} for u in rows[:2]
    ]
    site = su.get(users(tenant), params={"site": "HQ"}).json()
    assert [u["user"] for u in site] == ["1100"]


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"limit": 1001}, "limit"),
        ({"limit": -5}, "limit"),
        ({"sort": "password"}, "Cannot sort by 'password'"),
        ({"fields": "user,login-password"}, "login-password"),
        ({"order": "up"}, "order"),
    ],
)
def test_bad_list_parameters_are_400(
    untouched: Tenant, params: dict[str, Any], needle: str
) -> None:
    r = untouched.api.su.get(users(untouched), params=params)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == 400
    assert needle in r.json()["message"]


@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_directory_is_readable_by_everyone(tenant: Tenant, role: str) -> None:
    tenant.api.su.put(
        f"{users(tenant)}/1200", json={"directory-name-visible-in-list-enabled": "no"}
    )
    with tenant.as_role(role) as c:
        r = c.get(f"{V2}/domains/~/users/list")
        assert r.status_code == 200, r.text
        rows = r.json()
        assert [u["user"] for u in rows] == sorted(set(ROLE_USERS.values()) - {"1200"})
        assert set(rows[0]) == {
            "domain",
            "user",
            "name-first-name",
            "name-last-name",
            "email-address",
            "department",
            "site",
            "user-scope",
        }
        narrow = c.get(f"{V2}/domains/~/users/list", params={"fields": "user"})
        assert narrow.json()[0] == {"user": rows[0]["user"]}
        bad = c.get(f"{V2}/domains/~/users/list", params={"fields": "login-username"})
        assert bad.status_code == 400


# --- passwords ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pw", "message"),
    [
        ("short1!", "login-password must be at least 10 characters"),
        ("x" * 129, "login-password must be at most 128 characters"),
        ("password123", "login-password is too easy to guess; choose a longer, rarer one"),
        ("abababababab", "login-password is too easy to guess; choose a longer, rarer one"),
        ("Hopper-2031-xyz", "login-password must not contain your extension, login or name"),
        ("my-ext-is-2031!", "login-password must not contain your extension, login or name"),
    ],
)
def test_password_policy_on_create(untouched: Tenant, pw: str, message: str) -> None:
    r = untouched.api.su.post(users(untouched), json=person("2031", **{"login-password": pw}))
    assert r.status_code == 422, r.text
    assert r.json() == {"code": 422, "message": message}
    assert untouched.api.su.get(f"{users(untouched)}/2031").status_code == 404


def test_password_change_on_update(tenant: Tenant) -> None:
    su = tenant.api.su
    old = tenant.passwords["Basic User"]
    weak = su.put(f"{users(tenant)}/1001", json={"login-password": "Basic-1001-x"})
    assert weak.status_code == 422
    assert weak.json()["message"] == (
        "login-password must not contain your extension, login or name"
    )
    assert tenant.api.grant(tenant.uid("Basic User"), old).status_code == 200
    new = password()
    r = su.put(f"{users(tenant)}/1001", json={"login-password": new})
    assert r.status_code == 200
    assert r.json()["password-set"] == "yes"
    assert new not in r.text
    assert tenant.api.grant(tenant.uid("Basic User"), new).status_code == 200
    refused = tenant.api.grant(tenant.uid("Basic User"), old)
    assert refused.status_code in (400, 401), refused.text


def test_a_user_changes_its_own_password(tenant: Tenant) -> None:
    new = password()
    with tenant.as_role("Basic User") as c:
        r = c.put(f"{V2}/domains/~/users/~", json={"login-password": new})
        assert r.status_code == 200, r.text
    assert tenant.api.grant(tenant.uid("Basic User"), new).status_code == 200


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"user": "ab cd"}, "user 'ab cd' is not valid"),
        ({"user": "😀"}, "is not valid"),
        ({"user": "-1001"}, "is not valid"),
        ({"user": "x" * 65}, "user:"),
        ({"user": "2040", "user-scope": "Wizard"}, "user-scope:"),
        ({"user": "2040", "email-address": "not-an-email"}, "email-address:"),
        ({"user": "2040", "time-zone": "Mars/Olympus"}, "time-zone 'Mars/Olympus'"),
        ({"user": "2040", "voicemail-login-pin": "12"}, "voicemail-login-pin:"),
        ({"user": "2040", "account-status": "suspended"}, "account-status:"),
        ({"user": "2040", "voicemail-enabled": "maybe"}, "voicemail-enabled:"),
        ({"user": "2040", "ring-no-answer-timeout-seconds": 0}, "ring-no-answer-timeout-seconds:"),
        ({"name-first-name": "No extension"}, "'user' is required"),
    ],
)
def test_invalid_user_bodies_are_422(untouched: Tenant, body: dict[str, Any], needle: str) -> None:
    r = untouched.api.su.post(users(untouched), json=body)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == 422
    assert needle in r.json()["message"]
    assert untouched.api.su.get(f"{users(untouched)}/count").json() == {"total": 6}


# --- roles ----------------------------------------------------------------------------------


def test_office_manager_manages_users_below_it(tenant: Tenant) -> None:
    su = tenant.api.su
    assert (
        su.post(users(tenant), json=person("1010", **{"user-scope": "Office Manager"})).status_code
        == 201
    )
    with tenant.as_role("Office Manager") as c:
        assert len(c.get(users(tenant)).json()) == 7
        made = c.post(users(tenant), json=person("2050", **{"login-password": password()}))
        assert made.status_code == 201, made.text
        peer = c.post(users(tenant), json=person("2051", **{"user-scope": "Office Manager"}))
        assert peer.status_code == 201, peer.text
        for scope in ("Reseller", "Super User"):
            r = c.post(users(tenant), json=person("2052", **{"user-scope": scope}))
            assert r.status_code == 403
            assert r.json() == {
                "code": 403,
                "message": f"A Office Manager cannot grant the scope '{scope}'",
            }
        raise_up = c.put(f"{users(tenant)}/1001", json={"user-scope": "Reseller"})
        assert raise_up.status_code == 403
        r = c.put(f"{users(tenant)}/1001", json={"name-first-name": "Renamed", "site": "HQ"})
        assert r.status_code == 200
        assert (
            c.put(f"{users(tenant)}/1001", json={"login-password": password()}).status_code == 200
        )
        promoted = c.put(f"{users(tenant)}/1300", json={"user-scope": "Call Center Supervisor"})
        assert promoted.status_code == 200
        assert promoted.json()["user-scope"] == "Call Center Supervisor"
        # A peer Office Manager: its name yes, its password no.
        assert c.put(f"{users(tenant)}/1010", json={"department": "Ops"}).status_code == 200
        r = c.put(f"{users(tenant)}/1010", json={"login-password": password()})
        assert r.status_code == 403
        assert r.json() == {
            "code": 403,
            "message": "A Office Manager cannot set another Office Manager's password",
        }
        # The Reseller's user outranks it.
        r = c.put(f"{users(tenant)}/9000", json={"name-first-name": "Nope"})
        assert r.status_code == 403
        assert r.json()["message"] == "A Office Manager cannot change a Reseller"
        assert c.delete(f"{users(tenant)}/9000").status_code == 403
        own = c.put(f"{V2}/domains/~/users/~", json={"user-scope": "Basic User"})
        assert own.status_code == 403
        assert own.json()["message"] == "You cannot change your own scope"
        assert c.delete(f"{V2}/domains/~/users/~").status_code == 403
        assert c.delete(f"{users(tenant)}/2050").status_code == 200
    after = {u["user"]: u for u in snapshot(tenant)}
    assert after["1010"]["password-set"] == "no"
    assert after["9000"]["name-first-name"] == "Reseller"
    assert after["1000"]["user-scope"] == "Office Manager"
    assert after["1001"]["name-first-name"] == "Renamed"
    assert "2050" not in after and "2052" not in after


def test_site_manager_reaches_only_its_site(tenant: Tenant) -> None:
    su = tenant.api.su
    assert su.post(users(tenant), json=person("2060", site="HQ")).status_code == 201
    assert su.post(users(tenant), json=person("2061", site="Branch")).status_code == 201
    before_1001 = su.get(f"{users(tenant)}/1001").json()
    with tenant.as_role("Site Manager") as c:
        listed = c.get(users(tenant))
        assert [u["user"] for u in listed.json()] == ["1100", "2060"]
        assert c.get(f"{users(tenant)}/count").json() == {"total": 2}
        assert c.get(f"{users(tenant)}/2060").status_code == 200
        for ext in ("1001", "2061"):
            r = c.get(f"{users(tenant)}/{ext}")
            assert r.status_code == 403
            assert r.json() == {"code": 403, "message": f"A Site Manager may not read user {ext}"}
            assert c.put(f"{users(tenant)}/{ext}", json={"name-first-name": "x"}).status_code == 403
            assert c.delete(f"{users(tenant)}/{ext}").status_code == 403
        made = c.post(users(tenant), json=person("2062"))
        assert made.status_code == 201, made.text
        assert made.json()["site"] == "HQ"
        elsewhere = c.post(users(tenant), json=person("2063", site="Branch"))
        assert elsewhere.status_code == 403
        assert elsewhere.json()["message"] == "A Site Manager creates users in its own site only"
        assert c.put(f"{users(tenant)}/2060", json={"name-first-name": "Hq"}).status_code == 200
        moved = c.put(f"{users(tenant)}/2060", json={"site": "Branch"})
        assert moved.status_code == 403
        assert moved.json()["message"] == "A Site Manager cannot move users to another site"
        assert c.delete(f"{users(tenant)}/2062").status_code == 200
    assert su.get(f"{users(tenant)}/2060").json()["site"] == "HQ"
    assert su.get(f"{users(tenant)}/2063").status_code == 404
    assert su.get(f"{users(tenant)}/1001").json() == before_1001


def test_supervisor_reads_the_domain_but_changes_only_itself(tenant: Tenant) -> None:
    before = snapshot(tenant)
    with tenant.as_role("Call Center Supervisor") as c:
        assert len(c.get(users(tenant)).json()) == 6
        assert c.get(f"{users(tenant)}/count").json() == {"total": 6}
        assert c.get(f"{users(tenant)}/1001").json()["user"] == "1001"
        r = c.put(f"{users(tenant)}/1001", json={"name-first-name": "x"})
        assert r.status_code == 403
        assert r.json() == {
            "code": 403,
            "message": "A Call Center Supervisor may only change its own user",
        }
        r = c.post(users(tenant), json=person("2070"))
        assert r.status_code == 403
        assert r.json()["message"] == "A Call Center Supervisor cannot create or delete users"
        assert c.delete(f"{users(tenant)}/1001").status_code == 403
        mine = c.put(f"{V2}/domains/~/users/~", json={"status-message": "On the floor"})
        assert mine.status_code == 200
        assert mine.json()["status-message"] == "On the floor"
    after = snapshot(tenant)
    changed = [u["user"] for u, v in zip(before, after, strict=True) if u != v]
    assert changed == ["1200"]


@pytest.mark.parametrize("role", USER_LEVEL)
def test_user_level_roles_reach_only_themselves(tenant: Tenant, role: str) -> None:
    me = ROLE_USERS[role]
    before = snapshot(tenant)
    with tenant.as_role(role) as c:
        r = c.get(f"{users(tenant)}/1000")
        assert r.status_code == 403
        assert r.json() == {"code": 403, "message": f"A {role} may not read user 1000"}
        for path in (users(tenant), f"{users(tenant)}/count"):
            r = c.get(path)
            assert r.status_code == 403, r.text
            assert r.json()["code"] == 403
        assert c.get(f"{users(tenant)}/list").status_code == 200
        assert c.get(f"{users(tenant)}/{me}").json()["user"] == me
        renamed = c.put(
            f"{users(tenant)}/{me}", json={"name-first-name": "Myself", "name-last-name": "Too"}
        )
        assert renamed.status_code == 200
        assert renamed.json()["name-first-name"] == "Myself"
        for scope in ("Office Manager", "No Portal"):
            r = c.put(f"{V2}/domains/~/users/~", json={"user-scope": scope})
            assert r.status_code == 403, r.text
            assert r.json()["code"] == 403
        r = c.put(f"{users(tenant)}/1000", json={"name-first-name": "x"})
        assert r.status_code == 403
        r = c.delete(f"{V2}/domains/~/users/~")
        assert r.status_code == 403
        assert r.json() == {"code": 403, "message": f"A {role} cannot create or delete users"}
        assert c.delete(f"{users(tenant)}/1000").status_code == 403
        assert c.post(users(tenant), json=person("2080")).status_code == 403
    after = snapshot(tenant)
    changed = {u["user"]: v for u, v in zip(before, after, strict=True) if u != v}
    assert list(changed) == [me]
    assert changed[me]["user-scope"] == role
    assert (changed[me]["name-first-name"], changed[me]["name-last-name"]) == ("Myself", "Too")


def test_reseller_manages_users_of_its_domains(tenant: Tenant) -> None:
    with tenant.as_role("Reseller") as c:
        assert c.get(f"{users(tenant)}/count").json() == {"total": 6}
        peer = c.post(users(tenant), json=person("2090", **{"user-scope": "Reseller"}))
        assert peer.status_code == 201
        sup = c.post(users(tenant), json=person("2091", **{"user-scope": "Super User"}))
        assert sup.status_code == 403
        assert (
            c.put(f"{users(tenant)}/1000", json={"login-password": password()}).status_code == 200
        )
        assert c.delete(f"{users(tenant)}/2090").status_code == 200
    assert tenant.api.su.get(f"{users(tenant)}/2091").status_code == 404


def test_changed_scope_applies_to_existing_tokens(tenant: Tenant) -> None:
    with tenant.as_role("Basic User") as c:
        assert c.get(users(tenant)).status_code == 403
        r = tenant.api.su.put(f"{users(tenant)}/1001", json={"user-scope": "Office Manager"})
        assert r.status_code == 200
        assert c.get(users(tenant)).status_code == 200
