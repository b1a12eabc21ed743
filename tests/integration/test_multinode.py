"""Two `celito serve` processes on one PostgreSQL: any node answers any request."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.support import pg
from tests.support.proc import celito_env, serve

pytestmark = pytest.mark.postgres


def test_tokens_minted_on_one_node_work_on_the_other(tmp_path: Path) -> None:
    pg.require()
    with pg.fresh_database() as url:
        env_a = celito_env(tmp_path / "a", CELITO_DATABASE_URL=url, CELITO_NODE_ID="node-a")
        env_b = celito_env(
            tmp_path / "b",
            CELITO_DATABASE_URL=url,
            CELITO_NODE_ID="node-b",
            CELITO_CALLER_CACHE_SECONDS="1",
        )
        with (
            serve(tmp_path / "a", env=env_a) as (a, _),
            serve(tmp_path / "b", "--no-demo", env=env_b) as (b, _),
        ):
            assert httpx.get(f"{a}/ns-api/v2/version").json()["hostname"] == "node-a"
            assert httpx.get(f"{b}/ns-api/v2/version").json()["hostname"] == "node-b"
            creds = json.loads((tmp_path / "a" / "demo-credentials.json").read_text())
            user = creds["users"][0]
            form = {
                "grant_type": "password",
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
                "username": user["username"],
                "password": user["password"],
            }
            issued = httpx.post(f"{a}/ns-api/oauth2/token", data=form).json()
            bearer = {"Authorization": f"Bearer {issued['access_token']}"}
            me = httpx.get(f"{b}/ns-api/v2/domains/~/users/~", headers=bearer)
            assert me.status_code == 200, me.text

            # A JWT signed on node B is valid on node A: the key is shared through the DB.
            jwt = httpx.post(f"{b}/ns-api/v2/jwt", json=form).json()["token"]
            assert (
                httpx.get(
                    f"{a}/ns-api/v2/jwt", headers={"Authorization": f"Bearer {jwt}"}
                ).status_code
                == 200
            )

            # Refresh on B, then reuse the spent refresh token on A: the family is revoked
            # everywhere, and B stops honouring the access token once its cache lapses.
            refresh = {
                "grant_type": "refresh_token",
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
                "refresh_token": issued["refresh_token"],
            }
            rotated = httpx.post(f"{b}/ns-api/oauth2/token", data=refresh)
            assert rotated.status_code == 200
            reuse = httpx.post(f"{a}/ns-api/oauth2/token", data=refresh)
            assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
            new_bearer = {"Authorization": f"Bearer {rotated.json()['access_token']}"}
            time.sleep(1.2)
            for node in (a, b):
                for header in (bearer, new_bearer):
                    r = httpx.get(f"{node}/ns-api/v2/domains/~/users/~", headers=header)
                    assert r.status_code == 401, (node, r.text)
