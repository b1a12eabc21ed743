"""The JSON shape of an event, the same for webhooks and the live stream."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from celito.kit.schema import format_datetime

_dumps = json.JSONEncoder(separators=(",", ":")).encode


class EventHead(Protocol):
    """What says which event it is: an `Event` row, or a Core row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def model(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def reseller(self) -> str: ...
    @property
    def domain(self) -> str: ...
    @property
    def user(self) -> str: ...


class EventFields(EventHead, Protocol):
    @property
    def payload(self) -> Mapping[str, Any]: ...


def _head(event: EventHead) -> dict[str, Any]:
    return {
        "event-id": event.id,
        "event-model": event.model,
        "event-action": event.action,
        "event-datetime": format_datetime(event.at),
        "event-reseller": event.reseller,
        "event-domain": event.domain,
        "event-user": event.user,
    }


def event_json(event: EventFields) -> dict[str, Any]:
    """The model's own fields (NetSapiens style, flat), plus `event-*` fields saying which
    event this is. A deletion also carries `remove: "yes"`, as NetSapiens receivers expect."""
    body = _head(event)
    body.update(event.payload)
    if event.action == "delete":
        body.setdefault("remove", "yes")
    return body


def event_bytes(event: EventHead, payload_json: str) -> bytes:
    """`event_json` as JSON, from the payload as stored (JSON text). When splicing that text
    in gives the same object (it names no `event-*` key, nor for a deletion `remove`), it is
    not parsed and written again: that was most of the cost of rendering an event."""
    text = payload_json.strip()
    head = _head(event)
    deletion = event.action == "delete"
    if (
        text.startswith("{")
        and text.endswith("}")
        and '"event-' not in text
        and not (deletion and '"remove"' in text)
    ):
        inner = text[1:-1].strip()
        spliced = _dumps(head)[:-1] + ("," + inner if inner else "")
        return (spliced + (',"remove":"yes"}' if deletion else "}")).encode()
    head.update(json.loads(text))
    if deletion:
        head.setdefault("remove", "yes")
    return _dumps(head).encode()
