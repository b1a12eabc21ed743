"""The quick start and the operator commands, run as real processes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.support import pg
from tests.support.proc import celito_env, run_celito, serve


def _grant(base: str, creds: dict[str, str], username: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{base}/ns-api/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "username": username,
            "password": password,
        },
        timeout=30,
    )


def test_serve_seeds_a_demo_tenant_that_works_end_to_end(tmp_path: Path) -> None:
    started = time.monotonic()
    with serve(tmp_path) as (base, _):
        ready_after = time.monotonic() - started
        creds = json.loads((tmp_path / "demo-credentials.json").read_text())
        assert set(creds) == {
            "client_id",
            "client_secret",
            "superuser",
            "reseller",
            "domain",
            "users",
        }
        assert set(creds["superuser"]) == {"username", "password"}
        scopes = sorted(u["scope"] for u in creds["users"])
        assert scopes == ["Basic User", "Basic User", "Office Manager"]
        assert (tmp_path / "celito.db").exists()
        manager = next(u for u in creds["users"] if u["scope"] == "Office Manager")
        token = _grant(base, creds, manager["username"], manager["password"])
        assert token.status_code == 200, token.text
        me = httpx.get(
            f"{base}/ns-api/v2/domains/~/users/~",
            timeout=10,
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        assert me.status_code == 200
        assert me.json()["domain"] == creds["domain"]
        su = _grant(base, creds, creds["superuser"]["username"], creds["superuser"]["password"])
        assert su.status_code == 200 and su.json()["scope"] == "Super User"
        docs = httpx.get(f"{base}/ns-api/apidoc/", timeout=10)
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert ready_after < 60
    # Restarting keeps the data and does not seed again.
    with serve(tmp_path) as (base, _):
        again = json.loads((tmp_path / "demo-credentials.json").read_text())
        assert again == creds
        assert _grant(base, creds, manager["username"], manager["password"]).status_code == 200


def test_demo_passwords_are_random(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for data_dir in (first, second):
        with serve(data_dir):
            pass
    a = json.loads((first / "demo-credentials.json").read_text())
    b = json.loads((second / "demo-credentials.json").read_text())
    assert a["superuser"]["password"] != b["superuser"]["password"]
    assert a["client_secret"] != b["client_secret"]
    assert {u["password"] for u in a["users"]}.isdisjoint({u["password"] for u in b["users"]})


def test_no_demo_then_operator_commands(tmp_path: Path) -> None:
    env = celito_env(tmp_path)
    assert run_celito("db", "upgrade", env=env).returncode == 0
    made = run_celito(
        "admin", "create-superuser", "root", env={**env, "CELITO_PASSWORD": "Operator-pass-2026!"}
    )
    assert made.returncode == 0, made.stdout + made.stderr
    client = run_celito(
        "admin",
        "create-client",
        "--name",
        "ops",
        "--reseller",
        "system",
        "--client-id",
        "ops",
        "--accept-terms-as",
        "ops team",
        env=env,
    )
    assert client.returncode == 0, client.stdout + client.stderr
    secret = next(
        line.split("=", 1)[1].split()[0]
        for line in client.stdout.splitlines()
        if line.startswith("client_secret=")
    )
    with serve(tmp_path, "--no-demo", env=env) as (base, _):
        assert not (tmp_path / "demo-credentials.json").exists()
        creds = {"client_id": "ops", "client_secret": secret}
        r = _grant(base, creds, "root@system", "Operator-pass-2026!")
        assert r.status_code == 200, r.text
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert (
            httpx.post(
                f"{base}/ns-api/v2/resellers",
                json={"reseller": "acme-r"},
                headers=headers,
                timeout=10,
            ).status_code
            == 201
        )
        domain = httpx.post(
            f"{base}/ns-api/v2/domains",
            json={"domain": "acme", "reseller": "acme-r"},
            headers=headers,
            timeout=10,
        )
        assert domain.json()["api-access"] == "no"
    enabled = run_celito("admin", "enable-api", "--domain", "acme", env=env)
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    with serve(tmp_path, "--no-demo", env=env) as (base, _):
        r = _grant(base, creds, "root@system", "Operator-pass-2026!")
        dom = httpx.get(
            f"{base}/ns-api/v2/domains/acme",
            timeout=10,
            headers={"Authorization": f"Bearer {r.json()['access_token']}"},
        )
        assert dom.json()["api-access"] == "yes"


def test_cli_errors_are_clear(tmp_path: Path) -> None:
    env = celito_env(tmp_path)
    weak = run_celito("admin", "create-superuser", "root", env={**env, "CELITO_PASSWORD": "x"})
    assert weak.returncode == 1
    assert "at least 10 characters" in weak.stdout
    missing = run_celito("admin", "enable-api", "--domain", "nope", env=env)
    assert missing.returncode == 1
    assert "Domain nope does not exist" in missing.stdout


@pytest.mark.postgres
def test_serve_on_postgres(tmp_path: Path) -> None:
    pg.require()
    with pg.fresh_database() as url:
        env = celito_env(tmp_path, CELITO_DATABASE_URL=url)
        with serve(tmp_path, env=env) as (base, _):
            creds = json.loads((tmp_path / "demo-credentials.json").read_text())
            user = creds["users"][1]
            assert _grant(base, creds, user["username"], user["password"]).status_code == 200
