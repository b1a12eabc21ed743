"""The pure rules of call queues: ring strategies, agent ids, agent states. No I/O here.

Ring strategies and NetSapiens' `callqueue-dispatch-type`
--------------------------------------------------------
A queue has one strategy (`callqueue-dispatch-strategy`); its NetSapiens dispatch type is
derived from it, and a client that only speaks NetSapiens may set the dispatch type instead.

| strategy         | dispatch type        | NetSapiens internal | who rings                        |
|------------------|----------------------|---------------------|----------------------------------|
| `ring-all`       | `Ring All`           | SRing               | every available agent at once    |
| `longest-idle`   | `Round-robin`        | 1stAvail            | the agent idle the longest       |
| `round-robin`    | `Tiered Round-robin` | RoundRobin          | the next agent in turn, by tier  |
| `linear-hunt`    | `Linear Hunt`        | Linear              | agents one by one, in order      |
| `linear-cascade` | `Linear Cascade`     | SRingOrdered        | agents in order, adding more     |
| `fewest-calls`   | `Round-robin`        | (celito)            | the agent with the fewest calls  |
| `call-park`      | `Call Park`          | -                   | nobody: callers are parked       |

`fewest-calls` has no NetSapiens equivalent; NetSapiens clients read it as `Round-robin`
(longest idle, its nearest behaviour), and sending that dispatch type back leaves it as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from celito.errors import BadRequest, Unprocessable

DISPATCH_TYPES = (
    "Round-robin",
    "Tiered Round-robin",
    "Ring All",
    "Linear Cascade",
    "Linear Hunt",
    "Call Park",
)
DISPATCH_OF = {
    "ring-all": "Ring All",
    "longest-idle": "Round-robin",
    "round-robin": "Tiered Round-robin",
    "linear-hunt": "Linear Hunt",
    "linear-cascade": "Linear Cascade",
    "fewest-calls": "Round-robin",
    "call-park": "Call Park",
}
STRATEGIES = tuple(DISPATCH_OF)
STRATEGY_OF = {
    "Ring All": "ring-all",
    "Round-robin": "longest-idle",
    "Tiered Round-robin": "round-robin",
    "Linear Hunt": "linear-hunt",
    "Linear Cascade": "linear-cascade",
    "Call Park": "call-park",
}
DEFAULT_STRATEGY = "longest-idle"

# Queue extensions that would shadow a path (`callqueues/list`, `callqueues/all/agents/…`).
RESERVED_QUEUE_NAMES = frozenset({"all", "list", "count"})


def resolve_strategy(current: str | None, dispatch_type: str | None, strategy: str | None) -> str:
    """The strategy after a write that may name a strategy, a dispatch type, both or neither."""
    if strategy is not None:
        if dispatch_type is not None and DISPATCH_OF[strategy] != dispatch_type:
            raise Unprocessable(
                f"callqueue-dispatch-strategy '{strategy}' is dispatch type "
                f"'{DISPATCH_OF[strategy]}', not '{dispatch_type}'; send one of the two"
            )
        return strategy
    if dispatch_type is not None:
        if current is not None and DISPATCH_OF[current] == dispatch_type:
            return current
        return STRATEGY_OF[dispatch_type]
    return current or DEFAULT_STRATEGY


# Agents ------------------------------------------------------------------------------------

AvailabilityType = Literal["automatic", "manual", "disabled", "offnet-automatic"]
LOGGED_IN = frozenset({"automatic", "offnet-automatic"})
CUSTOM_STATUSES = tuple(f"cust{i}" for i in range(1, 9))
OFFLINE_STATUSES = ("offline", "break", "lunch", "meeting", "web", "other", *CUSTOM_STATUSES)
# What `PATCH callqueues/all/agents/{agent}/{status}` accepts.
ACTIONS = ("login", "logout", "onecall")
STATUS_WORDS = (*ACTIONS, "available", "online", *OFFLINE_STATUSES)


@dataclass(frozen=True)
class AgentId:
    """A parsed agent id: `user@domain` (user entry) or `sip:device@domain` (device entry)."""

    name: str  # the user's extension, or the device's name
    domain: str
    device: bool

    @property
    def text(self) -> str:
        return f"sip:{self.name}@{self.domain}" if self.device else f"{self.name}@{self.domain}"


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def parse_agent_id(raw: str, domain: str) -> AgentId:
    """`1000@acme`, `sip:1000a@acme`, or a bare `1000` (this domain). 422 for anything else."""
    text = raw.strip()
    device = text.lower().startswith("sip:")
    if device:
        text = text[4:]
    name, at, host = text.partition("@")
    host = host.lower() if at else domain.lower()
    if not _NAME.fullmatch(name) or not host:
        raise Unprocessable(
            f"callqueue-agent-id '{raw}' is not valid: use user@domain or sip:device@domain"
        )
    return AgentId(name=name, domain=host, device=device)


def device_owner(device: str, user_extensions: Iterable[str]) -> str | None:
    """The user a device belongs to, by NetSapiens' naming: the user's extension itself or
    the extension followed by letters (`1000`, `1000a`, `1000wp`). The longest match wins."""
    best: str | None = None
    for ext in user_extensions:
        suffix = device[len(ext) :]
        owns = device == ext or (device.startswith(ext) and suffix.isalpha() and suffix.isascii())
        if owns and (best is None or len(ext) > len(best)):
            best = ext
    return best


def availability_for_dispatch(availability_type: str, single_call: bool, status: str) -> str:
    """What the dispatcher makes of an agent: `available`, `single-call`, `disabled`,
    `logged-out`, or the offline status it is in (`lunch`, `cust3`, …)."""
    if availability_type == "disabled":
        return "disabled"
    if availability_type in LOGGED_IN:
        return "available" if status == "available" else status
    if single_call:
        return "single-call"
    return "logged-out" if status == "available" else status


@dataclass(frozen=True)
class AgentState:
    availability_type: str
    single_call: bool
    status: str


def apply_status(state: AgentState, word: str) -> AgentState:
    """The state after an agent action or status word (see STATUS_WORDS).

    login / available / online: logged in and available (an off-net agent stays off-net);
    logout: logged out; onecall: logged out but takes one call; an offline status (offline,
    break, lunch, meeting, web, other, cust1…cust8): logged out, showing that status.
    A disabled membership does not change: only a manager or supervisor re-enables it.
    """
    if word not in STATUS_WORDS:
        raise ValueError(word)
    if state.availability_type == "disabled":
        return state
    if word in ("login", "available", "online"):
        kind = state.availability_type if state.availability_type in LOGGED_IN else "automatic"
        return AgentState(kind, False, "available")
    if word == "logout":
        return AgentState("manual", False, state.status)
    if word == "onecall":
        return AgentState("manual", True, state.status)
    return AgentState("manual", False, word)


def check_status_word(word: str) -> str:
    lowered = word.strip().lower()
    if lowered not in STATUS_WORDS:
        raise BadRequest(f"Unknown agent status '{word}'; use one of: {', '.join(STATUS_WORDS)}")
    return lowered
