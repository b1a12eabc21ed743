"""Answer rules over HTTP: CRUD, order, validation of features and destinations, roles,
tenancy; and the routing snapshot loaded from what the API wrote."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx

from celito.runtime import Runtime
from tests.support.live import LiveServer
from tests.support.tenants import ROLE_USERS, Tenant

V2 = "/ns-api/v2"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
BUSINESS = {
    "timeframe-name": "Business hours",
    "timeframe-days-of-week-array": [
        {
            **{f"timeframe-weekly-{d}-begin-time-1": "0900" for d in WEEKDAYS},
            **{f"timeframe-weekly-{d}-end-time-1": "1700" for d in WEEKDAYS},
        }
    ],
}
FEATURES = (
    "simultaneous-ring",
    "do-not-disturb",
    "forward-always",
    "forward-on-active",
    "forward-on-busy",
    "forward-no-answer",
    "forward-when-unregistered",
    "forward-on-dnd",
    "forward-on-spam-call",
    "call-screening",
    "phone-numbers-to-allow",
    "phone-numbers-to-reject",
)


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json()


def ensure_default(c: httpx.Client, base: str) -> dict[str, Any]:
    """The user's default rule `*`: made with the user by the one-call user creation, or here."""
    r = c.get(f"{base}/*")
    if r.status_code == 404:
        return ok(c.post(base, json={"time-frame": "*"}), 201)
    return ok(r)


def frames(rules: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(r["time-frame"], r["order"]) for r in rules]


def test_answer_rules_crud_and_order(tenant: Tenant) -> None:
    d = tenant.domain
    with tenant.as_role("Office Manager") as om:
        ok(om.post(f"{V2}/domains/{d}/timeframes", json=BUSINESS), 201)
        ok(
            om.post(
                f"{V2}/domains/{d}/timeframes",
                json={"timeframe-name": "Always on", "timeframe-type": "always"},
            ),
            201,
        )
    base = f"{V2}/domains/~/users/~/answerrules"
    with tenant.as_role("Basic User") as user:
        ensure_default(user, base)
        (default,) = ok(user.get(base))
        assert default["time-frame"] == "*" and default["order"] == 1
        assert default["user"] == "1001" and default["domain"] == d
        assert default["enabled"] == "yes" and default["is-active"] is True
        assert set(FEATURES) <= set(default)
        assert all(default[f] == {"enabled": "no", "parameters": []} for f in FEATURES)
        again = user.post(base, json={"time-frame": "*", "synchronous": "yes"})
        assert again.status_code == 409 and "change it with PUT" in again.json()["message"]
        ok(user.delete(f"{base}/*"))
        assert ok(user.get(f"{base}/count")) == {"total": 0}
        default = ok(user.post(base, json={"time-frame": "*", "synchronous": "yes"}), 201)
        assert default["order"] == 1 and default["is-active"] is True

        # A new rule goes just above a trailing default rule.
        bh = ok(
            user.post(
                base,
                json={
                    "time-frame": "Business hours",
                    "simultaneous-ring": {
                        "enabled": "yes",
                        "parameters": [
                            "<OwnDevices>",
                            1000,
                            "confirm_+1 212 555 0100;delay=5",
                            "1000a",
                        ],
                    },
                    "forward-no-answer": {"enabled": "yes", "parameters": ["vmail_1001", 20]},
                    "phone-numbers-to-reject": {
                        "enabled": "yes",
                        "parameters": ["anonymous", "1900*"],
                    },
                },
            ),
            201,
        )
        assert bh["order"] == 1 and bh["forward-no-answer"]["parameters"] == ["vmail_1001", "20"]
        assert bh["simultaneous-ring"]["parameters"][1] == "1000"
        listed = ok(user.get(base))
        assert frames(listed) == [("Business hours", 1), ("*", 2)]
        assert sum(r["is-active"] for r in listed) == 1  # exactly one rule applies now
        assert ok(user.get(f"{base}/count")) == {"total": 2}
        assert (
            ok(user.get(f"{base}/Business hours"))["simultaneous-ring"] == bh["simultaneous-ring"]
        )
        assert ok(user.get(f"{base}/*"))["time-frame"] == "*"

        top = ok(
            user.post(
                base,
                json={
                    "time-frame": "Always on",
                    "new-position": "top",
                    "do-not-disturb": {"enabled": "yes"},
                },
            ),
            201,
        )
        assert top["order"] == 1 and top["is-active"] is True  # always active, first
        assert frames(ok(user.get(base))) == [("Always on", 1), ("Business hours", 2), ("*", 3)]
        assert not ok(user.get(f"{base}/*"))["is-active"]

        # Update: features replace, enabled, position.
        changed = ok(
            user.put(f"{base}/Always on", json={"enabled": "no", "new-position": "bottom"})
        )
        assert changed["enabled"] == "no" and changed["order"] == 3
        assert changed["do-not-disturb"]["enabled"] == "yes"  # untouched
        assert frames(ok(user.get(base))) == [("Business hours", 1), ("*", 2), ("Always on", 3)]
        ok(user.put(f"{base}/Always on", json={"order": 1}))
        assert frames(ok(user.get(base))) == [("Always on", 1), ("Business hours", 2), ("*", 3)]

        # Reorder with the spec's body.
        again = ok(
            user.put(
                f"{base}/reorder",
                json=[
                    {"time-frame": "*"},
                    {"time-frame": "Business hours"},
                    {"time-frame": "Always on"},
                ],
            )
        )
        assert frames(again) == [("*", 1), ("Business hours", 2), ("Always on", 3)]
        short = user.put(f"{base}/reorder", json=[{"time-frame": "*"}])
        assert short.status_code == 400 and "all timeframes" in short.json()["message"]
        twice = user.put(
            f"{base}/reorder",
            json=[{"time-frame": "*"}, {"time-frame": "*"}, {"time-frame": "Always on"}],
        )
        assert twice.status_code == 400
        unknown = user.put(
            f"{base}/reorder",
            json=[{"time-frame": "Nope"}, {"time-frame": "*"}, {"time-frame": "Business hours"}],
        )
        assert unknown.status_code == 404
        assert frames(ok(user.get(base))) == [("*", 1), ("Business hours", 2), ("Always on", 3)]

        # Move a rule to another time frame.
        ok(
            user.post(
                f"{V2}/domains/~/users/~/timeframes",
                json={"timeframe-name": "Mine", "timeframe-type": "always"},
            ),
            201,
        )
        moved = ok(user.put(f"{base}/Always on", json={"time-frame": "Mine"}))
        assert moved["time-frame"] == "Mine" and moved["enabled"] == "no"
        assert user.get(f"{base}/Always on").status_code == 404
        assert user.put(f"{base}/Mine", json={"time-frame": "*"}).status_code == 409

        # One rule per time frame.
        dup = user.post(base, json={"time-frame": "Business hours"})
        assert dup.status_code == 409 and "already has" in dup.json()["message"]

        # A time frame in use cannot be deleted; renaming it carries the rule along.
        busy = user.delete(f"{V2}/domains/~/users/~/timeframes/Mine")
        assert busy.status_code == 409 and "1001" in busy.json()["message"]
        ok(
            user.put(
                f"{V2}/domains/~/users/~/timeframes/Mine", json={"timeframe-name": "Still mine"}
            )
        )
        assert ok(user.get(f"{base}/Still mine"))["enabled"] == "no"

        deleted = ok(user.delete(f"{base}/Still mine"))
        assert deleted["time-frame"] == "Still mine"
        assert frames(ok(user.get(base))) == [("*", 1), ("Business hours", 2)]
        ok(user.delete(f"{V2}/domains/~/users/~/timeframes/Still mine"))
        assert user.delete(f"{base}/Still mine").status_code == 404
    with tenant.as_role("Office Manager") as om:
        in_use = om.delete(f"{V2}/domains/{d}/timeframes/Business hours")
        assert in_use.status_code == 409 and "1001" in in_use.json()["message"]


def test_features_and_destinations_are_checked(tenant: Tenant) -> None:
    base = f"{V2}/domains/~/users/~/answerrules"
    cases: list[tuple[dict[str, Any], int, str]] = [
        (
            {"forward-always": {"enabled": "yes", "parameters": ["4999"]}},
            422,
            "neither an extension",
        ),
        ({"forward-always": {"enabled": "yes", "parameters": ["1001"]}}, 422, "itself"),
        ({"forward-no-answer": {"enabled": "yes", "parameters": ["user_1001"]}}, 422, "itself"),
        ({"forward-always": {"enabled": "yes"}}, 422, "give the destination"),
        (
            {"forward-always": {"enabled": "yes", "parameters": ["1000", "1100"]}},
            422,
            "one destination",
        ),
        ({"forward-no-answer": {"enabled": "yes", "parameters": ["1000", 0]}}, 422, "seconds"),
        ({"forward-no-answer": {"enabled": "yes", "parameters": ["1000", "soon"]}}, 422, "seconds"),
        ({"forward-on-busy": {"enabled": "yes", "parameters": ["queue_2000"]}}, 422, "call queue"),
        ({"forward-on-busy": {"enabled": "yes", "parameters": ["aa_3000"]}}, 422, "auto attendant"),
        ({"forward-on-busy": {"enabled": "yes", "parameters": ["vmail_4999"]}}, 422, "voicemail"),
        ({"forward-on-busy": {"enabled": "yes", "parameters": ["phone_12"]}}, 422, "phone number"),
        (
            {"forward-on-busy": {"enabled": "yes", "parameters": ["<OwnDevices>"]}},
            422,
            "simultaneous ring only",
        ),
        (
            {"forward-on-busy": {"enabled": "yes", "parameters": ["some where"]}},
            422,
            "not a destination",
        ),
        ({"simultaneous-ring": {"enabled": "yes", "parameters": []}}, 422, "list what to ring"),
        (
            {"simultaneous-ring": {"enabled": "yes", "parameters": ["1000;delay=9999"]}},
            422,
            "delay",
        ),
        ({"simultaneous-ring": {"enabled": "yes", "parameters": ["park_701"]}}, 422, "not a park"),
        (
            {"simultaneous-ring": {"enabled": "yes", "parameters": ["4999z"]}},
            422,
            "neither an extension",
        ),
        (
            {"do-not-disturb": {"enabled": "yes", "parameters": ["1000"]}},
            422,
            "takes no parameters",
        ),
        (
            {"phone-numbers-to-allow": {"enabled": "yes", "parameters": ["call me"]}},
            422,
            "not a phone number",
        ),
        ({"phone-numbers-to-reject": {"enabled": "yes", "parameters": []}}, 422, "at least one"),
        ({"do-not-disturb": {"enabled": "maybe"}}, 422, "yes"),
        ({"forward-to-mars": {"enabled": "yes"}}, 422, "unknown field"),
        ({"new-position": "middle"}, 422, "new-position"),
        ({"order": -1}, 422, "order"),
    ]
    with tenant.as_role("Basic User") as user:
        ensure_default(user, base)
        ok(user.delete(f"{base}/*"))
        for extra, status, words in cases:
            r = user.post(base, json={"time-frame": "*", **extra})
            assert r.status_code == status, (extra, r.text)
            assert words in r.json()["message"], (words, r.json())
        assert ok(user.get(f"{base}/count")) == {"total": 0}
        missing = user.post(base, json={"time-frame": "Nope"})
        assert missing.status_code == 404 and "Nope" in missing.json()["message"]
        assert user.post(base, json={}).status_code == 422
        # Disabled forwards may keep a destination for later; phone numbers are fine.
        rule = ok(
            user.post(
                base,
                json={
                    "time-frame": "*",
                    "forward-always": {"enabled": "no", "parameters": ["+44 20 7123 4567"]},
                    "forward-when-unregistered": {
                        "enabled": "yes",
                        "parameters": ["phone_18005551234"],
                    },
                    "forward-on-dnd": {"enabled": "yes", "parameters": ["vmail_1000"]},
                    "phone-numbers-to-allow": {
                        "enabled": "yes",
                        "parameters": ["+1 (212) 555-0100"],
                    },
                    # A GET's answer can be sent back: read-only fields are ignored.
                    "is-active": True,
                },
            ),
            201,
        )
        assert rule["forward-always"] == {"enabled": "no", "parameters": ["+44 20 7123 4567"]}
        bad_put = user.put(
            f"{base}/*", json={"forward-always": {"enabled": "yes", "parameters": ["4999"]}}
        )
        assert bad_put.status_code == 422
        assert ok(user.get(f"{base}/*")) == rule  # nothing changed


def test_roles(tenant: Tenant) -> None:
    d = tenant.domain
    with tenant.as_role("Office Manager") as om:
        for u in ("1001", "1000", "1300"):
            ensure_default(om, f"{V2}/domains/{d}/users/{u}/answerrules")
        ok(
            om.put(
                f"{V2}/domains/{d}/users/1001/answerrules/*",
                json={"do-not-disturb": {"enabled": "yes"}},
            )
        )
        ok(
            om.put(
                f"{V2}/domains/{d}/users/1001/answerrules/*",
                json={"do-not-disturb": {"enabled": "no"}},
            )
        )
        ok(om.post(f"{V2}/domains/{d}/timeframes", json=BUSINESS), 201)
        ok(
            om.post(
                f"{V2}/domains/{d}/users/1000/answerrules", json={"time-frame": "Business hours"}
            ),
            201,
        )
    with tenant.as_role("Basic User") as user:
        assert (
            ok(user.get(f"{V2}/domains/{d}/users/1001/answerrules/*"))["do-not-disturb"]["enabled"]
            == "no"
        )
        for r in (
            user.get(f"{V2}/domains/{d}/users/1000/answerrules"),
            user.get(f"{V2}/domains/{d}/users/1000/answerrules/count"),
            user.post(f"{V2}/domains/{d}/users/1000/answerrules", json={"time-frame": "*"}),
            user.post(
                f"{V2}/domains/{d}/users/1000/answerrules", json={"time-frame": "Business hours"}
            ),
            user.put(f"{V2}/domains/{d}/users/1000/answerrules/*", json={"enabled": "no"}),
            user.put(
                f"{V2}/domains/{d}/users/1000/answerrules/reorder", json=[{"time-frame": "*"}]
            ),
            user.delete(f"{V2}/domains/{d}/users/1000/answerrules/*"),
        ):
            assert r.status_code == 403 and r.json()["code"] == 403, (r.request.url, r.text)
    with tenant.as_role("Call Center Supervisor") as ccs:
        assert len(ok(ccs.get(f"{V2}/domains/{d}/users/1001/answerrules"))) == 1
        assert (
            ccs.put(
                f"{V2}/domains/{d}/users/1001/answerrules/*", json={"enabled": "no"}
            ).status_code
            == 403
        )
        assert ccs.delete(f"{V2}/domains/{d}/users/1001/answerrules/*").status_code == 403
    with tenant.as_role("Call Center Agent") as agent:
        assert agent.get(f"{V2}/domains/{d}/users/1001/answerrules").status_code == 403
        ok(
            agent.put(
                f"{V2}/domains/~/users/~/answerrules/*", json={"call-screening": {"enabled": "yes"}}
            )
        )
        ok(
            agent.post(
                f"{V2}/domains/~/users/~/answerrules", json={"time-frame": "Business hours"}
            ),
            201,
        )
    with tenant.as_role("Site Manager") as sm:  # site HQ: 1001 and 1000 are in no site
        assert sm.get(f"{V2}/domains/{d}/users/1001/answerrules").status_code == 403
        assert (
            sm.put(f"{V2}/domains/{d}/users/1001/answerrules/*", json={"enabled": "no"}).status_code
            == 403
        )
    with tenant.as_role("Office Manager") as om:
        assert ok(om.get(f"{V2}/domains/{d}/users/1001/answerrules/*"))["enabled"] == "yes"
    with tenant.as_role("Reseller") as reseller:
        ok(reseller.put(f"{V2}/domains/{d}/users/1001/answerrules/*", json={"enabled": "no"}))
        assert (
            ok(reseller.delete(f"{V2}/domains/{d}/users/1000/answerrules/*"))["time-frame"] == "*"
        )


def _rules_of(t: Tenant) -> dict[str, Any]:
    su = t.api.su
    return {
        u: ok(su.get(f"{V2}/domains/{t.domain}/users/{u}/answerrules")) for u in ("1001", "1000")
    }


def test_cross_tenant_answer_rules_are_missing_and_unchangeable(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = other_tenant.domain
    with other_tenant.as_role("Office Manager") as om:
        ensure_default(om, f"{V2}/domains/{theirs}/users/1001/answerrules")
        ok(om.post(f"{V2}/domains/{theirs}/timeframes", json=BUSINESS), 201)
        ok(
            om.post(
                f"{V2}/domains/{theirs}/users/1001/answerrules",
                json={"time-frame": "Business hours"},
            ),
            201,
        )
        ok(om.put(f"{V2}/domains/{theirs}/users/1001/answerrules/*", json={"enabled": "no"}))
    before = _rules_of(other_tenant)
    base = f"{V2}/domains/{theirs}/users/1001/answerrules"
    for role in ROLE_USERS:
        with tenant.as_role(role) as c:
            for path in (
                base,
                f"{base}/count",
                f"{base}/*",
                f"{base}/Business hours",
                f"{V2}/domains/{theirs}/users/~/answerrules",
            ):
                assert c.get(path).status_code == 404, (role, path)
            assert c.post(base, json={"time-frame": "*"}).status_code == 404
            assert c.put(f"{base}/*", json={"enabled": "no"}).status_code == 404
            assert (
                c.put(
                    f"{base}/reorder", json=[{"time-frame": "*"}, {"time-frame": "Business hours"}]
                ).status_code
                == 404
            )
            assert c.delete(f"{base}/Business hours").status_code == 404
            # Their shared time frame does not exist for our rules either.
            mine = c.post(
                f"{V2}/domains/~/users/~/answerrules", json={"time-frame": "Business hours"}
            )
            assert mine.status_code == 404, (role, mine.text)
            # Nor can our rules forward into their domain's extensions by any spelling.
            fwd = c.post(
                f"{V2}/domains/~/users/~/answerrules",
                json={
                    "time-frame": "*",
                    "forward-always": {"enabled": "yes", "parameters": [f"1000@{theirs}"]},
                },
            )
            assert fwd.status_code == 422, (role, fwd.text)
    assert _rules_of(other_tenant) == before


def test_snapshot_loader_reads_what_the_api_wrote(tenant: Tenant, server: LiveServer) -> None:
    """load_snapshot over the same database the server uses; then a routing decision."""
    d = tenant.domain
    su = tenant.api.su
    ok(su.put(f"{V2}/domains/{d}", json={"time-zone": "America/New_York"}))
    ok(
        su.put(
            f"{V2}/domains/{d}/users/1000",
            json={"time-zone": "Europe/Berlin", "ring-no-answer-timeout-seconds": 15},
        )
    )
    ok(su.put(f"{V2}/domains/{d}/users/1100", json={"voicemail-enabled": "no"}))
    with tenant.as_role("Office Manager") as om:
        ok(om.post(f"{V2}/domains/{d}/timeframes", json=BUSINESS), 201)
        ensure_default(om, f"{V2}/domains/{d}/users/1001/answerrules")
        ok(
            om.put(
                f"{V2}/domains/{d}/users/1001/answerrules/*",
                json={"forward-always": {"enabled": "yes", "parameters": ["1000"]}},
            )
        )
        ok(
            om.post(
                f"{V2}/domains/{d}/users/1001/answerrules",
                json={
                    "time-frame": "Business hours",
                    "simultaneous-ring": {"enabled": "yes", "parameters": ["<OwnDevices>", "1000"]},
                    "forward-no-answer": {"enabled": "yes", "parameters": ["1100"]},
                },
            ),
            201,
        )

    from celito.routing.engine import route
    from celito.routing.loader import load_snapshot
    from celito.routing.snapshot import Device, PhoneNumber

    async def devices(session: Any, domain_id: int) -> list[Device]:
        return [
            Device("1001", "1001", True),
            Device("1001a", "1001", False),
            Device("1000", "1000", True),
        ]

    async def numbers(session: Any, domain_id: int) -> list[PhoneNumber]:
        return [PhoneNumber("+12125550100", "1001")]

    async def load() -> Any:
        runtime = Runtime.build(server.settings)
        try:
            async with runtime.db.writer() as session:
                from sqlalchemy import select

                from celito.domains.models import Domain

                domain_id = await session.scalar(select(Domain.id).where(Domain.name == d))
                assert domain_id is not None
                from celito.answerrules.service import forwards_to

                assert sorted(await forwards_to(session, domain_id, "1000")) == [
                    "user 1001's answer rule for * (forward-always)",
                    "user 1001's answer rule for Business hours (simultaneous-ring)",
                ]
                assert await forwards_to(session, domain_id, "1300") == []
                return await load_snapshot(session, domain_id, devices=devices, numbers=numbers)
        finally:
            await runtime.db.dispose()

    snap = asyncio.run(load())
    assert snap.domain == d and snap.time_zone == "America/New_York"
    users = {u.user: u for u in snap.users}
    assert set(users) == set(ROLE_USERS.values())
    assert users["1000"].time_zone == "Europe/Berlin" and users["1000"].ring_seconds == 15
    assert users["1100"].voicemail is False and users["1001"].voicemail is True
    assert [r.time_frame for r in sorted(users["1001"].rules, key=lambda r: r.order)] == [
        "Business hours",
        "*",
    ]

    monday_10_ny = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    day = route(snap, "+1 212 555 0100", monday_10_ny)
    assert day.describe() == (
        "ring 1001, 1000 for 25 s → forward to 1100 (no-answer) → hangup 1100 (unregistered)"
    )
    night = route(snap, "1001", monday_10_ny.replace(hour=23))
    assert [s.action for s in night.steps] == ["forward", "ring", "voicemail"]
    assert night.steps[1].seconds == 15
    assert route(snap, "4999", monday_10_ny).no_route


def test_default_rule_and_cleanup_for_user_lifecycle(tenant: Tenant, server: LiveServer) -> None:
    """create_default_for_user / delete_for_user, as the one-call user creation and user
    deletion use them; and deleting users or domains takes their rules and frames along."""
    from sqlalchemy import select

    from celito.answerrules import service as answerrules
    from celito.auth.caller import system_caller
    from celito.domains.models import Domain
    from celito.users.models import User

    d = tenant.domain
    su = tenant.api.su
    ok(su.post(f"{V2}/domains/{d}/users", json={"user": "1500", "user-scope": "Basic User"}), 201)
    ok(
        su.post(
            f"{V2}/domains/{d}/users/1500/timeframes",
            json={"timeframe-name": "Own", "timeframe-type": "always"},
        ),
        201,
    )
    ok(su.post(f"{V2}/domains/{d}/users/1500/answerrules", json={"time-frame": "Own"}), 201)

    async def with_user(action: str) -> Any:
        runtime = Runtime.build(server.settings)
        try:
            async with runtime.db.writer() as session:
                domain_id = await session.scalar(select(Domain.id).where(Domain.name == d))
                user = await session.scalar(
                    select(User).where(User.domain_id == domain_id, User.user == "1500")
                )
                assert user is not None
                caller = system_caller()
                if action == "default":
                    first = await answerrules.create_default_for_user(session, caller, user)
                    again = await answerrules.create_default_for_user(session, caller, user)
                    assert first.id == again.id  # idempotent
                    result: Any = first.position
                else:
                    result = await answerrules.delete_for_user(session, caller, user)
                await session.commit()
                return result
        finally:
            await runtime.db.dispose()

    ensure_default(su, f"{V2}/domains/{d}/users/1500/answerrules")
    ok(su.delete(f"{V2}/domains/{d}/users/1500/answerrules/*"))
    assert asyncio.run(with_user("default")) == 2
    rules = ok(su.get(f"{V2}/domains/{d}/users/1500/answerrules"))
    assert [(r["time-frame"], r["order"]) for r in rules] == [("Own", 1), ("*", 2)]
    default = rules[1]
    assert default["enabled"] == "yes" and not any(default[f]["enabled"] == "yes" for f in FEATURES)
    assert asyncio.run(with_user("delete")) == {"answerrules_deleted": 2, "timeframes_deleted": 1}
    assert ok(su.get(f"{V2}/domains/{d}/users/1500/answerrules")) == []
    assert ok(su.get(f"{V2}/domains/{d}/users/1500/timeframes")) == []

    # Deleting a user (through the API) or a whole domain takes rules and frames along.
    ok(
        su.post(
            f"{V2}/domains/{d}/users/1500/timeframes",
            json={"timeframe-name": "Own", "timeframe-type": "always"},
        ),
        201,
    )
    ok(su.post(f"{V2}/domains/{d}/users/1500/answerrules", json={"time-frame": "Own"}), 201)
    ok(su.post(f"{V2}/domains/{d}/timeframes", json=BUSINESS), 201)
    ok(
        su.post(f"{V2}/domains/{d}/users/1500/answerrules", json={"time-frame": "Business hours"}),
        201,
    )
    ok(
        su.post(f"{V2}/domains/{d}/users/1001/answerrules", json={"time-frame": "Business hours"}),
        201,
    )
    ok(su.delete(f"{V2}/domains/{d}/users/1500"))
    ok(su.post(f"{V2}/domains/{d}/users", json={"user": "1500", "user-scope": "Basic User"}), 201)
    # The new 1500 has nothing of the old one (at most the default rule it was created with).
    rules = ok(su.get(f"{V2}/domains/{d}/users/1500/answerrules"))
    assert [r["time-frame"] for r in rules if r["time-frame"] != "*"] == []
    assert ok(su.get(f"{V2}/domains/{d}/users/1500/timeframes")) == []
    ok(su.delete(f"{V2}/domains/{d}"))
    assert su.get(f"{V2}/domains/{d}/timeframes").status_code == 404
