"""Hostile and broken input: always a precise 4xx {code, message}, never a 500, nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.support.tenants import Tenant

V2 = "/ns-api/v2"
MIB = 1024 * 1024
SQLISH = "'; DROP TABLE users;--"
RTL = "\u05e9\u05dc\u05d5\u05dd \u202eevil\u202c"
EMOJI = "Zoë 😀🚀"


def users(t: Tenant) -> str:
    return f"{V2}/domains/{t.domain}/users"


def world(t: Tenant) -> dict[str, Any]:
    """Everything a bad request could have touched, as a Super User sees it."""
    su = t.api.su
    return {
        "resellers": su.get(f"{V2}/resellers/count").json(),
        "domains": su.get(f"{V2}/domains/count").json(),
        "domain": su.get(f"{V2}/domains/{t.domain}").json(),
        "users": su.get(users(t), params={"limit": 1000}).json(),
    }


@pytest.fixture()
def unchanged(tenant: Tenant) -> Iterator[None]:
    before = world(tenant)
    yield
    assert world(tenant) == before


def assert_error(r: httpx.Response, status: int, needle: str | None = None) -> None:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.text}"
    body = r.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == status
    if needle is not None:
        assert needle in body["message"], body["message"]


WRITES = [
    ("POST", "/resellers"),
    ("PUT", "/resellers/{reseller}"),
    ("POST", "/domains"),
    ("PUT", "/domains/{domain}"),
    ("POST", "/domains/{domain}/users"),
    ("PUT", "/domains/{domain}/users/1001"),
]


def url(t: Tenant, path: str) -> str:
    return V2 + path.format(domain=t.domain, reseller=t.reseller)


def test_malformed_json_is_422(tenant: Tenant, unchanged: None) -> None:
    headers = {"content-type": "application/json"}
    su = tenant.api.su
    for method, path in WRITES:
        for raw in (b'{"user": "2001",', b"{'user': '2001'}", b"\xff\xfe", b"nul"):
            r = su.request(method, url(tenant, path), content=raw, headers=headers)
            assert_error(r, 422, "the body is not valid JSON")
        r = su.request(method, url(tenant, path), content=b"", headers=headers)
        assert_error(r, 422, "a JSON body is required")
        for not_an_object in ([], "text", 5, None):
            r = su.request(method, url(tenant, path), json=not_an_object)
            assert_error(r, 422)


def test_unknown_fields_are_422(tenant: Tenant, unchanged: None) -> None:
    for method, path in WRITES:
        body = {
            "user": "2001",
            "domain": "x.example",
            "reseller": "rx",
            "password_hash": "x",
            "is-admin": "yes",
        }
        if method == "PUT":
            body = {"password_hash": "x", "is-admin": "yes"}
        r = tenant.api.su.request(method, url(tenant, path), json=body)
        assert_error(r, 422, "unknown field 'password_hash'")
        assert "unknown field 'is-admin'" in r.json()["message"]


WRONG_TYPES: list[tuple[str, dict[str, Any], str]] = [
    ("/domains/{domain}/users/1001", {"area-code": "two-one-two"}, "area-code:"),
    ("/domains/{domain}/users/1001", {"name-first-name": 42}, "name-first-name:"),
    ("/domains/{domain}/users/1001", {"name-first-name": ["a"]}, "name-first-name:"),
    ("/domains/{domain}/users/1001", {"privacy": 7}, "privacy:"),
    ("/domains/{domain}/users/1001", {"user-scope": 1}, "user-scope:"),
    (
        "/domains/{domain}/users/1001",
        {"ring-no-answer-timeout-seconds": 1.5},
        "ring-no-answer-timeout-seconds:",
    ),
    (
        "/domains/{domain}/users/1001",
        {"limits-max-active-calls-total": -1},
        "limits-max-active-calls-total:",
    ),
    ("/domains/{domain}", {"limits-max-users": "lots"}, "limits-max-users:"),
    ("/domains/{domain}", {"limits-max-users": -1}, "limits-max-users:"),
    ("/domains/{domain}", {"limits-max-users": 10**30}, "limits-max-users:"),
    ("/domains/{domain}", {"api-access": "perhaps"}, "api-access:"),
    ("/domains/{domain}", {"description": {"nested": True}}, "description:"),
    ("/domains/{domain}", {"description": "x" * 256}, "description:"),
    ("/resellers/{reseller}", {"email-send-smtp-port": 70000}, "email-send-smtp-port:"),
]


def test_wrong_types_are_422_naming_the_field(tenant: Tenant, unchanged: None) -> None:
    for path, body, needle in WRONG_TYPES:
        assert_error(tenant.api.su.put(url(tenant, path), json=body), 422, needle)


REQUIRED: list[tuple[str, dict[str, Any], str]] = [
    ("/resellers", {"description": "no name"}, "'reseller' is required"),
    ("/domains", {"reseller": "~"}, "'domain' is required"),
    ("/domains/{domain}/users", {"name-first-name": "Ada"}, "'user' is required"),
    ("/domains/{domain}/users", {}, "'user' is required"),
]


def test_missing_required_fields_are_422(tenant: Tenant, unchanged: None) -> None:
    for path, body, needle in REQUIRED:
        assert_error(tenant.api.su.post(url(tenant, path), json=body), 422, needle)


def test_oversized_bodies_are_413(tenant: Tenant, unchanged: None) -> None:
    big = b'{"user": "2001", "name-first-name": "' + b"a" * (MIB + 1) + b'"}'
    headers = {"content-type": "application/json"}
    r = tenant.api.su.post(users(tenant), content=big, headers=headers)
    assert_error(r, 413, f"the limit is {MIB} bytes")

    def chunks() -> Iterator[bytes]:
        yield b'{"user": "2001", "name-first-name": "'
        for _ in range(20):
            yield b"a" * 64 * 1024
        yield b'"}'

    with httpx.Client(
        base_url=tenant.api.base_url, timeout=30, headers=dict(tenant.api.su.headers)
    ) as c:
        r = c.post(users(tenant), content=chunks(), headers=headers)
        assert_error(r, 413, f"the limit is {MIB} bytes")
        r = c.put(f"{users(tenant)}/1001", content=chunks(), headers=headers)
        assert_error(r, 413)
    # Just under the limit is an ordinary body (refused here for its length, not its size).
    near = b'{"user": "2001", "name-first-name": "' + b"a" * (MIB - 100) + b'"}'
    r = tenant.api.su.post(users(tenant), content=near, headers=headers)
    assert_error(r, 422, "name-first-name:")


def test_a_streamed_body_within_the_limit_works(tenant: Tenant) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"user": "2001",'
        yield b' "name-first-name": "Streamed"}'

    r = tenant.api.su.post(
        users(tenant), content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["name-first-name"] == "Streamed"


def test_wrong_content_type_is_415(tenant: Tenant, unchanged: None) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        for method, path in WRITES:
            r = tenant.api.su.request(
                method,
                url(tenant, path),
                content=b'{"user": "2001"}',
                headers={"content-type": content_type},
            )
            assert_error(r, 415, f"Send application/json, not {content_type}")


def test_json_with_charset_is_fine(tenant: Tenant) -> None:
    r = tenant.api.su.put(
        f"{users(tenant)}/1001",
        content=b'{"department": "Ops"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["department"] == "Ops"


def test_odd_but_valid_names_are_stored_verbatim(tenant: Tenant) -> None:
    su = tenant.api.su
    values = [SQLISH, RTL, EMOJI, 'O\'Brien "Bob" <b>&amp;', "%00%27", "\\x00 \\u0000"]
    for n, value in enumerate(values):
        r = su.put(f"{users(tenant)}/1001", json={"name-first-name": value, "department": value})
        assert r.status_code == 200, r.text
        assert r.json()["name-first-name"] == value
        got = su.get(f"{users(tenant)}/1001").json()
        assert (got["name-first-name"], got["department"]) == (value, value)
        d = su.put(f"{V2}/domains/{tenant.domain}", json={"description": value})
        assert d.json()["description"] == value
        made = su.post(users(tenant), json={"user": f"20{n}", "name-last-name": value})
        assert made.status_code == 201
        assert su.get(f"{users(tenant)}/20{n}").json()["name-last-name"] == value
        assert su.get(users(tenant), params={"site": value}).json() == []
    # The tables are all still there.
    assert su.get(f"{users(tenant)}/count").json() == {"total": 6 + len(values)}


INVALID_NAMES: list[tuple[str, dict[str, str], str]] = [
    ("/domains/{domain}/users", {"user": SQLISH}, "is not valid"),
    ("/domains/{domain}/users", {"user": "1001 OR 1=1"}, "is not valid"),
    ("/domains/{domain}/users", {"user": "😀"}, "is not valid"),
    ("/domains/{domain}/users", {"user": "\u202e1001"}, "is not valid"),
    ("/domains/{domain}/users", {"user": "../1001"}, "is not valid"),
    ("/domains/{domain}/users", {"user": ""}, "user:"),
    ("/domains", {"domain": SQLISH, "reseller": "{reseller}"}, "is not valid"),
    ("/domains", {"domain": "exämple.com", "reseller": "{reseller}"}, "is not valid"),
    ("/domains", {"domain": "has space.example", "reseller": "{reseller}"}, "is not valid"),
    ("/domains", {"domain": ".leading.example", "reseller": "{reseller}"}, "is not valid"),
    ("/domains", {"domain": "a/b.example", "reseller": "{reseller}"}, "is not valid"),
    ("/domains", {"domain": "x" * 129, "reseller": "{reseller}"}, "domain:"),
    ("/resellers", {"reseller": SQLISH}, "is not valid"),
    ("/resellers", {"reseller": "🚀"}, "is not valid"),
]


def test_invalid_names_are_422(tenant: Tenant, unchanged: None) -> None:
    for path, raw, needle in INVALID_NAMES:
        body = {k: v.format(reseller=tenant.reseller) for k, v in raw.items()}
        assert_error(tenant.api.su.post(url(tenant, path), json=body), 422, needle)


NUL_BODIES: list[tuple[str, dict[str, str]]] = [
    ("/domains/{domain}/users", {"user": "2001", "name-first-name": "a\u0000b"}),
    ("/domains/{domain}/users", {"user": "20\u000001"}),
    ("/domains/{domain}/users/1001", {"department": "\u0000"}),
    ("/domains/{domain}", {"description": "nul\u0000"}),
    ("/domains", {"domain": "nul\u0000.example", "reseller": "{reseller}"}),
    ("/resellers/{reseller}", {"description": "\u0000"}),
]


def test_nul_in_a_body_is_422(tenant: Tenant, unchanged: None) -> None:
    for path, raw in NUL_BODIES:
        body = {k: v.format(reseller=tenant.reseller) for k, v in raw.items()}
        method = "POST" if path in ("/domains", "/domains/{domain}/users") else "PUT"
        r = tenant.api.su.request(method, url(tenant, path), json=body)
        assert_error(r, 422, "must not contain NUL characters")


HOSTILE_PATHS = [
    f"/domains/{quote(SQLISH)}",
    f"/domains/{quote(SQLISH)}/users",
    "/domains/{domain}/users/" + quote(SQLISH),
    "/domains/{domain}/users/" + quote(EMOJI),
    "/domains/{domain}/users/" + quote(RTL),
    f"/resellers/{quote(SQLISH)}",
    f"/resellers/{quote(EMOJI)}",
    "/domains/" + quote("x" * 5000),
]


def test_hostile_paths_are_404(tenant: Tenant, unchanged: None) -> None:
    su = tenant.api.su
    for path in HOSTILE_PATHS:
        target = url(tenant, path)
        assert_error(su.get(target), 404)
        if target.endswith("/users"):
            assert_error(su.post(target, json={"user": "2001"}), 404)
            continue
        body = {"department": "x"} if "/users/" in target else {"description": "x"}
        assert_error(su.put(target, json=body), 404)
        assert_error(su.delete(target), 404)


NUL_URLS = [
    "/domains/a%00b",
    "/domains/{domain}/users/10%0001",
    "/domains/{domain}/users?site=%00",
    "/resellers/%00",
    "/auditlog?datetime-start=2026-01-01%00&datetime-end=2026-01-02",
]


def test_nul_in_the_url_is_400(tenant: Tenant, unchanged: None) -> None:
    for path in NUL_URLS:
        target = url(tenant, path)
        assert_error(tenant.api.su.get(target), 400, "must not contain NUL")
        assert_error(tenant.api.su.delete(target), 400, "must not contain NUL")
        assert_error(tenant.api.su.put(target, json={}), 400, "must not contain NUL")


HOSTILE_QUERIES: list[dict[str, str]] = [
    {"sort": SQLISH},
    {"sort": "user; DROP TABLE users"},
    {"fields": SQLISH},
    {"order": SQLISH},
    {"start": SQLISH},
    {"limit": "1e9"},
    {"limit": "99999999999999999999999"},
]


def test_hostile_query_parameters_are_400(tenant: Tenant, unchanged: None) -> None:
    for params in HOSTILE_QUERIES:
        for path in (users(tenant), f"{V2}/domains", f"{V2}/resellers"):
            assert_error(tenant.api.su.get(path, params=params), 400)


def test_hostile_filters_find_nothing(tenant: Tenant, unchanged: None) -> None:
    su = tenant.api.su
    for value in (SQLISH, EMOJI, RTL, "%", "_", "*"):
        assert su.get(users(tenant), params={"site": value}).json() == []
        r = su.get(
            f"{V2}/auditlog",
            params={
                "datetime-start": "2020-01-01 00:00:00",
                "datetime-end": "2100-01-01 00:00:00",
                "target-domain": value,
                "by-user": value,
            },
        )
        assert r.status_code == 200
        assert r.json() == []


def test_invalid_time_zones_are_422(tenant: Tenant, unchanged: None) -> None:
    su = tenant.api.su
    for zone in ("Mars/Olympus", "../../etc/passwd", "UTC+5", SQLISH, "x" * 65, "😀"):
        body = {"time-zone": zone}
        assert_error(su.put(f"{users(tenant)}/1001", json=body), 422, "time-zone")
        assert_error(su.put(f"{V2}/domains/{tenant.domain}", json=body), 422, "time-zone")
        assert_error(su.post(users(tenant), json={"user": "2001", **body}), 422, "time-zone")
        made = su.post(
            f"{V2}/domains", json={"domain": "tz.example", "reseller": tenant.reseller, **body}
        )
        assert_error(made, 422, "time-zone")


def test_unknown_routes_and_methods(tenant: Tenant) -> None:
    su = tenant.api.su
    r = su.get(f"{V2}/nothing-here")
    assert_error(r, 404, "No route for GET /ns-api/v2/nothing-here")
    assert_error(su.get("/ns-api/v3/domains"), 404)
    assert_error(su.get(f"{V2}/domains/{tenant.domain}/users/1001/nonsense"), 404)
    r = su.patch(f"{V2}/domains/{tenant.domain}", json={})
    assert_error(r, 405, "PATCH is not allowed")
    with tenant.api.http() as anonymous:
        r = anonymous.get(f"{V2}/nothing-here")
    assert_error(r, 404)


def test_missing_or_bad_bearer_is_401(tenant: Tenant) -> None:
    with tenant.api.http() as anonymous:
        assert_error(anonymous.get(f"{V2}/domains"), 401, "Missing bearer token")
    with tenant.api.http("cva_not-a-real-token") as c:
        assert_error(c.get(f"{V2}/domains"), 401, "Invalid access token")
        assert_error(c.put(f"{users(tenant)}/1001", json={"department": "x"}), 401)
    with tenant.api.http(f"{SQLISH}") as c:
        assert_error(c.get(f"{V2}/domains"), 401)


def test_nul_in_a_login_form_is_a_4xx(tenant: Tenant) -> None:
    # Not a body of ours to validate, but the database must not turn it into a 500.
    for username, client_id in (("10\x0001@x.example", None), ("1001@x.example", "c\x00")):
        r = tenant.api.grant(username, "whatever-Pass-1", client_id=client_id)
        assert 400 <= r.status_code < 500, r.text
        assert r.json()["code"] == r.status_code
    with tenant.api.http() as c:
        r = c.post(
            "/ns-api/oauth2/token",
            json={
                "grant_type": "password",
                "client_id": "c\u0000",
                "client_secret": "x",
                "username": "u",
                "password": "p",
            },
        )
        assert 400 <= r.status_code < 500, r.text
