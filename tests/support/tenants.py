"""Builds a complete tenant through the API itself: reseller, domain, one user per role."""

from __future__ import annotations

import secrets
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.live import SUPER_PASSWORD, client

ROLE_USERS = {
    "Reseller": "9000",
    "Office Manager": "1000",
    "Site Manager": "1100",
    "Call Center Supervisor": "1200",
    "Call Center Agent": "1300",
    "Basic User": "1001",
}


# No vowels and no digits: a random password can then never contain an extension, a name or
# a domain, which the password policy refuses (422) and which made tenant set-up flaky.
_PASSWORD_LETTERS = "BCDFGHJKLMNPQRSTVWXZbcdfghjklmnpqrstvwxz-_"


def password() -> str:
    return "Pw-" + "".join(secrets.choice(_PASSWORD_LETTERS) for _ in range(20))


@dataclass
class Api:
    """A live server plus a Super User client and an OAuth client with accepted terms."""

    base_url: str
    backend: str
    client_id: str = ""
    client_secret: str = ""
    _super: httpx.Client | None = None
    _tokens: dict[str, str] = field(default_factory=dict)

    def http(self, token: str | None = None) -> httpx.Client:
        return client(self.base_url, token)

    def grant(
        self,
        username: str,
        pw: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> httpx.Response:
        with self.http() as c:
            return c.post(
                "/ns-api/oauth2/token",
                data={
                    "grant_type": "password",
                    "client_id": client_id or self.client_id,
                    "client_secret": client_secret or self.client_secret,
                    "username": username,
                    "password": pw,
                },
            )

    def token(self, username: str, pw: str) -> str:
        key = f"{username}\0{pw}"
        if key not in self._tokens:
            r = self.grant(username, pw)
            assert r.status_code == 200, r.text
            self._tokens[key] = r.json()["access_token"]
        return self._tokens[key]

    @property
    def su(self) -> httpx.Client:
        if self._super is None:
            self._super = httpx.Client(
                base_url=self.base_url, auth=_SuperUserBearer(self), timeout=30
            )
        return self._super


class _SuperUserBearer(httpx.Auth):
    """The Super User's bearer, granted again when it expires.

    Servers under test that issue 1-second tokens would otherwise refuse a tenant's set-up
    half-way through on a slow machine.
    """

    requires_response_body = True

    def __init__(self, api: Api) -> None:
        self.api = api

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        login = ("admin@system", SUPER_PASSWORD)
        request.headers["Authorization"] = f"Bearer {self.api.token(*login)}"
        response = yield request
        if response.status_code == 401 and "expired" in response.text:
            self.api._tokens.pop("\0".join(login), None)
            request.headers["Authorization"] = f"Bearer {self.api.token(*login)}"
            yield request


@dataclass
class Tenant:
    api: Api
    reseller: str
    domain: str
    passwords: dict[str, str]

    def uid(self, role: str) -> str:
        return f"{ROLE_USERS[role]}@{self.domain}"

    def as_role(self, role: str) -> httpx.Client:
        return self.api.http(self.api.token(self.uid(role), self.passwords[role]))


def make_tenant(
    api: Api, *, api_access: bool = True, extra: dict[str, Any] | None = None
) -> Tenant:
    tag = secrets.token_hex(3)
    reseller, domain = f"r{tag}", f"d{tag}.example"
    su = api.su
    assert su.post("/ns-api/v2/resellers", json={"reseller": reseller}).status_code == 201
    body = {"domain": domain, "reseller": reseller, "api-access": "yes" if api_access else "no"}
    body.update(extra or {})
    r = su.post("/ns-api/v2/domains", json=body)
    assert r.status_code == 201, r.text
    passwords: dict[str, str] = {}
    for role, ext in ROLE_USERS.items():
        pw = password()
        passwords[role] = pw
        r = su.post(
            f"/ns-api/v2/domains/{domain}/users",
            json={
                "user": ext,
                "user-scope": role,
                "login-password": pw,
                "name-first-name": role.split()[0],
                "name-last-name": "Tester",
                "site": "HQ" if role == "Site Manager" else "",
            },
        )
        assert r.status_code == 201, r.text
    # A shared client belongs to one reseller; tenants get a client of their own reseller.
    r = su.post("/ns-api/v2/clients", json={"name": "tests", "reseller": reseller})
    assert r.status_code == 201, r.text
    cid, secret = r.json()["client-id"], r.json()["client-secret"]
    r = su.post(f"/ns-api/v2/clients/{cid}/tos-acceptance", json={"tos-version": "2026-11-01"})
    assert r.status_code == 200, r.text
    tenant_api = Api(api.base_url, api.backend, cid, secret, api._super, api._tokens)
    return Tenant(tenant_api, reseller, domain, passwords)
