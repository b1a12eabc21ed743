"""/ns-api/v2/auditlog: every write leaves who, through what, from where, and what changed."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.tenants import Tenant, password

V2 = "/ns-api/v2"
FMT = "%Y-%m-%d %H:%M:%S"


def window(**filters: str) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "datetime-start": (now - timedelta(minutes=10)).strftime(FMT),
        "datetime-end": (now + timedelta(minutes=10)).strftime(FMT),
        "limit": "1000",
        **filters,
    }


def entries(c: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    r = c.get(f"{V2}/auditlog", params=window(**filters))
    assert r.status_code == 200, r.text
    rows = r.json()
    assert isinstance(rows, list)
    return rows


def one(rows: list[dict[str, Any]], **match: str) -> dict[str, Any]:
    found = [e for e in rows if all(e.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, rows)
    return found[0]


def test_every_write_is_recorded_with_a_change_summary(tenant: Tenant) -> None:
    su = tenant.api.su
    rname, dname = f"ra{secrets.token_hex(3)}", f"da{secrets.token_hex(3)}.example"
    pw = password()
    writes = [
        su.post(f"{V2}/resellers", json={"reseller": rname, "description": "one"}),
        su.put(
            f"{V2}/resellers/{rname}",
            json={"description": "two", "email-send-smtp-password": "Smtp-Secret-9"},
        ),
        su.post(f"{V2}/domains", json={"domain": dname, "reseller": rname}),
        su.put(f"{V2}/domains/{dname}", json={"description": "dd", "time-zone": "Europe/Paris"}),
        su.post(
            f"{V2}/domains/{dname}/users",
            json={"user": "100", "name-first-name": "Ada", "login-password": pw},
        ),
        su.put(
            f"{V2}/domains/{dname}/users/100",
            json={"name-first-name": "Augusta", "login-password": password()},
        ),
        su.delete(f"{V2}/domains/{dname}/users/100"),
        su.delete(f"{V2}/domains/{dname}"),
        su.delete(f"{V2}/resellers/{rname}"),
    ]
    assert [w.status_code for w in writes] == [201, 200, 201, 200, 201, 200, 200, 200, 200]
    r = su.get(f"{V2}/auditlog", params=window())
    assert r.status_code == 200
    assert pw not in r.text
    assert "argon2" not in r.text
    assert "Smtp-Secret-9" not in r.text
    rows = [e for e in r.json() if e["target-id"] in (rname, dname, f"100@{dname}")]
    assert [(e["action-type"], e["target-object"]) for e in rows] == [
        ("delete", "reseller"),
        ("delete", "domain"),
        ("delete", "subscriber"),
        ("update", "subscriber"),
        ("create", "subscriber"),
        ("update", "domain"),
        ("create", "domain"),
        ("update", "reseller"),
        ("create", "reseller"),
    ]
    for e in rows:
        assert e["by-user"] == "admin@system"
        assert e["by-client"] == "operator"
        assert e["by-ip"] == "127.0.0.1"
        assert e["target-host"] == "test-node"
        assert e["timestamp-datetime"].endswith("Z")
    by = {(e["action-type"], e["target-object"]): e for e in rows}
    assert by[("update", "reseller")]["auditlog-details"] == {
        "before": {"description": "one", "email-send-smtp-password": None},
        "after": {"description": "two", "email-send-smtp-password": "[redacted]"},
    }
    assert by[("update", "domain")]["auditlog-details"] == {
        "before": {"description": "", "time-zone": "UTC"},
        "after": {"description": "dd", "time-zone": "Europe/Paris"},
    }
    assert by[("update", "domain")]["target-reseller"] == rname
    user_update = by[("update", "subscriber")]
    assert user_update["target-domain"] == dname
    assert user_update["target-user"] == "100"
    assert user_update["auditlog-details"] == {
        "before": {"name-first-name": "Ada", "login-password": "[redacted]"},
        "after": {"name-first-name": "Augusta", "login-password": "[redacted]"},
    }
    created = by[("create", "subscriber")]["auditlog-details"]["after"]
    assert created["login-password"] == "[redacted]"
    assert created["name-first-name"] == "Ada"
    assert created["user-scope"] == "Basic User"
    deleted = by[("delete", "subscriber")]["auditlog-details"]
    assert deleted["before"]["name-first-name"] == "Augusta"
    assert deleted["before"]["login-password"] == "[redacted]"
    assert by[("delete", "domain")]["auditlog-details"]["users_deleted"] == 0


def test_tenant_writes_name_the_user_and_client(tenant: Tenant) -> None:
    with tenant.as_role("Office Manager") as c:
        assert c.put(f"{V2}/domains/~/users/1001", json={"department": "Sales"}).status_code == 200
        rows = entries(c, **{"target-user": "1001", "action-type": "update"})
    e = one(rows, **{"target-id": f"1001@{tenant.domain}"})
    assert e["by-user"] == f"1000@{tenant.domain}"
    assert e["by-domain"] == tenant.domain
    assert e["by-client"] == tenant.api.client_id
    assert e["by-ip"] == "127.0.0.1"
    assert e["target-reseller"] == tenant.reseller
    assert e["auditlog-details"] == {"before": {"department": ""}, "after": {"department": "Sales"}}


def test_filters(tenant: Tenant) -> None:
    su = tenant.api.su
    su.put(f"{V2}/domains/{tenant.domain}/users/1001", json={"site": "Annex"})
    su.put(f"{V2}/domains/{tenant.domain}/users/1300", json={"site": "Annex"})
    rows = entries(su, **{"target-domain": tenant.domain, "action-type": "update"})
    assert {e["target-user"] for e in rows} == {"1001", "1300"}
    rows = entries(
        su,
        **{"target-domain": tenant.domain, "target-user": "1300", "target-object": "subscriber"},
    )
    assert [e["action-type"] for e in rows] == ["update", "create"]
    assert entries(su, **{"target-domain": tenant.domain, "by-ip": "192.0.2.1"}) == []
    assert entries(su, **{"target-domain": tenant.domain, "by-client": "nobody"}) == []
    created = entries(
        su,
        **{"target-domain": tenant.domain, "action-type": "create", "target-object": "subscriber"},
    )
    assert len(created) == 6
    paged = su.get(
        f"{V2}/auditlog",
        params={**window(**{"target-domain": tenant.domain}), "limit": "2", "start": "1"},
    ).json()
    everything = entries(su, **{"target-domain": tenant.domain})
    assert [e["id"] for e in paged] == [e["id"] for e in everything[1:3]]
    projected = su.get(
        f"{V2}/auditlog",
        params={**window(**{"target-domain": tenant.domain}), "fields": "id,action-type"},
    ).json()
    assert projected and all(set(e) == {"id", "action-type"} for e in projected)
    bad = su.get(f"{V2}/auditlog", params={**window(), "fields": "id,password"})
    assert bad.status_code == 400


def _latest_write_at(tenant: Tenant) -> datetime:
    su = tenant.api.su
    assert (
        su.put(
            f"{V2}/domains/{tenant.domain}/users/1001",
            json={"status-message": secrets.token_hex(4)},
        ).status_code
        == 200
    )
    rows = entries(su, **{"target-domain": tenant.domain, "target-user": "1001"})
    stamp = rows[0]["timestamp-datetime"]
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _forms(at: datetime) -> list[str]:
    pacific = at.astimezone(ZoneInfo("US/Pacific"))
    offset = pacific.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}"
    return [
        at.strftime(FMT),
        at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        pacific.strftime("%Y-%m-%dT%H:%M:%S") + offset,
        pacific.strftime("%Y-%m-%d %H:%M:%S") + offset,
        pacific.strftime("%Y-%m-%dT%H:%M:%S") + offset + "[US/Pacific]",
        pacific.strftime("%Y-%m-%dT%H:%M:%S") + "[US/Pacific]",
        at.strftime("%Y-%m-%dT%H:%M:%SZ") + "[America/Phoenix]",
    ]


def test_datetime_forms_mean_the_same_instant(tenant: Tenant) -> None:
    at = _latest_write_at(tenant)
    su = tenant.api.su
    starts = _forms(at - timedelta(seconds=30))
    ends = _forms(at + timedelta(seconds=30))
    later = _forms(at + timedelta(seconds=2))
    filters = {"target-domain": tenant.domain, "target-user": "1001"}
    for start, end, after in zip(starts, ends, later, strict=True):
        hit = su.get(
            f"{V2}/auditlog", params={**filters, "datetime-start": start, "datetime-end": end}
        )
        assert hit.status_code == 200, (start, hit.text)
        assert len(hit.json()) >= 1, (start, end)
        miss = su.get(
            f"{V2}/auditlog", params={**filters, "datetime-start": after, "datetime-end": end}
        )
        assert miss.status_code == 200
        assert miss.json() == [], (after, miss.json())


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({}, "'datetime-start' is required"),
        ({"datetime-start": "2026-01-01 00:00:00"}, "'datetime-end' is required"),
        (
            {"datetime-start": "yesterday", "datetime-end": "2026-01-01 00:00:00"},
            "datetime-start: 'yesterday' is not a datetime",
        ),
        (
            {"datetime-start": "2026-01-01 00:00:00", "datetime-end": "2026-13-01 00:00:00"},
            "datetime-end:",
        ),
        (
            {
                "datetime-start": "2026-01-01 00:00:00[Mars/Olympus]",
                "datetime-end": "2026-01-02 00:00:00",
            },
            "unknown time zone 'Mars/Olympus'",
        ),
        (
            {"datetime-start": "2026-01-02 00:00:00", "datetime-end": "2026-01-01 00:00:00"},
            "datetime-end must be after datetime-start",
        ),
    ],
)
def test_bad_windows_are_400(tenant: Tenant, params: dict[str, str], needle: str) -> None:
    r = tenant.api.su.get(f"{V2}/auditlog", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == 400
    assert needle in r.json()["message"]


def test_reseller_sees_only_its_domains(tenant: Tenant, other_tenant: Tenant) -> None:
    other_tenant.api.su.put(
        f"{V2}/domains/{other_tenant.domain}/users/1001", json={"department": "Elsewhere"}
    )
    with tenant.as_role("Reseller") as c:
        rows = entries(c)
    assert rows
    assert {e["target-reseller"] for e in rows} == {tenant.reseller}
    assert {e["target-domain"] for e in rows} <= {tenant.domain, ""}
    assert any(e["target-domain"] == tenant.domain for e in rows)


def test_office_manager_sees_only_its_domain(tenant: Tenant, other_tenant: Tenant) -> None:
    tenant.api.su.put(f"{V2}/resellers/{tenant.reseller}", json={"description": "not for OMs"})
    other_tenant.api.su.put(
        f"{V2}/domains/{other_tenant.domain}/users/1001", json={"department": "Elsewhere"}
    )
    with tenant.as_role("Office Manager") as c:
        rows = entries(c)
    assert len(rows) >= 6
    assert {e["target-domain"] for e in rows} == {tenant.domain}
    assert "not for OMs" not in str(rows)


@pytest.mark.parametrize(
    "role", ["Site Manager", "Call Center Supervisor", "Call Center Agent", "Basic User"]
)
def test_lower_roles_may_not_read_the_audit_log(tenant: Tenant, role: str) -> None:
    with tenant.as_role(role) as c:
        r = c.get(f"{V2}/auditlog", params=window())
    assert r.status_code == 403
    assert r.json() == {"code": 403, "message": f"A {role} cannot read the audit log"}


def test_refused_writes_leave_no_entry(tenant: Tenant) -> None:
    su = tenant.api.su
    basic = tenant.as_role("Basic User")  # the login itself is audited: done before counting
    before = entries(su, **{"target-domain": tenant.domain})
    with basic as c:
        assert c.put(f"{V2}/domains/~/users/1000", json={"name-first-name": "x"}).status_code == 403
    assert su.post(f"{V2}/domains/{tenant.domain}/users", json={"user": "1001"}).status_code == 409
    assert (
        su.put(
            f"{V2}/domains/{tenant.domain}/users/1001", json={"time-zone": "Nope/Nope"}
        ).status_code
        == 422
    )
    assert entries(su, **{"target-domain": tenant.domain}) == before
