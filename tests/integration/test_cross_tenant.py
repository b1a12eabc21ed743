"""Tenancy: another tenant's reseller, domain and users do not exist for you (404), and nothing
you try changes them. Scope refusals inside your tenancy are 403 (or NetSapiens' 401)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import live
from tests.support.tenants import ROLE_USERS, Api, Tenant, make_tenant

V2 = "/ns-api/v2"
ROLES = list(ROLE_USERS)


def state_of(t: Tenant) -> dict[str, Any]:
    """What a Super User sees of a tenant, minus counters that other tests' reads don't touch."""
    su = t.api.su
    reseller = su.get(f"{V2}/resellers/{t.reseller}")
    domain = su.get(f"{V2}/domains/{t.domain}")
    users = su.get(f"{V2}/domains/{t.domain}/users", params={"limit": 1000})
    assert reseller.status_code == domain.status_code == users.status_code == 200
    return {"reseller": reseller.json(), "domain": domain.json(), "users": users.json()}


def assert_missing(r: httpx.Response, message: str | None = None) -> None:
    assert r.status_code == 404, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    body = r.json()
    assert body["code"] == 404
    if message is not None:
        assert body["message"] == message


@pytest.mark.parametrize("role", ROLES)
def test_other_tenancy_is_missing_and_unchangeable(
    tenant: Tenant, other_tenant: Tenant, role: str
) -> None:
    before = state_of(other_tenant)
    _reads_are_missing(tenant, other_tenant, role)
    _changes_are_missing(tenant, other_tenant, role)
    assert state_of(other_tenant) == before
    assert tenant.api.su.get(f"{V2}/domains/stolen.example").status_code == 404
    assert tenant.api.su.get(f"{V2}/domains/{tenant.domain}").json()["reseller"] == tenant.reseller


def _reads_are_missing(tenant: Tenant, other_tenant: Tenant, role: str) -> None:
    o = other_tenant
    with tenant.as_role(role) as c:
        assert_missing(
            c.get(f"{V2}/resellers/{o.reseller}"), f"Reseller {o.reseller} does not exist"
        )
        assert_missing(c.get(f"{V2}/resellers/{o.reseller}/count"))
        assert_missing(c.get(f"{V2}/domains/{o.domain}"), f"Domain {o.domain} does not exist")
        assert_missing(c.get(f"{V2}/domains/{o.domain}/count"))
        for path in (
            "users",
            "users/count",
            "users/list",
            "users/1000",
            "users/1001",
            "users/9000",
            "users/~",
            "users/nosuchuser",
        ):
            assert_missing(
                c.get(f"{V2}/domains/{o.domain}/{path}"), f"Domain {o.domain} does not exist"
            )
        # Lists leave the other tenancy out.
        domains = c.get(f"{V2}/domains", params={"limit": 1000})
        assert domains.status_code == 200
        assert o.domain not in {d["domain"] for d in domains.json()}
        assert tenant.domain in {d["domain"] for d in domains.json()}
        if role == "Reseller":
            resellers = c.get(f"{V2}/resellers", params={"limit": 1000})
            assert [r["reseller"] for r in resellers.json()] == [tenant.reseller]
            audit = c.get(f"{V2}/auditlog", params=_window(**{"target-domain": o.domain}))
            assert audit.status_code == 200 and audit.json() == []


def _changes_are_missing(tenant: Tenant, other_tenant: Tenant, role: str) -> None:
    o = other_tenant
    users = f"{V2}/domains/{o.domain}/users"
    with tenant.as_role(role) as c:
        attempts = [
            c.put(f"{V2}/resellers/{o.reseller}", json={"description": "pwned"}),
            c.put(f"{V2}/resellers/{o.reseller}", json={"api-access": "yes"}),
            c.delete(f"{V2}/resellers/{o.reseller}"),
            c.put(f"{V2}/domains/{o.domain}", json={"description": "pwned"}),
            c.put(f"{V2}/domains/{o.domain}", json={"limits-max-users": 0}),
            c.delete(f"{V2}/domains/{o.domain}"),
            c.post(users, json={"user": "6666", "user-scope": "Basic User"}),
            c.post(
                users,
                json={
                    "user": "6667",
                    "user-scope": "Office Manager",
                    "login-password": "Intruder-Pass-123",
                },
            ),
            c.put(f"{users}/1001", json={"name-first-name": "pwned"}),
            c.put(f"{users}/1000", json={"login-password": "Intruder-Pass-123"}),
            c.put(f"{users}/9000", json={"user-scope": "Basic User"}),
            c.delete(f"{users}/1001"),
            c.delete(f"{users}/1000"),
        ]
        for r in attempts:
            assert_missing(r)
        if role == "Reseller":
            # Creating a domain under, or moving one's own domain to, the other reseller.
            r = c.post(f"{V2}/domains", json={"domain": "stolen.example", "reseller": o.reseller})
            assert_missing(r, f"Reseller {o.reseller} does not exist")
            r = c.put(f"{V2}/domains/{tenant.domain}", json={"reseller": o.reseller})
            assert_missing(r, f"Reseller {o.reseller} does not exist")


def test_other_tenants_audit_entries_stay_hidden(tenant: Tenant, other_tenant: Tenant) -> None:
    o = other_tenant
    assert (
        o.api.su.put(
            f"{V2}/domains/{o.domain}/users/1001", json={"name-first-name": "Hidden"}
        ).status_code
        == 200
    )
    for role in ("Reseller", "Office Manager"):
        with tenant.as_role(role) as c:
            for params in (
                _window(),
                _window(**{"target-domain": o.domain}),
                _window(**{"target-user": "1001"}),
            ):
                r = c.get(f"{V2}/auditlog", params=params)
                assert r.status_code == 200
                assert all(
                    e["target-domain"] == tenant.domain for e in r.json() if role != "Reseller"
                )
                assert o.domain not in r.text
                assert o.reseller not in r.text


def test_reseller_api_key_cannot_delegate_to_another_tenants_user(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    su = tenant.api.su
    on = su.put(f"{V2}/resellers/{tenant.reseller}", json={"api-access": "yes"})
    assert on.status_code == 200
    made = su.post(
        f"{V2}/apikeys",
        json={
            "description": "tenant reseller key",
            "reseller": tenant.reseller,
            "user-scope": "Reseller",
        },
    )
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    with tenant.api.http(key) as c:
        own = c.post(f"{V2}/jwt", json={"user": "1001", "domain": tenant.domain})
        assert own.status_code == 200, own.text
        stolen = c.post(f"{V2}/jwt", json={"user": "1001", "domain": other_tenant.domain})
        assert_missing(stolen, f"User 1001 does not exist in domain {other_tenant.domain}")
        assert c.get(f"{V2}/domains/{other_tenant.domain}/users/1001").status_code == 404


# --- permitted tenancy, forbidden action: 403, or 401 'Invalid Scope' in NetSapiens style ----


FORBIDDEN_IN_OWN_TENANCY = [
    ("Office Manager", "PUT", "/domains/{domain}", {"description": "x"}),
    ("Office Manager", "DELETE", "/domains/{domain}", None),
    ("Office Manager", "GET", "/resellers/{reseller}", None),
    ("Office Manager", "PUT", "/domains/{domain}/users/9000", {"name-first-name": "x"}),
    ("Site Manager", "GET", "/domains/{domain}/users/1001", None),
    ("Call Center Supervisor", "PUT", "/domains/{domain}/users/1001", {"name-first-name": "x"}),
    ("Call Center Agent", "GET", "/domains/{domain}/users", None),
    ("Basic User", "GET", "/domains/{domain}/users/1000", None),
    ("Basic User", "PUT", "/domains/~/users/~", {"user-scope": "Office Manager"}),
    ("Basic User", "DELETE", "/domains/~/users/~", None),
    ("Reseller", "PUT", "/domains/{domain}", {"api-access": "no"}),
    ("Reseller", "POST", "/resellers", {"reseller": "another"}),
]


def _call(c: httpx.Client, t: Tenant, method: str, path: str, body: Any) -> httpx.Response:
    url = V2 + path.format(domain=t.domain, reseller=t.reseller)
    return c.request(method, url, json=body)


def test_forbidden_in_own_tenancy_is_403(tenant: Tenant) -> None:
    before = state_of(tenant)
    for role, method, path, body in FORBIDDEN_IN_OWN_TENANCY:
        with tenant.as_role(role) as c:
            r = _call(c, tenant, method, path, body)
        assert r.status_code == 403, (role, method, path, r.text)
        assert set(r.json()) == {"code", "message"}
        assert r.json()["code"] == 403
        assert r.json()["message"]
    assert state_of(tenant) == before


@pytest.fixture(scope="module")
def netsapiens_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """An extra SQLite server that answers scope refusals the NetSapiens way."""
    tmp: Path = tmp_path_factory.mktemp("nsstyle")
    settings = live.test_settings(
        tmp, f"sqlite+aiosqlite:///{tmp / 'celito.db'}", scope_error_style="netsapiens"
    )
    client_id, secret = live.bootstrap(settings)
    with live.live_server(settings) as server:
        api = Api(server.base_url, "sqlite", client_id, secret)
        yield api
        if api._super is not None:
            api._super.close()


def test_netsapiens_style_scope_refusals(netsapiens_api: Api) -> None:
    t = make_tenant(netsapiens_api)
    other = make_tenant(netsapiens_api)
    before = state_of(t)
    for role, method, path, body in FORBIDDEN_IN_OWN_TENANCY:
        with t.as_role(role) as c:
            r = _call(c, t, method, path, body)
        assert r.status_code == 401, (role, method, path, r.text)
        assert r.json() == {"code": 401, "message": "Invalid Scope [APP001]"}
    assert state_of(t) == before
    # A tenancy miss stays a 404; a missing token stays a plain 401.
    with t.as_role("Office Manager") as c:
        assert_missing(c.get(f"{V2}/domains/{other.domain}"))
        assert_missing(c.put(f"{V2}/domains/{other.domain}", json={"description": "x"}))
    with netsapiens_api.http() as anonymous:
        r = anonymous.get(f"{V2}/domains")
    assert r.status_code == 401
    assert r.json()["message"] != "Invalid Scope [APP001]"


def _window(**filters: str) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "datetime-start": (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
        "datetime-end": (now + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
        "limit": "1000",
        **filters,
    }
