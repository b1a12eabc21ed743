"""CDRs over HTTP: ingestion, the window and filters, counts, CSV export, roles, tenancy."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from celito.cdrs import service as cdrs
from tests.integration.cdr_support import events, in_db, window
from tests.support.live import LiveServer
from tests.support.tenants import ROLE_USERS, Tenant

V2 = "/ns-api/v2"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _cdr(domain: str, minute: int, seconds: int, **fields: Any) -> dict[str, Any]:
    start = T0 + timedelta(minutes=minute)
    row: dict[str, Any] = {
        "domain": domain,
        "call-start-datetime": start,
        "call-disconnect-datetime": start + timedelta(seconds=seconds),
        "call-orig-call-id": f"{domain}-{minute}@test",
        "core-server": "node-a",
    }
    if fields.pop("answered", True):
        row["call-answer-datetime"] = start + timedelta(seconds=5)
    row.update(fields)
    return row


def history(t: Tenant) -> list[dict[str, Any]]:
    d = t.domain
    return [
        # 1001 calls out (Outbound, 0)
        _cdr(
            d,
            0,
            65,
            **{
                "call-orig-user": "1001",
                "call-orig-caller-id": "12125550101",
                "call-orig-request-user": "14155550123",
            },
        ),
        # an outside caller reaches 1000 (Received, 1)
        _cdr(
            d,
            10,
            125,
            **{
                "call-term-user": "1000",
                "call-orig-caller-id": "13105550177",
                "call-orig-from-name": "Outside",
                "call-orig-to-user": "1000",
            },
        ),
        # an outside caller misses 1001 (Missed, 2)
        _cdr(
            d,
            20,
            30,
            answered=False,
            **{"call-term-user": "1001", "call-orig-caller-id": "13105550188"},
        ),
        # 1001 calls 1000 (On-net, 3)
        _cdr(
            d,
            30,
            61,
            **{
                "call-orig-user": "1001",
                "call-term-user": "1000",
                "call-orig-request-user": "1000",
            },
        ),
        # the Site Manager of HQ calls out
        _cdr(
            d,
            40,
            10,
            **{
                "call-orig-user": "1100",
                "call-orig-site": "HQ",
                "call-orig-request-user": "18005550100",
            },
        ),
        # the next day: outside the window
        _cdr(d, 24 * 60, 10, **{"call-orig-user": "1001"}),
    ]


def ingest(server: LiveServer, rows: list[dict[str, Any]]) -> cdrs.IngestResult:
    async def work(session: AsyncSession) -> cdrs.IngestResult:
        return await cdrs.ingest(session, rows)

    return in_db(server, work)


@pytest.fixture()
def calls_made(server: LiveServer, tenant: Tenant, other_tenant: Tenant) -> None:
    result = ingest(server, history(tenant) + history(other_tenant))
    assert result.inserted == 12 and not result.rejected, result


def ids(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    return [row["call-orig-call-id"] for row in r.json()]


def test_window_filters_count_and_pages(tenant: Tenant, calls_made: None) -> None:
    d = tenant.domain
    w = window()
    with tenant.as_role("Office Manager") as om:
        got = om.get(f"{V2}/domains/{d}/cdrs", params=w)
        assert ids(got) == [f"{d}-{m}@test" for m in (0, 10, 20, 30, 40)]
        first = got.json()[0]
        assert first["call-direction"] == 0 and first["call-total-duration-seconds"] == 65
        assert first["call-talking-duration-seconds"] == 60 and first["reseller"] == tenant.reseller
        assert first["call-start-datetime"] == "2026-11-20T09:00:00Z"
        assert first["call-fax-codec"] is None and first["core-server"] == "node-a"
        by_type = {
            t: len(ids(om.get(f"{V2}/domains/{d}/cdrs", params={**w, "type": t})))
            for t in ("Outbound", "Inbound", "Received", "Missed", "On-net", "Off-net", "0", "3")
        }
        assert by_type == {
            "Outbound": 2,
            "Inbound": 2,
            "Received": 1,
            "Missed": 1,
            "On-net": 1,
            "Off-net": 4,
            "0": 2,
            "3": 1,
        }
        assert ids(om.get(f"{V2}/domains/{d}/cdrs", params={**w, "dialled": "415555"})) == [
            f"{d}-0@test"
        ]
        assert len(ids(om.get(f"{V2}/domains/{d}/cdrs", params={**w, "caller": "1310555"}))) == 2
        assert ids(om.get(f"{V2}/domains/{d}/cdrs", params={**w, "caller": "%"})) == []
        assert len(ids(om.get(f"{V2}/domains/{d}/cdrs", params={**w, "user": "1001"}))) == 3
        assert ids(om.get(f"{V2}/domains/{d}/cdrs", params={**w, "site": "HQ"})) == [f"{d}-40@test"]
        page = om.get(
            f"{V2}/domains/{d}/cdrs",
            params={
                **w,
                "start": 1,
                "limit": 2,
                "sort": "call-total-duration-seconds",
                "order": "desc",
            },
        )
        assert ids(page) == [f"{d}-0@test", f"{d}-30@test"]
        slim = om.get(f"{V2}/domains/{d}/cdrs", params={**w, "fields": "id,call-direction"})
        assert set(slim.json()[0]) == {"id", "call-direction"}
        count = om.get(f"{V2}/domains/{d}/cdrs/count", params=w).json()
        assert count == {"total": 5, "minutes": 5, "seconds": 65 + 125 + 30 + 61 + 10}
        missed = om.get(f"{V2}/domains/{d}/cdrs/count", params={**w, "type": "Missed"}).json()
        assert missed == {"total": 1, "minutes": 1, "seconds": 30}
        local = om.get(
            f"{V2}/domains/{d}/cdrs",
            params={
                "datetime-start": "2026-11-20T04:00:00-05:00[America/New_York]",
                "datetime-end": "2026-11-20 10:00:00",
            },
        )
        assert local.json()[0]["call-start-datetime"] == "2026-11-20T04:00:00-05:00"
        mine = om.get(f"{V2}/domains/~/users/~/cdrs", params=w)
        assert len(ids(mine)) == 2 and mine.json()[0]["uid"] == f"1000@{d}"
        assert mine.json()[0]["number"] == "13105550177" and mine.json()[0]["type"] == 1


def test_bad_input(tenant: Tenant, calls_made: None) -> None:
    d = tenant.domain
    w = window()
    with tenant.as_role("Office Manager") as om:
        cases = [
            {"datetime-start": w["datetime-start"]},
            {**w, "datetime-start": "yesterday"},
            {**w, "datetime-end": "2026-11-19 00:00:00"},
            {**w, "datetime-start": "2026-11-20T00:00:00[Mars/Olympus]"},
            {**w, "type": "Sideways"},
            {**w, "sort": "colour"},
            {**w, "fields": "id,colour"},
            {**w, "limit": 5000},
            {**w, "format": "xml"},
        ]
        for params in cases:
            r = om.get(f"{V2}/domains/{d}/cdrs", params=params)
            assert r.status_code == 400, (params, r.text)
            assert r.json()["code"] == 400 and r.json()["message"]
        r = om.get(f"{V2}/domains/{d}/cdrs", params={**w, "format": "csv", "fields": "nope"})
        assert r.status_code == 400
        assert om.get(f"{V2}/domains/{d}/cdrs", params={**w, "user": "4242"}).status_code == 404
        assert om.get(f"{V2}/domains/{d}/users/4242/cdrs", params=w).status_code == 404


def test_roles(tenant: Tenant, other_tenant: Tenant, calls_made: None) -> None:
    d = tenant.domain
    w = window()
    with tenant.as_role("Basic User") as user:
        assert len(ids(user.get(f"{V2}/domains/{d}/cdrs", params=w))) == 3
        assert user.get(f"{V2}/domains/{d}/cdrs/count", params=w).json()["total"] == 3
        assert len(ids(user.get(f"{V2}/domains/~/users/~/cdrs", params=w))) == 3
        assert user.get(f"{V2}/domains/{d}/users/1000/cdrs", params=w).status_code == 403
        assert user.get(f"{V2}/domains/{d}/users/1000/cdrs/count", params=w).status_code == 403
        assert user.get(f"{V2}/domains/{d}/cdrs", params={**w, "user": "1000"}).status_code == 403
        assert user.get(f"{V2}/cdrs", params=w).status_code == 403
    with tenant.as_role("Call Center Agent") as agent:
        assert ids(agent.get(f"{V2}/domains/{d}/cdrs", params=w)) == []
    with tenant.as_role("Site Manager") as sm:
        assert ids(sm.get(f"{V2}/domains/{d}/cdrs", params=w)) == [f"{d}-40@test"]
        assert sm.get(f"{V2}/domains/{d}/users/1001/cdrs", params=w).status_code == 403
    with tenant.as_role("Call Center Supervisor") as ccs:
        assert len(ids(ccs.get(f"{V2}/domains/{d}/cdrs", params=w))) == 5
        assert ccs.get(f"{V2}/cdrs/count", params=w).status_code == 403
    with tenant.as_role("Office Manager") as om:
        assert len(ids(om.get(f"{V2}/domains/{d}/users/1001/cdrs", params=w))) == 3
        assert om.get(f"{V2}/cdrs", params=w).status_code == 403
    with tenant.as_role("Reseller") as reseller:
        everything = ids(reseller.get(f"{V2}/cdrs", params=w))
        assert len(everything) == 5 and all(i.startswith(d) for i in everything)
        assert reseller.get(f"{V2}/cdrs/count", params=w).json()["total"] == 5
        assert reseller.get(f"{V2}/cdrs", params={**w, "user": "1001"}).status_code == 400
    su = tenant.api.su
    assert len(ids(su.get(f"{V2}/cdrs", params={**w, "limit": 1000}))) >= 10
    one = su.get(f"{V2}/cdrs", params={**w, "orig_callid": f"{other_tenant.domain}-10@test"})
    assert ids(one) == [f"{other_tenant.domain}-10@test"]


def test_other_tenants_cdrs_are_missing_for_every_role(
    tenant: Tenant, other_tenant: Tenant, calls_made: None
) -> None:
    o = other_tenant.domain
    w = window()
    for role in ROLE_USERS:
        with tenant.as_role(role) as c:
            for path in (
                f"{V2}/domains/{o}/cdrs",
                f"{V2}/domains/{o}/cdrs/count",
                f"{V2}/domains/{o}/users/1001/cdrs",
                f"{V2}/domains/{o}/users/1001/cdrs/count",
            ):
                r = c.get(path, params=w)
                assert r.status_code == 404, (role, path, r.text)
                assert r.json() == {"code": 404, "message": f"Domain {o} does not exist"}
            r = c.get(f"{V2}/domains/{o}/cdrs", params={**w, "format": "csv"})
            assert r.status_code == 404, role
            if role == "Reseller":
                assert all(not i.startswith(o) for i in ids(c.get(f"{V2}/cdrs", params=w)))
    # Reading changes nothing: the other tenant still has its five CDRs of the day.
    r = other_tenant.api.su.get(f"{V2}/domains/{o}/cdrs/count", params=w)
    assert r.json()["total"] == 5


def test_csv_export_streams_the_window(tenant: Tenant, calls_made: None) -> None:
    d = tenant.domain
    w = window()
    with tenant.as_role("Office Manager") as om:
        r = om.get(f"{V2}/domains/{d}/cdrs", params={**w, "format": "csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert [row["call-orig-call-id"] for row in rows] == [
            f"{d}-{m}@test" for m in (0, 10, 20, 30, 40)
        ]
        assert rows[0]["call-direction"] == "0" and rows[0]["call-fax-codec"] == ""
        picked = om.get(
            f"{V2}/domains/{d}/cdrs",
            params={**w, "limit": 2, "fields": "call-orig-call-id,call-direction"},
            headers={"Accept": "text/csv"},
        )
        assert picked.text.splitlines() == [
            "call-orig-call-id,call-direction",
            f"{d}-0@test,0",
            f"{d}-10@test,1",
        ]
    with tenant.as_role("Basic User") as user:
        r = user.get(f"{V2}/domains/~/users/~/cdrs", params={**w, "format": "csv"})
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert len(rows) == 3 and all(row["uid"] == f"1001@{d}" for row in rows)


def test_ingestion_is_idempotent_reports_refusals_and_emits_events(
    server: LiveServer, tenant: Tenant
) -> None:
    d = tenant.domain
    rows = history(tenant)[:3]
    first = ingest(server, rows)
    assert (first.received, first.inserted, first.duplicates) == (3, 3, 0)
    again = ingest(server, [*rows, rows[0]])
    assert (again.inserted, again.duplicates) == (0, 4)
    bad = ingest(
        server,
        [
            {**rows[0], "domain": "nowhere.example"},
            {**rows[0], "colour": "blue"},
            {**rows[0], "call-start-datetime": None},
            {**rows[0], "call-orig-call-id": "fresh@test"},
        ],
    )
    assert bad.inserted == 1 and [i for i, _ in bad.rejected] == [0, 1, 2]
    assert "does not exist" in bad.rejected[0][1] and "colour" in bad.rejected[1][1]
    announced = events(server, d, "cdr")
    assert len(announced) == 4  # one per stored CDR, none for duplicates or refusals
    first_event = announced[0]
    assert first_event.action == "create" and first_event.user == "1001"
    assert first_event.reseller == tenant.reseller
    assert first_event.payload["call-orig-request-user"] == "14155550123"
    assert first_event.payload["call-start-datetime"] == "2026-11-20T09:00:00Z"
    assert announced[1].user == "1000"  # the local callee when the caller is outside
    with tenant.as_role("Office Manager") as om:
        assert om.get(f"{V2}/domains/{d}/cdrs/count", params=window()).json()["total"] == 4


def test_a_cdr_sent_again_deep_in_a_big_batch_is_the_only_one_skipped(
    server: LiveServer, tenant: Tenant
) -> None:
    """The fast path streams the batch into the database while preparing it; a CDR stored
    before, met after thousands of rows went out, sends the whole batch the careful way."""
    d = tenant.domain

    def cdr(minute: int, cdr_id: str) -> dict[str, Any]:
        return _cdr(d, minute, 10, **{"id": cdr_id, "call-orig-user": "1001"})

    assert ingest(server, [cdr(0, "sent-before")]).inserted == 1
    batch = [cdr(minute, f"big-{minute}") for minute in range(1, 3001)]
    batch.insert(2500, cdr(0, "sent-before"))
    result = ingest(server, batch)
    assert (result.received, result.inserted, result.duplicates) == (3001, 3000, 1)
    announced = [e.payload["id"] for e in events(server, d, "cdr")]
    assert announced == ["sent-before"] + [f"big-{minute}" for minute in range(1, 3001)]


def test_rows_the_database_would_refuse_are_refused_alone(
    server: LiveServer, tenant: Tenant
) -> None:
    """Values that pass for Python but not for the store are refused row by row, before the
    batch reaches the database, instead of failing the whole batch there."""
    d = tenant.domain
    good = _cdr(d, 0, 10, **{"call-orig-user": "1001"})
    result = ingest(
        server,
        [
            {
                **good,
                "call-orig-call-id": "nan@test",
                "call-intelligence-percent-positive": float("nan"),
            },
            {**good, "call-orig-call-id": "surrogate@test", "call-term-user": "10\ud80001"},
            {**good, "call-orig-call-id": "long@test", "call-total-duration-seconds": 2**40},
            {**good, "call-orig-call-id": "far@test", "call-answer-datetime": 10**20},
            good,
        ],
    )
    assert result.inserted == 1 and [i for i, _ in result.rejected] == [0, 1, 2, 3]
    assert [e.payload["call-orig-call-id"] for e in events(server, d, "cdr")] == [
        good["call-orig-call-id"]
    ]
