from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from celito.auth.caller import Caller
from celito.kit.docs import EVERYONE, MANAGERS, operation
from celito.kit.paging import PageParams
from celito.subscriptions import service
from celito.subscriptions.schemas import (
    EXAMPLE,
    AttemptOut,
    Redelivery,
    Renewal,
    SubscriptionCreate,
    SubscriptionOut,
    SubscriptionUpdate,
)
from celito.web import DbSession, RuntimeDep, caller_for

router = APIRouter(tags=["Events"])
Reader = Annotated[Caller, caller_for("subscription")]
_NO_SECRET = {k: v for k, v in EXAMPLE.items() if k != "signing-secret"}
_CREATE_DOC = (
    "Subscribes `post-url` to events of one `model` within `reseller`/`domain`/`user` filters "
    "(`*` = everything you may see; only a Super User may leave the reseller open). Events are "
    "POSTed as a JSON array, batched (up to 100 events, ~50 ms), in order, signed with "
    "Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`) using "
    "the `signing-secret` returned here once. Failed deliveries are retried with exponential "
    "backoff and jitter for 24 hours, after which the subscription is disabled (status "
    "`error`) and audited; a `410 Gone` answer ends it. A subscription never expires with the "
    "token that made it: give `subscription-expires-datetime` or leave it open. Verify a "
    "delivery: base64-decode the secret after `whsec_`, HMAC-SHA256 over "
    "`{webhook-id}.{webhook-timestamp}.{body}`, base64, compare with the `v1,` value."
)
_CREATE_REQUEST = {
    "model": "subscriber",
    "post-url": "https://crm.example.com/hooks/celito",
    "domain": "acme",
    "user": "*",
}


def _create_op(summary: str) -> dict[str, Any]:
    return operation(
        summary,
        _CREATE_DOC,
        roles=EVERYONE,
        example=EXAMPLE,
        status=201,
        request_example=_CREATE_REQUEST,
        errors=(401, 403, 404, 409, 422),
    )


@router.post(
    "/subscriptions", response_model=SubscriptionOut, **_create_op("Create an event subscription")
)
async def create_subscription(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    body: Annotated[SubscriptionCreate, Body()],
) -> SubscriptionOut:
    sub, secret = await service.create(
        session,
        caller,
        body,
        path_domain=None,
        allow_private=runtime.settings.webhook_allow_private,
    )
    return service.to_out(sub, secret=secret)


@router.post(
    "/domains/{domain}/subscriptions",
    response_model=SubscriptionOut,
    **_create_op("Create an event subscription for a domain"),
)
async def create_domain_subscription(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    domain: str,
    body: Annotated[SubscriptionCreate, Body()],
) -> SubscriptionOut:
    sub, secret = await service.create(
        session,
        caller,
        body,
        path_domain=domain,
        allow_private=runtime.settings.webhook_allow_private,
    )
    return service.to_out(sub, secret=secret)


_LIST = operation(
    "List event subscriptions",
    "Subscriptions you can see, with delivery status, counters and expiry warnings (never the "
    "signing secret).",
    roles=EVERYONE,
    example=[_NO_SECRET],
)


@router.get(
    "/subscriptions",
    response_model=list[SubscriptionOut],
    response_model_exclude={"__all__": {"signing_secret"}},
    **_LIST,
)
async def list_subscriptions(
    session: DbSession, caller: Reader, page: PageParams
) -> list[SubscriptionOut]:
    return [service.to_out(s) for s in await service.list_(session, caller, page)]


@router.get(
    "/domains/{domain}/subscriptions",
    response_model=list[SubscriptionOut],
    response_model_exclude={"__all__": {"signing_secret"}},
    **{**_LIST, "summary": "List a domain's event subscriptions"},
)
async def list_domain_subscriptions(
    session: DbSession, caller: Reader, domain: str, page: PageParams
) -> list[SubscriptionOut]:
    return [service.to_out(s) for s in await service.list_(session, caller, page, domain)]


@router.get(
    "/subscriptions/{sub_id}",
    response_model=SubscriptionOut,
    response_model_exclude={"signing_secret"},
    **operation(
        "Read an event subscription", "One subscription by id.", roles=EVERYONE, example=_NO_SECRET
    ),
)
async def get_subscription(session: DbSession, caller: Reader, sub_id: str) -> SubscriptionOut:
    return service.to_out(await service.get(session, caller, sub_id))


_UPDATE = operation(
    "Update an event subscription",
    "Change `post-url`, `subscription-expires-datetime` or `preferred-server`; `status: active` "
    "re-enables a subscription in error (deliveries resume from where they stopped), "
    "`status: disabled` pauses it; `error-count: 0` resets the counter.",
    roles=EVERYONE,
    example=_NO_SECRET,
    request_example={"status": "active"},
    errors=(401, 403, 404, 422),
)


@router.put(
    "/subscriptions/{sub_id}",
    response_model=SubscriptionOut,
    response_model_exclude={"signing_secret"},
    **_UPDATE,
)
async def update_subscription(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    sub_id: str,
    body: Annotated[SubscriptionUpdate, Body()],
) -> SubscriptionOut:
    sub = await service.update(
        session,
        caller,
        sub_id,
        body,
        path_domain=None,
        allow_private=runtime.settings.webhook_allow_private,
    )
    return service.to_out(sub)


@router.put(
    "/domains/{domain}/subscriptions/{sub_id}",
    response_model=SubscriptionOut,
    response_model_exclude={"signing_secret"},
    **{**_UPDATE, "summary": "Update a domain's event subscription"},
)
async def update_domain_subscription(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    domain: str,
    sub_id: str,
    body: Annotated[SubscriptionUpdate, Body()],
) -> SubscriptionOut:
    sub = await service.update(
        session,
        caller,
        sub_id,
        body,
        path_domain=domain,
        allow_private=runtime.settings.webhook_allow_private,
    )
    return service.to_out(sub)


_DELETE = operation(
    "Delete an event subscription",
    "Stops deliveries and removes it.",
    roles=EVERYONE,
    example=_NO_SECRET,
)


@router.delete(
    "/subscriptions/{sub_id}",
    response_model=SubscriptionOut,
    response_model_exclude={"signing_secret"},
    **_DELETE,
)
async def delete_subscription(session: DbSession, caller: Reader, sub_id: str) -> SubscriptionOut:
    return service.to_out(await service.delete(session, caller, sub_id))


@router.delete(
    "/domains/{domain}/subscriptions/{sub_id}",
    response_model=SubscriptionOut,
    response_model_exclude={"signing_secret"},
    **{**_DELETE, "summary": "Delete a domain's event subscription"},
)
async def delete_domain_subscription(
    session: DbSession, caller: Reader, domain: str, sub_id: str
) -> SubscriptionOut:
    return service.to_out(await service.delete(session, caller, sub_id, domain))


@router.post(
    "/subscriptions/{sub_id}/renew",
    response_model=SubscriptionOut,
    response_model_exclude={"signing_secret"},
    **operation(
        "Renew an event subscription",
        "Moves the end date: to `subscription-expires-datetime`, or 30 days "
        "past the current end. An expired subscription resumes delivering.",
        roles=EVERYONE,
        example=_NO_SECRET,
        request_example={},
    ),
)
async def renew_subscription(
    session: DbSession, caller: Reader, sub_id: str, body: Annotated[Renewal, Body()]
) -> SubscriptionOut:
    return service.to_out(await service.renew(session, caller, sub_id, body))


@router.get(
    "/subscriptions/{sub_id}/deliveries",
    response_model=list[AttemptOut],
    **operation(
        "Read delivery attempts",
        "Each POST made for this subscription, newest first: when, which events, "
        "HTTP status, latency, the start of the receiver's answer or the error.",
        roles=EVERYONE,
        example=[
            {
                "id": 7,
                "datetime": "2026-11-27T10:00:01Z",
                "node": "node-a",
                "webhook-id": "msg_3f9c2a7e51b04d6e_120_131",
                "first-event-id": 120,
                "last-event-id": 131,
                "events-count": 12,
                "succeeded": "no",
                "http-status": 500,
                "latency-ms": 41,
                "response-excerpt": "Internal Server Error",
                "error": "",
            }
        ],
    ),
)
async def list_attempts(
    session: DbSession, caller: Reader, sub_id: str, page: PageParams
) -> list[AttemptOut]:
    return await service.attempts(session, caller, sub_id, page)


@router.post(
    "/subscriptions/{sub_id}/redeliver",
    response_model=SubscriptionOut,
    response_model_exclude={"signing_secret"},
    **operation(
        "Redeliver events",
        "Sends events again, from `from-event-id` or from the first event of a "
        "delivery attempt (`attempt-id`), in order, within the retention window. "
        "Re-enables a subscription in error. Receivers de-duplicate on `event-id`.",
        roles=(*MANAGERS, "Basic User"),
        example=_NO_SECRET,
        request_example={"attempt-id": 7},
        errors=(401, 403, 404, 409, 422),
    ),
)
async def redeliver(
    session: DbSession, caller: Reader, sub_id: str, body: Annotated[Redelivery, Body()]
) -> SubscriptionOut:
    return service.to_out(await service.redeliver(session, caller, sub_id, body))
