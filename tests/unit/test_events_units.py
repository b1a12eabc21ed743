"""Pure pieces of the event system: signatures, backoff, target checks, stream filters."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from standardwebhooks.webhooks import Webhook

from celito.auth.caller import Caller
from celito.auth.scopes import Scope
from celito.errors import Forbidden, Unprocessable
from celito.events.delivery import BACKOFF_CAP, BATCH_MAX, Held, Item, backoff
from celito.events.models import Event
from celito.events.render import event_bytes, event_json
from celito.events.signing import new_secret, sign
from celito.events.stream import StreamFilter, visible
from celito.events.targets import check_target


def test_our_signature_verifies_with_the_reference_library() -> None:
    secret = new_secret()
    body = json.dumps([{"event-id": 1}]).encode()
    stamp = int(time.time())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(secret, "msg_1", stamp, body),
    }
    assert Webhook(secret).verify(body, headers) == [{"event-id": 1}]
    with pytest.raises(Exception, match=r"(?i)signature"):
        Webhook(new_secret()).verify(body, headers)


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    firsts = [backoff(1) for _ in range(200)]
    assert all(0.5 <= d <= 1.0 for d in firsts) and len(set(firsts)) > 1
    assert all(4.0 <= backoff(4) <= 8.0 for _ in range(50))
    assert all(BACKOFF_CAP / 2 <= backoff(40) <= BACKOFF_CAP for _ in range(50))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://10.0.0.1/x",
        "http://[::1]:8080/x",
        "http://169.254.169.254/",
        "http://172.16.5.4/x",
        "http://192.168.1.1/x",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_private_targets_refused(url: str) -> None:
    with pytest.raises(Unprocessable, match="private"):
        asyncio.run(check_target(url, allow_private=False))
    asyncio.run(check_target(url, allow_private=True))


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "javascript:alert(1)", "http:///nohost", "https://example.com:99999/x"],
)
def test_malformed_targets_refused(url: str) -> None:
    with pytest.raises(Unprocessable):
        asyncio.run(check_target(url, allow_private=True))


def test_public_literal_address_accepted() -> None:
    asyncio.run(check_target("https://93.184.215.14/hook", allow_private=False))


def test_a_host_that_does_not_resolve_may_be_saved_but_not_called() -> None:
    """`.invalid` never resolves (RFC 6761): such a URL is saved (its DNS may come later), a
    call to it is refused; a private address is refused either way."""
    url = "https://crm.example.invalid/hook"
    asyncio.run(check_target(url, allow_private=False, saving=True))
    with pytest.raises(Unprocessable, match="does not resolve"):
        asyncio.run(check_target(url, allow_private=False))
    with pytest.raises(Unprocessable, match="private"):
        asyncio.run(check_target("http://10.0.0.1/x", allow_private=False, saving=True))


def _caller(scope: Scope, **kw: object) -> Caller:
    base: dict[str, object] = {
        "domain": "acme",
        "domain_id": 1,
        "reseller": "r1",
        "reseller_id": 1,
        "user": "1001",
        "user_id": 5,
    }
    base.update(kw)
    return Caller(scope=scope, **base)  # type: ignore[arg-type]


def _event(**kw: str) -> Event:
    values = {
        "model": "subscriber",
        "action": "update",
        "reseller": "r1",
        "domain": "acme",
        "user": "1001",
    }
    values.update(kw)
    return Event(id=1, payload={}, **values)


def test_visibility_by_role() -> None:
    assert visible(_caller(Scope.SUPER_USER), _event(reseller="other", domain="x"))
    assert visible(_caller(Scope.RESELLER), _event(domain="any"))
    assert not visible(_caller(Scope.RESELLER), _event(reseller="r2"))
    assert visible(_caller(Scope.OFFICE_MANAGER), _event(user="1002"))
    assert not visible(_caller(Scope.OFFICE_MANAGER), _event(domain="other"))
    assert visible(_caller(Scope.BASIC_USER), _event())
    assert not visible(_caller(Scope.BASIC_USER), _event(user="1002"))


def test_stream_filters_are_clamped_to_reach() -> None:
    user = _caller(Scope.BASIC_USER)
    assert StreamFilter.parse(None, None, None, user).user == "1001"
    with pytest.raises(Forbidden):
        StreamFilter.parse(["subscriber"], None, "1002", user)
    manager = _caller(Scope.OFFICE_MANAGER)
    assert StreamFilter.parse(["subscriber"], "*", None, manager).domain == "acme"
    with pytest.raises(Forbidden):
        StreamFilter.parse(["subscriber"], "other", None, manager)
    with pytest.raises(Unprocessable):
        StreamFilter.parse(["nonsense"], None, None, manager)


def test_event_json_marks_removals() -> None:
    body = event_json(_event(action="delete"))
    assert body["remove"] == "yes" and body["event-model"] == "subscriber"


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("update", {"user": "1001", "name-first-name": "Ann"}),
        ("update", {}),
        ("delete", {"user": "1001"}),
        ("delete", {"user": "1001", "remove": "no"}),
        ("update", {"event-id": 99, "user": "1001"}),
        ("update", {"note": 'she wrote "event-x" here', "n": [1, {"k": None}]}),
    ],
)
def test_event_bytes_is_event_json_without_parsing_the_payload(
    action: str, payload: dict[str, object]
) -> None:
    event = Event(
        id=7,
        at=datetime.now(UTC),
        model="subscriber",
        action=action,
        reseller="r1",
        domain="acme",
        user="1001",
        payload=payload,
    )
    for stored in (json.dumps(payload), json.dumps(payload, separators=(",", ":"))):
        rendered = json.loads(event_bytes(event, stored))
        assert rendered == event_json(event)
        assert list(rendered) == list(event_json(event))  # the same key order, too


def _held(**kw: object) -> Held:
    row = SimpleNamespace(
        id="s1",
        model="subscriber",
        reseller="*",
        domain="acme",
        user="*",
        post_url="http://127.0.0.1/x",
        secret=new_secret(),
        owner_reseller="r1",
        owner_domain="acme",
        preferred_server="",
        expires_at=None,
        revision=0,
        cursor=10,
        retry_upto=None,
        attempt=0,
        failing_since=None,
    )
    for key, value in kw.items():
        setattr(row, key, value)
    return Held.of(row)  # type: ignore[arg-type]


def _items(*ids: int) -> list[Item]:
    return [Item(i, 0.0, "subscriber", "r1", "acme", "1001", b"{}") for i in ids]


def test_a_batch_holds_at_most_batch_max_events_in_order() -> None:
    held = _held()
    held.pending.extend(_items(*range(11, 11 + BATCH_MAX + 5)))
    batch = held.batch()
    assert [i.id for i in batch] == list(range(11, 11 + BATCH_MAX))


def test_a_failed_batch_is_retried_exactly_then_the_rest_follows() -> None:
    held = _held(retry_upto=13, attempt=2)
    held.pending.extend(_items(11, 12, 13, 14, 15))
    assert [i.id for i in held.batch()] == [11, 12, 13]  # same events: same webhook-id
    # Its events are gone (past retention): carry on with what is left.
    held = _held(retry_upto=9)
    held.pending.extend(_items(14, 15))
    assert [i.id for i in held.batch()] == [14, 15] and held.retry_upto is None


def test_a_subscription_filter_in_sql_names_only_what_it_narrows() -> None:
    clauses = [str(c) for c in _held().clauses()]
    assert clauses == ["events.model = :model_1", "events.domain = :domain_1"]
