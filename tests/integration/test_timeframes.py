"""Time frames over HTTP: shared (domain) and own (user), every type, validation, roles, tenancy."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.tenants import ROLE_USERS, Tenant

V2 = "/ns-api/v2"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
BUSINESS = {
    "timeframe-name": "Business hours",
    "timeframe-type": "days-of-week",
    "timeframe-days-of-week-array": [
        {
            **{f"timeframe-weekly-{d}-begin-time-1": "09:00" for d in WEEKDAYS},
            **{f"timeframe-weekly-{d}-end-time-1": "1700" for d in WEEKDAYS},
        }
    ],
}
XMAS = {
    "timeframe-specific-dates-begin-date": "20261224",
    "timeframe-specific-dates-begin-time": "1200",
    "timeframe-specific-dates-end-date": "20261226",
    "timeframe-specific-dates-end-time": "2359",
    "timeframe-recurrence-type": "yearly-on-selected-dates",
    "timeframe-recurrence-custom-interval": "",
    "timeframe-recurrence-custom-interval-count": "",
    "timeframe-recurrence-custom-interval-option": "",
    "timeframe-recurrence-end-option": "never",
    "timeframe-recurrence-end-date": "",
}
JULY4 = {
    "timeframe-holiday-name": "Independence Day",
    "timeframe-holiday-begin-date": "20260704",
    "country-abbreviation": "US",
    "timeframe-weekly-saturday-observance-option": "observe-on-prior-workday",
    "timeframe-recurrence-type": "yearlyOnHoliday",
}


def created(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def ok(r: httpx.Response) -> Any:
    assert r.status_code == 200, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json()


def test_shared_time_frames_of_every_type(tenant: Tenant) -> None:
    base = f"{V2}/domains/{tenant.domain}/timeframes"
    with tenant.as_role("Office Manager") as om:
        bh = created(om.post(base, json=BUSINESS))
        assert bh["timeframe-type"] == "days-of-week" and bh["user"] is None
        assert bh["domain"] == tenant.domain and len(bh["timeframe-id"]) == 16
        (entry,) = bh["timeframe-days-of-week-array"]
        assert entry["timeframe-weekly-monday-begin-time-1"] == "0900"  # normalized
        assert entry["timeframe-weekly-saturday-begin-time-1"] == ""
        assert entry["timeframe-parent-id"] == bh["timeframe-id"] and entry["ordinal-order"] == 1

        # The spec's own example body, synchronous included.
        spec = created(
            om.post(
                base,
                json={
                    "synchronous": "yes",
                    "timeframe-name": "specificDatesNoRecurrence",
                    "timeframe-type": "specific-dates",
                    "timeframe-specific-dates-array": [
                        {
                            **XMAS,
                            "timeframe-specific-dates-begin-date": "20290101",
                            "timeframe-specific-dates-begin-time": "0000",
                            "timeframe-specific-dates-end-date": "20290102",
                            "timeframe-recurrence-type": "doesNotRecur",
                            "timeframe-recurrence-end-option": "",
                        }
                    ],
                },
            )
        )
        assert (
            spec["timeframe-specific-dates-array"][0]["timeframe-specific-dates-end-time"] == "2359"
        )

        holidays = created(
            om.post(base, json={"timeframe-name": "Holidays", "timeframe-holiday-array": [JULY4]})
        )
        assert holidays["timeframe-type"] == "holiday"  # inferred from the array
        assert holidays["timeframe-holiday-array"][0]["timeframe-workweek-list"] == "M,T,W,Th,F"
        always = created(
            om.post(base, json={"timeframe-name": "Always", "timeframe-type": "always"})
        )
        assert always["timeframe-days-of-week-array"] == []
        mixed = created(
            om.post(
                base,
                json={
                    "timeframe-name": "Closed",
                    "time-zone": "Europe/Berlin",
                    "timeframe-specific-dates-array": [XMAS],
                    "timeframe-holiday-array": [JULY4],
                },
            )
        )
        assert mixed["timeframe-type"] == "custom" and mixed["time-zone"] == "Europe/Berlin"

        names = [t["timeframe-name"] for t in ok(om.get(base))]
        assert names == sorted(names) and len(names) == 5
        assert ok(om.get(f"{base}/count")) == {"total": 5}
        assert ok(om.get(f"{base}/{bh['timeframe-id']}")) == bh
        assert ok(om.get(f"{base}/Business hours"))["timeframe-id"] == bh["timeframe-id"]
        paged = ok(om.get(base, params={"sort": "created-datetime", "order": "desc", "limit": 2}))
        assert [t["timeframe-name"] for t in paged] == ["Closed", "Always"]
        assert om.get(f"{base}/nosuch").status_code == 404

        dup = om.post(base, json={**BUSINESS})
        assert dup.status_code == 409 and "already exists" in dup.json()["message"]

    with tenant.as_role("Basic User") as user:
        assert len(ok(user.get(f"{V2}/domains/~/timeframes"))) == 5
        assert ok(user.get(f"{V2}/domains/~/timeframes/Holidays"))["timeframe-type"] == "holiday"


def test_entries_replace_update_only_convert_rename_and_delete(tenant: Tenant) -> None:
    base = f"{V2}/domains/{tenant.domain}/timeframes"
    with tenant.as_role("Office Manager") as om:
        tf = created(
            om.post(
                base,
                json={
                    "timeframe-name": "Closures",
                    "timeframe-type": "specific-dates",
                    "timeframe-specific-dates-array": [XMAS],
                },
            )
        )
        url = f"{base}/{tf['timeframe-id']}"
        first = tf["timeframe-specific-dates-array"][0]["timeframe-id"]

        # POST /{id}: more date ranges (ids generated, supplied ones ignored).
        more = ok(
            om.post(
                url,
                json={
                    "timeframe-specific-dates-array": [
                        {
                            **XMAS,
                            "timeframe-id": first,
                            "timeframe-specific-dates-begin-date": "20261231",
                            "timeframe-specific-dates-end-date": "20270101",
                        }
                    ]
                },
            )
        )
        ranges = more["timeframe-specific-dates-array"]
        assert len(ranges) == 2 and ranges[1]["timeframe-id"] != first
        assert [r["ordinal-order"] for r in ranges] == [1, 2]
        second = ranges[1]["timeframe-id"]

        # Holidays do not belong in a specific-dates frame.
        wrong = om.post(url, json={"timeframe-holiday-array": [JULY4]})
        assert wrong.status_code == 422 and "not timeframe-holiday-array" in wrong.json()["message"]

        # update-only: change one range in place, by its id.
        changed = ok(
            om.put(
                url,
                json={
                    "update-only": "yes",
                    "timeframe-specific-dates-array": [
                        {"timeframe-id": second, "timeframe-specific-dates-begin-time": "1800"}
                    ],
                },
            )
        )
        after = {r["timeframe-id"]: r for r in changed["timeframe-specific-dates-array"]}
        assert after[second]["timeframe-specific-dates-begin-time"] == "1800"
        assert after[first]["timeframe-specific-dates-begin-time"] == "1200"
        missing = om.put(
            url,
            json={
                "update_only": "yes",
                "timeframe-specific-dates-array": [
                    {
                        "timeframe-id": "feedfacefeedface",
                        "timeframe-specific-dates-begin-time": "1800",
                    }
                ],
            },
        )
        assert missing.status_code == 404
        no_id = om.put(
            url,
            json={
                "update-only": "yes",
                "timeframe-specific-dates-array": [{"timeframe-specific-dates-begin-time": "1800"}],
            },
        )
        assert no_id.status_code == 422 and "timeframe-id" in no_id.json()["message"]

        # Without update-only the array is replaced.
        replaced = ok(om.put(url, json={"timeframe-specific-dates-array": [XMAS]}))
        assert len(replaced["timeframe-specific-dates-array"]) == 1
        assert replaced["timeframe-specific-dates-array"][0]["timeframe-id"] not in (first, second)

        # Delete one entry (child_id in the body, as the spec sends it; or in the query).
        ok(om.post(url, json={"timeframe-specific-dates-array": [XMAS]}))
        entries = ok(om.get(url))["timeframe-specific-dates-array"]
        gone = ok(om.request("DELETE", url, json={"child_id": entries[0]["timeframe-id"]}))
        assert [e["timeframe-id"] for e in gone["timeframe-specific-dates-array"]] == [
            entries[1]["timeframe-id"]
        ]
        gone = ok(om.delete(url, params={"child_id": entries[1]["timeframe-id"]}))
        assert gone["timeframe-specific-dates-array"] == []
        assert om.delete(url, params={"child_id": "nosuchentry"}).status_code == 404
        assert ok(om.get(url))["timeframe-name"] == "Closures"  # the frame stays

        # Convert: to custom keeps entries; custom cannot be converted; others drop entries.
        ok(om.post(url, json={"timeframe-specific-dates-array": [XMAS]}))
        custom = ok(om.put(url, json={"type": "custom"}))
        assert (
            custom["timeframe-type"] == "custom"
            and len(custom["timeframe-specific-dates-array"]) == 1
        )
        stuck = om.put(url, json={"type": "holiday"})
        assert stuck.status_code == 422 and "cannot be converted" in stuck.json()["message"]
        more_kinds = ok(
            om.post(
                url,
                json={
                    "timeframe-holiday-array": [JULY4],
                    "timeframe-days-of-week-array": BUSINESS["timeframe-days-of-week-array"],
                },
            )
        )
        assert (
            len(more_kinds["timeframe-holiday-array"]) == 1
            and len(more_kinds["timeframe-days-of-week-array"]) == 1
        )

        bh = created(om.post(base, json=BUSINESS))
        bh_url = f"{base}/{bh['timeframe-id']}"
        # A days-of-week frame's one entry is replaced, with or without update-only.
        single = {
            "timeframe-weekly-saturday-begin-time-1": "1000",
            "timeframe-weekly-saturday-end-time-1": "1400",
        }
        sat = ok(
            om.put(bh_url, json={"update-only": "yes", "timeframe-days-of-week-array": [single]})
        )
        (entry,) = sat["timeframe-days-of-week-array"]
        assert entry["timeframe-weekly-saturday-begin-time-1"] == "1000"
        assert entry["timeframe-weekly-monday-begin-time-1"] == ""
        two = om.put(bh_url, json={"timeframe-days-of-week-array": [single, single]})
        assert two.status_code == 422 and "single entry" in two.json()["message"]
        assert om.post(bh_url, json={"timeframe-days-of-week-array": [single]}).status_code == 422
        to_dates = ok(
            om.put(
                bh_url,
                json={"timeframe-type": "specific-dates", "timeframe-specific-dates-array": [XMAS]},
            )
        )
        assert (
            to_dates["timeframe-days-of-week-array"] == []
            and len(to_dates["timeframe-specific-dates-array"]) == 1
        )

        # Rename, pin to a zone, unpin.
        renamed = ok(
            om.put(
                bh_url, json={"timeframe-name": "Winter closure", "time-zone": "America/Chicago"}
            )
        )
        assert (
            renamed["timeframe-name"] == "Winter closure"
            and renamed["time-zone"] == "America/Chicago"
        )
        assert ok(om.put(bh_url, json={"time-zone": ""}))["time-zone"] is None
        clash = om.put(bh_url, json={"timeframe-name": "Closures"})
        assert clash.status_code == 409

        # Delete the whole frame.
        deleted = ok(om.delete(bh_url))
        assert deleted["timeframe-name"] == "Winter closure"
        assert om.get(bh_url).status_code == 404
        assert om.delete(bh_url).status_code == 404

        # Every write was audited.
        su = tenant.api.su
        log = ok(
            su.get(
                f"{V2}/auditlog",
                params={
                    "datetime-start": "2020-01-01 00:00:00",
                    "datetime-end": "2099-01-01 00:00:00",
                    "target-domain": tenant.domain,
                    "limit": 1000,
                },
            )
        )
        kinds = {(e["target-object"], e["action-type"]) for e in log}
        assert {("timeframe", "create"), ("timeframe", "update"), ("timeframe", "delete")} <= kinds


def test_bad_input_is_a_clear_422_and_changes_nothing(tenant: Tenant) -> None:
    base = f"{V2}/domains/{tenant.domain}/timeframes"
    day = "timeframe-weekly-monday"
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {
                **BUSINESS,
                "timeframe-days-of-week-array": [
                    {f"{day}-begin-time-1": "1700", f"{day}-end-time-1": "0900"}
                ],
            },
            f"{day}-end-time-1",
        ),
        (
            {
                **BUSINESS,
                "timeframe-days-of-week-array": [
                    {f"{day}-begin-time-1": "2500", f"{day}-end-time-1": "2600"}
                ],
            },
            "is not a time",
        ),
        (
            {
                **BUSINESS,
                "timeframe-days-of-week-array": [
                    {f"{day}-begin-time-1": "9am", f"{day}-end-time-1": "5pm"}
                ],
            },
            "is not a time",
        ),
        (
            {**BUSINESS, "timeframe-days-of-week-array": [{f"{day}-begin-time-1": "0900"}]},
            "needs both",
        ),
        ({**BUSINESS, "timeframe-days-of-week-array": [{}]}, "at least one day"),
        ({**BUSINESS, "timeframe-days-of-week-array": []}, "needs its entry"),
        (
            {
                **BUSINESS,
                "timeframe-days-of-week-array": [
                    {f"{day}-begin-time-1": "2200", f"{day}-end-time-1": "0200"}
                ],
            },
            "cross midnight",
        ),
        (
            {
                "timeframe-name": "x",
                "timeframe-specific-dates-array": [
                    {**XMAS, "timeframe-specific-dates-begin-date": "20260230"}
                ],
            },
            "not a date",
        ),
        (
            {
                "timeframe-name": "x",
                "timeframe-specific-dates-array": [
                    {**XMAS, "timeframe-specific-dates-end-date": "20261201"}
                ],
            },
            "must end after it begins",
        ),
        (
            {
                "timeframe-name": "x",
                "timeframe-specific-dates-array": [
                    {**XMAS, "timeframe-specific-dates-end-date": "20270601"}
                ],
            },
            "at most 31 days",
        ),
        (
            {
                "timeframe-name": "x",
                "timeframe-specific-dates-array": [{**XMAS, "timeframe-recurrence-type": "custom"}],
            },
            "custom-interval",
        ),
        (
            {
                "timeframe-name": "x",
                "timeframe-holiday-array": [{**JULY4, "timeframe-workweek-list": "M,T"}],
            },
            "4 to 6",
        ),
        (
            {
                "timeframe-name": "x",
                "timeframe-holiday-array": [{**JULY4, "timeframe-holiday-begin-date": ""}],
            },
            "is required",
        ),
        ({"timeframe-name": "x", "time-zone": "Mars/Olympus_Mons"}, "IANA"),
        ({"timeframe-name": "x", "timeframe-type": "weekly"}, "timeframe-type"),
        (
            {
                "timeframe-name": "x",
                "timeframe-type": "holiday",
                "timeframe-specific-dates-array": [XMAS],
            },
            "not timeframe-specific-dates-array",
        ),
        (
            {
                **BUSINESS,
                "timeframe-days-of-week-array": BUSINESS["timeframe-days-of-week-array"] * 2,
            },
            "single entry",
        ),
        ({"timeframe-name": "count"}, "reserved"),
        ({"timeframe-name": "a/b"}, "not valid"),
        ({"timeframe-name": ""}, "timeframe-name"),
        ({"timeframe-name": "x", "color": "red"}, "unknown field"),
        (
            {"timeframe-name": "x", "timeframe-holiday-array": [{**JULY4, "favourite": "yes"}]},
            "unknown field",
        ),
    ]
    with tenant.as_role("Office Manager") as om:
        for body, words in cases:
            r = om.post(base, json=body)
            assert r.status_code == 422, (body, r.status_code, r.text)
            assert r.json()["code"] == 422 and words in r.json()["message"], (words, r.json())
        assert ok(om.get(f"{base}/count")) == {"total": 0}
        tf = created(om.post(base, json=BUSINESS))
        url = f"{base}/{tf['timeframe-id']}"
        bad_put = om.put(
            url,
            json={
                "timeframe-days-of-week-array": [
                    {f"{day}-begin-time-1": "1000", f"{day}-end-time-1": "0900"}
                ]
            },
        )
        assert bad_put.status_code == 422
        assert om.put(url, json={"type": "custom", "timeframe-type": "holiday"}).status_code == 422
        assert ok(om.get(url)) == tf  # nothing changed
        assert om.post(f"{url}", json={}).status_code == 422
        assert (
            om.post(
                base, content=b"{nope", headers={"content-type": "application/json"}
            ).status_code
            == 422
        )


def test_user_time_frames_and_roles(tenant: Tenant) -> None:
    d = tenant.domain
    with tenant.as_role("Office Manager") as om:
        created(om.post(f"{V2}/domains/{d}/timeframes", json=BUSINESS))
    with tenant.as_role("Basic User") as user:
        mine = created(
            user.post(
                f"{V2}/domains/~/users/~/timeframes",
                json={"timeframe-name": "Gym", "timeframe-specific-dates-array": [XMAS]},
            )
        )
        assert mine["user"] == "1001" and mine["domain"] == d
        assert [
            t["timeframe-name"] for t in ok(user.get(f"{V2}/domains/{d}/users/1001/timeframes"))
        ] == ["Gym"]
        assert ok(user.get(f"{V2}/domains/~/users/~/timeframes/count")) == {"total": 1}
        # Another user's frames, and the shared ones' writes, are off limits (403).
        assert user.get(f"{V2}/domains/{d}/users/1000/timeframes").status_code == 403
        assert (
            user.post(
                f"{V2}/domains/{d}/users/1000/timeframes", json={"timeframe-name": "X"}
            ).status_code
            == 403
        )
        for r in (
            user.post(f"{V2}/domains/{d}/timeframes", json={"timeframe-name": "Mine"}),
            user.put(
                f"{V2}/domains/{d}/timeframes/Business hours", json={"timeframe-name": "Mine"}
            ),
            user.delete(f"{V2}/domains/{d}/timeframes/Business hours"),
        ):
            assert r.status_code == 403 and r.json()["code"] == 403, r.text
        # A user's own frame cannot take a shared frame's name, nor the other way round.
        clash = user.post(
            f"{V2}/domains/~/users/~/timeframes", json={"timeframe-name": "Business hours"}
        )
        assert clash.status_code == 409 and "shared time frame" in clash.json()["message"]
        ok(user.put(f"{V2}/domains/~/users/~/timeframes/Gym", json={"timeframe-name": "Gym time"}))
        assert (
            ok(user.delete(f"{V2}/domains/~/users/~/timeframes/Gym time"))["timeframe-name"]
            == "Gym time"
        )
        created(
            user.post(
                f"{V2}/domains/~/users/~/timeframes",
                json={"timeframe-name": "Lunch", "timeframe-type": "always"},
            )
        )
    with tenant.as_role("Office Manager") as om:
        clash = om.post(f"{V2}/domains/{d}/timeframes", json={"timeframe-name": "Lunch"})
        assert clash.status_code == 409 and "User 1001" in clash.json()["message"]
        # Managers manage their users' frames.
        created(
            om.post(
                f"{V2}/domains/{d}/users/1001/timeframes",
                json={"timeframe-name": "Night", "timeframe-type": "always"},
            )
        )
        assert ok(om.get(f"{V2}/domains/{d}/users/1001/timeframes/count")) == {"total": 2}
    with tenant.as_role("Call Center Supervisor") as ccs:
        assert ok(ccs.get(f"{V2}/domains/{d}/users/1001/timeframes/count")) == {"total": 2}
        assert (
            ccs.post(
                f"{V2}/domains/{d}/users/1001/timeframes", json={"timeframe-name": "Z"}
            ).status_code
            == 403
        )
        assert ccs.delete(f"{V2}/domains/{d}/users/1001/timeframes/Night").status_code == 403
    with tenant.as_role("Site Manager") as sm:  # site HQ; 1001 is in no site
        assert sm.get(f"{V2}/domains/{d}/users/1001/timeframes").status_code == 403
        assert (
            sm.post(
                f"{V2}/domains/{d}/users/1001/timeframes", json={"timeframe-name": "Z"}
            ).status_code
            == 403
        )
        assert sm.get(f"{V2}/domains/{d}/timeframes/count").status_code == 200
        assert (
            sm.post(f"{V2}/domains/{d}/timeframes", json={"timeframe-name": "Z"}).status_code == 403
        )
    with tenant.as_role("Reseller") as reseller:
        created(
            reseller.post(
                f"{V2}/domains/{d}/timeframes",
                json={"timeframe-name": "Reseller made", "timeframe-type": "always"},
            )
        )
        assert ok(reseller.get(f"{V2}/domains/{d}/users/1001/timeframes/count")) == {"total": 2}


def _state(t: Tenant) -> dict[str, Any]:
    su = t.api.su
    shared = ok(su.get(f"{V2}/domains/{t.domain}/timeframes"))
    own = {u: ok(su.get(f"{V2}/domains/{t.domain}/users/{u}/timeframes")) for u in ("1001", "1000")}
    return {"shared": shared, "own": own}


def test_cross_tenant_time_frames_are_missing_and_unchangeable(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = other_tenant.domain
    with other_tenant.as_role("Office Manager") as om:
        shared = created(om.post(f"{V2}/domains/{theirs}/timeframes", json=BUSINESS))
        own = created(
            om.post(
                f"{V2}/domains/{theirs}/users/1001/timeframes",
                json={"timeframe-name": "Secret", "timeframe-type": "always"},
            )
        )
    before = _state(other_tenant)
    paths = [
        f"{V2}/domains/{theirs}/timeframes",
        f"{V2}/domains/{theirs}/timeframes/count",
        f"{V2}/domains/{theirs}/timeframes/{shared['timeframe-id']}",
        f"{V2}/domains/{theirs}/timeframes/Business hours",
        f"{V2}/domains/{theirs}/users/1001/timeframes",
        f"{V2}/domains/{theirs}/users/1001/timeframes/{own['timeframe-id']}",
    ]
    for role in ROLE_USERS:
        with tenant.as_role(role) as c:
            for path in paths:
                assert c.get(path).status_code == 404, (role, path)
            for path in (paths[2], paths[5]):
                assert c.put(path, json={"timeframe-name": "Stolen"}).status_code == 404, (
                    role,
                    path,
                )
                assert (
                    c.post(path, json={"timeframe-specific-dates-array": [XMAS]}).status_code == 404
                )
                assert c.delete(path).status_code == 404, (role, path)
                assert c.delete(path, params={"child_id": "x"}).status_code == 404
            assert c.post(paths[0], json={"timeframe-name": "Planted"}).status_code == 404
            assert c.post(paths[4], json={"timeframe-name": "Planted"}).status_code == 404
            # Their ids mean nothing in our domain either.
            assert c.get(
                f"{V2}/domains/{tenant.domain}/timeframes/{shared['timeframe-id']}"
            ).status_code in (404,)
    assert _state(other_tenant) == before
