"""A phone's file follows every change committed before the download (the file is read and
rendered on each download, by the path that answers phones in front of FastAPI), and the
credentials that reach a file are exactly the domain's current ones or the phone's own."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from celito.db import Database
from celito.phones import filedata
from tests.support.live import LiveServer
from tests.support.tenants import Tenant

V2 = "/ns-api/v2"
WINDOW = timedelta(minutes=15)


def _setting(text: str, key: str) -> str:
    found = re.search(rf"^{re.escape(key)} = (.*)$", text, re.M)
    assert found is not None, f"{key} not in the file"
    return found.group(1)


def _add_phone(om: httpx.Client, domain: str, mac: str, user: str) -> None:
    """A T46S whose first account is the user's device of the same name."""
    made = om.post(
        f"{V2}/domains/{domain}/phones",
        json={
            "device-provisioning-mac-address": mac,
            "device-models-brand-and-model": "T46S",
            "device-provisioning-sip-uri-1": f"sip:{user}@{domain}",
        },
    )
    assert made.status_code == 201, made.text


def _phone_of_1001(tenant: Tenant, mac: str) -> dict[str, Any]:
    """A phone whose account 1 is user 1001's device; the domain's provisioning settings."""
    d = tenant.domain
    with tenant.as_role("Office Manager") as om:
        assert om.post(f"{V2}/domains/{d}/users/1001/devices", json={"device": "1001"}).is_success
        _add_phone(om, d, mac, "1001")
        prov: dict[str, Any] = om.get(f"{V2}/domains/{d}/provisioning").json()
    return prov


def test_downloads_follow_changes_and_credentials(
    tenant: Tenant, other_tenant: Tenant, server: LiveServer
) -> None:
    d = tenant.domain
    mac = f"805ec1{d.encode().hex()[-6:]}"
    other_mac = f"805ec2{d.encode().hex()[-6:]}"
    with tenant.as_role("Office Manager") as om:
        for user in ("1001", "1100"):
            made = om.post(f"{V2}/domains/{d}/users/{user}/devices", json={"device": user})
            assert made.status_code == 201, made.text
        for m, user in ((mac, "1001"), (other_mac, "1100")):
            _add_phone(om, d, m, user)
        prov = om.get(f"{V2}/domains/{d}/provisioning").json()
        auth = httpx.DigestAuth(prov["username"], prov["password"])
        url = f"{server.base_url}/cfg/{mac}.cfg"

        def download(credentials: httpx.Auth | None = None) -> str:
            r = httpx.get(url, auth=credentials or auth)
            assert r.status_code == 200, r.text
            return r.text

        first = download()
        assert _setting(first, "account.1.display_name") == "Basic Tester"
        blf = {
            _setting(first, f"linekey.{n}.value"): _setting(first, f"linekey.{n}.label")
            for n in range(2, 6)
        }
        assert blf["1000"] == "Office Tester" and "1001" not in blf
        device = om.get(f"{V2}/domains/{d}/users/1001/devices/1001").json()
        sip_password = device["device-sip-registration-password"]
        assert _setting(first, "account.1.password") == sip_password

        # The phone's own user, a colleague, the device, the domain's and the phone's
        # overrides: each change shows in the very next download.
        r = om.put(f"{V2}/domains/{d}/users/1001", json={"name-first-name": "Renamed"})
        assert r.status_code == 200, r.text
        assert _setting(download(), "account.1.display_name") == "Renamed Tester"
        r = om.put(f"{V2}/domains/{d}/users/1000", json={"name-last-name": "Boss"})
        assert r.status_code == 200, r.text
        assert "linekey.2.label = Office Boss\n" in download()
        r = om.put(
            f"{V2}/domains/{d}/users/1001/devices/1001",
            json={"device-sip-registration-password": "Fresh-Pass-2468"},
        )
        assert r.status_code == 200, r.text
        assert _setting(download(), "account.1.password") == "Fresh-Pass-2468"
        r = om.put(f"{V2}/domains/{d}/provisioning", json={"overrides": {"lang.gui": "German"}})
        assert r.status_code == 200, r.text
        assert _setting(download(), "lang.gui") == "German"
        r = om.put(
            f"{V2}/domains/{d}/phones",
            json={
                "device-provisioning-mac-address": mac,
                "device-models-overrides-blob": "lang.gui = French",
            },
        )
        assert r.status_code == 200, r.text
        assert _setting(download(), "lang.gui") == "French"

        # A rotated password: the old one stops at once, the new one works.
        rotated = om.put(f"{V2}/domains/{d}/provisioning", json={"password": "generate"}).json()
        assert httpx.get(url, auth=auth).status_code == 401
        auth = httpx.DigestAuth(rotated["username"], rotated["password"])
        download()

        # The phone's own credentials reach its own file only.
        own = {
            "device-provisioning-username": f"own-{mac}",
            "device-provisioning-password": "Own-Secret-9753",
        }
        r = om.put(f"{V2}/domains/{d}/phones", json={"device-provisioning-mac-address": mac, **own})
        assert r.status_code == 200, r.text
        mine = httpx.DigestAuth(own["device-provisioning-username"], "Own-Secret-9753")
        assert _setting(download(mine), "account.1.user_name") == "1001"
        assert httpx.get(f"{server.base_url}/cfg/{other_mac}.cfg", auth=mine).status_code == 404
        wrong = httpx.DigestAuth(own["device-provisioning-username"], "Not-The-Secret-1357")
        assert httpx.get(url, auth=wrong).status_code == 401

    # Another domain's credentials: a 404 that says nothing about the phone.
    with other_tenant.as_role("Office Manager") as other:
        theirs = other.get(f"{V2}/domains/{other_tenant.domain}/provisioning").json()
    foreign = httpx.get(url, auth=httpx.DigestAuth(theirs["username"], theirs["password"]))
    assert foreign.status_code == 404 and foreign.text == "Not Found\n"

    # What the phone paths do not answer goes on to FastAPI, as before.
    assert httpx.head(url, auth=auth).status_code == 405
    assert httpx.get(f"{server.base_url}/cfg/").status_code == 404
    hooks = f"{server.base_url}/ns-api/hooks/yealink/{mac}/token"
    assert httpx.get(hooks).status_code == 404


def test_sqlite_download_read_falls_back_to_the_driver(tenant: Tenant, server: LiveServer) -> None:
    """On SQLite a download reads on the loop's own connection; when that connection cannot
    read (here: it cannot even open), the download still answers, through the driver."""
    files = server.server.config.app.state.phone_services.files
    if files._local_path is None:
        pytest.skip("only SQLite reads phones' data on a connection of the loop's thread")
    d = tenant.domain
    mac = f"805ec3{d.encode().hex()[-6:]}"
    prov = _phone_of_1001(tenant, mac)
    auth = httpx.DigestAuth(prov["username"], prov["password"])
    url = f"{server.base_url}/cfg/{mac}.cfg"
    local = httpx.get(url, auth=auth)
    assert local.status_code == 200, local.text
    path = files._local_path
    try:
        files._close_local()
        files._local_path = "/nonexistent-celito-dir/celito.db"
        fallback = httpx.get(url, auth=auth)
        assert files._local is None  # the loop's connection never opened: the driver read it
    finally:
        files._local_path = path
    assert fallback.status_code == 200, fallback.text
    assert _setting(fallback.text, "account.1.user_name") == "1001"
    assert fallback.text == local.text


def test_concurrent_reads_share_a_statement(
    tenant: Tenant, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads that arrive together are answered by one statement on PostgreSQL (one each on
    SQLite's driver), and each gets exactly its own phone: an unknown MAC gets None beside
    known ones, a MAC asked twice gets its data twice. A statement that fails is retried on a
    new connection for every read it carried."""
    d = tenant.domain
    users = ("1001", "1100", "1200")
    macs = [f"805ec{n}{d.encode().hex()[-6:]}" for n in (4, 5, 6)]
    with tenant.as_role("Office Manager") as om:
        for mac, user in zip(macs, users, strict=True):
            made = om.post(f"{V2}/domains/{d}/users/{user}/devices", json={"device": user})
            assert made.status_code == 201, made.text
            _add_phone(om, d, mac, user)
    unknown = f"805ec7{d.encode().hex()[-6:]}"
    asked = [*macs, unknown, *macs, macs[0]]
    statements: list[int] = []
    real_run = filedata._run
    failures = [OperationalError("SELECT", {}, Exception("connection reset"))]

    async def counted(driver: Any, dialect: Any, requests: Any) -> Any:
        statements.append(len(requests))
        if failures:
            raise failures.pop()
        return await real_run(driver, dialect, requests)

    monkeypatch.setattr(filedata, "_run", counted)

    async def read_all() -> list[filedata.FileData | None]:
        db = Database(server.settings.resolved_database_url)
        reader = filedata.Reader(db, size=4)
        reader._local_path = None  # SQLite too: through the driver, as on PostgreSQL
        try:
            return await asyncio.gather(
                *(
                    reader.read(mac, failed_name="cfg:x", failed_ip="127.0.0.1", window=WINDOW)
                    for mac in asked
                )
            )
        finally:
            await reader.close()
            await db.dispose()

    found = asyncio.run(read_all())
    for mac, data in zip(asked, found, strict=True):
        if mac == unknown:
            assert data is None
            continue
        assert data is not None and data.mac == mac
        (account,) = data.accounts
        assert account.user == users[macs.index(mac)]
        assert data.domain == d
    if server.backend == "postgres":  # type: ignore[attr-defined]
        # The first statement failed, and its reads were all answered by the retry.
        assert statements == [len(asked), len(asked)]
    else:
        assert statements == [1] * (len(asked) + 1)


def test_failures_throttle_their_address_not_the_domain(tenant: Tenant, server: LiveServer) -> None:
    """Wrong passwords for a domain's provisioning username throttle the address they came
    from (429 with Retry-After, even for the right password from there), while the domain's
    phones elsewhere keep downloading: the username is the domain's name, known to anyone."""
    d = tenant.domain
    mac = f"805ec8{d.encode().hex()[-6:]}"
    prov = _phone_of_1001(tenant, mac)
    url = f"{server.base_url}/cfg/{mac}.cfg"
    right = httpx.DigestAuth(prov["username"], prov["password"])

    def from_address(address: str) -> httpx.Client:
        return httpx.Client(transport=httpx.HTTPTransport(local_address=address))

    with from_address("127.0.0.3") as attacker, from_address("127.0.0.4") as phone:
        for _ in range(server.settings.login_max_failures_per_username):
            # A fresh DigestAuth each time: a used one answers its last challenge first, a
            # second failure per request.
            wrong = httpx.DigestAuth(prov["username"], prov["password"] + "x")
            assert attacker.get(url, auth=wrong).status_code == 401
        refused = attacker.get(url, auth=right)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        served = phone.get(url, auth=right)
        assert served.status_code == 200, served.text
        assert _setting(served.text, "account.1.user_name") == "1001"
