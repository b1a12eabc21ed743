"""/ns-api/v2/apikeys: a key is shown once and stored hashed; read-only, address-limited,
model-limited and key-minting keys; last use; revocation; bad keys; tenancy; the audit log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text

from tests.support.live import LiveServer
from tests.support.tenants import Api, Tenant, make_tenant, password

DESCRIPTION = "integration test key"


@pytest.fixture(scope="module")
def shared(api: Api) -> Tenant:
    return make_tenant(api)


def create(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/ns-api/v2/apikeys", json={"description": DESCRIPTION, **body})


def om_key(tenant: Tenant, **body: Any) -> dict[str, Any]:
    with tenant.as_role("Office Manager") as c:
        r = create(c, **body)
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


def http_from(api: Api, ip: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=api.base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        transport=httpx.HTTPTransport(local_address=ip),
    )


def new_user(ext: str) -> dict[str, str]:
    return {"user": ext, "user-scope": "Basic User", "login-password": password()}


def assert_error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"code", "message"}, body
    assert body["code"] == status
    return str(body["message"])


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


def database_contains(server: LiveServer, needle: str) -> list[str]:
    """The tables in which any row mentions `needle` (read straight from the database)."""
    url = server.settings.resolved_database_url.replace("+aiosqlite", "")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = []
            for table in inspect(conn).get_table_names():
                rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
                if any(needle in str(tuple(row)) for row in rows):
                    found.append(table)
            return found
    finally:
        engine.dispose()


def parse(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


# ---------------------------------------------------------------- shown once, stored hashed


def test_a_key_is_shown_once_and_stored_hashed(server: LiveServer, tenant: Tenant) -> None:
    with tenant.as_role("Office Manager") as c:
        r = create(c)
    assert r.status_code == 201, r.text
    made = r.json()
    key, key_id = made["key"], made["key-id"]
    assert len(key_id) == 12 and key_id.startswith("nsd_")
    assert key.startswith(key_id + "_") and len(key) > 40
    assert made == {
        "key-id": key_id,
        "key": key,
        "description": DESCRIPTION,
        "reseller": tenant.reseller,
        "domain": tenant.domain,
        "user": None,
        "user-scope": "Office Manager",
        "ip-address": "",
        "readonly": "no",
        "can-create-keys": "no",
        "allowed-models": "*",
        "created-by": tenant.uid("Office Manager"),
        "created-datetime": made["created-datetime"],
        "lastused-datetime": None,
    }
    assert abs(parse(made["created-datetime"]) - datetime.now(UTC)) < timedelta(minutes=2)

    with tenant.as_role("Office Manager") as c:
        reads = [
            c.get("/ns-api/v2/apikeys"),
            c.get(f"/ns-api/v2/apikeys/{key_id}"),
            c.put(f"/ns-api/v2/apikeys/{key_id}", json={"description": "renamed test key"}),
        ]
    with httpx.Client(
        base_url=tenant.api.base_url, headers={"Authorization": f"Bearer {key}"}
    ) as c:
        reads.append(c.get("/ns-api/v2/apikeys/~"))
    for r in reads:
        assert r.status_code == 200, r.text
        assert key not in r.text
        assert key.split("_", 2)[2] not in r.text
    listed = {k["key-id"]: k for k in reads[0].json()}
    assert "key" not in listed[key_id]
    assert "key" not in reads[1].json() and reads[1].json()["key-id"] == key_id
    assert reads[2].json()["description"] == "renamed test key"
    assert reads[3].json()["key-id"] == key_id

    assert database_contains(server, key) == []
    assert database_contains(server, key.split("_", 2)[2]) == []
    assert database_contains(server, hashlib.sha256(key.encode()).hexdigest()) == ["api_keys"]


def test_a_key_works_as_a_bearer_and_records_its_last_use(shared: Tenant) -> None:
    made = om_key(shared)
    with shared.api.http(made["key"]) as c:
        r = c.get(f"/ns-api/v2/domains/{shared.domain}/users")
        assert r.status_code == 200, r.text
        assert {u["user"] for u in r.json()} >= {"1000", "1001"}
        r = c.get("/ns-api/v2/apikeys/~")
    assert r.status_code == 200, r.text
    used = r.json()["lastused-datetime"]
    assert used is not None
    assert abs(parse(used) - datetime.now(UTC)) < timedelta(minutes=2)
    with shared.as_role("Office Manager") as c:
        assert c.get(f"/ns-api/v2/apikeys/{made['key-id']}").json()["lastused-datetime"] == used


def test_a_keys_first_use_may_be_a_write(shared: Tenant) -> None:
    made = om_key(shared)
    with httpx.Client(
        base_url=shared.api.base_url, headers={"Authorization": f"Bearer {made['key']}"}, timeout=8
    ) as c:
        r = c.post(f"/ns-api/v2/domains/{shared.domain}/users", json=new_user("1501"))
        assert r.status_code == 201, r.text
        r = c.get("/ns-api/v2/apikeys/~")
    assert r.json()["lastused-datetime"] is not None


# ---------------------------------------------------------------- limits


def test_a_readonly_key_reads_but_never_writes(shared: Tenant) -> None:
    made = om_key(shared, readonly="yes")
    assert made["readonly"] == "yes"
    with shared.api.http(made["key"]) as c:
        assert c.get(f"/ns-api/v2/domains/{shared.domain}/users").status_code == 200
        refusals = [
            c.post(f"/ns-api/v2/domains/{shared.domain}/users", json=new_user("1502")),
            c.put(f"/ns-api/v2/domains/{shared.domain}/users/1001", json={"department": "X"}),
            c.delete(f"/ns-api/v2/domains/{shared.domain}/users/1001"),
            create(c, **{"user-scope": "Basic User"}),
        ]
    for r in refusals:
        assert assert_error(r, 403) == "This API key is read-only"
    su = shared.api.su
    assert su.get(f"/ns-api/v2/domains/{shared.domain}/users/1502").status_code == 404
    user = su.get(f"/ns-api/v2/domains/{shared.domain}/users/1001")
    assert user.status_code == 200 and user.json()["department"] == ""


def test_an_address_limited_key_is_refused_elsewhere(shared: Tenant) -> None:
    here = om_key(shared, **{"ip-address": "127.0.0.1"})
    assert here["ip-address"] == "127.0.0.1/32"
    with shared.api.http(here["key"]) as c:
        assert c.get("/ns-api/v2/domains/~/users").status_code == 200

    private = om_key(shared, **{"ip-address": "10.0.0.0/8, 192.168.1.7"})
    assert private["ip-address"] == "10.0.0.0/8,192.168.1.7/32"
    with shared.api.http(private["key"]) as c:
        message = assert_error(c.get("/ns-api/v2/domains/~/users"), 403)
    assert message == "This API key may not be used from 127.0.0.1"
    # A refused use is not a use.
    with shared.as_role("Office Manager") as c:
        r = c.get(f"/ns-api/v2/apikeys/{private['key-id']}")
    assert r.json()["lastused-datetime"] is None


def test_only_the_servers_view_of_the_address_counts(shared: Tenant) -> None:
    made = om_key(shared, **{"ip-address": "127.0.0.2"})
    with shared.api.http(made["key"]) as c:
        assert_error(c.get("/ns-api/v2/domains/~/users"), 403)
    with http_from(shared.api, "127.0.0.2", made["key"]) as c:
        assert c.get("/ns-api/v2/domains/~/users").status_code == 200
    # Widening the limit takes effect at once.
    with shared.as_role("Office Manager") as c:
        r = c.put(f"/ns-api/v2/apikeys/{made['key-id']}", json={"ip-address": "127.0.0.0/8"})
    assert r.status_code == 200, r.text
    with shared.api.http(made["key"]) as c:
        assert c.get("/ns-api/v2/domains/~/users").status_code == 200
    # And narrowing it too (the key is in the caller cache by now).
    with shared.as_role("Office Manager") as c:
        r = c.put(f"/ns-api/v2/apikeys/{made['key-id']}", json={"ip-address": "10.1.2.3"})
    assert r.status_code == 200, r.text
    with shared.api.http(made["key"]) as c:
        assert_error(c.get("/ns-api/v2/domains/~/users"), 403)


@pytest.mark.parametrize("bad", ["not-an-address", "300.1.1.1", "10.0.0.0/33"])
def test_a_bad_address_limit_is_refused(shared: Tenant, bad: str) -> None:
    with shared.as_role("Office Manager") as c:
        r = create(c, **{"ip-address": bad})
    assert r.status_code in (400, 422), r.text
    assert "ip-address" in r.json()["message"]


def test_allowed_models_limit_what_a_key_touches(shared: Tenant) -> None:
    made = om_key(shared, **{"allowed-models": ["subscriber"]})
    assert made["allowed-models"] == ["subscriber"]
    unlimited = om_key(shared)
    with shared.api.http(unlimited["key"]) as c:
        assert c.get("/ns-api/v2/domains").status_code == 200
        assert c.get("/ns-api/v2/domains/~").status_code == 200
    with shared.api.http(made["key"]) as c:
        assert c.get(f"/ns-api/v2/domains/{shared.domain}/users").status_code == 200
        assert c.get(f"/ns-api/v2/domains/{shared.domain}/users/1001").status_code == 200
        for path in ("/ns-api/v2/domains", "/ns-api/v2/domains/~", "/ns-api/v2/apikeys"):
            message = assert_error(c.get(path), 403)
            assert message.startswith("This API key may not use the '")


def test_unknown_models_are_refused(shared: Tenant) -> None:
    with shared.as_role("Office Manager") as c:
        r = create(c, **{"allowed-models": ["subscriber", "nosuchmodel"]})
    assert r.status_code == 422, r.text
    assert "nosuchmodel" in r.json()["message"]


# ---------------------------------------------------------------- minting keys


def test_can_create_keys_mints_only_lower_scopes(shared: Tenant) -> None:
    minter = om_key(shared, **{"can-create-keys": "yes"})
    assert minter["can-create-keys"] == "yes"
    with shared.api.http(minter["key"]) as c:
        r = create(c, **{"user-scope": "Site Manager"})
        assert r.status_code == 201, r.text
        lower = r.json()
        assert lower["user-scope"] == "Site Manager"
        assert lower["domain"] == shared.domain
        assert lower["created-by"] == minter["key-id"]
        for scope in ("Office Manager", "Reseller", "Super User"):
            r = create(c, **{"user-scope": scope})
            assert r.status_code == 403, (scope, r.text)
    with shared.api.http(lower["key"]) as c:
        assert c.get(f"/ns-api/v2/domains/{shared.domain}/users").status_code == 200
        # The minted key cannot mint.
        message = assert_error(create(c, **{"user-scope": "Basic User"}), 403)
    assert message == (
        "API key creation only allowed using an API key with permission to create new API keys"
    )


def test_who_may_create_keys_with_a_token(shared: Tenant) -> None:
    for role in ("Basic User", "Call Center Agent", "Site Manager"):
        with shared.as_role(role) as c:
            assert_error(create(c), 403)
    with shared.as_role("Office Manager") as c:
        assert_error(create(c, **{"user-scope": "Reseller"}), 403)
        assert_error(create(c, **{"user-scope": "Super User"}), 403)
        r = create(c, description="too short")
        assert r.status_code == 422, r.text
    with shared.as_role("Reseller") as c:
        r = create(c, **{"user-scope": "Reseller"})
    assert r.status_code == 201, r.text
    assert r.json()["reseller"] == shared.reseller and r.json()["domain"] is None


def test_a_super_user_key(shared: Tenant) -> None:
    r = create(shared.api.su, reseller="*", **{"user-scope": "Super User"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["key-id"].startswith("nss_")
    assert made["reseller"] == "*"
    with shared.api.http(made["key"]) as c:
        assert c.get(f"/ns-api/v2/domains/{shared.domain}").status_code == 200
    assert shared.api.su.delete(f"/ns-api/v2/apikeys/{made['key-id']}").status_code == 200


# ---------------------------------------------------------------- revoked and bad keys


def test_a_deleted_key_stops_working_at_once(shared: Tenant) -> None:
    made = om_key(shared)
    with shared.api.http(made["key"]) as c:
        assert c.get("/ns-api/v2/domains/~/users").status_code == 200  # now cached
        assert_error(c.delete(f"/ns-api/v2/apikeys/{made['key-id']}"), 403)  # not itself
    with shared.as_role("Office Manager") as c:
        r = c.delete(f"/ns-api/v2/apikeys/{made['key-id']}")
        assert r.status_code == 200, r.text
        assert "key" not in r.json()
        assert made["key"] not in r.text
        assert c.get(f"/ns-api/v2/apikeys/{made['key-id']}").status_code == 404
        assert c.delete(f"/ns-api/v2/apikeys/{made['key-id']}").status_code == 404
    with shared.api.http(made["key"]) as c:
        assert assert_error(c.get("/ns-api/v2/domains/~/users"), 401) == "Invalid API key"


def test_right_id_wrong_secret_is_401_and_changes_nothing(shared: Tenant) -> None:
    made = om_key(shared)
    key, key_id = made["key"], made["key-id"]
    wrong = [
        key_id + "_" + secrets.token_urlsafe(32),
        key[:-1] + ("A" if key[-1] != "A" else "B"),
        key_id + "_",
        key_id,
        key + "x",
        key.upper(),
    ]
    for bad in wrong:
        with shared.api.http(bad) as c:
            assert assert_error(c.get("/ns-api/v2/domains/~/users"), 401) in (
                "Invalid API key",
                "Unrecognised bearer token",
            )
            r = c.post(f"/ns-api/v2/domains/{shared.domain}/users", json=new_user("1503"))
            assert_error(r, 401)
    assert shared.api.su.get(f"/ns-api/v2/domains/{shared.domain}/users/1503").status_code == 404
    with shared.as_role("Office Manager") as c:
        assert c.get(f"/ns-api/v2/apikeys/{key_id}").json()["lastused-datetime"] is None


def test_keys_of_a_domain_without_api_access_do_not_work(api: Api) -> None:
    tenant = make_tenant(api)
    made = om_key(tenant)
    r = api.su.put(f"/ns-api/v2/domains/{tenant.domain}", json={"api-access": "no"})
    assert r.status_code in (200, 202), r.text
    with tenant.api.http(made["key"]) as c:
        message = assert_error(c.get("/ns-api/v2/domains/~/users"), 403)
    assert "API access is not enabled" in message


# ---------------------------------------------------------------- tenancy and audit


def test_keys_are_invisible_across_tenants(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = om_key(tenant)
    theirs = om_key(other_tenant)
    with other_tenant.as_role("Office Manager") as c:
        assert c.get(f"/ns-api/v2/apikeys/{mine['key-id']}").status_code == 404
        assert c.delete(f"/ns-api/v2/apikeys/{mine['key-id']}").status_code == 404
        r = c.put(f"/ns-api/v2/apikeys/{mine['key-id']}", json={"readonly": "yes"})
        assert r.status_code == 404
        listed = {k["key-id"] for k in c.get("/ns-api/v2/apikeys").json()}
    assert theirs["key-id"] in listed and mine["key-id"] not in listed
    with tenant.api.http(theirs["key"]) as c:
        assert c.get(f"/ns-api/v2/domains/{tenant.domain}/users").status_code == 404
        r = c.post(f"/ns-api/v2/domains/{tenant.domain}/users", json=new_user("1504"))
        assert r.status_code == 404, r.text
        assert c.get("/ns-api/v2/domains/~").json()["domain"] == other_tenant.domain
    with tenant.as_role("Office Manager") as c:
        assert c.get(f"/ns-api/v2/apikeys/{mine['key-id']}").status_code == 200
    assert tenant.api.su.get(f"/ns-api/v2/domains/{tenant.domain}/users/1504").status_code == 404


def test_key_creation_and_deletion_are_audited_without_the_key(tenant: Tenant) -> None:
    made = om_key(tenant, readonly="yes", **{"allowed-models": ["cdr", "subscriber"]})
    with tenant.as_role("Office Manager") as c:
        assert c.delete(f"/ns-api/v2/apikeys/{made['key-id']}").status_code == 200
    rows = audit(tenant.api, **{"target-object": "apikey", "target-domain": tenant.domain})
    assert [r["action-type"] for r in rows] == ["delete", "create"], rows
    for row in rows:
        assert row["target-id"] == made["key-id"]
        assert row["by-user"] == tenant.uid("Office Manager")
        assert row["by-ip"] == "127.0.0.1"
    created = rows[1]["auditlog-details"]["after"]
    assert created["description"] == DESCRIPTION
    assert created["user-scope"] == "Office Manager"
    assert created["readonly"] is True
    assert created["allowed-models"] == ["cdr", "subscriber"]
    assert made["key"] not in str(rows)
    assert made["key"].split("_", 2)[2] not in str(rows)
    assert hashlib.sha256(made["key"].encode()).hexdigest() not in str(rows)
