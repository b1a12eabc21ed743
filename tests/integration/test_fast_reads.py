"""GET /domains/~/users/~ answered from memory (celito.fastreads): the same answers as FastAPI,
and never a deleted user, a revoked bearer, a refused key or another user's data.

Each test warms the view first (two reads, the second served from memory) and checks that it
was warm, so what follows exercises the fast path and not FastAPI's."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from celito.domains.models import Domain
from celito.fastreads import OwnViews
from celito.runtime import Runtime
from celito.users.models import User
from tests.support import pg
from tests.support.live import LiveServer
from tests.support.proc import celito_env, serve
from tests.support.tenants import Api, Tenant, make_tenant, password

ME = "/ns-api/v2/domains/~/users/~"


def views(server: LiveServer) -> OwnViews:
    found: OwnViews = server.server.config.app.state.own_views
    return found


def warm(server: LiveServer, c: httpx.Client, domain: str, user: str) -> httpx.Response:
    """Two reads of ME; the first fills the view, the second is answered from it."""
    first = c.get(ME)
    assert first.status_code == 200, first.text
    assert (domain, user) in views(server)
    second = c.get(ME)
    assert second.status_code == 200, second.text
    assert second.content == first.content
    return second


def assert_error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"code", "message"} and body["code"] == status, body
    return str(body["message"])


def key_for(tenant: Tenant, **body: Any) -> dict[str, Any]:
    with tenant.as_role("Office Manager") as c:
        r = c.post("/ns-api/v2/apikeys", json={"description": "fast reads test key", **body})
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


def test_the_answer_is_fastapis_own(server: LiveServer, tenant: Tenant) -> None:
    with tenant.as_role("Basic User") as c:
        fast = warm(server, c, tenant.domain, "1001")
        # The same user through a path the fast layer never answers.
        slow = c.get(f"/ns-api/v2/domains/{tenant.domain}/users/1001")
        assert slow.status_code == 200
        assert fast.content == slow.content
        for name in ("content-type", "content-length"):
            assert fast.headers[name] == slow.headers[name]
        assert fast.json()["user"] == "1001" and fast.json()["domain"] == tenant.domain
        assert "name-first-name" in fast.json()  # hyphenated names
        # A query string is its own view, answered as FastAPI answers it.
        for _ in range(2):
            q = c.get(ME, params={"fields": "user"})
            ref = c.get(f"/ns-api/v2/domains/{tenant.domain}/users/1001", params={"fields": "user"})
            assert (q.status_code, q.content) == (ref.status_code, ref.content)


def test_errors_are_fastapis_own(server: LiveServer, tenant: Tenant) -> None:
    with tenant.api.http() as c:
        message = assert_error(c.get(ME), 401)
        assert message.startswith("Missing bearer token")
        assert assert_error(c.get(ME, headers={"Authorization": "Basic abc"}), 401)
        assert_error(c.get(ME, headers={"Authorization": "Bearer nonsense"}), 401)
    with tenant.as_role("Basic User") as c:
        warm(server, c, tenant.domain, "1001")
        assert assert_error(c.post(ME, json={}), 405)
        head = c.head(ME)
        assert head.status_code == 405


def test_a_change_is_seen_at_once(server: LiveServer, tenant: Tenant) -> None:
    with tenant.as_role("Basic User") as me, tenant.as_role("Office Manager") as om:
        warm(server, me, tenant.domain, "1001")
        for n in range(3):
            r = me.put(ME, json={"status-message": f"mine {n}"})
            assert r.status_code == 200, r.text
            # Dropped by the commit itself, before the answer went out.
            assert (tenant.domain, "1001") not in views(server)
            assert me.get(ME).json()["status-message"] == f"mine {n}"
            r = om.put("/ns-api/v2/domains/~/users/1001", json={"name-first-name": f"Ada{n}"})
            assert r.status_code == 200, r.text
            assert (tenant.domain, "1001") not in views(server)
            assert me.get(ME).json()["name-first-name"] == f"Ada{n}"


def _write_directly(server: LiveServer, domain: str, user: str, first_name: str) -> None:
    """Changes a user with the ORM outside any route (two ways: a unit of work and a bulk
    UPDATE), in this process but through another engine."""

    async def run() -> None:
        runtime = Runtime.build(server.settings)
        try:
            async with runtime.db.writer() as session:
                row = await session.scalar(
                    select(User).join(User.domain).where(Domain.name == domain, User.user == user)
                )
                assert row is not None
                row.last_name = "Direct"
                await session.commit()
            async with runtime.db.writer() as session:
                await session.execute(
                    update(User).where(User.id == row.id).values(first_name=first_name)
                )
                await session.commit()
        finally:
            await runtime.db.dispose()

    asyncio.run(run())


def test_a_write_outside_the_routes_is_seen_at_once(server: LiveServer, tenant: Tenant) -> None:
    with tenant.as_role("Basic User") as me:
        warm(server, me, tenant.domain, "1001")
        _write_directly(server, tenant.domain, "1001", "Bulk")
        body = me.get(ME).json()
        assert (body["name-first-name"], body["name-last-name"]) == ("Bulk", "Direct")


def test_a_deleted_user_is_not_served(server: LiveServer, tenant: Tenant) -> None:
    with tenant.as_role("Call Center Agent") as agent:
        warm(server, agent, tenant.domain, "1300")
        assert tenant.api.su.delete(f"/ns-api/v2/domains/{tenant.domain}/users/1300").is_success
        assert (tenant.domain, "1300") not in views(server)
        assert_error(agent.get(ME), 401)
        assert_error(agent.get(ME), 401)


def test_a_deleted_domain_is_not_served(server: LiveServer, api: Api) -> None:
    doomed = make_tenant(api)
    with doomed.as_role("Basic User") as me:
        warm(server, me, doomed.domain, "1001")
        r = api.su.delete(f"/ns-api/v2/domains/{doomed.domain}")
        assert r.status_code == 200, r.text
        assert (doomed.domain, "1001") not in views(server)
        assert me.get(ME).status_code in (401, 403, 404)


def test_a_revoked_access_token_is_not_served(server: LiveServer, tenant: Tenant) -> None:
    uid, pw = tenant.uid("Basic User"), tenant.passwords["Basic User"]
    issued = tenant.api.grant(uid, pw).json()
    refresh = {
        "grant_type": "refresh_token",
        "client_id": tenant.api.client_id,
        "client_secret": tenant.api.client_secret,
        "refresh_token": issued["refresh_token"],
    }
    with tenant.api.http(issued["access_token"]) as me, tenant.api.http() as anon:
        warm(server, me, tenant.domain, "1001")
        assert anon.post("/ns-api/oauth2/token", data=refresh).status_code == 200
        # Spending the refresh token twice revokes every token of the login.
        assert anon.post("/ns-api/oauth2/token", data=refresh).status_code == 400
        assert_error(me.get(ME), 401)
        assert_error(me.get(ME), 401)


def test_a_revoked_jwt_is_not_served(server: LiveServer, tenant: Tenant) -> None:
    grant = {
        "grant_type": "password",
        "client_id": tenant.api.client_id,
        "client_secret": tenant.api.client_secret,
        "username": tenant.uid("Basic User"),
        "password": tenant.passwords["Basic User"],
    }
    with tenant.api.http() as anon:
        jwt = anon.post("/ns-api/v2/jwt", json=grant).json()["token"]
    with tenant.api.http(jwt) as me:
        warm(server, me, tenant.domain, "1001")
        assert me.delete("/ns-api/v2/jwt").status_code == 202
        assert_error(me.get(ME), 401)
        assert_error(me.get(ME), 401)


def test_a_deleted_api_key_is_not_served(server: LiveServer, tenant: Tenant) -> None:
    made = key_for(tenant, user="1001", **{"user-scope": "Basic User"})
    with tenant.api.http(made["key"]) as me:
        warm(server, me, tenant.domain, "1001")
        with tenant.as_role("Office Manager") as om:
            assert om.delete(f"/ns-api/v2/apikeys/{made['key-id']}").status_code == 200
        assert assert_error(me.get(ME), 401) == "Invalid API key"
        assert assert_error(me.get(ME), 401) == "Invalid API key"


def test_key_limits_hold_against_a_warm_view(server: LiveServer, tenant: Tenant) -> None:
    with tenant.as_role("Office Manager") as om:
        warmed = warm(server, om, tenant.domain, "1000")
    own = {"user": "1000", "user-scope": "Office Manager"}
    elsewhere = key_for(tenant, **own, **{"ip-address": "10.0.0.0/8"})["key"]
    other_models = key_for(tenant, **own, **{"allowed-models": ["device"]})["key"]
    readonly = key_for(tenant, **own, readonly="yes")["key"]
    for _ in range(3):
        with tenant.api.http(elsewhere) as c:
            assert assert_error(c.get(ME), 403) == "This API key may not be used from 127.0.0.1"
        with tenant.api.http(other_models) as c:
            message = assert_error(c.get(ME), 403)
            assert message == "This API key may not use the 'subscriber' model"
        with tenant.api.http(readonly) as c:
            r = c.get(ME)
            assert (r.status_code, r.content) == (200, warmed.content)


def test_an_address_limited_key_warm_from_its_address_is_refused_elsewhere(
    server: LiveServer, tenant: Tenant
) -> None:
    key = key_for(
        tenant, user="1000", **{"user-scope": "Office Manager"}, **{"ip-address": "127.0.0.2"}
    )
    there = httpx.Client(
        base_url=tenant.api.base_url,
        headers={"Authorization": f"Bearer {key['key']}"},
        transport=httpx.HTTPTransport(local_address="127.0.0.2"),
    )
    with there, tenant.api.http(key["key"]) as here:
        warm(server, there, tenant.domain, "1000")  # the key and the view are cached now
        for _ in range(2):
            assert assert_error(here.get(ME), 403) == "This API key may not be used from 127.0.0.1"
            assert there.get(ME).status_code == 200


def test_each_caller_gets_only_its_own_user(
    server: LiveServer, tenant: Tenant, other_tenant: Tenant
) -> None:
    callers = [
        (t, role, t.as_role(role))
        for t in (tenant, other_tenant)
        for role in ("Office Manager", "Basic User", "Site Manager")
    ]
    try:
        expected = {}
        for t, role, c in callers:
            ext = t.uid(role).split("@")[0]
            ref = c.get(f"/ns-api/v2/domains/{t.domain}/users/{ext}")
            assert ref.status_code == 200
            expected[id(c)] = ref.content
        for _ in range(3):
            for t, role, c in callers:
                r = c.get(ME)
                assert r.status_code == 200
                assert r.content == expected[id(c)], (t.domain, role)
                assert (r.json()["domain"], r.json()["user"]) == tuple(t.uid(role).split("@")[::-1])
    finally:
        for _, _, c in callers:
            c.close()


def test_a_reused_user_id_never_shows_the_previous_user(
    server: LiveServer, tenant: Tenant, other_tenant: Tenant
) -> None:
    """SQLite hands a deleted highest id out again: the new user must not get the old view."""
    su = tenant.api.su
    ext, pw = str(3000 + secrets.randbelow(1000)), password()
    body = {"user": ext, "user-scope": "Basic User", "login-password": pw}
    assert su.post(f"/ns-api/v2/domains/{tenant.domain}/users", json=body).status_code == 201
    with tenant.api.http(tenant.api.token(f"{ext}@{tenant.domain}", pw)) as old:
        warm(server, old, tenant.domain, ext)
        assert su.delete(f"/ns-api/v2/domains/{tenant.domain}/users/{ext}").status_code == 200
    other_pw = password()
    body = {"user": ext, "user-scope": "Basic User", "login-password": other_pw}
    assert su.post(f"/ns-api/v2/domains/{other_tenant.domain}/users", json=body).status_code == 201
    token = other_tenant.api.token(f"{ext}@{other_tenant.domain}", other_pw)
    with other_tenant.api.http(token) as new:
        for _ in range(3):
            r = new.get(ME)
            assert r.status_code == 200, r.text
            assert (r.json()["domain"], r.json()["user"]) == (other_tenant.domain, ext)


# --- other processes -----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
        return
    pg.require()
    with pg.fresh_database() as url:
        yield url


def _until(check: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_another_nodes_change_reaches_this_nodes_views(tmp_path: Path, database: str) -> None:
    """Node B keeps bearers and views for 60 s; a change made on node A must still reach it
    within a few seconds, through the change's event."""
    env_a = celito_env(tmp_path / "a", CELITO_DATABASE_URL=database, CELITO_NODE_ID="a")
    env_b = celito_env(
        tmp_path / "b",
        CELITO_DATABASE_URL=database,
        CELITO_NODE_ID="b",
        CELITO_CALLER_CACHE_SECONDS="60",
    )
    with (
        serve(tmp_path / "a", env=env_a) as (a, _),
        serve(tmp_path / "b", "--no-demo", env=env_b) as (b, _),
    ):
        creds = json.loads((tmp_path / "a" / "demo-credentials.json").read_text())

        def token(username: str, pw: str) -> dict[str, str]:
            form = {
                "grant_type": "password",
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
                "username": username,
                "password": pw,
            }
            issued = httpx.post(f"{a}/ns-api/oauth2/token", data=form, timeout=30).json()
            return {"Authorization": f"Bearer {issued['access_token']}"}

        manager, user = creds["users"][0], creds["users"][1]
        om = token(manager["username"], manager["password"])
        me = token(user["username"], user["password"])
        ext = user["username"].split("@")[0]
        for _ in range(2):
            assert httpx.get(f"{b}{ME}", headers=me).status_code == 200

        r = httpx.put(f"{a}/ns-api/v2/domains/~/users/{ext}", headers=om, json={"site": "Moved"})
        assert r.status_code == 200, r.text
        assert _until(lambda: httpx.get(f"{b}{ME}", headers=me).json()["site"] == "Moved", 5)

        assert httpx.delete(f"{a}/ns-api/v2/domains/~/users/{ext}", headers=om).is_success
        assert _until(lambda: httpx.get(f"{b}{ME}", headers=me).status_code != 200, 5)
