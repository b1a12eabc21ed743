"""The JSON shape of an event, the same for webhooks and the live stream."""

from __future__ import annotations

from typing import Any

from celito.events.models import Event
from celito.kit.schema import format_datetime


def event_json(event: Event) -> dict[str, Any]:
    """The model's own fields (NetSapiens style, flat), plus `event-*` fields saying which
    event this is. A deletion also carries `remove: "yes"`, as NetSapiens receivers expect."""
    body: dict[str, Any] = {
        "event-id": event.id,
        "event-model": event.model,
        "event-action": event.action,
        "event-datetime": format_datetime(event.at),
        "event-reseller": event.reseller,
        "event-domain": event.domain,
        "event-user": event.user,
    }
    body.update(event.payload)
    if event.action == "delete":
        body.setdefault("remove", "yes")
    return body
