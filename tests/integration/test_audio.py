"""Greetings, music on hold and hold messages: uploads (JSON + base64, multipart), measured
metadata, download, replace, delete with the file following the transaction, roles, bad input
and tenant isolation."""

from __future__ import annotations

import base64
import itertools
from typing import Any

import httpx

from tests.support.audiofiles import (
    domain_id,
    mp3,
    stored_files,
    truncated,
    wav_g711,
    wav_pcm,
    wav_with_tag,
)
from tests.support.live import LiveServer
from tests.support.tenants import ROLE_USERS, Tenant

V2 = "/ns-api/v2"
ROLES = list(ROLE_USERS)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def greetings(t: Tenant, user: str = "1001") -> str:
    return f"{V2}/domains/{t.domain}/users/{user}/greetings"


def assert_error(r: httpx.Response, status: int, needle: str | None = None) -> None:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    body = r.json()
    assert set(body) == {"code", "message"} and body["code"] == status
    if needle is not None:
        assert needle in body["message"], body["message"]


def test_greeting_upload_list_download_replace_delete(tenant: Tenant, server: LiveServer) -> None:
    settings = server.settings
    did = domain_id(settings, tenant.domain)
    mulaw, tune = wav_g711(3.0), mp3(100)
    with tenant.as_role("Basic User") as me:
        made = me.post(
            "/ns-api/v2/domains/~/users/~/greetings",
            json={"synchronous": "yes", "script": "Leave a message", "base64_file": b64(mulaw)},
        )
        assert made.status_code == 201, made.text
        g = made.json()
        assert g["ordinal-order"] == 1 and g["filename"] == "greeting-1.wav"
        assert g["file-duration-seconds"] == 3 and g["file-duration-milliseconds"] == 3000
        assert g["file-content-type"] == "audio/wav" and g["file-encoding"] == "mulaw"
        assert g["file-sample-rate-hz"] == 8000 and g["file-channels"] == 1
        assert g["file-size-bytes"] == len(mulaw) and g["file-script-text"] == "Leave a message"
        assert g["uploaded-by"] == tenant.uid("Basic User") and g["user"] == "1001"
        assert g["file-access-url"].endswith(
            f"/ns-api/v2/domains/{tenant.domain}/users/1001/greetings/1/download"
        )
        # Multipart, the MP3 claimed to be a WAV: the bytes decide.
        up = me.post(
            greetings(tenant),
            files={"File": ("song.wav", tune, "audio/wav")},
            data={"script": "a tune", "synchronous": "yes", "encoding": "audio/wav"},
        )
        assert up.status_code == 201, up.text
        assert up.json()["ordinal-order"] == 2 and up.json()["file-content-type"] == "audio/mpeg"
        assert up.json()["filename"] == "greeting-2.mp3"
        assert up.json()["file-duration-seconds"] == 3  # 2.6 s, rounded
        assert len(stored_files(settings, "prompts", did)) == 2
        listed = me.get(greetings(tenant)).json()
        assert [x["ordinal-order"] for x in listed] == [1, 2]
        assert me.get(greetings(tenant) + "/count").json() == {
            "total": 2,
            "count": 2,
            "size": len(mulaw) + len(tune),
        }
        got = me.get(greetings(tenant) + "/1/download")
        assert got.status_code == 200 and got.content == mulaw
        assert got.headers["content-type"] == "audio/wav"
        assert 'filename="greeting-1.wav"' in got.headers["content-disposition"]
        assert got.headers["x-content-type-options"] == "nosniff"
        assert me.get(greetings(tenant) + "/2/download").headers["content-type"] == "audio/mpeg"
        # An index in use is a conflict; a replace swaps the file and removes the old one.
        taken = me.post(greetings(tenant), json={"index": 1, "base64_file": b64(mulaw)})
        assert_error(taken, 409, "already exists")
        before = stored_files(settings, "prompts", did)
        pcm = wav_pcm(1.5)
        swapped = me.put(greetings(tenant) + "/1", json={"base64_file": b64(pcm)})
        assert swapped.status_code == 200, swapped.text
        assert swapped.json()["file-encoding"] == "pcm"
        assert swapped.json()["file-script-text"] == "Leave a message"
        assert swapped.json()["file-duration-milliseconds"] == 1500
        after = stored_files(settings, "prompts", did)
        assert len(after) == 2 and len(after & before) == 1
        assert me.get(greetings(tenant) + "/1/download").content == pcm
        # Text-to-speech is not faked.
        tts = me.post(greetings(tenant), json={"script": "Hello there", "synchronous": "yes"})
        assert_error(tts, 501, "Text-to-speech is not available")
        assert_error(me.put(greetings(tenant) + "/1", json={"script": "Hi"}), 501)
        assert_error(me.post(greetings(tenant), json={"synchronous": "yes"}), 422, "No audio")
        gone = me.delete(greetings(tenant) + "/2")
        assert gone.status_code == 200 and gone.json()["ordinal-order"] == 2
        assert_error(me.get(greetings(tenant) + "/2"), 404, "Greeting 2 of user 1001")
        assert_error(me.get(greetings(tenant) + "/2/download"), 404)
        assert len(stored_files(settings, "prompts", did)) == 1
        # The next free index is reused.
        again = me.post(greetings(tenant), files={"File": ("x.mp3", tune, "audio/mpeg")})
        assert again.json()["ordinal-order"] == 2
    with tenant.as_role("Office Manager") as om:
        audit = om.get(
            f"{V2}/auditlog",
            params={
                "datetime-start": "2000-01-01T00:00:00Z",
                "datetime-end": "2100-01-01T00:00:00Z",
                "target-object": "audio",
                "target-domain": tenant.domain,
            },
        )
        assert audit.status_code == 200, audit.text
        actions = sorted(e["action-type"] for e in audit.json())
        assert actions == ["create", "create", "create", "delete", "update"]


def test_domain_music_on_hold_and_hold_messages(tenant: Tenant) -> None:
    d = tenant.domain
    moh, msg = f"{V2}/domains/{d}/moh", f"{V2}/domains/{d}/msg"
    with tenant.as_role("Office Manager") as om:
        intro = om.post(
            moh, files={"File": ("intro.wav", wav_pcm(1), "audio/wav")}, data={"index": "0"}
        )
        assert intro.status_code == 201, intro.text
        assert intro.json()["ordinal-order"] == 0 and intro.json()["user"] is None
        assert intro.json()["audio-type"] == "moh"
        assert intro.json()["file-access-url"].endswith(f"/domains/{d}/moh/0/download")
        track = om.post(moh, json={"base64_file": b64(mp3(40)), "script": "jazz"})
        assert track.json()["ordinal-order"] == 1
        m = om.post(msg, json={"base64_file": b64(wav_g711(1, tag=6))})
        assert m.status_code == 201 and m.json()["ordinal-order"] == 1
        assert m.json()["file-encoding"] == "alaw"
        assert om.get(moh + "/count").json()["total"] == 2
        assert om.get(moh + "/0").json()["filename"] == "moh-0.wav"
        swapped = om.put(
            moh + "/0", files={"File": ("x.mp3", mp3(30), "audio/mpeg")}, data={"convert": "yes"}
        )
        assert swapped.status_code == 200 and swapped.json()["filename"] == "moh-0.mp3"
        assert om.get(moh + "/0/download").content == mp3(30)
        # Greetings start at 1; music on hold at 0.
        zero = om.post(
            f"{V2}/domains/{d}/users/1001/greetings",
            json={"index": 0, "base64_file": b64(wav_pcm(1))},
        )
        assert_error(zero, 422, "index must be 1")
    with tenant.as_role("Site Manager") as sm:
        assert sm.get(moh).status_code == 200
        assert sm.get(moh + "/1/download").content[:3] == b"\xff\xfb\x90"[:3]
        assert_error(sm.post(moh, json={"base64_file": b64(wav_pcm(1))}), 403)
        assert_error(sm.delete(moh + "/1"), 403)
    with tenant.as_role("Call Center Supervisor") as sup:
        assert sup.get(msg).status_code == 200
        assert_error(sup.put(msg + "/1", json={"base64_file": b64(wav_pcm(1))}), 403)
    with tenant.as_role("Basic User") as me:
        assert_error(me.get(moh), 403)
        assert_error(me.get(msg + "/1/download"), 403)
        assert_error(me.delete(moh + "/0"), 403)
        own = me.post(f"{V2}/domains/~/users/~/moh", json={"base64_file": b64(wav_pcm(1))})
        assert own.status_code == 201 and own.json()["ordinal-order"] == 1
        assert me.get(f"{V2}/domains/~/users/~/moh/count").json()["total"] == 1
        own_msg = me.post(f"{V2}/domains/~/users/~/msg", json={"base64_file": b64(wav_pcm(1))})
        assert own_msg.status_code == 201
    with tenant.as_role("Office Manager") as om:
        assert om.get(moh + "/count").json()["total"] == 2  # the user's own are apart
        assert om.delete(moh + "/0").status_code == 200
        assert om.get(moh + "/count").json()["total"] == 1


def test_roles_on_a_users_files(tenant: Tenant) -> None:
    d = tenant.domain
    with tenant.as_role("Office Manager") as om:
        r = om.post(greetings(tenant), json={"base64_file": b64(wav_pcm(1))})
        assert r.status_code == 201 and r.json()["uploaded-by"] == tenant.uid("Office Manager")
    with tenant.as_role("Reseller") as rs:
        assert rs.get(greetings(tenant) + "/1").status_code == 200
        assert (
            rs.put(greetings(tenant) + "/1", json={"base64_file": b64(wav_pcm(2))}).status_code
            == 200
        )
    with tenant.as_role("Call Center Supervisor") as sup:
        assert sup.get(greetings(tenant)).status_code == 200
        assert_error(sup.post(greetings(tenant), json={"base64_file": b64(wav_pcm(1))}), 403)
        assert_error(sup.delete(greetings(tenant) + "/1"), 403)
    with tenant.as_role("Site Manager") as sm:  # 1001 is not in the Site Manager's site
        assert_error(sm.get(greetings(tenant)), 403)
        assert_error(sm.post(greetings(tenant), json={"base64_file": b64(wav_pcm(1))}), 403)
    for role in ("Basic User", "Call Center Agent"):
        with tenant.as_role(role) as c:
            other = "1000"
            assert_error(c.get(greetings(tenant, other)), 403)
            assert_error(c.get(greetings(tenant, other) + "/count"), 403)
            assert_error(
                c.post(greetings(tenant, other), json={"base64_file": b64(wav_pcm(1))}), 403
            )
    with tenant.as_role("Basic User") as me:
        assert_error(me.delete(greetings(tenant, "1000") + "/1"), 403)
        assert me.get(f"{V2}/domains/{d}/users/1001/greetings/1").status_code == 200
        assert_error(me.get(f"{V2}/domains/{d}/users/4444/greetings"), 404, "User 4444")


def test_bad_uploads_change_nothing(tenant: Tenant, server: LiveServer) -> None:
    settings = server.settings
    did = domain_id(settings, tenant.domain)
    url = greetings(tenant)
    limit = settings.audio_max_bytes
    with tenant.as_role("Basic User") as me:
        assert me.post(url, json={"base64_file": b64(wav_pcm(1))}).status_code == 201
        before = (me.get(url).json(), stored_files(settings, "prompts", did))
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
        cases: list[tuple[dict[str, Any], int, str]] = [
            ({"base64_file": b64(png), "encoding": "audio/wav"}, 415, "PNG image"),
            ({"base64_file": b64(b"#!/bin/sh\nrm -rf /\n")}, 415, "a script"),
            ({"base64_file": b64(wav_with_tag(2))}, 415, "ADPCM"),
            ({"base64_file": b64(b"OggS" + b"\x00" * 64)}, 415, "Ogg"),
            ({"base64_file": b64(truncated(wav_pcm(1)))}, 422, "WAV file is damaged"),
            ({"base64_file": b64(b"RIFF\x04\x00\x00\x00WAVE")}, 422, "damaged"),
            ({"base64_file": b64(b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 64)}, 422, "MP3"),
            ({"base64_file": b64(b"")}, 422, "empty"),
            ({"base64_file": "this is not base64!"}, 422, "base64"),
            ({"base64_file": b64(wav_pcm(1)), "colour": "red"}, 422, "unknown field 'colour'"),
            ({"base64_file": b64(wav_pcm(1)), "index": 1000}, 422, "index"),
            ({"base64_file": b64(wav_pcm(1)), "index": "x"}, 422, "index"),
            ({"base64_file": b64(wav_pcm(1)), "script": "x" * 2001}, 422, "script"),
            ({"base64_file": b64(wav_pcm(1)), "script": "a\x00b"}, 422, "NUL"),
        ]
        for body, status, needle in cases:
            assert_error(me.post(url, json=body), status, needle)
        assert_error(me.put(url + "/1", json={"base64_file": b64(png)}), 415)
        assert_error(me.put(url + "/1", json={"base64_file": b64(wav_pcm(1)), "index": 2}), 422)
        assert_error(me.put(url + "/7", json={"base64_file": b64(wav_pcm(1))}), 404)
        assert_error(
            me.post(url, content=b"[1, 2]", headers={"content-type": "application/json"}), 422
        )
        assert_error(
            me.post(url, content=b"{oops", headers={"content-type": "application/json"}), 422
        )
        assert_error(me.post(url, content=b"RIFF", headers={"content-type": "audio/wav"}), 415)
        assert_error(
            me.post(url, files={"Other": ("a.wav", wav_pcm(1), "audio/wav")}), 422, "'Other'"
        )
        assert_error(me.post(url, data={"File": "x"}), 415, "x-www-form-urlencoded")
        no_name = {"File": (None, b"not a file"), "script": (None, b"x")}
        assert_error(me.post(url, files=no_name), 422, "file part")
        assert_error(
            me.post(url, files={"File": ("a.png", png, "audio/wav")}, data={"index": "3"}), 415
        )
        two = [
            ("File", ("a.wav", wav_pcm(1), "audio/wav")),
            ("File", ("b.wav", wav_pcm(1), "audio/wav")),
        ]
        assert_error(me.post(url, files=two), 422, "multipart")
        # Too big: a file just over the limit (multipart, the service refuses it), and a body
        # over the upload paths' limit (the body guard refuses it before anything runs).
        over = b"RIFF" + b"\x00" * (limit - 3)
        assert_error(me.post(url, files={"File": ("big.wav", over, "audio/wav")}), 413, "limit")
        huge = {"base64_file": b64(b"\x00" * (limit + 600 * 1024))}
        assert_error(me.post(url, json=huge), 413, "too large")
        just_over = {"base64_file": b64(b"RIFF" + b"\x00" * (limit - 2))}
        assert_error(me.post(url, json=just_over), 413, "limit")
        # Names in paths are numbers, never paths.
        for index in (
            "abc",
            "-1",
            "1.5",
            "%2e%2e",
            "..%2F..%2Fetc%2Fpasswd",
            "1%00",
            "0x1",
            "1" * 5,
        ):
            r = me.get(f"{url}/{index}/download")
            assert r.status_code in (400, 404), (index, r.status_code, r.text)
            assert r.headers["content-type"].startswith("application/json")
            r = me.delete(f"{url}/{index}")
            assert r.status_code in (400, 404), (index, r.status_code)
        assert_error(me.get(f"{url}/abc"), 400, "index 'abc' is not valid")
        assert (me.get(url).json(), stored_files(settings, "prompts", did)) == before


def test_upload_bodies_elsewhere_keep_the_normal_limit(tenant: Tenant) -> None:
    """The larger limit and multipart are only for upload paths."""
    with tenant.as_role("Office Manager") as om:
        big = om.put(
            f"{V2}/domains/{tenant.domain}/users/1001",
            json={"name-first-name": "x" * (2 * 1024 * 1024)},
        )
        assert_error(big, 413)
        form = om.post(
            f"{V2}/domains/{tenant.domain}/users", files={"File": ("a.wav", b"RIFF", "audio/wav")}
        )
        assert_error(form, 415)


_PLANTINGS = itertools.count(1)


def _plant(t: Tenant) -> dict[str, bytes]:
    """Files of every kind in a tenant: returns the bytes by download URL."""
    d = t.domain
    # Each planting differs from the last 39 in every file (MP3 frames included): random picks
    # once gave two tenants the same MP3.
    k = next(_PLANTINGS) % 40
    n = k / 100
    files = {
        f"{V2}/domains/{d}/users/1001/greetings": wav_pcm(1 + n),
        f"{V2}/domains/{d}/users/1001/moh": mp3(20 + k),
        f"{V2}/domains/{d}/users/1001/msg": wav_g711(1 + n),
        f"{V2}/domains/{d}/moh": wav_pcm(2 + n),
        f"{V2}/domains/{d}/msg": wav_g711(2 + n),
    }
    with t.as_role("Office Manager") as om:
        for url, data in files.items():
            r = om.post(url, json={"base64_file": b64(data)})
            assert r.status_code == 201, r.text
    return {f"{url}/1/download": data for url, data in files.items()}


def _state(t: Tenant, planted: dict[str, bytes]) -> list[Any]:
    su = t.api.su
    out: list[Any] = []
    for download, data in planted.items():
        base = download.removesuffix("/1/download")
        out.append(su.get(base).json())
        assert su.get(download).content == data
    return out


def test_other_tenants_audio_is_missing_and_unchangeable(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    planted = _plant(other_tenant)
    before = _state(other_tenant, planted)
    mine = _plant(tenant)
    for role in ROLES:
        _try_everything(tenant, other_tenant, role, planted, mine)
    assert _state(other_tenant, planted) == before


def _try_everything(
    tenant: Tenant,
    other_tenant: Tenant,
    role: str,
    planted: dict[str, bytes],
    mine: dict[str, bytes],
) -> None:
    wav = {"base64_file": b64(wav_pcm(1))}
    with tenant.as_role(role) as c:
        for download in planted:
            base = download.removesuffix("/1/download")
            for r in (
                c.get(base),
                c.get(base + "/count"),
                c.get(base + "/1"),
                c.get(download),
                c.post(base, json=wav),
                c.post(base, files={"File": ("a.wav", wav_pcm(1), "audio/wav")}),
                c.put(base + "/1", json=wav),
                c.delete(base + "/1"),
            ):
                assert_error(r, 404)
            # The same file through this tenant's own URL is this tenant's file, never theirs.
            own = download.replace(other_tenant.domain, tenant.domain)
            r = c.get(own)
            if r.status_code == 200:
                assert r.content == mine[own] != planted[download]
