"""/ns-api/v2/jwt: issue from a password grant, single-use refresh JWTs, server-side
validation, revocation (current, by jti, every JWT of a user), delegated JWTs for API keys,
forged and expired JWTs, and the audit trail."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from tests.support import live as livesupport
from tests.support.live import bootstrap, live_server
from tests.support.tenants import Api, Tenant, make_tenant

CLAIMS = {
    "aud",
    "iss",
    "iat",
    "exp",
    "jti",
    "sub",
    "typ",
    "time_out",
    "domain",
    "territory",
    "user",
    "user_email",
    "user_scope",
    "displayName",
    "department",
    "login",
    "apiversion",
}


@pytest.fixture(scope="module")
def shared(api: Api) -> Tenant:
    return make_tenant(api)


def grant_body(tenant: Tenant, role: str) -> dict[str, str]:
    return {
        "grant_type": "password",
        "client_id": tenant.api.client_id,
        "client_secret": tenant.api.client_secret,
        "username": tenant.uid(role),
        "password": tenant.passwords[role],
    }


def issue(tenant: Tenant, role: str) -> dict[str, str]:
    with tenant.api.http() as c:
        r = c.post("/ns-api/v2/jwt", json=grant_body(tenant, role))
    assert r.status_code == 200, r.text
    pair: dict[str, str] = r.json()
    return pair


def read(api: Api, token: str) -> httpx.Response:
    with api.http(token) as c:
        return c.get("/ns-api/v2/jwt")


def me(api: Api, token: str) -> httpx.Response:
    with api.http(token) as c:
        return c.get("/ns-api/v2/domains/~/users/~")


def refresh(api: Api, token: str) -> httpx.Response:
    with api.http() as c:
        return c.post("/ns-api/v2/jwt", json={"refresh": token})


def assert_unauthorized(r: httpx.Response) -> str:
    assert r.status_code == 401, r.text
    body = r.json()
    assert set(body) == {"code", "message"}, body
    assert body["code"] == 401
    return str(body["message"])


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


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


def make_key(tenant: Tenant, **body: Any) -> dict[str, Any]:
    with tenant.as_role("Office Manager") as c:
        r = c.post("/ns-api/v2/apikeys", json={"description": "delegation test key", **body})
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


# ---------------------------------------------------------------- issue and read


def test_a_password_grant_gets_a_token_and_a_refresh_jwt(shared: Tenant) -> None:
    with shared.api.http() as c:
        r = c.post("/ns-api/v2/jwt", json=grant_body(shared, "Office Manager"))
    assert r.status_code == 200, r.text
    pair = r.json()
    assert set(pair) == {"token", "refresh"}
    for value in pair.values():
        assert value.startswith("eyJ") and value.count(".") == 2
    header = json.loads(base64.urlsafe_b64decode(pair["token"].split(".")[0] + "=="))
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert me(shared.api, pair["token"]).json()["user"] == "1000"

    r = read(shared.api, pair["token"])
    assert r.status_code == 200, r.text
    claims = r.json()
    assert set(claims) >= CLAIMS
    assert claims["aud"] == "ns"
    assert claims["typ"] == "access"
    assert claims["sub"] == shared.uid("Office Manager")
    assert claims["user"] == "1000"
    assert claims["domain"] == shared.domain
    assert claims["territory"] == shared.reseller
    assert claims["user_scope"] == "Office Manager"
    assert claims["displayName"] == "Office Tester"
    assert claims["login"] == shared.uid("Office Manager")
    assert claims["apiversion"] == "Version: 45.0.0"
    assert claims["exp"] - claims["iat"] == 86400
    assert claims["time_out"] == 86400000
    assert abs(claims["iat"] - time.time()) < 120
    assert claims == claims_of(pair["token"])
    assert claims_of(pair["refresh"])["typ"] == "refresh"
    assert claims_of(pair["refresh"])["jti"] != claims["jti"]


def test_the_jwt_password_grant_has_the_token_endpoints_gates(shared: Tenant) -> None:
    body = grant_body(shared, "Basic User")
    with shared.api.http() as c:
        r = c.post("/ns-api/v2/jwt", json={**body, "client_secret": "cvs_wrong"})
        assert r.status_code == 401, r.text
        assert r.json()["error"] == "invalid_client"
        r = c.post("/ns-api/v2/jwt", json={**body, "password": None})
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "invalid_request"
        r = c.post("/ns-api/v2/jwt", json={})
        assert r.status_code == 400, r.text
        assert set(r.json()) == {"code", "message"}
        r = c.post("/ns-api/v2/jwt", json={**body, "surprise": "field"})
        assert r.status_code == 422, r.text
        assert "surprise" in r.json()["message"]


def test_api_access_off_refuses_jwts_too(api: Api) -> None:
    tenant = make_tenant(api, api_access=False)
    with tenant.api.http() as c:
        r = c.post("/ns-api/v2/jwt", json=grant_body(tenant, "Office Manager"))
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "access_denied"
    assert "API access is not enabled" in r.json()["message"]


def test_reading_with_a_non_jwt_bearer_is_400(shared: Tenant) -> None:
    with shared.as_role("Basic User") as c:
        r = c.get("/ns-api/v2/jwt")
    assert r.status_code == 400, r.text
    assert r.json() == {"code": 400, "message": "The bearer is not a JWT"}


# ---------------------------------------------------------------- refresh


def test_a_refresh_jwt_is_single_use(shared: Tenant) -> None:
    pair = issue(shared, "Basic User")
    r = refresh(shared.api, pair["refresh"])
    assert r.status_code == 200, r.text
    renewed = r.json()
    assert set(renewed) == {"token", "refresh"}
    assert renewed["token"] != pair["token"]
    assert read(shared.api, renewed["token"]).json()["sub"] == shared.uid("Basic User")
    message = assert_unauthorized(refresh(shared.api, pair["refresh"]))
    assert "already used" in message
    # The renewed refresh JWT is fresh.
    assert refresh(shared.api, renewed["refresh"]).status_code == 200


def test_access_and_refresh_jwts_are_not_interchangeable(shared: Tenant) -> None:
    pair = issue(shared, "Basic User")
    assert_unauthorized(refresh(shared.api, pair["token"]))
    assert_unauthorized(me(shared.api, pair["refresh"]))
    assert_unauthorized(read(shared.api, pair["refresh"]))
    # Neither attempt spent the refresh JWT.
    assert refresh(shared.api, pair["refresh"]).status_code == 200


def test_a_refresh_jwt_spent_twice_at_once_is_given_out_once(shared: Tenant) -> None:
    pair = issue(shared, "Call Center Agent")
    results: list[int] = []
    start = threading.Barrier(4)

    def spend() -> None:
        start.wait()
        results.append(refresh(shared.api, pair["refresh"]).status_code)

    threads = [threading.Thread(target=spend) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 401, 401, 401], results


# ---------------------------------------------------------------- revoke


def test_deleting_the_current_jwt_revokes_only_it(shared: Tenant) -> None:
    first = issue(shared, "Site Manager")
    second = issue(shared, "Site Manager")
    assert read(shared.api, first["token"]).status_code == 200  # cached now
    with shared.api.http(first["token"]) as c:
        r = c.delete("/ns-api/v2/jwt")
    assert r.status_code == 202, r.text
    assert r.json() == {"code": 202, "message": "Accepted"}
    assert assert_unauthorized(read(shared.api, first["token"])) == "JWT has been revoked"
    assert_unauthorized(me(shared.api, first["token"]))
    with shared.api.http(first["token"]) as c:
        assert_unauthorized(c.delete("/ns-api/v2/jwt"))
    assert read(shared.api, second["token"]).status_code == 200


def test_deleting_by_uid_revokes_every_jwt_of_that_user(tenant: Tenant) -> None:
    a = issue(tenant, "Basic User")
    b = issue(tenant, "Basic User")
    manager = issue(tenant, "Office Manager")
    for pair in (a, b):
        assert me(tenant.api, pair["token"]).status_code == 200
    time.sleep(1.01 - time.time() % 1)  # so that the next JWT is issued in the same second
    revoked_at = int(time.time())
    with tenant.api.http(manager["token"]) as c:
        r = c.delete(f"/ns-api/v2/jwt/{tenant.uid('Basic User')}")
    assert r.status_code == 202, r.text
    fresh = issue(tenant, "Basic User")
    for pair in (a, b):
        assert_unauthorized(me(tenant.api, pair["token"]))
        assert_unauthorized(refresh(tenant.api, pair["refresh"]))
    assert me(tenant.api, manager["token"]).status_code == 200
    # A JWT issued right after the revocation, in the same second, is good.
    assert claims_of(fresh["token"])["iat"] == revoked_at
    assert me(tenant.api, fresh["token"]).status_code == 200
    assert refresh(tenant.api, fresh["refresh"]).status_code == 200
    # OAuth access tokens are another thing: they keep working.
    with tenant.as_role("Basic User") as c:
        assert c.get("/ns-api/v2/domains/~/users/~").status_code == 200

    rows = audit(
        tenant.api,
        **{"target-object": "jwt", "action-type": "revoke", "target-domain": tenant.domain},
    )
    assert len(rows) == 1, rows
    assert rows[0]["target-id"] == tenant.uid("Basic User")
    assert rows[0]["by-user"] == tenant.uid("Office Manager")
    assert rows[0]["auditlog-details"] == {"all": True}


def test_who_may_revoke_a_users_jwts(tenant: Tenant, other_tenant: Tenant) -> None:
    basic = issue(tenant, "Basic User")
    manager = issue(tenant, "Office Manager")
    with tenant.api.http(basic["token"]) as c:
        # A user sees no other user, so cannot name one.
        r = c.delete(f"/ns-api/v2/jwt/{tenant.uid('Office Manager')}")
        assert r.status_code == 404, r.text
        r = c.delete(f"/ns-api/v2/jwt/{tenant.uid('Call Center Agent')}")
        assert r.status_code == 404, r.text
    with tenant.as_role("Site Manager") as c:
        # A Site Manager sees its site's users only; an Office Manager outranks it.
        r = c.delete(f"/ns-api/v2/jwt/{tenant.uid('Office Manager')}")
        assert r.status_code == 404, r.text
    with tenant.as_role("Call Center Supervisor") as c:
        r = c.delete(f"/ns-api/v2/jwt/{tenant.uid('Office Manager')}")
        assert r.status_code == 403, r.text
        assert set(r.json()) == {"code", "message"}
    for role in ("Office Manager", "Reseller"):
        with other_tenant.as_role(role) as c:
            r = c.delete(f"/ns-api/v2/jwt/{tenant.uid('Basic User')}")
            assert r.status_code == 404, (role, r.text)
            assert set(r.json()) == {"code", "message"}
    assert me(tenant.api, manager["token"]).status_code == 200
    assert me(tenant.api, basic["token"]).status_code == 200
    # Anyone may revoke their own.
    with tenant.api.http(basic["token"]) as c:
        r = c.delete(f"/ns-api/v2/jwt/{tenant.uid('Basic User')}")
    assert r.status_code == 202, r.text
    assert_unauthorized(me(tenant.api, basic["token"]))


def test_revoking_by_jti(shared: Tenant) -> None:
    mine = issue(shared, "Call Center Supervisor")
    other = issue(shared, "Call Center Agent")
    other_jti = claims_of(other["token"])["jti"]
    with shared.api.http(issue(shared, "Basic User")["token"]) as c:
        r = c.delete(f"/ns-api/v2/jwt/{other_jti}")
    assert r.status_code == 403, r.text
    assert me(shared.api, other["token"]).status_code == 200
    # Its holder may.
    with shared.api.http(other["token"]) as c:
        r = c.delete(f"/ns-api/v2/jwt/{other_jti}")
    assert r.status_code == 202, r.text
    assert_unauthorized(me(shared.api, other["token"]))
    # And a manager may block one by id.
    target_jti = claims_of(mine["token"])["jti"]
    assert me(shared.api, mine["token"]).status_code == 200
    with shared.api.http(issue(shared, "Office Manager")["token"]) as c:
        assert c.delete(f"/ns-api/v2/jwt/{target_jti}").status_code == 202
        assert c.delete(f"/ns-api/v2/jwt/{target_jti}").status_code == 202  # idempotent
    assert_unauthorized(me(shared.api, mine["token"]))


# ---------------------------------------------------------------- delegated


def test_an_api_key_mints_a_jwt_for_a_user_it_can_see(tenant: Tenant) -> None:
    key = make_key(tenant)
    with tenant.api.http(key["key"]) as c:
        r = c.post("/ns-api/v2/jwt", json={"user": "1001", "domain": tenant.domain})
    assert r.status_code == 200, r.text
    pair = r.json()
    claims = read(tenant.api, pair["token"]).json()
    assert claims["sub"] == tenant.uid("Basic User")
    assert claims["user_scope"] == "Basic User"
    assert me(tenant.api, pair["token"]).json()["user"] == "1001"
    rows = audit(tenant.api, **{"target-object": "jwt", "by-user": key["key-id"]})
    assert len(rows) == 1, rows
    assert rows[0]["target-user"] == "1001"
    assert key["key"] not in str(rows)
    assert pair["token"] not in str(rows)


def test_delegation_refusals(tenant: Tenant, other_tenant: Tenant) -> None:
    key = make_key(tenant)
    body = {"user": "1001", "domain": tenant.domain}
    with tenant.api.http() as c:
        r = c.post("/ns-api/v2/jwt", json=body)
        assert r.status_code == 401, r.text
    with tenant.as_role("Office Manager") as c:
        r = c.post("/ns-api/v2/jwt", json=body)
        assert r.status_code == 403, r.text
        assert "API key" in r.json()["message"]
    with tenant.api.http(key["key"]) as c:
        r = c.post("/ns-api/v2/jwt", json={"user": "9000", "domain": tenant.domain})
        assert r.status_code == 403, r.text  # a Reseller outranks an Office Manager key
        r = c.post("/ns-api/v2/jwt", json={"user": "1000", "domain": other_tenant.domain})
        assert r.status_code == 404, r.text
        r = c.post("/ns-api/v2/jwt", json={"user": "4444", "domain": tenant.domain})
        assert r.status_code == 404, r.text
    r = tenant.api.su.put(
        f"/ns-api/v2/resellers/{other_tenant.reseller}", json={"api-access": "yes"}
    )
    assert r.status_code == 200, r.text
    with other_tenant.as_role("Reseller") as c:
        r = c.post(
            "/ns-api/v2/apikeys",
            json={"description": "another reseller's key", "user-scope": "Reseller"},
        )
        assert r.status_code == 201, r.text
        foreign_key = r.json()["key"]
    with tenant.api.http(foreign_key) as c:
        r = c.post("/ns-api/v2/jwt", json=body)
        assert r.status_code == 404, r.text
    with tenant.api.http(key["key"][:-3] + "AAA") as c:
        assert_unauthorized(c.post("/ns-api/v2/jwt", json=body))
    assert audit(tenant.api, **{"target-object": "jwt", "target-domain": tenant.domain}) == []


# ---------------------------------------------------------------- forged


def _sign(claims: dict[str, Any], key: bytes, alg: str = "HS256") -> str:
    return jwt.encode({"alg": alg, "typ": "JWT"}, claims, OctKey.import_key(key))


def test_a_jwt_signed_with_another_key_is_refused(shared: Tenant) -> None:
    real = claims_of(issue(shared, "Office Manager")["token"])
    forged = _sign({**real, "jti": secrets.token_hex(16)}, secrets.token_bytes(32))
    assert assert_unauthorized(me(shared.api, forged)) == "Invalid JWT"
    assert_unauthorized(read(shared.api, forged))
    with shared.api.http(forged) as c:
        r = c.post(
            f"/ns-api/v2/domains/{shared.domain}/users",
            json={"user": "1880", "user-scope": "Basic User"},
        )
    assert_unauthorized(r)
    assert shared.api.su.get(f"/ns-api/v2/domains/{shared.domain}/users/1880").status_code == 404


def test_a_tampered_jwt_is_refused(shared: Tenant) -> None:
    token = issue(shared, "Basic User")["token"]
    head, payload, sig = token.split(".")
    claims = claims_of(token)
    claims.update(sub=shared.uid("Office Manager"), user="1000", user_scope="Office Manager")
    raw = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert assert_unauthorized(me(shared.api, f"{head}.{raw}.{sig}")) == "Invalid JWT"
    assert_unauthorized(me(shared.api, f"{head}.{payload}.{sig[:-4]}AAAA"))


def test_unsigned_and_wrong_audience_jwts_are_refused(shared: Tenant) -> None:
    claims = claims_of(issue(shared, "Basic User")["token"])
    unsigned = (
        ".".join(
            base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
            for part in ({"alg": "none", "typ": "JWT"}, claims)
        )
        + "."
    )
    assert_unauthorized(me(shared.api, unsigned))
    unsigned_dot = unsigned.rstrip(".") + ".x"
    assert_unauthorized(me(shared.api, unsigned_dot))


# ---------------------------------------------------------------- expiry


@pytest.fixture(scope="module")
def short_jwt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("jwt")
    settings = livesupport.test_settings(
        tmp, f"sqlite+aiosqlite:///{tmp / 'celito.db'}", jwt_seconds=1
    )
    client_id, secret = bootstrap(settings)
    with live_server(settings) as server:
        yield Api(server.base_url, "sqlite", client_id, secret)


def test_an_expired_jwt_is_refused_even_from_the_cache(short_jwt: Api) -> None:
    tenant = make_tenant(short_jwt)
    time.sleep(1.01 - time.time() % 1)  # issue at the start of a second: `iat` is whole seconds
    pair = issue(tenant, "Basic User")
    claims = claims_of(pair["token"])
    assert claims["exp"] - claims["iat"] == 1
    assert claims["time_out"] == 1000
    assert me(tenant.api, pair["token"]).status_code == 200  # and now in the caller cache
    deadline = claims["exp"] + 0.05
    time.sleep(max(0.0, deadline - time.time()))
    message = assert_unauthorized(me(tenant.api, pair["token"]))
    assert message in ("JWT has expired", "Access token has expired")
    # The refresh JWT lives longer.
    assert refresh(tenant.api, pair["refresh"]).status_code == 200
