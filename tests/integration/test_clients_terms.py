"""OAuth clients (/ns-api/v2/clients) and the API terms of service (/ns-api/tos): who issues,
reads and accepts; no token before the current terms are accepted; which users a client
serves; disabling, rotating and deleting; secrets shown once; the audit trail."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text

from tests.support.live import SUPER_PASSWORD, LiveServer
from tests.support.tenants import Api, Tenant, password

TOS = "2026-11-01"


def new_client(api: Api, client: httpx.Client | None = None, **body: Any) -> dict[str, Any]:
    r = (client or api.su).post("/ns-api/v2/clients", json={"name": "integration", **body})
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


def grant(api: Api, client: dict[str, Any], tenant: Tenant, role: str) -> httpx.Response:
    return api.grant(
        tenant.uid(role),
        tenant.passwords[role],
        client_id=client["client-id"],
        client_secret=client["client-secret"],
    )


def accept(
    api: Api, client: dict[str, Any], username: str, pw: str, version: str = TOS, *, json: bool
) -> httpx.Response:
    body = {
        "client_id": client["client-id"],
        "client_secret": client["client-secret"],
        "username": username,
        "password": pw,
        "tos_version": version,
    }
    with api.http() as c:
        if json:
            return c.post("/ns-api/tos/accept", json=body)
        return c.post("/ns-api/tos/accept", data=body)


def fresh_ip() -> str:
    a, b, c = (secrets.randbelow(250) + 1 for _ in range(3))
    return f"127.{a}.{b}.{c}"


def assert_error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == status
    return str(body["message"])


def assert_oauth_error(r: httpx.Response, status: int, error: str) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error, body
    assert body["code"] == status
    return str(body["error_description"])


def audit(api: Api, **filters: str) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    params = {
        "datetime-start": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "datetime-end": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **filters,
    }
    r = api.su.get("/ns-api/v2/auditlog", params=params)
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()
    return rows


def run_sql(server: LiveServer, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(server.settings.resolved_database_url.replace("+aiosqlite", ""))
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return list(result.all()) if result.returns_rows else []
    finally:
        engine.dispose()


def database_contains(server: LiveServer, needle: str) -> list[str]:
    engine = create_engine(server.settings.resolved_database_url.replace("+aiosqlite", ""))
    try:
        with engine.connect() as conn:
            return [
                table
                for table in inspect(conn).get_table_names()
                if any(
                    needle in str(tuple(row))
                    for row in conn.execute(text(f'SELECT * FROM "{table}"')).all()
                )
            ]
    finally:
        engine.dispose()


def parse(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


# ---------------------------------------------------------------- the terms


def test_the_terms_are_public_and_versioned(api: Api) -> None:
    with api.http() as c:
        r = c.get("/ns-api/tos")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    assert r.headers["x-terms-version"] == TOS
    assert f"version {TOS}" in r.text
    assert "POST /ns-api/tos/accept" in r.text
    assert "your account executive" in r.text


def test_no_token_before_the_terms_are_accepted(tenant: Tenant) -> None:
    client = new_client(tenant.api, reseller=tenant.reseller)
    assert client["tos-current"] == "no"
    assert client["tos-version"] is None and client["tos-accepted-by"] is None
    for role in ("Office Manager", "Basic User"):
        message = assert_oauth_error(grant(tenant.api, client, tenant, role), 403, "access_denied")
        assert "terms of service" in message
        assert client["client-id"] in message
        assert "have not been accepted" in message
        assert "/ns-api/tos" in message
        assert "your account executive" in message
    with tenant.api.http() as c:
        r = c.post(
            "/ns-api/v2/jwt",
            json={
                "grant_type": "password",
                "client_id": client["client-id"],
                "client_secret": client["client-secret"],
                "username": tenant.uid("Office Manager"),
                "password": tenant.passwords["Office Manager"],
            },
        )
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "access_denied"
    assert (
        audit(tenant.api, **{"target-object": "oauth_token", "target-domain": tenant.domain}) == []
    )


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_an_office_manager_accepts_for_a_client_of_its_domain(
    tenant: Tenant, as_json: bool
) -> None:
    client = new_client(tenant.api, reseller=tenant.reseller, domain=tenant.domain)
    assert client["domain"] == tenant.domain
    om = tenant.uid("Office Manager")
    r = accept(tenant.api, client, om, tenant.passwords["Office Manager"], json=as_json)
    assert r.status_code == 200, r.text
    assert r.json() == {"client_id": client["client-id"], "tos_version": TOS, "accepted_by": om}
    with tenant.as_role("Office Manager") as c:
        shown = c.get(f"/ns-api/v2/clients/{client['client-id']}").json()
    assert shown["tos-version"] == TOS
    assert shown["tos-accepted-by"] == om
    assert shown["tos-current"] == "yes"
    assert abs(parse(shown["tos-accepted-datetime"]) - datetime.now(UTC)) < timedelta(minutes=2)
    r = grant(tenant.api, client, tenant, "Basic User")
    assert r.status_code == 200, r.text
    assert r.json()["client_id"] == client["client-id"]

    rows = audit(
        tenant.api,
        **{"target-object": "oauth_client", "action-type": "accept_terms", "by-user": om},
    )
    assert len(rows) == 1, rows
    assert rows[0]["target-id"] == client["client-id"]
    assert rows[0]["auditlog-details"] == {"tos_version": TOS}
    assert rows[0]["by-ip"] == "127.0.0.1"
    assert client["client-secret"] not in str(rows)
    assert tenant.passwords["Office Manager"] not in str(rows)


def test_resellers_and_super_users_accept_too(tenant: Tenant) -> None:
    client = new_client(tenant.api, reseller=tenant.reseller)
    r = accept(tenant.api, client, tenant.uid("Reseller"), tenant.passwords["Reseller"], json=False)
    assert r.status_code == 200, r.text
    assert r.json()["accepted_by"] == tenant.uid("Reseller")
    assert grant(tenant.api, client, tenant, "Office Manager").status_code == 200

    other = new_client(tenant.api, reseller=tenant.reseller)
    r = accept(tenant.api, other, "admin@system", SUPER_PASSWORD, json=True)
    assert r.status_code == 200, r.text
    assert r.json()["accepted_by"] == "admin@system"


def test_who_may_not_accept(tenant: Tenant, other_tenant: Tenant) -> None:
    reseller_wide = new_client(tenant.api, reseller=tenant.reseller)
    refused = [
        # A user below Office Manager.
        (tenant.uid("Basic User"), tenant.passwords["Basic User"]),
        (tenant.uid("Call Center Supervisor"), tenant.passwords["Call Center Supervisor"]),
        # An Office Manager, for a client not limited to its domain.
        (tenant.uid("Office Manager"), tenant.passwords["Office Manager"]),
        # Another reseller's Reseller and Office Manager.
        (other_tenant.uid("Reseller"), other_tenant.passwords["Reseller"]),
        (other_tenant.uid("Office Manager"), other_tenant.passwords["Office Manager"]),
    ]
    for username, pw in refused:
        r = accept(tenant.api, reseller_wide, username, pw, json=True)
        message = assert_error(r, 403)
        assert "Terms are accepted by" in message, username
    shown = tenant.api.su.get(f"/ns-api/v2/clients/{reseller_wide['client-id']}").json()
    assert shown["tos-accepted-by"] is None and shown["tos-current"] == "no"
    assert_oauth_error(grant(tenant.api, reseller_wide, tenant, "Basic User"), 403, "access_denied")


def test_accepting_needs_the_current_version_and_real_credentials(tenant: Tenant) -> None:
    client = new_client(tenant.api, reseller=tenant.reseller)
    login = (tenant.uid("Reseller"), tenant.passwords["Reseller"])
    message = assert_error(accept(tenant.api, client, *login, "2020-01-01", json=True), 409)
    assert TOS in message and "2020-01-01" in message
    assert_error(accept(tenant.api, client, *login, "", json=True), 409)
    bad_secret = {**client, "client-secret": "cvs_" + secrets.token_urlsafe(32)}
    assert_oauth_error(accept(tenant.api, bad_secret, *login, json=True), 401, "invalid_client")
    with httpx.Client(
        base_url=tenant.api.base_url, transport=httpx.HTTPTransport(local_address=fresh_ip())
    ) as c:
        r = c.post(
            "/ns-api/tos/accept",
            json={
                "client_id": client["client-id"],
                "client_secret": client["client-secret"],
                "username": login[0],
                "password": "wrong-" + secrets.token_hex(6),
                "tos_version": TOS,
            },
        )
    assert_oauth_error(r, 400, "invalid_grant")
    assert (
        tenant.api.su.get(f"/ns-api/v2/clients/{client['client-id']}").json()["tos-current"] == "no"
    )


def test_accepting_through_the_v2_api(tenant: Tenant, other_tenant: Tenant) -> None:
    client = new_client(tenant.api, reseller=tenant.reseller, domain=tenant.domain)
    path = f"/ns-api/v2/clients/{client['client-id']}/tos-acceptance"
    with other_tenant.as_role("Office Manager") as c:
        assert_error(c.post(path, json={"tos-version": TOS}), 404)
    with tenant.as_role("Basic User") as c:
        assert c.post(path, json={"tos-version": TOS}).status_code in (403, 404)
    with tenant.as_role("Reseller") as c:
        assert_error(c.post(path, json={"tos-version": "1999-01-01"}), 409)
        r = c.post(path, json={"tos-version": TOS})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tos-current"] == "yes"
    assert body["tos-accepted-by"] == tenant.uid("Reseller")
    assert "client-secret" not in body
    assert grant(tenant.api, client, tenant, "Office Manager").status_code == 200


def test_new_terms_need_a_new_acceptance(server: LiveServer, tenant: Tenant) -> None:
    client = new_client(tenant.api, reseller=tenant.reseller)
    with tenant.as_role("Reseller") as c:
        path = f"/ns-api/v2/clients/{client['client-id']}/tos-acceptance"
        assert c.post(path, json={"tos-version": TOS}).status_code == 200
    assert grant(tenant.api, client, tenant, "Basic User").status_code == 200
    # As if the terms had changed since: the stored acceptance is of an older version.
    run_sql(
        server,
        "UPDATE oauth_clients SET tos_version = '2025-01-01' WHERE client_id = :cid",
        cid=client["client-id"],
    )
    message = assert_oauth_error(
        grant(tenant.api, client, tenant, "Basic User"), 403, "access_denied"
    )
    assert f"were accepted in version 2025-01-01 but are now {TOS}" in message
    shown = tenant.api.su.get(f"/ns-api/v2/clients/{client['client-id']}").json()
    assert shown["tos-current"] == "no"
    with tenant.as_role("Reseller") as c:
        assert c.post(path, json={"tos-version": TOS}).status_code == 200
    assert grant(tenant.api, client, tenant, "Basic User").status_code == 200


# ---------------------------------------------------------------- issuing and reading clients


def test_super_users_and_resellers_issue_clients(server: LiveServer, tenant: Tenant) -> None:
    made = new_client(tenant.api, reseller=tenant.reseller)
    secret = made["client-secret"]
    assert secret.startswith("cvs_") and len(secret) > 40
    assert made["reseller"] == tenant.reseller and made["domain"] is None
    assert made["enabled"] == "yes"
    assert made["created-by"] == "admin@system"
    with tenant.as_role("Reseller") as c:
        mine = new_client(
            tenant.api,
            c,
            reseller="~",
            domain=tenant.domain,
            **{"client-id": f"crm-{secrets.token_hex(3)}"},
        )
        assert mine["reseller"] == tenant.reseller
        assert mine["created-by"] == tenant.uid("Reseller")
        again = c.post("/ns-api/v2/clients", json={"name": "x", "client-id": mine["client-id"]})
        assert_error(again, 409)
        reads = [c.get("/ns-api/v2/clients"), c.get(f"/ns-api/v2/clients/{made['client-id']}")]
    for r in reads:
        assert r.status_code == 200, r.text
        assert "client-secret" not in r.text
        assert secret not in r.text and mine["client-secret"] not in r.text
    assert {made["client-id"], mine["client-id"]} <= {x["client-id"] for x in reads[0].json()}
    # Only the hash is kept.
    assert database_contains(server, secret) == []
    assert database_contains(server, hashlib.sha256(secret.encode()).hexdigest()) == [
        "oauth_clients"
    ]
    rows = audit(
        tenant.api,
        **{
            "target-object": "oauth_client",
            "action-type": "create",
            "by-user": tenant.uid("Reseller"),
        },
    )
    assert [r["target-id"] for r in rows] == [mine["client-id"]]
    assert mine["client-secret"] not in str(rows)


def test_a_reseller_issues_only_for_its_own_reseller(tenant: Tenant, other_tenant: Tenant) -> None:
    with tenant.as_role("Reseller") as c:
        r = c.post("/ns-api/v2/clients", json={"name": "x", "reseller": other_tenant.reseller})
        assert_error(r, 404)
        r = c.post("/ns-api/v2/clients", json={"name": "x", "domain": other_tenant.domain})
        assert_error(r, 404)
        assert c.get(f"/ns-api/v2/clients/{other_tenant.api.client_id}").status_code == 404
        listed = {x["client-id"] for x in c.get("/ns-api/v2/clients").json()}
    assert tenant.api.client_id in listed and other_tenant.api.client_id not in listed


def test_office_managers_read_their_domains_clients_but_do_not_issue(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    domain_client = new_client(tenant.api, reseller=tenant.reseller, domain=tenant.domain)
    elsewhere = new_client(
        other_tenant.api, reseller=other_tenant.reseller, domain=other_tenant.domain
    )
    with tenant.as_role("Office Manager") as c:
        listed = c.get("/ns-api/v2/clients")
        assert listed.status_code == 200, listed.text
        ids = {x["client-id"] for x in listed.json()}
        assert domain_client["client-id"] in ids
        assert elsewhere["client-id"] not in ids
        r = c.get(f"/ns-api/v2/clients/{domain_client['client-id']}")
        assert r.status_code == 200, r.text
        assert r.json()["domain"] == tenant.domain
        assert "client-secret" not in r.json()
        assert c.get(f"/ns-api/v2/clients/{elsewhere['client-id']}").status_code == 404
        assert_error(c.post("/ns-api/v2/clients", json={"name": "mine"}), 403)
        assert_error(
            c.post("/ns-api/v2/clients", json={"name": "mine", "domain": tenant.domain}), 403
        )
        r = c.put(f"/ns-api/v2/clients/{domain_client['client-id']}", json={"enabled": "no"})
        assert_error(r, 403)
        assert_error(c.post(f"/ns-api/v2/clients/{domain_client['client-id']}/secret"), 403)
        assert_error(c.delete(f"/ns-api/v2/clients/{domain_client['client-id']}"), 403)
    for role in ("Basic User", "Site Manager", "Call Center Supervisor"):
        with tenant.as_role(role) as c:
            assert c.post("/ns-api/v2/clients", json={"name": "mine"}).status_code == 403
            assert domain_client["client-id"] not in c.get("/ns-api/v2/clients").text


# ---------------------------------------------------------------- which users a client serves


def test_a_domain_client_serves_only_that_domains_users(api: Api, tenant: Tenant) -> None:
    client = new_client(api, reseller=tenant.reseller, domain=tenant.domain)
    r = api.su.post(
        f"/ns-api/v2/clients/{client['client-id']}/tos-acceptance", json={"tos-version": TOS}
    )
    assert r.status_code == 200, r.text
    sibling = f"s{secrets.token_hex(3)}.example"
    r = api.su.post(
        "/ns-api/v2/domains",
        json={"domain": sibling, "reseller": tenant.reseller, "api-access": "yes"},
    )
    assert r.status_code == 201, r.text
    pw = password()
    r = api.su.post(
        f"/ns-api/v2/domains/{sibling}/users",
        json={"user": "1000", "user-scope": "Office Manager", "login-password": pw},
    )
    assert r.status_code == 201, r.text
    assert grant(api, client, tenant, "Office Manager").status_code == 200
    r = api.grant(
        f"1000@{sibling}", pw, client_id=client["client-id"], client_secret=client["client-secret"]
    )
    message = assert_oauth_error(r, 400, "invalid_grant")
    assert f"1000@{sibling}" in message and client["client-id"] in message
    # The reseller-wide client serves both.
    assert tenant.api.grant(f"1000@{sibling}", pw).status_code == 200


def test_another_resellers_users_cannot_use_a_client(tenant: Tenant, other_tenant: Tenant) -> None:
    client = {"client-id": tenant.api.client_id, "client-secret": tenant.api.client_secret}
    for role in ("Reseller", "Office Manager", "Basic User"):
        r = grant(tenant.api, client, other_tenant, role)
        assert_oauth_error(r, 400, "invalid_grant")


# ---------------------------------------------------------------- disable, rotate, delete


def test_a_disabled_client_gets_nothing_and_its_tokens_stop(tenant: Tenant) -> None:
    tokens = tenant.api.grant(tenant.uid("Basic User"), tenant.passwords["Basic User"]).json()
    with tenant.api.http(tokens["access_token"]) as c:
        assert c.get("/ns-api/v2/domains/~/users/~").status_code == 200
    with tenant.as_role("Reseller") as c:
        r = c.put(f"/ns-api/v2/clients/{tenant.api.client_id}", json={"enabled": "no"})
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] == "no"
    message = assert_oauth_error(
        tenant.api.grant(tenant.uid("Office Manager"), tenant.passwords["Office Manager"]),
        401,
        "invalid_client",
    )
    assert "disabled" in message
    with tenant.api.http(tokens["access_token"]) as c:
        r = c.get("/ns-api/v2/domains/~/users/~")
    assert assert_error(r, 401) == f"Client {tenant.api.client_id} is disabled"
    with tenant.api.http() as c:
        r = c.post(
            "/ns-api/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": tenant.api.client_id,
                "client_secret": tenant.api.client_secret,
                "refresh_token": tokens["refresh_token"],
            },
        )
    assert_oauth_error(r, 401, "invalid_client")
    # Enabled again, it works again.
    r = tenant.api.su.put(f"/ns-api/v2/clients/{tenant.api.client_id}", json={"enabled": "yes"})
    assert r.status_code == 200, r.text
    with tenant.api.http(tokens["access_token"]) as c:
        assert c.get("/ns-api/v2/domains/~/users/~").status_code == 200


def test_rotating_the_secret_retires_the_old_one(tenant: Tenant) -> None:
    old = tenant.api.client_secret
    with tenant.as_role("Reseller") as c:
        r = c.post(f"/ns-api/v2/clients/{tenant.api.client_id}/secret")
    assert r.status_code == 200, r.text
    new = r.json()["client-secret"]
    assert new.startswith("cvs_") and new != old
    rotated = {"client-id": tenant.api.client_id, "client-secret": new}
    stale = {"client-id": tenant.api.client_id, "client-secret": old}
    assert_oauth_error(grant(tenant.api, stale, tenant, "Basic User"), 401, "invalid_client")
    assert grant(tenant.api, rotated, tenant, "Basic User").status_code == 200
    rows = audit(
        tenant.api,
        **{
            "target-object": "oauth_client",
            "action-type": "update",
            "by-user": tenant.uid("Reseller"),
        },
    )
    assert len(rows) == 1 and rows[0]["auditlog-details"] == {"rotated": "client_secret"}
    assert new not in str(rows) and old not in str(rows)


def test_deleting_a_client_revokes_its_tokens(tenant: Tenant) -> None:
    client = new_client(tenant.api, reseller=tenant.reseller)
    assert (
        tenant.api.su.post(
            f"/ns-api/v2/clients/{client['client-id']}/tos-acceptance", json={"tos-version": TOS}
        ).status_code
        == 200
    )
    tokens = grant(tenant.api, client, tenant, "Office Manager").json()
    with tenant.api.http(tokens["access_token"]) as c:
        assert c.get("/ns-api/v2/domains/~/users/~").status_code == 200  # cached
    with tenant.as_role("Reseller") as c:
        r = c.delete(f"/ns-api/v2/clients/{client['client-id']}")
        assert r.status_code == 200, r.text
        assert "client-secret" not in r.json()
        assert c.get(f"/ns-api/v2/clients/{client['client-id']}").status_code == 404
    with tenant.api.http(tokens["access_token"]) as c:
        assert_error(c.get("/ns-api/v2/domains/~/users/~"), 401)
    assert_oauth_error(grant(tenant.api, client, tenant, "Office Manager"), 401, "invalid_client")
