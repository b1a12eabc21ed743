"""The OAuth2 token endpoint: every way in, every field out, every RFC 6749 refusal, rotating
refresh tokens (reuse revokes the family, through the caller cache and across nodes), API
access gates, failed-login throttling, token expiry and the bearer edge cases.

Tests that make logins fail send them from their own loopback address (127.x.y.z), so the
per-address throttle of the shared server is never touched by this file.
"""

from __future__ import annotations

import base64
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import live as livesupport
from tests.support.live import bootstrap, live_server
from tests.support.tenants import Api, Tenant, make_tenant, password

NO_STORE = "no-store"
TOKEN_FIELDS = {
    "access_token",
    "token_type",
    "expires_in",
    "refresh_token",
    "scope",
    "username",
    "user",
    "domain",
    "territory",
    "uid",
    "login",
    "user_email",
    "displayName",
    "department",
    "site",
    "group",
    "client_id",
    "apiversion",
}


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def shared(api: Api) -> Tenant:
    """One tenant for the tests that change nothing another test here relies on."""
    return make_tenant(api)


def fresh_ip() -> str:
    """A loopback address of this test's own, so failed logins are counted against it only."""
    a, b, c = (secrets.randbelow(250) + 1 for _ in range(3))
    return f"127.{a}.{b}.{c}"


def http_from(api: Api, ip: str, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(
        base_url=api.base_url,
        headers=headers,
        timeout=30,
        transport=httpx.HTTPTransport(local_address=ip),
    )


def creds(tenant: Tenant, role: str = "Office Manager") -> dict[str, str]:
    return {
        "grant_type": "password",
        "client_id": tenant.api.client_id,
        "client_secret": tenant.api.client_secret,
        "username": tenant.uid(role),
        "password": tenant.passwords[role],
    }


def post_token(api: Api, data: dict[str, str], *, ip: str | None = None) -> httpx.Response:
    with http_from(api, ip) if ip else api.http() as c:
        return c.post("/ns-api/oauth2/token", data=data)


def me(api: Api, token: str) -> httpx.Response:
    with api.http(token) as c:
        return c.get("/ns-api/v2/domains/~/users/~")


def assert_oauth_error(r: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error, body
    assert body["code"] == status
    assert body["message"] == body["error_description"]
    assert body["message"]
    assert r.headers["cache-control"] == NO_STORE
    assert "access_token" not in body
    return dict(body)


def assert_unauthorized(r: httpx.Response) -> str:
    assert r.status_code == 401, r.text
    body = r.json()
    assert set(body) == {"code", "message"}, body
    assert body["code"] == 401
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


# ---------------------------------------------------------------- issuing


def test_password_grant_answers_every_netsapiens_field(shared: Tenant) -> None:
    r = shared.api.grant(shared.uid("Office Manager"), shared.passwords["Office Manager"])
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == NO_STORE
    body = r.json()
    assert set(body) == TOKEN_FIELDS
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"].startswith("cva_") and len(body["access_token"]) > 40
    assert body["refresh_token"].startswith("cvr_") and len(body["refresh_token"]) > 40
    assert body["access_token"] != body["refresh_token"]
    uid = shared.uid("Office Manager")
    assert body["scope"] == "Office Manager"
    assert body["username"] == uid
    assert body["uid"] == uid
    assert body["login"] == uid
    assert body["user"] == "1000"
    assert body["domain"] == shared.domain
    assert body["territory"] == shared.reseller
    assert body["displayName"] == "Office Tester"
    assert body["client_id"] == shared.api.client_id
    assert body["apiversion"] == "Version: 45.0.0"
    assert me(shared.api, body["access_token"]).json()["user"] == "1000"


def test_profile_fields_come_from_the_user_and_login_is_what_was_sent(shared: Tenant) -> None:
    login = f"ada.{secrets.token_hex(3)}@example.com"
    pw = password()
    r = shared.api.su.post(
        f"/ns-api/v2/domains/{shared.domain}/users",
        json={
            "user": "1700",
            "user-scope": "Advanced User",
            "login-password": pw,
            "login-username": login,
            "email-address": "ada@example.com",
            "name-first-name": "Ada",
            "name-last-name": "Lovelace",
            "department": "Engineering",
            "site": "Annex",
        },
    )
    assert r.status_code == 201, r.text
    r = shared.api.grant(login, pw)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["login"] == login
    assert body["uid"] == body["username"] == f"1700@{shared.domain}"
    assert body["scope"] == "Advanced User"
    assert body["user_email"] == "ada@example.com"
    assert body["displayName"] == "Ada Lovelace"
    assert body["department"] == "Engineering"
    assert body["group"] == "Engineering"
    assert body["site"] == "Annex"


def _form(c: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    return c.post(path, data=data)


def _json(c: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    return c.post(path, json=data)


def _query(c: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    return c.get(path, params=data)


def _basic(c: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    rest = {k: v for k, v in data.items() if k not in ("client_id", "client_secret")}
    return c.post(path, data=rest, auth=(data["client_id"], data["client_secret"]))


WAYS = {
    "form": ("/ns-api/oauth2/token", _form),
    "form-trailing-slash": ("/ns-api/oauth2/token/", _form),
    "json": ("/ns-api/oauth2/token", _json),
    "json-trailing-slash": ("/ns-api/oauth2/token/", _json),
    "get-query": ("/ns-api/oauth2/token", _query),
    "get-query-trailing-slash": ("/ns-api/oauth2/token/", _query),
    "basic-auth": ("/ns-api/oauth2/token", _basic),
    "v2-tokens-json": ("/ns-api/v2/tokens", _json),
    "v2-tokens-basic": ("/ns-api/v2/tokens", _basic),
}


@pytest.mark.parametrize("way", list(WAYS))
def test_every_way_of_asking_gets_a_working_token(shared: Tenant, way: str) -> None:
    path, send = WAYS[way]
    with shared.api.http() as c:
        r = send(c, path, creds(shared, "Basic User"))
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == NO_STORE
    body = r.json()
    assert set(body) == TOKEN_FIELDS
    assert body["uid"] == shared.uid("Basic User")
    assert body["scope"] == "Basic User"
    mine = me(shared.api, body["access_token"])
    assert mine.status_code == 200, mine.text
    assert mine.json()["user"] == "1001"
    # Refreshing works the same way.
    refresh = {
        "grant_type": "refresh_token",
        "client_id": shared.api.client_id,
        "client_secret": shared.api.client_secret,
        "refresh_token": body["refresh_token"],
    }
    with shared.api.http() as c:
        r = send(c, path, refresh)
    assert r.status_code == 200, r.text
    assert r.json()["uid"] == shared.uid("Basic User")


def test_token_issuance_is_audited_without_secrets(tenant: Tenant) -> None:
    r = tenant.api.grant(tenant.uid("Call Center Agent"), tenant.passwords["Call Center Agent"])
    assert r.status_code == 200, r.text
    tokens = r.json()
    rows = audit(
        tenant.api,
        **{"target-object": "oauth_token", "target-domain": tenant.domain, "target-user": "1300"},
    )
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["action-type"] == "create"
    assert row["by-user"] == tenant.uid("Call Center Agent")
    assert row["by-client"] == tenant.api.client_id
    assert row["by-ip"] == "127.0.0.1"
    assert row["target-reseller"] == tenant.reseller
    assert row["auditlog-details"] == {"grant_type": "password"}
    dumped = str(rows)
    assert tokens["access_token"] not in dumped
    assert tokens["refresh_token"] not in dumped
    assert tenant.passwords["Call Center Agent"] not in dumped


# ---------------------------------------------------------------- refusals


def test_missing_grant_type_is_invalid_request(shared: Tenant) -> None:
    data = creds(shared)
    del data["grant_type"]
    body = assert_oauth_error(post_token(shared.api, data), 400, "invalid_request")
    assert "grant_type" in body["message"]


@pytest.mark.parametrize("grant", ["client_credentials", "authorization_code", "PASSWORD"])
def test_unknown_grant_type_is_unsupported(shared: Tenant, grant: str) -> None:
    data = {**creds(shared), "grant_type": grant}
    body = assert_oauth_error(post_token(shared.api, data), 400, "unsupported_grant_type")
    assert grant in body["message"]


@pytest.mark.parametrize("missing", ["client_id", "client_secret"])
def test_missing_client_credentials_is_invalid_client(shared: Tenant, missing: str) -> None:
    data = creds(shared)
    del data[missing]
    assert_oauth_error(post_token(shared.api, data), 401, "invalid_client")


def test_wrong_or_unknown_client_is_invalid_client(shared: Tenant) -> None:
    wrong = {**creds(shared), "client_secret": "cvs_" + secrets.token_urlsafe(32)}
    assert_oauth_error(post_token(shared.api, wrong), 401, "invalid_client")
    unknown = {**creds(shared), "client_id": "no-such-client-" + secrets.token_hex(4)}
    assert_oauth_error(post_token(shared.api, unknown), 401, "invalid_client")


def test_wrong_basic_credentials_ask_for_basic_auth(shared: Tenant) -> None:
    data = {k: v for k, v in creds(shared).items() if not k.startswith("client_")}
    with shared.api.http() as c:
        r = c.post("/ns-api/oauth2/token", data=data, auth=(shared.api.client_id, "cvs_nope"))
        assert_oauth_error(r, 401, "invalid_client")
        assert r.headers["www-authenticate"].lower().startswith("basic")
        r = c.post(
            "/ns-api/oauth2/token", data=data, headers={"Authorization": "Basic !!!not-base64"}
        )
        assert_oauth_error(r, 401, "invalid_client")


@pytest.mark.parametrize("missing", ["username", "password"])
def test_missing_username_or_password_is_invalid_request(shared: Tenant, missing: str) -> None:
    data = creds(shared)
    del data[missing]
    assert_oauth_error(post_token(shared.api, data), 400, "invalid_request")


def test_wrong_password_or_unknown_user_is_invalid_grant(shared: Tenant) -> None:
    ip = fresh_ip()
    wrong = {**creds(shared), "password": "not-" + shared.passwords["Office Manager"]}
    a = assert_oauth_error(post_token(shared.api, wrong, ip=ip), 400, "invalid_grant")
    unknown = {**creds(shared), "username": f"4242@{shared.domain}"}
    b = assert_oauth_error(post_token(shared.api, unknown, ip=ip), 400, "invalid_grant")
    # The same answer either way: the response does not reveal which logins exist.
    assert a["message"] == b["message"] == "Invalid username or password"


def test_refresh_without_a_token_is_invalid_request(shared: Tenant) -> None:
    data = {**creds(shared), "grant_type": "refresh_token"}
    assert_oauth_error(post_token(shared.api, data), 400, "invalid_request")


@pytest.mark.parametrize(
    ("content_type", "raw", "status", "error"),
    [
        ("application/json", b"{not json", 400, "invalid_request"),
        ("application/json", b'["a", "list"]', 400, "invalid_request"),
        ("text/plain", b"grant_type=password", 415, "invalid_request"),
    ],
)
def test_malformed_bodies_are_refused(
    shared: Tenant, content_type: str, raw: bytes, status: int, error: str
) -> None:
    with shared.api.http() as c:
        r = c.post("/ns-api/oauth2/token", content=raw, headers={"Content-Type": content_type})
    assert_oauth_error(r, status, error)


# ---------------------------------------------------------------- refresh tokens


def _refresh(api: Api, tenant: Tenant, token: str) -> httpx.Response:
    return post_token(
        api,
        {
            "grant_type": "refresh_token",
            "client_id": tenant.api.client_id,
            "client_secret": tenant.api.client_secret,
            "refresh_token": token,
        },
    )


def test_refresh_rotates_and_reuse_revokes_the_whole_family(tenant: Tenant) -> None:
    first = tenant.api.grant(tenant.uid("Site Manager"), tenant.passwords["Site Manager"]).json()
    # An unrelated login of the same user must survive the family's revocation.
    other = tenant.api.grant(tenant.uid("Site Manager"), tenant.passwords["Site Manager"]).json()
    r = _refresh(tenant.api, tenant, first["refresh_token"])
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == NO_STORE
    second = r.json()
    assert set(second) == TOKEN_FIELDS
    assert second["uid"] == tenant.uid("Site Manager")
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    r = _refresh(tenant.api, tenant, second["refresh_token"])
    assert r.status_code == 200, r.text
    third = r.json()
    # Every access token works (and is now in this node's caller cache).
    for tokens in (first, second, third, other):
        assert me(tenant.api, tokens["access_token"]).status_code == 200

    # The first refresh token is spent: using it again is theft, so the family dies.
    body = assert_oauth_error(
        _refresh(tenant.api, tenant, first["refresh_token"]), 400, "invalid_grant"
    )
    assert "already used" in body["message"]
    for tokens in (first, second, third):
        assert_unauthorized(me(tenant.api, tokens["access_token"]))
    body = assert_oauth_error(
        _refresh(tenant.api, tenant, third["refresh_token"]), 400, "invalid_grant"
    )
    assert "revoked" in body["message"]
    # The other login is another family.
    assert me(tenant.api, other["access_token"]).status_code == 200
    assert _refresh(tenant.api, tenant, other["refresh_token"]).status_code == 200

    rows = audit(
        tenant.api,
        **{
            "target-object": "oauth_token",
            "action-type": "revoke",
            "target-user": "1100",
            "target-domain": tenant.domain,
        },
    )
    assert len(rows) == 1, rows
    assert "reused" in rows[0]["auditlog-details"]["reason"]
    assert first["refresh_token"] not in str(rows)


def test_a_refresh_token_only_works_with_its_own_client(shared: Tenant) -> None:
    tokens = shared.api.grant(shared.uid("Basic User"), shared.passwords["Basic User"]).json()
    r = shared.api.su.post(
        "/ns-api/v2/clients", json={"name": "second", "reseller": shared.reseller}
    )
    assert r.status_code == 201, r.text
    cid, secret = r.json()["client-id"], r.json()["client-secret"]
    r = shared.api.su.post(
        f"/ns-api/v2/clients/{cid}/tos-acceptance", json={"tos-version": "2026-11-01"}
    )
    assert r.status_code == 200, r.text
    data = {
        "grant_type": "refresh_token",
        "client_id": cid,
        "client_secret": secret,
        "refresh_token": tokens["refresh_token"],
    }
    assert_oauth_error(post_token(shared.api, data), 400, "invalid_grant")
    # It was not spent by the failed attempt: the right client can still use it.
    assert _refresh(shared.api, shared, tokens["refresh_token"]).status_code == 200


def test_a_refresh_token_spent_twice_at_once_is_honoured_once(shared: Tenant) -> None:
    tokens = shared.api.grant(shared.uid("Basic User"), shared.passwords["Basic User"]).json()
    results: list[httpx.Response] = []
    start = threading.Barrier(3)

    def spend() -> None:
        start.wait()
        results.append(_refresh(shared.api, shared, tokens["refresh_token"]))

    threads = [threading.Thread(target=spend) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200, 400, 400], [r.text for r in results]
    for r in results:
        if r.status_code == 400:
            assert r.json()["error"] == "invalid_grant"
    # A double spend is a reuse: the family, winner included, is revoked.
    winner = next(r.json() for r in results if r.status_code == 200)
    assert_unauthorized(me(shared.api, winner["access_token"]))


@pytest.mark.parametrize("kind", ["access-token", "garbage", "refresh-of-another-prefix"])
def test_a_non_refresh_token_is_invalid_grant(shared: Tenant, kind: str) -> None:
    tokens = shared.api.grant(shared.uid("Basic User"), shared.passwords["Basic User"]).json()
    value = {
        "access-token": tokens["access_token"],
        "garbage": "garbage",
        "refresh-of-another-prefix": "cvr_" + secrets.token_urlsafe(32),
    }[kind]
    assert_oauth_error(_refresh(shared.api, shared, value), 400, "invalid_grant")
    assert me(shared.api, tokens["access_token"]).status_code == 200


# ---------------------------------------------------------------- API access gate


def test_api_access_off_for_domain_and_reseller_is_access_denied(api: Api) -> None:
    tenant = make_tenant(api, api_access=False)
    for role in ("Office Manager", "Basic User"):
        r = tenant.api.grant(tenant.uid(role), tenant.passwords[role])
        body = assert_oauth_error(r, 403, "access_denied")
        assert body["message"] == (
            f"API access is not enabled for domain {tenant.domain}. "
            "Ask your account executive to enable it."
        )
    rows = audit(api, **{"target-object": "oauth_token", "target-domain": tenant.domain})
    assert rows == []
    # Turned on for the reseller only: its domains may use the API.
    r = api.su.put(f"/ns-api/v2/resellers/{tenant.reseller}", json={"api-access": "yes"})
    assert r.status_code in (200, 202), r.text
    r = tenant.api.grant(tenant.uid("Office Manager"), tenant.passwords["Office Manager"])
    assert r.status_code == 200, r.text
    assert me(tenant.api, r.json()["access_token"]).status_code == 200


def test_api_access_on_for_the_domain_alone_is_enough(api: Api) -> None:
    tenant = make_tenant(api, api_access=False)
    r = api.su.put(f"/ns-api/v2/domains/{tenant.domain}", json={"api-access": "yes"})
    assert r.status_code in (200, 202), r.text
    r = tenant.api.grant(tenant.uid("Basic User"), tenant.passwords["Basic User"])
    assert r.status_code == 200, r.text


def test_a_refresh_refused_for_api_access_is_not_spent(tenant: Tenant) -> None:
    tokens = tenant.api.grant(tenant.uid("Basic User"), tenant.passwords["Basic User"]).json()
    path = f"/ns-api/v2/domains/{tenant.domain}"
    assert tenant.api.su.put(path, json={"api-access": "no"}).status_code in (200, 202)
    body = assert_oauth_error(
        _refresh(tenant.api, tenant, tokens["refresh_token"]), 403, "access_denied"
    )
    assert "API access is not enabled" in body["message"]
    assert tenant.api.su.put(path, json={"api-access": "yes"}).status_code in (200, 202)
    r = _refresh(tenant.api, tenant, tokens["refresh_token"])
    assert r.status_code == 200, r.text
    assert me(tenant.api, r.json()["access_token"]).status_code == 200


def test_a_wrong_password_is_not_told_about_api_access(api: Api) -> None:
    tenant = make_tenant(api, api_access=False)
    wrong = {**creds(tenant), "password": "wrong-" + secrets.token_hex(6)}
    assert_oauth_error(post_token(api, wrong, ip=fresh_ip()), 400, "invalid_grant")


def test_a_user_of_another_reseller_cannot_use_the_client(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    data = {
        **creds(other_tenant),
        "client_id": tenant.api.client_id,
        "client_secret": tenant.api.client_secret,
    }
    body = assert_oauth_error(post_token(tenant.api, data), 400, "invalid_grant")
    assert other_tenant.uid("Office Manager") in body["message"]
    assert tenant.api.client_id in body["message"]


# ---------------------------------------------------------------- throttling


def test_five_failures_for_a_username_lock_it_even_with_the_right_password(
    tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    ip = fresh_ip()
    uid = tenant.uid("Call Center Supervisor")
    good = creds(tenant, "Call Center Supervisor")
    caplog.set_level(logging.WARNING, logger="celito.auth")
    for _ in range(5):
        r = post_token(tenant.api, {**good, "password": "wrong-" + secrets.token_hex(4)}, ip=ip)
        assert_oauth_error(r, 400, "invalid_grant")
    r = post_token(tenant.api, good, ip=ip)
    body = assert_oauth_error(r, 429, "temporarily_unavailable")
    assert "Too many failed logins" in body["message"]
    retry = int(r.headers["retry-after"])
    assert 1 <= retry <= 900
    # The lock is on the username, wherever the attempt comes from.
    assert_oauth_error(post_token(tenant.api, good, ip=fresh_ip()), 429, "temporarily_unavailable")
    # The JWT endpoint checks the same counter.
    with tenant.api.http() as c:
        r = c.post("/ns-api/v2/jwt", json=good)
    assert r.status_code == 429, r.text
    assert "retry-after" in r.headers
    # Another user from the same address is not affected.
    assert post_token(tenant.api, creds(tenant, "Basic User"), ip=ip).status_code == 200
    messages = [rec.getMessage() for rec in caplog.records if rec.name == "celito.auth"]
    assert sum(f"login failed: username='{uid}' ip='{ip}'" in m for m in messages) == 5
    assert any(f"login throttled: username='{uid}' ip='{ip}'" in m for m in messages)


def test_spelling_a_username_differently_does_not_reset_its_counter(tenant: Tenant) -> None:
    ip = fresh_ip()
    good = creds(tenant, "Call Center Agent")
    uid = good["username"]
    variants = [uid, uid.upper(), f" {uid}", f"{uid} ", f"1300@{tenant.domain.upper()}"]
    for name in variants:
        r = post_token(tenant.api, {**good, "username": name, "password": "nope-nope-1"}, ip=ip)
        assert_oauth_error(r, 400, "invalid_grant")
    assert_oauth_error(post_token(tenant.api, good, ip=ip), 429, "temporarily_unavailable")


def test_a_success_clears_the_username_counter(tenant: Tenant) -> None:
    ip = fresh_ip()
    good = creds(tenant, "Office Manager")
    bad = {**good, "password": "wrong-password-1"}
    for _ in range(4):
        assert_oauth_error(post_token(tenant.api, bad, ip=ip), 400, "invalid_grant")
    assert post_token(tenant.api, good, ip=ip).status_code == 200
    for _ in range(4):
        assert_oauth_error(post_token(tenant.api, bad, ip=ip), 400, "invalid_grant")
    assert post_token(tenant.api, good, ip=ip).status_code == 200


def test_thirty_failures_from_an_address_lock_that_address(tenant: Tenant) -> None:
    ip = fresh_ip()
    for n in range(30):
        data = {**creds(tenant), "username": f"ghost{n}@{tenant.domain}", "password": "x" * 12}
        assert_oauth_error(post_token(tenant.api, data, ip=ip), 400, "invalid_grant")
    r = post_token(tenant.api, creds(tenant, "Basic User"), ip=ip)
    assert_oauth_error(r, 429, "temporarily_unavailable")
    assert 1 <= int(r.headers["retry-after"]) <= 900
    # The same login from elsewhere is fine.
    assert post_token(tenant.api, creds(tenant, "Basic User"), ip=fresh_ip()).status_code == 200


# ---------------------------------------------------------------- bearer edge cases


def _forged_jwt() -> str:
    def part(obj: bytes) -> str:
        return base64.urlsafe_b64encode(obj).rstrip(b"=").decode()

    return ".".join([part(b'{"alg":"none","typ":"JWT"}'), part(b'{"sub":"1000@x","aud":"ns"}'), ""])


GARBAGE = {
    "word": "garbage",
    "access-prefix": "cva_" + "A" * 43,
    "access-prefix-only": "cva_",
    "key-prefix": "nsd_abcdefgh_" + "B" * 43,
    "short-key": "nsd_x",
    "super-key-prefix": "nss_ABCDEFGH_nothing",
    "jwt-shaped": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
    "jwt-bad-base64": "eyJ!!!.@@@.###",
    "jwt-not-json": "eyJub3QganNvbg.eyJub3QganNvbg.c2ln",
    "jwt-alg-none": _forged_jwt(),
    "long": "x" * 6000,
    "spaces": "a b c",
}


@pytest.mark.parametrize("kind", list(GARBAGE))
def test_garbage_bearers_are_401_and_change_nothing(shared: Tenant, kind: str) -> None:
    bad = GARBAGE[kind]
    with shared.api.http(bad) as c:
        assert_unauthorized(c.get(f"/ns-api/v2/domains/{shared.domain}/users"))
        r = c.post(
            f"/ns-api/v2/domains/{shared.domain}/users",
            json={"user": "1990", "user-scope": "Basic User", "login-password": password()},
        )
        assert_unauthorized(r)
    r = shared.api.su.get(f"/ns-api/v2/domains/{shared.domain}/users/1990")
    assert r.status_code == 404, r.text


def test_a_refresh_token_is_not_a_bearer(shared: Tenant) -> None:
    tokens = shared.api.grant(shared.uid("Basic User"), shared.passwords["Basic User"]).json()
    assert_unauthorized(me(shared.api, tokens["refresh_token"]))


@pytest.mark.parametrize(
    "header",
    [b"Bearer", b"Basic dXNlcjpwYXNz", b"Token abc", b"Bearer \xe9\xe9\xe9"],
)
def test_missing_or_odd_authorization_headers_are_401(shared: Tenant, header: bytes) -> None:
    with shared.api.http() as c:
        r = c.get("/ns-api/v2/domains/~/users/~", headers={b"Authorization": header})
    assert_unauthorized(r)


def test_no_authorization_header_says_how_to_get_a_token(shared: Tenant) -> None:
    with shared.api.http() as c:
        r = c.get("/ns-api/v2/domains/~/users/~")
    message = assert_unauthorized(r)
    assert "/ns-api/oauth2/token" in message
    assert r.headers["www-authenticate"] == "Bearer"


def test_a_foreign_token_sees_only_its_own_tenant(tenant: Tenant, other_tenant: Tenant) -> None:
    with other_tenant.as_role("Office Manager") as c:
        assert c.get(f"/ns-api/v2/domains/{other_tenant.domain}/users").status_code == 200
        r = c.get(f"/ns-api/v2/domains/{tenant.domain}/users")
        assert r.status_code == 404, r.text
        assert r.json()["code"] == 404
        assert c.get(f"/ns-api/v2/domains/{tenant.domain}/users/1000").status_code == 404
        r = c.post(
            f"/ns-api/v2/domains/{tenant.domain}/users",
            json={"user": "1991", "user-scope": "Basic User", "login-password": password()},
        )
        assert r.status_code == 404, r.text
        r = c.get("/ns-api/v2/domains/~")
        assert r.json()["domain"] == other_tenant.domain
    assert tenant.api.su.get(f"/ns-api/v2/domains/{tenant.domain}/users/1991").status_code == 404


def test_a_disabled_users_tokens_stop_working(tenant: Tenant) -> None:
    tokens = tenant.api.grant(tenant.uid("Basic User"), tenant.passwords["Basic User"]).json()
    assert me(tenant.api, tokens["access_token"]).status_code == 200
    r = tenant.api.su.put(
        f"/ns-api/v2/domains/{tenant.domain}/users/1001", json={"account-status": "disabled"}
    )
    assert r.status_code in (200, 202), r.text
    r = me(tenant.api, tokens["access_token"])
    assert r.status_code in (401, 403), r.text
    assert set(r.json()) == {"code", "message"}
    assert "disabled" in r.json()["message"]
    body = assert_oauth_error(
        _refresh(tenant.api, tenant, tokens["refresh_token"]), 403, "access_denied"
    )
    assert "disabled" in body["message"]
    r = tenant.api.grant(tenant.uid("Basic User"), tenant.passwords["Basic User"])
    assert_oauth_error(r, 403, "access_denied")


# ---------------------------------------------------------------- short lifetimes, two nodes


def _sqlite_settings(tmp: Path, **overrides: Any) -> Any:
    return livesupport.test_settings(tmp, f"sqlite+aiosqlite:///{tmp / 'celito.db'}", **overrides)


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A node whose access tokens live 1 s and refresh tokens 2 s."""
    settings = _sqlite_settings(
        tmp_path_factory.mktemp("short"), access_token_seconds=1, refresh_token_seconds=2
    )
    client_id, secret = bootstrap(settings)
    with live_server(settings) as live:
        yield Api(live.base_url, "sqlite", client_id, secret)


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Api]]:
    """Two nodes on one database, each keeping a checked bearer for 1 s."""
    settings = _sqlite_settings(tmp_path_factory.mktemp("nodes"), caller_cache_seconds=1.0)
    client_id, secret = bootstrap(settings)
    with live_server(settings) as a, live_server(settings) as b:
        yield (
            Api(a.base_url, "sqlite", client_id, secret),
            Api(b.base_url, "sqlite", client_id, secret),
        )


def _node_tenant(nodes: tuple[Api, Api]) -> tuple[Tenant, Api]:
    a, b = nodes
    tenant = make_tenant(a)
    on_b = Api(b.base_url, "sqlite", tenant.api.client_id, tenant.api.client_secret)
    return tenant, on_b


def _wait_until(check: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return bool(check())


def test_an_expired_access_token_is_refused_even_from_the_cache(short_lived: Api) -> None:
    tenant = make_tenant(short_lived)
    login = (tenant.uid("Basic User"), tenant.passwords["Basic User"])
    tokens = tenant.api.grant(*login).json()
    spare = tenant.api.grant(*login).json()
    assert tokens["expires_in"] == 1
    assert me(tenant.api, tokens["access_token"]).status_code == 200  # now cached
    time.sleep(1.1)
    assert assert_unauthorized(me(tenant.api, tokens["access_token"])) == "Access token has expired"
    # The refresh token outlives it …
    r = _refresh(tenant.api, tenant, tokens["refresh_token"])
    assert r.status_code == 200, r.text
    assert me(tenant.api, r.json()["access_token"]).status_code == 200
    # … for its own lifetime (2 s).
    time.sleep(1.0)
    body = assert_oauth_error(
        _refresh(tenant.api, tenant, spare["refresh_token"]), 400, "invalid_grant"
    )
    assert "expired" in body["message"]


def test_a_token_from_one_node_works_on_the_other(two_nodes: tuple[Api, Api]) -> None:
    tenant, on_b = _node_tenant(two_nodes)
    tokens = tenant.api.grant(tenant.uid("Office Manager"), tenant.passwords["Office Manager"])
    access = tokens.json()["access_token"]
    assert me(on_b, access).status_code == 200


def test_family_revocation_reaches_the_other_node_within_its_cache_time(
    two_nodes: tuple[Api, Api],
) -> None:
    tenant, on_b = _node_tenant(two_nodes)
    first = tenant.api.grant(
        tenant.uid("Office Manager"), tenant.passwords["Office Manager"]
    ).json()
    second = _refresh(tenant.api, tenant, first["refresh_token"]).json()
    # Node B has the new access token cached; node A the old one.
    assert me(on_b, second["access_token"]).status_code == 200
    assert me(tenant.api, first["access_token"]).status_code == 200
    # Reuse of the spent refresh token, on node B.
    reuse = {
        "grant_type": "refresh_token",
        "client_id": tenant.api.client_id,
        "client_secret": tenant.api.client_secret,
        "refresh_token": first["refresh_token"],
    }
    assert_oauth_error(post_token(on_b, reuse), 400, "invalid_grant")
    # At once on the node that saw the reuse …
    assert_unauthorized(me(on_b, second["access_token"]))
    # … and within the cache time (1 s) on the other.
    assert _wait_until(lambda: me(tenant.api, first["access_token"]).status_code == 401, 1.5)
    assert _wait_until(lambda: me(tenant.api, second["access_token"]).status_code == 401, 1.5)
