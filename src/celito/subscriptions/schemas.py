from __future__ import annotations

from typing import Literal

from pydantic import Field

from celito.kit.schema import ApiDatetime, ApiModel, ApiOut, YesNo

Model = Literal[
    "subscriber",
    "device",
    "call",
    "call_origid",
    "cdr",
    "presence",
    "voicemail",
    "agent",
    "auditlog",
    "message",
    "phone",
]


class SubscriptionCreate(ApiModel):
    model: Model
    post_url: str = Field(max_length=2048, description="http(s) URL that receives the POSTs.")
    reseller: str | None = Field(None, description="Filter; `*` = all (Super User).")
    domain: str | None = Field(None, description="Filter; `*` = all your domains.")
    user: str | None = Field(None, description="Filter; `*` = all users.")
    subscription_expires_datetime: str | None = Field(
        None,
        description="When it ends (e.g. `2027-01-01 00:00:00`); empty = never. It does "
        "not end with the token that created it.",
    )
    preferred_server: str | None = Field(None, max_length=128)
    subscription_geo_support: YesNo | None = None
    user_scope: str | None = None
    synchronous: YesNo | None = None


class SubscriptionUpdate(ApiModel):
    post_url: str | None = Field(None, max_length=2048)
    subscription_expires_datetime: str | None = None
    preferred_server: str | None = Field(None, max_length=128)
    status: Literal["active", "disabled"] | None = Field(
        None, description="`active` re-enables a subscription in error; `disabled` pauses it."
    )
    error_count: Literal[0] | None = Field(None, description="0 resets the counter.")
    posts_count: Literal[0] | None = Field(None, description="0 resets the counter.")
    subscription_geo_support: YesNo | None = None
    synchronous: YesNo | None = None


class Renewal(ApiModel):
    subscription_expires_datetime: str | None = Field(
        None, description="New end; default 30 days after the current end (or now)."
    )


class Redelivery(ApiModel):
    from_event_id: int | None = Field(None, ge=1, description="Send again from this event on.")
    attempt_id: int | None = Field(None, ge=1, description="Send again what this attempt held.")


class SubscriptionOut(ApiOut):
    id: str
    model: str
    post_url: str
    reseller: str
    domain: str
    user: str
    user_scope: str
    subscription_geo_support: YesNo = True
    preferred_server: str
    current_active_server: str | None
    subscription_creation_datetime: ApiDatetime
    subscription_expires_datetime: ApiDatetime
    status: str
    status_reason: str
    error_count: int
    posts_count: int
    last_delivered_datetime: ApiDatetime
    expires_warning: str | None = None
    signing_secret: str | None = Field(None, description="Only in the create response.")


class AttemptOut(ApiOut):
    id: int
    datetime: ApiDatetime
    node: str
    webhook_id: str
    first_event_id: int
    last_event_id: int
    events_count: int
    succeeded: YesNo
    http_status: int | None
    latency_ms: int
    response_excerpt: str
    error: str


EXAMPLE = {
    "id": "3f9c2a7e51b04d6e",
    "model": "subscriber",
    "post-url": "https://crm.example.com/hooks/celito",
    "reseller": "northwind",
    "domain": "acme",
    "user": "*",
    "user-scope": "Office Manager",
    "subscription-geo-support": "yes",
    "preferred-server": "",
    "current-active-server": None,
    "subscription-creation-datetime": "2026-11-27T10:00:00Z",
    "subscription-expires-datetime": None,
    "status": "pending",
    "status-reason": "",
    "error-count": 0,
    "posts-count": 0,
    "last-delivered-datetime": None,
    "expires-warning": None,
    "signing-secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw (shown once)",
}
