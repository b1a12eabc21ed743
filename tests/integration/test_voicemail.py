"""Voicemail: messages deposited by the telephony plane, read, moved, forwarded, trashed and
purged over the API, box settings and PIN, events, roles, bad input and tenant isolation."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.audio import service as audio
from celito.audio.media import UnsupportedMediaType
from celito.audio.storage import AudioStore
from celito.auth.crypto import PasswordHasher
from celito.config import Settings
from celito.errors import Conflict, NotFound, PayloadTooLarge, Unprocessable
from celito.voicemail import service as vm
from celito.voicemail.models import VoicemailBox, VoicemailMessage
from celito.voicemail.schemas import BoxFields
from tests.support.audiofiles import (
    domain_id,
    events,
    in_db,
    mp3,
    stored_files,
    truncated,
    wav_g711,
    wav_pcm,
)
from tests.support.live import LiveServer
from tests.support.tenants import ROLE_USERS, Tenant

V2 = "/ns-api/v2"
ROLES = list(ROLE_USERS)
HASHER = PasswordHasher(memory_kib=1024, time_cost=1, parallelism=1)


def deposit(
    settings: Settings,
    domain: str,
    user: str,
    data: bytes,
    caller_id: str = "+12125550199",
    *,
    max_bytes: int | None = None,
    **kw: Any,
) -> str:
    did = domain_id(settings, domain)

    async def work(s: AsyncSession) -> str:
        m = await vm.deposit(
            s,
            did,
            user,
            data,
            caller_id,
            store=AudioStore.voicemail(settings),
            max_bytes=max_bytes or settings.audio_max_bytes,
            **kw,
        )
        return m.filename

    return in_db(settings, work)


def box(t: Tenant, user: str = "1001") -> str:
    return f"{V2}/domains/{t.domain}/users/{user}/voicemails"


def assert_error(r: httpx.Response, status: int, needle: str | None = None) -> None:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    body = r.json()
    assert set(body) == {"code", "message"} and body["code"] == status
    if needle is not None:
        assert needle in body["message"], body["message"]


def test_deposit_read_move_forward_and_delete(tenant: Tenant, server: LiveServer) -> None:
    settings = server.settings
    did = domain_id(settings, tenant.domain)
    first, second = wav_g711(2.0), mp3(50)
    f1 = deposit(settings, tenant.domain, "1001", first, "+12125550199", caller_name="Grace Hopper")
    f2 = deposit(settings, tenant.domain, "1001", second, "1000", caller_name="Office\x07")
    assert f1.startswith("vm-") and f1.endswith(".wav") and f2.endswith(".mp3")
    url = box(tenant)
    with tenant.as_role("Basic User") as me:
        b = me.get(f"{V2}/domains/~/users/~/voicemails").json()
        assert (
            b["voicemail-count-new"],
            b["voicemail-count-save"],
            b["voicemail-count-trash"],
        ) == (2, 0, 0)
        assert b["voicemail-size-bytes"] == len(first) + len(second)
        listed = me.get(url + "/new").json()
        assert [m["filename"] for m in listed] == [f2, f1]  # newest first
        m1 = listed[1]
        assert m1["FromName"] == "Grace Hopper" and m1["FromUser"] == "+12125550199"
        assert m1["NmsAni"] == "+12125550199" and m1["voicemail-folder"] == "new"
        assert m1["file-duration-seconds"] == 2 and m1["file-encoding"] == "mulaw"
        assert m1["index"] == f1.removesuffix(".wav") and m1["user"] == "1001"
        assert listed[0]["FromName"] == "Office"  # control characters dropped
        assert m1["file-access-url"].endswith(f"/users/1001/voicemails/new/{f1}/download")
        oldest = me.get(url + "/new", params={"sort": "recorded-datetime", "order": "asc"}).json()
        assert [m["filename"] for m in oldest] == [f1, f2]
        assert me.get(url + "/new/count").json() == {
            "total": 2,
            "count": 2,
            "size": len(first) + len(second),
        }
        got = me.get(f"{url}/new/{f1}/download")
        assert got.status_code == 200 and got.content == first
        assert got.headers["content-type"] == "audio/wav"
        assert me.get(f"{url}/new/{f2}/download").headers["content-type"] == "audio/mpeg"
        assert_error(me.get(f"{url}/save/{f1}"), 404, "is not in folder save (it is in new)")
        saved = me.patch(f"{url}/new/{f1}/save")
        assert saved.status_code == 200 and saved.json()["voicemail-folder"] == "save"
        assert [m["filename"] for m in me.get(url + "/save").json()] == [f1]
        assert me.patch(f"{url}/save/{f1}/new").json()["voicemail-folder"] == "new"
        assert me.patch(f"{url}/new/{f1}/save").json()["voicemail-folder"] == "save"
        # Forward: a copy arrives in 1000's box as new; the original stays.
        fwd = me.patch(
            f"{url}/save/{f1}/forward", json={"voicemail-forward-new-destination": "1000"}
        )
        assert fwd.status_code == 200, fwd.text
        assert fwd.json()["filename"] == f1 and fwd.json()["voicemail-folder"] == "save"
        assert_error(me.get(box(tenant, "1000") + "/new"), 403)
        # Delete: to trash, then gone.
        trashed = me.delete(f"{url}/new/{f2}")
        assert trashed.status_code == 200 and trashed.json()["voicemail-folder"] == "trash"
        assert len(stored_files(settings, "voicemail", did)) == 3
        purged = me.delete(f"{url}/trash/{f2}")
        assert purged.status_code == 200 and purged.json()["filename"] == f2
        assert_error(me.get(f"{url}/trash/{f2}"), 404, "does not exist")
        assert me.get(url + "/trash/count").json()["total"] == 0
    files = stored_files(settings, "voicemail", did)
    assert len(files) == 2  # f1 and its forwarded copy
    with tenant.as_role("Office Manager") as om:
        inbox = om.get(box(tenant, "1000") + "/new").json()
        assert len(inbox) == 1
        copy = inbox[0]
        assert copy["voicemail-forwarded-from"] == tenant.uid("Basic User")
        assert copy["FromName"] == "Grace Hopper" and copy["filename"] != f1
        assert om.get(f"{box(tenant, '1000')}/new/{copy['filename']}/download").content == first
    seen = [
        (e["action"], e["user"], e["filename"], e["voicemail-folder"])
        for e in events(settings, "voicemail", tenant.domain)
    ]
    assert seen == [
        ("create", "1001", f1, "new"),
        ("create", "1001", f2, "new"),
        ("update", "1001", f1, "save"),
        ("update", "1001", f1, "new"),
        ("update", "1001", f1, "save"),
        ("create", "1000", copy["filename"], "new"),
        ("update", "1001", f2, "trash"),
        ("delete", "1001", f2, "trash"),
    ]
    moves = [
        e["voicemail-folder-previous"]
        for e in events(settings, "voicemail", tenant.domain)
        if e["action"] == "update"
    ]
    assert moves == ["new", "save", "new", "new"]


def test_box_settings_pin_and_greeting(tenant: Tenant, server: LiveServer) -> None:
    settings = server.settings
    did = domain_id(settings, tenant.domain)
    url = box(tenant)
    with tenant.as_role("Basic User") as me:
        b = me.get(url).json()
        assert b["voicemail-login-pin-set"] == "no" and b["voicemail-greeting-index"] == 0
        assert b["voicemail-enabled"] == "yes" and b["voicemail-count-new"] == 0
        for pin, needle in (
            ("1234", "consecutive"),
            ("1111", "repeated"),
            ("1001", "extension"),
            ("12ab", "voicemail-login-pin"),
            ("123", "voicemail-login-pin"),
            ("1" * 13, "voicemail-login-pin"),
        ):
            assert_error(me.put(url, json={"voicemail-login-pin": pin}), 422, needle)
        assert_error(
            me.put(url, json={"voicemail-greeting-index": 2}), 422, "greeting 2 does not exist"
        )
        g = me.post(
            f"{V2}/domains/~/users/~/greetings",
            json={"base64_file": base64.b64encode(wav_pcm(1)).decode()},
        )
        assert g.status_code == 201
        changed = me.put(
            url,
            json={
                "voicemail-login-pin": "730519",
                "voicemail-greeting-index": 1,
                "email-send-alert-new-voicemail-enabled": "yes",
                "email-send-alert-new-voicemail-behavior": "attnew",
                "email-send-alert-new-voicemail-cc-list-csv": "1000, 1002",
                "voicemail-playback-sort-newest-to-oldest": "no",
                "synchronous": "yes",
            },
        )
        assert changed.status_code == 200, changed.text
        out = changed.json()
        assert "voicemail-login-pin" not in out and "730519" not in changed.text
        assert out["voicemail-login-pin-set"] == "yes" and out["voicemail-greeting-index"] == 1
        assert out["email-send-alert-new-voicemail-behavior"] == "attnew"
        assert out["email-send-alert-new-voicemail-cc-list-csv"] == "1000,1002"
        assert me.get(url).json() == out
        for body, needle in (
            ({"voicemail-enabled": "maybe"}, "yes"),
            ({"voicemail-enabled": None}, "cannot be null"),
            ({"email-send-alert-new-voicemail-behavior": "sometimes"}, "behavior"),
            ({"email-send-alert-new-voicemail-cc-list-csv": "1001;rm -rf /"}, "cc-list"),
            ({"voicemail-greeting-index": -1}, "greeting-index"),
            ({"voicemail-transcription-enabled": "Skynet"}, "transcription"),
            ({"pin": "730519"}, "unknown field 'pin'"),
        ):
            assert_error(me.put(url, json=body), 422, needle)
        assert me.get(url).json() == out

    async def check(s: AsyncSession) -> tuple[bool, bool, str | None]:
        good = await vm.verify_pin(s, did, "1001", "730519", hasher=HASHER)
        bad = await vm.verify_pin(s, did, "1001", "730510", hasher=HASHER)
        greeting = await vm.active_greeting(s, did, "1001")
        return good, bad, greeting.storage_name if greeting else None

    good, bad, greeting = in_db(settings, check)
    assert good and not bad and greeting in stored_files(settings, "prompts", did)
    with tenant.as_role("Office Manager") as om:
        log = om.get(
            f"{V2}/auditlog",
            params={
                "datetime-start": "2000-01-01T00:00:00Z",
                "datetime-end": "2100-01-01T00:00:00Z",
                "target-object": "voicemailbox",
                "target-domain": tenant.domain,
            },
        ).json()
        assert len(log) == 1 and "730519" not in str(log)
        assert log[0]["auditlog-details"]["after"]["voicemail-login-pin"] == "[redacted]"
        # The greeting is deleted: the box falls back to the generic one for the phone.
        assert om.delete(f"{V2}/domains/{tenant.domain}/users/1001/greetings/1").status_code == 200
        assert (
            om.put(url, json={"voicemail-login-pin": ""}).json()["voicemail-login-pin-set"] == "no"
        )
    assert in_db(settings, check) == (False, False, None)


def test_who_may_open_a_box(tenant: Tenant, server: LiveServer) -> None:
    settings = server.settings
    f = deposit(settings, tenant.domain, "1001", wav_pcm(1))
    g = deposit(settings, tenant.domain, "1000", wav_pcm(1))
    forward = {"voicemail-forward-new-destination": "1200"}

    def refused(c: httpx.Client, user: str, name: str) -> None:
        u = box(tenant, user)
        for r in (
            c.get(u),
            c.put(u, json={"voicemail-enabled": "no"}),
            c.get(u + "/new"),
            c.get(u + "/new/count"),
            c.get(f"{u}/new/{name}"),
            c.get(f"{u}/new/{name}/download"),
            c.patch(f"{u}/new/{name}/save"),
            c.patch(f"{u}/new/{name}/forward", json=forward),
            c.delete(f"{u}/new/{name}"),
        ):
            assert_error(r, 403)

    for role in ("Basic User", "Call Center Agent"):
        with tenant.as_role(role) as c:
            refused(c, "1000", g)
    with tenant.as_role("Call Center Agent") as c:
        refused(c, "1001", f)
    with tenant.as_role("Call Center Supervisor") as c:  # reads users, not their messages
        refused(c, "1001", f)
    with tenant.as_role("Site Manager") as c:  # 1001 is not in its site
        refused(c, "1001", f)
    with tenant.as_role("Office Manager") as om:
        assert (
            om.put(f"{V2}/domains/{tenant.domain}/users/1001", json={"site": "HQ"}).status_code
            == 200
        )
        assert om.get(box(tenant) + "/new/count").json()["total"] == 1
        refused_owner = om.get(box(tenant, "9000"))
        assert_error(refused_owner, 403)  # a Reseller outranks an Office Manager
    with tenant.as_role("Site Manager") as sm:
        assert sm.get(f"{box(tenant)}/new/{f}").status_code == 200
        assert sm.patch(f"{box(tenant)}/new/{f}/save").status_code == 200
    with tenant.as_role("Reseller") as rs:
        assert rs.get(f"{box(tenant, '1000')}/new/{g}/download").content == wav_pcm(1)
    assert tenant.api.su.get(box(tenant, "1000") + "/new").json()[0]["filename"] == g


def test_bad_input_changes_nothing(tenant: Tenant, server: LiveServer) -> None:
    settings = server.settings
    did = domain_id(settings, tenant.domain)
    f = deposit(settings, tenant.domain, "1001", wav_pcm(1))
    other = deposit(settings, tenant.domain, "1000", wav_pcm(1))
    url = box(tenant)
    files_before = stored_files(settings, "voicemail", did)
    with tenant.as_role("Basic User") as me:
        state = (me.get(url).json(), me.get(url + "/new").json())
        for folder in ("inbox", "NEW", "%2e%2e", "new%00", "new%2F..%2Fsave"):
            r = me.get(f"{url}/{folder}")
            # (…/new/../save is the path of PATCH …/{folder}/{filename}/save: 405 for a GET)
            assert r.status_code in (400, 404, 405), (folder, r.text)
            assert r.headers["content-type"].startswith("application/json")
        assert_error(me.get(f"{url}/inbox/count"), 400, "Unknown voicemail folder 'inbox'")
        assert_error(me.patch(f"{url}/inbox/{f}/save"), 400, "use new, save or trash")
        assert_error(me.delete(f"{url}/Trash/{f}"), 400)
        for name in ("..%2F..%2Fetc%2Fpasswd", "%2e%2e", other, "vm-1.wav", "x" * 300, f.upper()):
            r = me.get(f"{url}/new/{name}/download")
            assert r.status_code in (400, 404), (name, r.status_code)
            assert r.headers["content-type"].startswith("application/json")
            assert me.delete(f"{url}/new/{name}").status_code in (400, 404)
        for body, status, needle in (
            (
                {"voicemail-forward-new-destination": "1000@elsewhere.example"},
                422,
                "only be forwarded",
            ),
            ({"voicemail-forward-new-destination": "4444"}, 422, "does not exist"),
            ({"voicemail-forward-new-destination": "1001"}, 422, "already here"),
            ({"voicemail-forward-new-destination": "../1000"}, 422, "does not exist"),
            ({"voicemail-forward-new-destination": ""}, 422, None),
            ({}, 422, "required"),
            ({"voicemail-forward-new-destination": "1000", "copy": "yes"}, 422, "unknown field"),
        ):
            assert_error(me.patch(f"{url}/new/{f}/forward", json=body), status, needle)
        assert (me.get(url).json(), me.get(url + "/new").json()) == state
    # The telephony plane's bad deposits raise, and leave neither rows nor files.
    for data, error, kw in (
        (truncated(wav_pcm(1)), Unprocessable, {}),
        (b"%PDF-1.4" + b"\x00" * 64, UnsupportedMediaType, {}),
        (wav_pcm(2), PayloadTooLarge, {"max_bytes": 1000}),
    ):
        with pytest.raises(error):
            deposit(settings, tenant.domain, "1001", data, **kw)
    with pytest.raises(NotFound):
        deposit(settings, tenant.domain, "4444", wav_pcm(1))
    with tenant.as_role("Office Manager") as om:
        assert om.put(box(tenant, "1000"), json={"voicemail-enabled": "no"}).status_code == 200
        with tenant.as_role("Basic User") as me:
            full = me.patch(
                f"{url}/new/{f}/forward", json={"voicemail-forward-new-destination": "1000"}
            )
            assert_error(full, 409, "turned off")
    with pytest.raises(Conflict, match="turned off"):
        deposit(settings, tenant.domain, "1000", wav_pcm(1))
    assert stored_files(settings, "voicemail", did) == files_before
    with tenant.as_role("Basic User") as me:
        assert me.get(url + "/new").json() == state[1]


def test_other_tenants_voicemail_is_missing_and_unchangeable(
    tenant: Tenant, other_tenant: Tenant, server: LiveServer
) -> None:
    settings = server.settings
    theirs = {u: deposit(settings, other_tenant.domain, u, wav_g711(1.2)) for u in ("1001", "1000")}
    mine = deposit(settings, tenant.domain, "1001", wav_pcm(1))
    su = other_tenant.api.su

    def state() -> list[Any]:
        return [
            (su.get(box(other_tenant, u)).json(), su.get(box(other_tenant, u) + "/new").json())
            for u in theirs
        ]

    before = state()
    for role in ROLES:
        with tenant.as_role(role) as c:
            for user, name in theirs.items():
                u = box(other_tenant, user)
                for r in (
                    c.get(u),
                    c.put(u, json={"voicemail-login-pin": "730519"}),
                    c.get(u + "/new"),
                    c.get(u + "/new/count"),
                    c.get(f"{u}/new/{name}"),
                    c.get(f"{u}/new/{name}/download"),
                    c.patch(f"{u}/new/{name}/save"),
                    c.patch(f"{u}/new/{name}/new"),
                    c.patch(
                        f"{u}/new/{name}/forward",
                        json={"voicemail-forward-new-destination": "1001"},
                    ),
                    c.delete(f"{u}/new/{name}"),
                    c.delete(f"{u}/trash/{name}"),
                ):
                    assert_error(r, 404)
                # Their message's name through this tenant's own URL: never their audio
                # (403 where this role may not open that box, else 404).
                r = c.get(f"{box(tenant, user)}/new/{name}/download")
                assert r.status_code in (403, 404), (role, user, r.status_code)
                assert r.headers["content-type"].startswith("application/json")
    with tenant.as_role("Basic User") as me:
        r = me.patch(
            f"{box(tenant)}/new/{mine}/forward",
            json={"voicemail-forward-new-destination": f"1000@{other_tenant.domain}"},
        )
        assert_error(r, 422, "only be forwarded to a user of domain")
    assert state() == before


def test_user_creation_and_deletion_helpers(tenant: Tenant, server: LiveServer) -> None:
    settings = server.settings
    did = domain_id(settings, tenant.domain)
    su = tenant.api.su
    for ext in ("1500", "1501"):
        assert su.post(f"{V2}/domains/{tenant.domain}/users", json={"user": ext}).status_code == 201

    async def make_box(s: AsyncSession) -> None:
        body = BoxFields.model_validate(
            {"voicemail-login-pin": "730519", "voicemail-enabled": "no"}
        )
        await vm.create_box_for_user(s, did, "1500", hasher=HASHER, settings=body)

    in_db(settings, make_box)
    made = su.get(box(tenant, "1500")).json()
    assert made["voicemail-login-pin-set"] == "yes" and made["voicemail-enabled"] == "no"

    async def weak_pin(s: AsyncSession) -> None:
        body = BoxFields.model_validate({"voicemail-login-pin": "91501"})
        await vm.create_box_for_user(s, did, "1501", hasher=HASHER, settings=body)

    with pytest.raises(Unprocessable, match="extension"):
        in_db(settings, weak_pin)
    assert su.put(box(tenant, "1500"), json={"voicemail-enabled": "yes"}).status_code == 200
    for _ in range(2):
        deposit(settings, tenant.domain, "1500", wav_pcm(1))
    g = su.post(
        f"{V2}/domains/{tenant.domain}/users/1500/greetings",
        json={"base64_file": base64.b64encode(wav_pcm(1)).decode()},
    )
    assert g.status_code == 201
    vm_files = stored_files(settings, "voicemail", did)
    prompt_files = stored_files(settings, "prompts", did)
    assert len(vm_files) == 2

    async def remove(s: AsyncSession) -> tuple[int, int]:
        a = await vm.delete_for_user(s, did, "1500", store=AudioStore.voicemail(settings))
        b = await audio.delete_for_user(s, did, "1500", store=AudioStore.prompts(settings))
        return a, b

    assert in_db(settings, remove, commit=False) == (2, 1)  # rolled back: all still there
    assert stored_files(settings, "voicemail", did) == vm_files
    assert stored_files(settings, "prompts", did) == prompt_files
    assert su.get(box(tenant, "1500") + "/new/count").json()["total"] == 2
    assert in_db(settings, remove) == (2, 1)
    assert stored_files(settings, "voicemail", did) == set()
    assert len(stored_files(settings, "prompts", did)) == len(prompt_files) - 1
    assert su.get(box(tenant, "1500")).json()["voicemail-login-pin-set"] == "no"  # box gone

    # Deleting a user that still has messages: the rows go with it (foreign keys), and the
    # files that are left are swept.
    deposit(settings, tenant.domain, "1501", mp3(10))
    assert su.delete(f"{V2}/domains/{tenant.domain}/users/1501").status_code == 200

    async def leftovers(s: AsyncSession) -> tuple[int, int, int]:
        rows = await s.scalar(
            select(func.count())
            .select_from(VoicemailMessage)
            .where(VoicemailMessage.domain_id == did)
        )
        boxes = await s.scalar(
            select(func.count()).select_from(VoicemailBox).where(VoicemailBox.domain_id == did)
        )
        swept = await vm.sweep(s, AudioStore.voicemail(settings), grace_seconds=0)
        return int(rows or 0), int(boxes or 0), swept

    users_left = len(su.get(f"{V2}/domains/{tenant.domain}/users").json())
    rows, boxes, swept = in_db(settings, leftovers)
    # Deleting 1501 removed its box and its files itself; every remaining user has a box
    # (one-call user creation makes one) except 1500, whose box was removed above.
    assert (rows, boxes, swept) == (0, users_left - 1, 0)
    assert stored_files(settings, "voicemail", did) == set()
