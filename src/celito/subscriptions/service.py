"""Event subscriptions: who may subscribe to what, and their lifecycle (not their delivery)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import false, func, select, true
from sqlalchemy import update as sa_update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.policy import deny
from celito.db import utcnow
from celito.domains import service as domains
from celito.errors import Conflict, NotFound, Unprocessable
from celito.events.models import Event
from celito.events.signing import new_secret
from celito.events.targets import check_target
from celito.kit.paging import Page
from celito.kit.timeparse import parse_api_datetime
from celito.subscriptions.models import DeliveryAttempt, Subscription
from celito.subscriptions.schemas import (
    AttemptOut,
    Redelivery,
    Renewal,
    SubscriptionCreate,
    SubscriptionOut,
    SubscriptionUpdate,
)

WARN_BEFORE = timedelta(days=7)
DEFAULT_RENEWAL = timedelta(days=30)


def clause(caller: Caller) -> ColumnElement[bool]:
    if caller.is_super:
        return true()
    if caller.is_reseller:
        return Subscription.owner_reseller == (caller.reseller or "")
    if caller.domain is None:
        return false()
    if caller.is_user_level:
        return Subscription.created_by == caller.uid
    return Subscription.owner_domain == caller.domain


def _expiry(raw: str | None) -> datetime | None:
    if raw is None or raw.strip() == "":
        return None
    when = parse_api_datetime(raw, field="subscription-expires-datetime")
    if when <= utcnow():
        raise Unprocessable("subscription-expires-datetime must be in the future")
    return when


async def _filters(
    session: AsyncSession, caller: Caller, body: SubscriptionCreate, path_domain: str | None
) -> tuple[str, str, str, str, str]:
    """(reseller, domain, user) filters plus the owning reseller/domain, within the caller's
    reach. `*` widens a filter to everything the caller may see, and only a Super User may
    leave the reseller open."""
    reseller = body.reseller or "*"
    domain = (
        path_domain or body.domain or ("~" if not (caller.is_super or caller.is_reseller) else "*")
    )
    user = body.user or "*"
    if domain not in ("*",):
        found = await domains.get(session, caller, domain)
        domain = found.name
        if reseller not in ("*", found.reseller.name):
            raise Unprocessable(f"Domain {domain} is not in reseller {reseller}")
        reseller = found.reseller.name
    if caller.is_super:
        return (
            reseller,
            domain,
            user,
            reseller if reseller != "*" else "",
            (domain if domain != "*" else ""),
        )
    if caller.is_reseller:
        if reseller not in ("*", caller.reseller):
            raise NotFound(f"Reseller {reseller} does not exist")
        return (
            caller.reseller or "",
            domain,
            user,
            caller.reseller or "",
            (domain if domain != "*" else ""),
        )
    if domain == "*":
        raise deny(f"A {caller.scope} subscribes to its own domain only")
    if caller.is_user_level:
        if user not in ("~", caller.user):
            raise deny(f"A {caller.scope} subscribes to its own events only")
        user = caller.user or ""
    if user == "~":
        user = caller.user or "*"
    return reseller, domain, user, reseller, domain


async def create(
    session: AsyncSession,
    caller: Caller,
    body: SubscriptionCreate,
    *,
    path_domain: str | None,
    allow_private: bool,
) -> tuple[Subscription, str]:
    reseller, domain, user, owner_reseller, owner_domain = await _filters(
        session, caller, body, path_domain
    )
    await check_target(body.post_url, allow_private=allow_private, saving=True)
    duplicate = await session.scalar(
        select(Subscription.id).where(
            Subscription.model == body.model,
            Subscription.post_url == body.post_url,
            Subscription.reseller == reseller,
            Subscription.domain == domain,
            Subscription.user == user,
            clause(caller),
        )
    )
    if duplicate:
        raise Conflict(f"An identical subscription already exists: {duplicate}")
    secret = new_secret()
    sub = Subscription(
        id=secrets.token_hex(8),
        model=body.model,
        post_url=body.post_url,
        reseller=reseller,
        domain=domain,
        user=user,
        owner_reseller=owner_reseller,
        owner_domain=owner_domain,
        created_by=caller.uid,
        user_scope=caller.scope.value,
        secret=secret,
        preferred_server=body.preferred_server or "",
        expires_at=_expiry(body.subscription_expires_datetime),
        # Deliveries start with the events committed after this one.
        cursor=int(await session.scalar(select(func.max(Event.id))) or 0),
    )
    session.add(sub)
    await session.flush()
    audit.record(
        session,
        caller,
        "create",
        "subscription",
        sub.id,
        reseller=owner_reseller,
        domain=owner_domain,
        after=snapshot(sub),
    )
    return sub, secret


def snapshot(sub: Subscription) -> dict[str, Any]:
    return {
        "model": sub.model,
        "post-url": sub.post_url,
        "reseller": sub.reseller,
        "domain": sub.domain,
        "user": sub.user,
        "status": sub.status,
        "expires": sub.expires_at.isoformat() if sub.expires_at else None,
    }


def to_out(sub: Subscription, *, secret: str | None = None) -> SubscriptionOut:
    now = utcnow()
    warning = None
    status = sub.status
    if sub.expires_at is not None:
        if sub.expires_at <= now:
            status = "expired"
            warning = "This subscription has expired; renew it with POST …/renew"
        elif sub.expires_at - now <= WARN_BEFORE:
            warning = (
                f"Expires {sub.expires_at:%Y-%m-%d %H:%M:%S} UTC; renew with POST …/renew "
                "or PUT subscription-expires-datetime"
            )
    if not sub.enabled and status in ("pending", "active"):
        status = "disabled"
    active = sub.leased_by if sub.leased_until and sub.leased_until > now else None
    return SubscriptionOut(
        id=sub.id,
        model=sub.model,
        post_url=sub.post_url,
        reseller=sub.reseller,
        domain=sub.domain,
        user=sub.user,
        user_scope=sub.user_scope,
        preferred_server=sub.preferred_server,
        current_active_server=active,
        subscription_creation_datetime=sub.created_at,
        subscription_expires_datetime=sub.expires_at,
        status=status,
        status_reason=sub.status_reason,
        error_count=sub.error_count,
        posts_count=sub.posts_count,
        last_delivered_datetime=sub.last_delivered_at,
        expires_warning=warning,
        signing_secret=secret,
    )


async def get(
    session: AsyncSession, caller: Caller, sub_id: str, path_domain: str | None = None
) -> Subscription:
    stmt = select(Subscription).where(Subscription.id == sub_id, clause(caller))
    if path_domain is not None:
        domain = await domains.get(session, caller, path_domain)
        stmt = stmt.where(Subscription.owner_domain == domain.name)
    found = await session.scalar(stmt)
    if found is None:
        raise NotFound(f"Subscription {sub_id} does not exist")
    return found


async def list_(
    session: AsyncSession, caller: Caller, page: Page, path_domain: str | None = None
) -> list[Subscription]:
    stmt = select(Subscription).where(clause(caller))
    if path_domain is not None:
        domain = await domains.get(session, caller, path_domain)
        stmt = stmt.where(Subscription.owner_domain == domain.name)
    stmt = page.apply(
        stmt,
        {
            "id": Subscription.id,
            "model": Subscription.model,
            "subscription-creation-datetime": Subscription.created_at,
        },
        "subscription-creation-datetime",
    )
    return list((await session.scalars(stmt)).all())


async def _changed(session: AsyncSession, sub: Subscription) -> None:
    """Tells the process delivering the subscription to read it again (see events.delivery).
    Counted in SQL, so two changes at once still leave a revision the holder has not seen."""
    await session.execute(
        sa_update(Subscription)
        .where(Subscription.id == sub.id)
        .values(revision=Subscription.revision + 1)
        .execution_options(synchronize_session=False)
    )


def _resume(sub: Subscription) -> None:
    sub.enabled = True
    sub.status = "active" if sub.posts_count else "pending"
    sub.status_reason = ""
    sub.attempt = 0
    sub.failing_since = None
    sub.next_attempt_at = utcnow()


async def update(
    session: AsyncSession,
    caller: Caller,
    sub_id: str,
    body: SubscriptionUpdate,
    *,
    path_domain: str | None,
    allow_private: bool,
) -> Subscription:
    sub = await get(session, caller, sub_id, path_domain)
    before = snapshot(sub)
    values = body.model_dump(exclude_unset=True)
    if values.get("post_url"):
        await check_target(values["post_url"], allow_private=allow_private, saving=True)
        sub.post_url = values["post_url"]
    if "subscription_expires_datetime" in values:
        sub.expires_at = _expiry(values["subscription_expires_datetime"])
    if values.get("preferred_server") is not None:
        sub.preferred_server = values["preferred_server"]
    if values.get("error_count") == 0:
        sub.error_count = 0
    if values.get("posts_count") == 0:
        sub.posts_count = 0
    if values.get("status") == "active":
        _resume(sub)
    elif values.get("status") == "disabled":
        sub.enabled = False
        sub.status_reason = f"Disabled by {caller.uid}"
    await _changed(session, sub)
    audit.record(
        session,
        caller,
        "update",
        "subscription",
        sub.id,
        reseller=sub.owner_reseller,
        domain=sub.owner_domain,
        before=before,
        after=snapshot(sub),
    )
    return sub


async def renew(session: AsyncSession, caller: Caller, sub_id: str, body: Renewal) -> Subscription:
    sub = await get(session, caller, sub_id)
    before = snapshot(sub)
    if body.subscription_expires_datetime:
        sub.expires_at = _expiry(body.subscription_expires_datetime)
    else:
        base = max(sub.expires_at or utcnow(), utcnow())
        sub.expires_at = base + DEFAULT_RENEWAL
    if sub.enabled:
        sub.next_attempt_at = utcnow()
    await _changed(session, sub)
    audit.record(
        session,
        caller,
        "update",
        "subscription",
        sub.id,
        reseller=sub.owner_reseller,
        domain=sub.owner_domain,
        before=before,
        after=snapshot(sub),
    )
    return sub


async def delete(
    session: AsyncSession, caller: Caller, sub_id: str, path_domain: str | None = None
) -> Subscription:
    sub = await get(session, caller, sub_id, path_domain)
    await session.delete(sub)
    audit.record(
        session,
        caller,
        "delete",
        "subscription",
        sub.id,
        reseller=sub.owner_reseller,
        domain=sub.owner_domain,
        before=snapshot(sub),
    )
    return sub


async def attempts(
    session: AsyncSession, caller: Caller, sub_id: str, page: Page
) -> list[AttemptOut]:
    await get(session, caller, sub_id)
    stmt = page.apply(
        select(DeliveryAttempt).where(DeliveryAttempt.subscription_id == sub_id),
        {"id": DeliveryAttempt.id},
        "id",
    )
    if page.sort is None:
        stmt = stmt.order_by(None).order_by(DeliveryAttempt.id.desc())
    rows = (await session.scalars(stmt)).all()
    return [
        AttemptOut(
            id=a.id,
            datetime=a.at,
            node=a.node,
            webhook_id=a.webhook_id,
            first_event_id=a.first_event_id,
            last_event_id=a.last_event_id,
            events_count=a.events_count,
            succeeded=a.succeeded,
            http_status=a.http_status,
            latency_ms=a.latency_ms,
            response_excerpt=a.response_excerpt,
            error=a.error,
        )
        for a in rows
    ]


async def redeliver(
    session: AsyncSession, caller: Caller, sub_id: str, body: Redelivery
) -> Subscription:
    """Rewinds the subscription so events are sent again (receivers de-duplicate by id)."""
    sub = await get(session, caller, sub_id)
    if body.attempt_id is not None:
        attempt = await session.scalar(
            select(DeliveryAttempt).where(
                DeliveryAttempt.id == body.attempt_id, DeliveryAttempt.subscription_id == sub.id
            )
        )
        if attempt is None:
            raise NotFound(f"Delivery attempt {body.attempt_id} does not exist")
        start = attempt.first_event_id
    elif body.from_event_id is not None:
        start = body.from_event_id
    else:
        raise Unprocessable("Send from-event-id or attempt-id")
    oldest = await session.scalar(select(func.min(Event.id)))
    if oldest is None or start < oldest:
        raise Conflict(f"Events before {oldest} are past the retention window")
    sub.cursor = min(sub.cursor, start - 1)
    sub.retry_upto = None
    _resume(sub)
    await _changed(session, sub)
    audit.record(
        session,
        caller,
        "redeliver",
        "subscription",
        sub.id,
        reseller=sub.owner_reseller,
        domain=sub.owner_domain,
        details={"from_event_id": start},
    )
    return sub
