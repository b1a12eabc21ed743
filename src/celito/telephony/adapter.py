"""The seam between the API and a telephony engine.

The API never speaks SIP itself. Click-to-call and live-call controls are handed to the adapter
held by the runtime (`runtime.telephony`); it is `None` until an engine is configured, and
then every such request answers 503 with a message saying so — never a fake success.

An adapter only has to *accept* a request: the engine reports what really happens (legs
ringing, answered, ended) back through `celito.calls.service.upsert_call` / `end_call` and
CDRs through `celito.cdrs.service.ingest`, which is where `call`, `presence` and `cdr` events
come from. An adapter raises `TelephonyError` when the engine refuses or cannot be reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

ControlAction = Literal["answer", "hold", "unhold", "transfer", "transfer-peer", "hangup", "reject"]


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    """A click-to-call (the v2 CallRequest): ring `origin` first, then connect `destination`."""

    domain: str
    user: str  # the user the call is placed for (the path's user)
    call_id: str  # client-chosen; the engine uses it as the call's orig call id
    origin: str  # call-orig-user: a device, `user@domain` or a number; default the user
    destination: str  # call-term-user
    application: str = "call"  # dial-rule-application
    auto_answer: bool = False
    caller_id_number: str = ""  # shown on the destination leg
    callback_caller_id_number: str = ""  # shown on the origin (callback) leg
    term_sip_header: str = ""  # call-term-added-sip-header, e.g. "X-Campaign: 42"


@dataclass(frozen=True, slots=True)
class CallControl:
    """An action on a live call, identified by its orig call id."""

    domain: str
    user: str
    call_id: str
    action: ControlAction
    destination: str = ""  # transfer / transfer-peer / answer (where to answer)
    hostname: str = ""  # supervised transfer: the core holding the other call
    destination_session_id: str = ""  # supervised transfer: the session to merge with
    park_extensions: str = ""  # transfer-peer `valid`: comma-separated park extensions
    park_prefix: str = ""  # transfer-peer `prefix`


class TelephonyError(Exception):
    """The engine refused the request or could not be reached; the message is for people."""


@runtime_checkable
class TelephonyAdapter(Protocol):
    """What the API needs from a telephony engine."""

    name: str

    async def originate(self, request: OriginateRequest) -> None:
        """Start a click-to-call; return once the engine has accepted it."""
        ...

    async def control(self, request: CallControl) -> None:
        """Answer, hold, unhold, transfer, hang up or reject a live call."""
        ...
