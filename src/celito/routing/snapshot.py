"""What the routing function reads: a frozen snapshot of one domain's configuration.

Everything here is plain immutable data; `Snapshot.index` is built once per snapshot (lazily)
so that each routing decision is a handful of dict lookups.

Devices and phone numbers are owned by resources that plug in through `celito.routing.hooks`;
a snapshot simply lists them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from celito.routing.targets import (
    RingParam,
    Target,
    digits,
    is_external,
    parse_number_pattern,
    parse_ring,
    parse_target,
)
from celito.timeframes.schedule import ALWAYS, Schedule

DEFAULT_RING_SECONDS = 25
DIALLED_MEMORY = 50_000  # dialled texts an index remembers the destination of

# Answer-rule features (the API's names) that forward somewhere, and the Rule field for each.
FORWARDS = {
    "forward-always": "forward_always",
    "forward-on-active": "forward_on_active",
    "forward-on-busy": "forward_on_busy",
    "forward-no-answer": "forward_no_answer",
    "forward-when-unregistered": "forward_when_unregistered",
    "forward-on-dnd": "forward_on_dnd",
    "forward-on-spam-call": "forward_on_spam",
}


@dataclass(frozen=True, slots=True)
class Device:
    """A SIP device (`1001a`) of a user, and whether it is registered right now."""

    name: str
    user: str
    registered: bool = False


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A number of the domain (DID) and where it goes, written as a destination (`1001`,
    `user_1001`, `queue_2000`, `vmail_1001`, `aa_3000`, an outside number …)."""

    number: str
    target: str
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Rule:
    """One answer rule, compiled. A `None` forward is a disabled feature."""

    time_frame: str = "*"
    schedule: Schedule = ALWAYS
    order: int = 0
    enabled: bool = True
    sim_ring: tuple[RingParam, ...] | None = None
    do_not_disturb: bool = False
    forward_always: Target | None = None
    forward_on_active: Target | None = None
    forward_on_busy: Target | None = None
    forward_no_answer: Target | None = None
    no_answer_seconds: int | None = None
    forward_when_unregistered: Target | None = None
    forward_on_dnd: Target | None = None
    forward_on_spam: Target | None = None
    call_screening: bool = False
    allow: tuple[str, ...] | None = None
    reject: tuple[str, ...] | None = None

    @classmethod
    def from_features(
        cls,
        features: Mapping[str, Mapping[str, Any]],
        *,
        time_frame: str = "*",
        schedule: Schedule = ALWAYS,
        order: int = 0,
        enabled: bool = True,
    ) -> Rule:
        """From stored features (`{"forward-always": {"enabled": True, "parameters": [..]}}`).

        Stored features were validated on write; anything unreadable here is left disabled
        rather than failing a call."""
        values: dict[str, Any] = {}

        def on(name: str) -> list[str] | None:
            f = features.get(name)
            if not f or not f.get("enabled"):
                return None
            return [str(p) for p in f.get("parameters") or []]

        for name, attr in FORWARDS.items():
            params = on(name)
            if params:
                try:
                    values[attr] = parse_target(params[0])
                except ValueError:
                    continue
                if name == "forward-no-answer" and len(params) > 1 and params[1].isdigit():
                    values["no_answer_seconds"] = int(params[1])
        ring = on("simultaneous-ring")
        if ring is not None:
            legs = []
            for p in ring:
                try:
                    legs.append(parse_ring(p))
                except ValueError:
                    continue
            values["sim_ring"] = tuple(legs)
        values["do_not_disturb"] = on("do-not-disturb") is not None
        values["call_screening"] = on("call-screening") is not None
        for name, attr in (
            ("phone-numbers-to-allow", "allow"),
            ("phone-numbers-to-reject", "reject"),
        ):
            listed = on(name)
            if listed is not None:
                patterns = []
                for p in listed:
                    try:
                        patterns.append(parse_number_pattern(p))
                    except ValueError:
                        continue
                values[attr] = tuple(patterns)
        return cls(time_frame=time_frame, schedule=schedule, order=order, enabled=enabled, **values)


@dataclass(frozen=True, slots=True)
class UserConfig:
    user: str
    time_zone: str | None = None
    voicemail: bool = True
    ring_seconds: int = DEFAULT_RING_SECONDS
    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True, slots=True)
class Resolved:
    """A destination found in the snapshot: `kind` is user, voicemail, queue, attendant,
    conference, park, device or external."""

    kind: str
    value: str


@dataclass(frozen=True)
class Snapshot:
    """One domain's routing configuration at one moment."""

    domain: str
    time_zone: str = "UTC"
    users: tuple[UserConfig, ...] = ()
    devices: tuple[Device, ...] = ()
    queues: frozenset[str] = frozenset()
    attendants: frozenset[str] = frozenset()
    conferences: frozenset[str] = frozenset()
    numbers: tuple[PhoneNumber, ...] = ()

    @cached_property
    def index(self) -> Index:
        return Index(self)


def zone(name: str) -> ZoneInfo:
    found = _ZONES.get(name)
    if found is None:
        found = _ZONES[name] = ZoneInfo(name)
    return found


_ZONES: dict[str, ZoneInfo] = {}


@dataclass(slots=True)
class IndexedUser:
    config: UserConfig
    rules: tuple[Rule, ...]  # enabled only, in priority order
    zone: ZoneInfo
    devices: tuple[Device, ...]


class Index:
    """Lookups built from a snapshot. Read-only after construction."""

    __slots__ = ("_dialled", "devices", "extensions", "numbers", "users")

    def __init__(self, snap: Snapshot) -> None:
        self.devices = {d.name: d for d in snap.devices}
        by_user: dict[str, list[Device]] = {}
        for d in snap.devices:
            by_user.setdefault(d.user, []).append(d)
        domain_zone = zone(snap.time_zone or "UTC")
        self.users = {
            u.user: IndexedUser(
                config=u,
                rules=tuple(
                    sorted((r for r in u.rules if r.enabled), key=lambda r: (r.order, r.time_frame))
                ),
                zone=zone(u.time_zone) if u.time_zone else domain_zone,
                devices=tuple(by_user.get(u.user, ())),
            )
            for u in snap.users
        }
        self.extensions = {
            **{c: "conference" for c in snap.conferences},
            **{a: "attendant" for a in snap.attendants},
            **{q: "queue" for q in snap.queues},
            **{u.user: "user" for u in snap.users},
        }
        self._dialled: dict[str, Resolved | None] = {}
        self.numbers: dict[str, Resolved | None] = {}
        for n in snap.numbers:
            if not n.enabled:
                continue
            try:
                target = parse_target(n.target)
            except ValueError:
                self.numbers[digits(n.number)] = None
                continue
            self.numbers[digits(n.number)] = self.resolve(target, numbers=False)

    def dialled(self, text: str) -> Resolved | None:
        """Where a dialled text leads (remembered: the same numbers are dialled again)."""
        try:
            return self._dialled[text]
        except KeyError:
            pass
        try:
            found = self.resolve(parse_target(text))
        except ValueError:
            found = None
        if len(self._dialled) < DIALLED_MEMORY:
            self._dialled[text] = found
        return found

    def resolve(self, target: Target, *, numbers: bool = True) -> Resolved | None:
        """Where a destination leads in this domain, or None (no route)."""
        kind, value = target.kind, target.value
        if kind == "any":
            found = self.extensions.get(value)
            if found is not None:
                return Resolved(found, value)
            if value in self.devices:
                return Resolved("device", value)
            if numbers:
                key = digits(value)
                if key in self.numbers:
                    return self.numbers[key]
            if is_external(value):
                return Resolved("external", value)
            return None
        if kind in ("user", "voicemail"):
            return Resolved(kind, value) if value in self.users else None
        if kind in ("queue", "attendant", "conference"):
            return Resolved(kind, value) if self.extensions.get(value) == kind else None
        if kind in ("park", "external"):
            return Resolved(kind, value)
        return None
