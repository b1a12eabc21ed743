"""Auto attendants over HTTP: menus, destinations checked against the extension plan,
time-frame variants, limits, dead-end loops, deletion rules and roles."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.tenants import Tenant

V2 = "/ns-api/v2"
NO_DIAL = {
    "3-digit-dial-by-extension": "no",
    "4-digit-dial-by-extension": "no",
    "5-digit-dial-by-extension": "no",
}


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json()


def refused(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    assert r.json()["code"] == status
    return str(r.json()["message"])


def to(app: str, target: str | None = None) -> dict[str, str]:
    return {"destination-application": app, **({"destination-user": target} if target else {})}


MAIN = {
    "intro-greetings": "100, greeting-101.wav",
    "audio": {
        "ordinal-order": 102,
        "file-script-text": "Press 1 for sales",
        "file-size-kilobytes": "22 KB",
    },
    "no-key-press": "option-1",
    "option-1": {"description": "Sales", **to("to-callqueue", "2000")},
    "option-2": {
        "description": "Support",
        "audio": {"filename": "greeting-103.wav"},
        "auto-attendant": {
            **NO_DIAL,
            "option-1": to("to-user", "1000"),
            "option-9": to("to-user", "3000"),
        },
    },
    "option-3": to("to-user", "3005"),
    "option-4": to("to-connection", "+1 212 555 0100"),
    "option-0": to("to-voicemail", "1000"),
    "option-*": to("hangup"),
}


def test_attendants(tenant: Tenant) -> None:
    d = tenant.domain
    aa = f"{V2}/domains/{d}/autoattendants"
    with tenant.as_role("Office Manager") as om:
        ok(om.post(f"{V2}/domains/{d}/callqueues", json={"callqueue": "2000"}), 201)
        ok(om.post(f"{V2}/domains/{d}/conferences", json={"conference": "3005"}), 201)
        created = ok(
            om.post(aa, json={"user": "3000", "attendant-name": "Main", "auto-attendant": MAIN}),
            201,
        )
        prompt = created["starting-prompt"]
        assert prompt == "Prompt_300001" and created["time-frame"] == "*"
        menu = created["auto-attendant"]
        assert menu["option-4"]["destination-user"] == "+12125550100"
        assert menu["option-*"] == {"destination-application": "hangup"}
        assert menu["audio"] == {"ordinal-order": 102, "file-script-text": "Press 1 for sales"}
        assert menu["4-digit-dial-by-extension"] == "yes"  # NetSapiens' default
        assert menu["unassigned-key-press"] == "repeat"
        assert menu["option-2"]["auto-attendant"]["no-key-press"] == "repeat"
        assert created["read-path"] == f"{V2}/domains/{d}/users/3000/autoattendants/{prompt}"
        assert ok(om.get(created["read-path"])) == created
        assert ok(om.get(f"{aa}/{prompt}")) == created
        refused(om.get(f"{V2}/domains/{d}/users/3001/autoattendants/{prompt}"), 404)
        refused(om.get(f"{aa}/Prompt_999901"), 404)

        # Bad menus are refused and nothing is created.
        for bad, words in (
            ({"option-1": to("to-user", "4242")}, "extension 4242 does not exist"),
            ({"option-1": to("to-callqueue", "1000")}, "not a call queue"),
            ({"option-1": to("to-voicemail", "2000")}, "only users have voicemail"),
            ({"option-1": to("to-connection", "call me")}, "needs a phone number"),
            ({"option-1": to("available-number", "1000")}, "not a call destination"),
            ({"option-1": to("hangup", "1000")}, "takes no destination-user"),
            ({"option-1": to("to-user")}, "needs a destination-user"),
            ({"option-1": {**to("to-user", "1000"), "auto-attendant": {}}}, "both"),
            ({"option-1": to("to-user", "1000"), "no-key-press": "option-7"}, "option-7"),
            ({"no-key-press": "option-99"}, "no-key-press"),
            ({**NO_DIAL}, "no way out"),
            ({"option-1": {"colour": "red"}}, "unknown field"),
            ({"intro-greetings": "../../etc/passwd"}, "intro-greetings"),
        ):
            assert words in refused(
                om.post(aa, json={"user": "3001", "attendant-name": "x", "auto-attendant": bad}),
                422,
            ), bad
        deep: dict[str, Any] = {"option-1": to("hangup")}
        for _ in range(5):
            deep = {"option-1": {"auto-attendant": deep}}
        assert "5 deep" in refused(
            om.post(aa, json={"user": "3001", "attendant-name": "x", "auto-attendant": deep}), 422
        )
        for body in (
            {"user": "3001", "attendant-name": "x", "time-frame": "a/b"},
            {"user": "3 001", "attendant-name": "x"},
            {"user": "3001"},
        ):
            refused(om.post(aa, json=body), 422)
        assert ok(om.get(f"{aa}/count")) == {"total": 1}

        # The extension plan: a user's extension is taken; an attendant's cannot be reused.
        assert "belongs to a user" in refused(
            om.post(aa, json={"user": "1000", "attendant-name": "x"}), 409
        )
        assert "belongs to a autoattendant" in refused(
            om.post(f"{V2}/domains/{d}/callqueues", json={"callqueue": "3000"}), 409
        )

        # Time-frame variants of one attendant.
        night = ok(
            om.post(
                aa,
                json={
                    "user": "3000",
                    "attendant-name": "Main (night)",
                    "time-frame": "After Hours",
                    "auto-attendant": {"option-1": to("to-voicemail", "1000")},
                },
            ),
            201,
        )
        assert night["starting-prompt"] == "Prompt_300002"
        assert "already has a menu for time frame 'After Hours'" in refused(
            om.post(aa, json={"user": "3000", "attendant-name": "x", "time-frame": "After Hours"}),
            409,
        )
        assert "time frame '*'" in refused(
            om.put(f"{aa}/Prompt_300002", json={"time-frame": "*"}), 409
        )
        assert ok(om.get(f"{aa}/count")) == {"total": 1}  # attendants, not variants
        assert len(ok(om.get(aa))) == 2

    # The domain's limit counts attendants; more variants of one are fine.
    ok(tenant.api.su.put(f"{V2}/domains/{d}", json={"limits-max-auto-attendants": 1}))
    with tenant.as_role("Office Manager") as om:
        assert "limit of 1 auto attendants" in refused(
            om.post(aa, json={"user": "3001", "attendant-name": "x"}), 409
        )
        ok(om.post(aa, json={"user": "3000", "attendant-name": "x", "time-frame": "Holidays"}), 201)
    ok(tenant.api.su.put(f"{V2}/domains/{d}", json={"limits-max-auto-attendants": None}))

    with tenant.as_role("Office Manager") as om:
        # Updates merge: options given replace theirs, `remove` deletes, the rest stays.
        path = f"{V2}/domains/{d}/users/3000/autoattendants/{prompt}"
        changed = ok(
            om.put(
                path,
                json={
                    "attendant-name": "Main menu",
                    "auto-attendant": {
                        "option-*": {"remove": "yes"},
                        "option-5": to("to-user", "1001"),
                    },
                },
            )
        )
        menu = changed["auto-attendant"]
        assert changed["attendant-name"] == "Main menu"
        assert "option-*" not in menu and menu["option-5"]["destination-user"] == "1001"
        assert menu["option-1"]["destination-user"] == "2000"
        # A read sent back whole changes nothing.
        assert ok(om.put(path, json=changed))["auto-attendant"] == menu
        assert "cannot change" in refused(om.put(path, json={"user": "3009"}), 422)
        assert "cannot change" in refused(om.put(path, json={"starting-prompt": "Prompt_1"}), 422)
        refused(om.put(path, json={"auto-attendant": {"option-5": to("to-user", "4242")}}), 422)
        assert ok(om.get(path))["auto-attendant"] == menu

        # Loops: fine while there is a way out somewhere, refused when they make a dead end.
        ok(
            om.post(
                aa,
                json={
                    "user": "3001",
                    "attendant-name": "A",
                    "auto-attendant": {**NO_DIAL, "option-1": to("to-user", "1000")},
                },
            ),
            201,
        )
        ok(
            om.post(
                aa,
                json={
                    "user": "3002",
                    "attendant-name": "B",
                    "auto-attendant": {**NO_DIAL, "option-1": to("to-user", "3001")},
                },
            ),
            201,
        )
        p3001 = f"{aa}/Prompt_300101"
        message = refused(
            om.put(p3001, json={"auto-attendant": {"option-1": to("to-user", "3002")}}), 422
        )
        assert "attendant 3001" in message and "lead only to attendant(s) 3002" in message
        ok(om.put(p3001, json={"auto-attendant": {"option-2": to("to-user", "3002")}}))
        assert "no way out" in refused(
            om.put(p3001, json={"auto-attendant": {"option-3": {"auto-attendant": NO_DIAL}}}), 422
        )
        assert ok(om.get(p3001))["auto-attendant"]["option-1"]["destination-user"] == "1000"

        # Deletion: not while something still routes to the attendant (or the conference).
        assert "attendant 3002 (Prompt_300201) option-1" in refused(om.delete(p3001), 409)
        assert "attendant 3000" in refused(om.delete(f"{V2}/domains/{d}/conferences/3005"), 409)
        assert "attendant 3000" in refused(om.delete(f"{V2}/domains/{d}/callqueues/2000"), 409)
        # 3001 and 3002 send calls to each other: undo one side first.
        assert "attendant 3001" in refused(om.delete(f"{aa}/Prompt_300201"), 409)
        ok(om.put(p3001, json={"auto-attendant": {"option-2": None}}))
        ok(om.delete(f"{aa}/Prompt_300201"))
        ok(om.delete(p3001))
        for variant in ("Prompt_300002", "Prompt_300003"):
            ok(om.delete(f"{V2}/domains/{d}/users/3000/autoattendants/{variant}"))
        # Still held by its last variant; released with it.
        refused(om.post(f"{V2}/domains/{d}/callqueues", json={"callqueue": "3000"}), 409)
        assert ok(om.delete(path))["starting-prompt"] == prompt
        refused(om.get(path), 404)
        ok(om.post(f"{V2}/domains/{d}/callqueues", json={"callqueue": "3000"}), 201)
        assert ok(om.get(aa)) == []
        ok(om.delete(f"{V2}/domains/{d}/conferences/3005"))


def test_attendant_roles(tenant: Tenant) -> None:
    d = tenant.domain
    aa = f"{V2}/domains/{d}/autoattendants"
    with tenant.as_role("Office Manager") as om:
        ok(om.post(aa, json={"user": "3000", "attendant-name": "Main"}), 201)
    for role in ("Site Manager", "Call Center Supervisor", "Reseller"):
        with tenant.as_role(role) as c:
            assert [a["user"] for a in ok(c.get(aa))] == ["3000"], role
            ok(c.get(f"{aa}/Prompt_300001"))
    for role in ("Site Manager", "Call Center Supervisor"):
        with tenant.as_role(role) as c:
            refused(c.post(aa, json={"user": "3001", "attendant-name": "x"}), 403)
            refused(c.put(f"{aa}/Prompt_300001", json={"attendant-name": "x"}), 403)
            refused(c.delete(f"{aa}/Prompt_300001"), 403)
    for role in ("Call Center Agent", "Basic User"):
        with tenant.as_role(role) as c:
            for path in (aa, f"{aa}/count", f"{aa}/Prompt_300001"):
                refused(c.get(path), 403)
            refused(c.get(f"{V2}/domains/{d}/users/3000/autoattendants/Prompt_300001"), 403)
            refused(c.post(aa, json={"user": "3001", "attendant-name": "x"}), 403)
            refused(c.delete(f"{aa}/Prompt_300001"), 403)
    with tenant.as_role("Reseller") as reseller:
        ok(reseller.put(f"{aa}/Prompt_300001", json={"attendant-name": "Renamed"}))
    with tenant.as_role("Office Manager") as om:
        assert ok(om.get(f"{aa}/Prompt_300001"))["attendant-name"] == "Renamed"
