"""Webhooks end to end: a real receiver process on loopback, signatures checked with the
standardwebhooks library (an implementation of the spec independent of ours)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook

from tests.support.receiver import receiver
from tests.support.tenants import Tenant


def _subscribe(tenant: Tenant, url: str, model: str = "subscriber", **extra: Any) -> dict[str, Any]:
    with tenant.as_role("Office Manager") as om:
        r = om.post("/ns-api/v2/subscriptions", json={"model": model, "post-url": url, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def _rename(tenant: Tenant, times: int, ext: str = "1001", start: int = 0) -> None:
    with tenant.as_role("Office Manager") as om:
        for i in range(start, start + times):
            r = om.put(f"/ns-api/v2/domains/~/users/{ext}", json={"name-first-name": f"N{i}"})
            assert r.status_code == 200, r.text


def _names(events: list[dict[str, Any]]) -> list[str]:
    return [e["name-first-name"] for e in events if e["event-action"] == "update"]


def test_signed_ordered_batches(etenant: Tenant, tmp_path: Path) -> None:
    with receiver(tmp_path) as rx:
        sub = _subscribe(etenant, rx.url)
        assert sub["status"] == "pending" and sub["signing-secret"].startswith("whsec_")
        _rename(etenant, 25)
        rx.wait_for(lambda: len(_names(rx.delivered())) >= 25)
        verifier = Webhook(sub["signing-secret"])
        for request in rx.requests():
            payload = verifier.verify(request["body"], request["headers"])
            assert isinstance(payload, list) and payload
        events = rx.delivered()
        assert _names(events) == [f"N{i}" for i in range(25)]
        ids = [e["event-id"] for e in events]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert {e["event-model"] for e in events} == {"subscriber"}
        assert all(e["domain"] == etenant.domain for e in events)
        with etenant.as_role("Office Manager") as om:
            state = om.get(f"/ns-api/v2/subscriptions/{sub['id']}").json()
        assert state["status"] == "active" and state["posts-count"] >= 1
        assert "signing-secret" not in state or state["signing-secret"] is None


def test_a_tampered_body_fails_verification(etenant: Tenant, tmp_path: Path) -> None:
    with receiver(tmp_path) as rx:
        sub = _subscribe(etenant, rx.url)
        _rename(etenant, 1)
        rx.wait_for(lambda: rx.requests())
        request = rx.requests()[0]
        tampered = request["body"].replace("N0", "N9")
        try:
            Webhook(sub["signing-secret"]).verify(tampered, request["headers"])
        except Exception as exc:  # the library raises WebhookVerificationError
            assert "signature" in str(exc).lower()
        else:
            raise AssertionError("a tampered body verified")


def test_retries_after_errors_and_timeouts_keep_order(etenant: Tenant, tmp_path: Path) -> None:
    with receiver(tmp_path) as rx:
        rx.answer(500, [200, 3.0], 503)  # an error, a timeout (the server waits 1.5 s), an error
        sub = _subscribe(etenant, rx.url)
        _rename(etenant, 5)
        rx.wait_for(lambda: len(set(_names(rx.delivered()))) >= 5, timeout=40)
        _rename(etenant, 5, start=5)
        rx.wait_for(lambda: len(set(_names(rx.delivered()))) >= 10, timeout=20)
        names = _names(rx.delivered())
        # The timed-out POST may have reached the receiver: at-least-once, in order.
        deduped = list(dict.fromkeys(names))
        assert deduped == [f"N{i}" for i in range(10)]
        with etenant.as_role("Office Manager") as om:
            attempts = om.get(f"/ns-api/v2/subscriptions/{sub['id']}/deliveries").json()
            state = om.get(f"/ns-api/v2/subscriptions/{sub['id']}").json()
        outcomes = [(a["succeeded"], a["http-status"]) for a in reversed(attempts)]
        assert outcomes[0] == ("no", 500)
        assert ("no", None) in outcomes  # the timeout
        assert ("no", 503) in outcomes
        assert outcomes[-1][0] == "yes"
        assert any("Timeout" in a["error"] for a in attempts)
        assert state["error-count"] >= 3 and state["status"] == "active"


def test_gone_ends_the_subscription(etenant: Tenant, tmp_path: Path) -> None:
    with receiver(tmp_path) as rx:
        rx.answer(default=410)
        sub = _subscribe(etenant, rx.url)
        _rename(etenant, 1)
        rx.wait_for(lambda: rx.requests())
        with etenant.as_role("Office Manager") as om:
            rx.wait_for(
                lambda: om.get(f"/ns-api/v2/subscriptions/{sub['id']}").json()["status"] == "gone"
            )
        _rename(etenant, 3, start=1)
        time.sleep(1.5)
        assert len(rx.requests()) == 1


def test_redelivery_through_the_api(etenant: Tenant, tmp_path: Path) -> None:
    with receiver(tmp_path) as rx:
        sub = _subscribe(etenant, rx.url)
        _rename(etenant, 3)
        rx.wait_for(lambda: len(_names(rx.delivered())) >= 3)
        with etenant.as_role("Office Manager") as om:
            attempts = om.get(f"/ns-api/v2/subscriptions/{sub['id']}/deliveries").json()
            first = attempts[-1]
            r = om.post(
                f"/ns-api/v2/subscriptions/{sub['id']}/redeliver", json={"attempt-id": first["id"]}
            )
            assert r.status_code == 200, r.text
        rx.wait_for(lambda: len(_names(rx.delivered())) >= 6)
        assert _names(rx.delivered()) == ["N0", "N1", "N2", "N0", "N1", "N2"]


def test_tenant_isolation(etenant: Tenant, other_etenant: Tenant, tmp_path: Path) -> None:
    with receiver(tmp_path / "a") as mine, receiver(tmp_path / "b") as theirs:
        my_sub = _subscribe(etenant, mine.url)
        _subscribe(other_etenant, theirs.url)
        _rename(other_etenant, 2)
        _rename(etenant, 2)
        mine.wait_for(lambda: len(_names(mine.delivered())) >= 2)
        theirs.wait_for(lambda: len(_names(theirs.delivered())) >= 2)
        assert {e["domain"] for e in mine.delivered()} == {etenant.domain}
        assert {e["domain"] for e in theirs.delivered()} == {other_etenant.domain}
        with etenant.as_role("Office Manager") as om:
            wrong = om.post(
                "/ns-api/v2/subscriptions",
                json={"model": "subscriber", "post-url": mine.url, "domain": other_etenant.domain},
            )
            assert wrong.status_code == 404
            wide = om.post(
                "/ns-api/v2/subscriptions",
                json={"model": "subscriber", "post-url": mine.url, "domain": "*"},
            )
            assert wide.status_code == 403
            listed = om.get("/ns-api/v2/subscriptions").json()
            assert {s["domain"] for s in listed} == {etenant.domain}
        with etenant.as_role("Basic User") as user:
            own = user.post(
                "/ns-api/v2/subscriptions",
                json={"model": "subscriber", "post-url": mine.url + "?u", "user": "1002"},
            )
            assert own.status_code == 403
        with other_etenant.as_role("Office Manager") as om:
            assert om.get(f"/ns-api/v2/subscriptions/{my_sub['id']}").status_code == 404
            assert om.delete(f"/ns-api/v2/subscriptions/{my_sub['id']}").status_code == 404


def test_private_targets_are_refused_by_default(tenant: Tenant) -> None:
    with tenant.as_role("Office Manager") as om:
        for url in (
            "http://127.0.0.1:9/hook",
            "http://10.1.2.3/x",
            "http://[::1]/x",
            "http://169.254.169.254/latest",
            "http://192.168.0.10/x",
        ):
            r = om.post("/ns-api/v2/subscriptions", json={"model": "subscriber", "post-url": url})
            assert r.status_code == 422, (url, r.text)
            assert "private" in r.json()["message"]
        r = om.post(
            "/ns-api/v2/subscriptions",
            json={"model": "subscriber", "post-url": "ftp://example.com/x"},
        )
        assert r.status_code == 422
        assert om.get("/ns-api/v2/subscriptions").json() == []
