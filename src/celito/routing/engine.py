"""The routing decision: which destinations a call tries, in order. A pure function.

`route(snapshot, dialled, at, registered)` answers the plan of one call assuming nobody
answers: each ring step, forward, and where it finally ends (voicemail, a queue, an attendant,
an outside number, a rejection or a hang-up). What a caller would hear is the sequence of
`Route.steps`; the last step is always terminal.

**Finding the destination.** The dialled text is read like any destination (see
`celito.routing.targets`): an extension of the domain (user, call queue, auto attendant,
conference), a device, a phone number of the domain (then wherever that number points), an
outside number, or nothing: a route whose only step is `hangup` with reason `no-route`.

**Which answer rule applies.** A user's enabled answer rules are tried in their `order`
(lowest first; ties by time-frame name); the first whose time frame is active at `at`, read on
the wall clock of the time frame's own zone or else the user's (then the domain's), is used.
Overlapping time frames are thus settled by answer-rule order alone. The default rule `*` is
always active, so rules below it never apply. With no rule active, the user behaves as with an
empty default rule: ring its devices, then voicemail.

**Within a rule**, in this order:

1. `phone-numbers-to-reject` matching the caller (`anonymous` matches a caller without a
   number) → `reject`.
2. `phone-numbers-to-allow` matching the caller lets the call past do-not-disturb and call
   screening.
3. `forward-on-spam-call` when the call is flagged as spam → forward.
4. `forward-always` → forward (nothing rings).
5. `do-not-disturb` → `forward-on-dnd` if enabled, else the user's voicemail.
6. `forward-on-active` when the user is already on a call → forward.
7. `forward-when-unregistered` when none of the user's own devices is registered → forward.
8. `call-screening` → a `screen` step (the caller records a name) before ringing.
9. Ring, for the forward-no-answer seconds (its optional second parameter) or the user's
   `ring-no-answer-timeout-seconds`: with `simultaneous-ring` enabled, exactly the legs it
   lists (`<OwnDevices>`, other users' devices, single devices, outside numbers, each with its
   delay and confirm flag); otherwise the user's own devices. Unregistered devices are not rung
   and are listed in `skipped`. Another user rung this way is rung directly (its own answer
   rules are not applied). Nothing to ring → no ring step.
10. When the user's devices answer busy: `forward-on-busy`, else voicemail.
11. Otherwise (no answer): `forward-no-answer`, else voicemail. A user without voicemail hangs up
    instead (reason says why).

**Forwards** deliver the call to their destination, which for a user means that user's answer
rules, recursively. A forward that cannot be followed ends at the voicemail of the user whose
rule made it (a hang-up when that user has no voicemail), with the reason:

- `no-route`: the destination does not exist (e.g. a deleted extension);
- `loop`: it leads back to a user already reached in this call (A → B → A ends at B's voicemail);
- `depth-limit`: more than `max_forwards` (10) forwards in a row.

So every route is finite: each user's rules apply at most once per call.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

from celito.routing.snapshot import (
    Device,
    IndexedUser,
    Resolved,
    Rule,
    Snapshot,
    UserConfig,
    zone,
)
from celito.routing.targets import ANONYMOUS, Target, caller_matches

MAX_FORWARDS = 10

Action = Literal[
    "ring",
    "screen",
    "forward",
    "voicemail",
    "queue",
    "attendant",
    "conference",
    "park",
    "external",
    "reject",
    "hangup",
]
TERMINAL: frozenset[str] = frozenset(
    {"voicemail", "queue", "attendant", "conference", "park", "external", "reject", "hangup"}
)
EMPTY_RULE = Rule(time_frame="")
_TERMINAL_KINDS: dict[str, Action] = {
    "queue": "queue",
    "attendant": "attendant",
    "conference": "conference",
    "park": "park",
    "external": "external",
}


@dataclass(frozen=True, slots=True)
class Leg:
    """One thing rung in a ring step: a device (of `user`) or an outside number."""

    kind: Literal["device", "external"]
    target: str
    user: str | None = None
    delay: int = 0
    confirm: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a call's plan.

    `user` is whose answer rule produced it and `time_frame` that rule's time frame (`*` for
    the default rule, "" when no rule was active). `target` is the destination (a forward's
    as written, a terminal step's resolved). `reason`: why a forward, voicemail or hang-up
    happened (always, busy, no-answer, unregistered, dnd, active, spam, rejected-number,
    anonymous, no-route, loop, depth-limit, no-voicemail)."""

    action: Action
    user: str | None = None
    target: str | None = None
    time_frame: str | None = None
    seconds: int | None = None
    legs: tuple[Leg, ...] = ()
    skipped: tuple[str, ...] = ()
    reason: str | None = None

    def __str__(self) -> str:
        if self.action == "ring":
            names = ", ".join(
                (leg.target + (f"+{leg.delay}s" if leg.delay else "")) for leg in self.legs
            )
            return f"ring {names} for {self.seconds} s"
        if self.action == "forward":
            return f"forward to {self.target} ({self.reason})"
        if self.action == "screen":
            return f"screen for {self.user}"
        text = f"{self.action} {self.target}" if self.target else self.action
        return f"{text} ({self.reason})" if self.reason else text


@dataclass(frozen=True, slots=True)
class Route:
    dialled: str
    steps: tuple[Step, ...]

    @property
    def outcome(self) -> str:
        """The terminal action: voicemail, queue, attendant, conference, park, external,
        reject or hangup."""
        return self.steps[-1].action

    @property
    def no_route(self) -> bool:
        last = self.steps[-1]
        return len(self.steps) == 1 and last.action == "hangup" and last.reason == "no-route"

    def describe(self) -> str:
        return " → ".join(str(s) for s in self.steps)


def local_time(at: datetime, where: tzinfo, cache: dict[tzinfo, datetime]) -> datetime:
    found = cache.get(where)
    if found is None:
        found = cache[where] = at.astimezone(where)
    return found


def active_rule(
    rules: tuple[Rule, ...], at: datetime, user_zone: tzinfo, cache: dict[tzinfo, datetime]
) -> Rule | None:
    """The first rule (of enabled rules in priority order) whose time frame is active."""
    for r in rules:
        own = r.schedule.zone
        if r.schedule.active(local_time(at, zone(own) if own else user_zone, cache)):
            return r
    return None


def route(
    snapshot: Snapshot,
    dialled: str,
    at: datetime,
    registered: Mapping[str, bool] | None = None,
    *,
    caller: str | None = None,
    busy: Collection[str] = (),
    active: Collection[str] = (),
    spam: bool = False,
    max_forwards: int = MAX_FORWARDS,
) -> Route:
    """The plan of a call to `dialled` at the moment `at` (aware).

    `registered` overrides the snapshot's registration state per device name. `caller` is the
    caller id (None: anonymous). `busy` names users whose devices answer busy, `active` users
    already on a call; `spam` flags the call as spam."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("route() needs an aware datetime (with a time zone)")
    walk = _Walk(snapshot, at, registered, caller, busy, active, spam, max_forwards)
    resolved = walk.index.dialled(dialled)
    if resolved is None:
        return Route(dialled, (Step("hangup", target=dialled, reason="no-route"),))
    walk.deliver(resolved, 0, None)
    return Route(dialled, tuple(walk.steps))


class _Walk:
    __slots__ = (
        "active",
        "at",
        "busy",
        "caller",
        "index",
        "local",
        "max_forwards",
        "registered",
        "spam",
        "steps",
        "visited",
    )

    def __init__(
        self,
        snapshot: Snapshot,
        at: datetime,
        registered: Mapping[str, bool] | None,
        caller: str | None,
        busy: Collection[str],
        active: Collection[str],
        spam: bool,
        max_forwards: int,
    ) -> None:
        self.index = snapshot.index
        self.at = at
        self.registered = registered
        self.caller = caller
        self.busy = busy
        self.active = active
        self.spam = spam
        self.max_forwards = max_forwards
        self.steps: list[Step] = []
        self.visited: set[str] = set()
        self.local: dict[tzinfo, datetime] = {}

    def is_registered(self, d: Device) -> bool:
        if self.registered is not None:
            state = self.registered.get(d.name)
            if state is not None:
                return state
        return d.registered

    # -- terminal helpers -------------------------------------------------------------------

    def voicemail(self, u: UserConfig, time_frame: str | None, reason: str) -> None:
        action: Action = "voicemail" if u.voicemail else "hangup"
        self.steps.append(
            Step(action, user=u.user, target=u.user, time_frame=time_frame, reason=reason)
        )

    def unreachable(self, from_user: str | None, reason: str, target: str) -> None:
        """A forward that cannot be followed: the forwarding user's voicemail (or hang-up)."""
        owner = self.index.users.get(from_user) if from_user is not None else None
        if owner is None:
            self.steps.append(Step("hangup", target=target, reason=reason))
        else:
            self.voicemail(owner.config, None, reason)

    # -- delivery ---------------------------------------------------------------------------

    def deliver(self, r: Resolved, depth: int, from_user: str | None) -> None:
        kind = r.kind
        if kind == "user":
            self.user(r.value, depth, from_user)
        elif kind == "voicemail":
            box = self.index.users[r.value].config
            if box.voicemail:
                self.steps.append(
                    Step("voicemail", user=from_user, target=box.user, reason="forwarded")
                )
            else:
                self.steps.append(
                    Step("hangup", user=from_user, target=box.user, reason="no-voicemail")
                )
        elif kind == "device":
            device = self.index.devices[r.value]
            owner = self.index.users.get(device.user)
            if self.is_registered(device):
                seconds = owner.config.ring_seconds if owner else 25
                leg = Leg("device", device.name, device.user)
                self.steps.append(Step("ring", user=from_user, legs=(leg,), seconds=seconds))
                self.steps.append(Step("hangup", target=device.name, reason="no-answer"))
            else:
                self.steps.append(Step("hangup", target=device.name, reason="unregistered"))
        else:  # queue, attendant, conference, park, external: someone else's business now
            self.steps.append(Step(_TERMINAL_KINDS[kind], user=from_user, target=r.value))

    def forward(
        self, u: UserConfig, time_frame: str | None, target: Target, reason: str, depth: int
    ) -> None:
        self.steps.append(
            Step("forward", user=u.user, target=str(target), time_frame=time_frame, reason=reason)
        )
        resolved = self.index.resolve(target)
        if resolved is None:
            self.unreachable(u.user, "no-route", str(target))
        elif depth + 1 > self.max_forwards:
            self.unreachable(u.user, "depth-limit", str(target))
        elif resolved.kind == "user" and resolved.value in self.visited:
            self.unreachable(u.user, "loop", str(target))
        else:
            self.deliver(resolved, depth + 1, u.user)

    def user(self, name: str, depth: int, from_user: str | None) -> None:
        entry = self.index.users.get(name)
        if entry is None:  # cannot happen through resolve(); kept total
            self.unreachable(from_user, "no-route", name)
            return
        self.visited.add(name)
        u = entry.config
        found = active_rule(entry.rules, self.at, entry.zone, self.local)
        rule = found or EMPTY_RULE
        tf = found.time_frame if found is not None else ""

        if rule.reject is not None and caller_matches(rule.reject, self.caller):
            anonymous = caller_matches((ANONYMOUS,), self.caller)
            reason = "anonymous" if anonymous else "rejected-number"
            self.steps.append(Step("reject", user=name, time_frame=tf, reason=reason))
            return
        allowed = rule.allow is not None and caller_matches(rule.allow, self.caller)
        if self.spam and rule.forward_on_spam is not None:
            self.forward(u, tf, rule.forward_on_spam, "spam", depth)
            return
        if rule.forward_always is not None:
            self.forward(u, tf, rule.forward_always, "always", depth)
            return
        if rule.do_not_disturb and not allowed:
            if rule.forward_on_dnd is not None:
                self.forward(u, tf, rule.forward_on_dnd, "dnd", depth)
            else:
                self.voicemail(u, tf, "dnd")
            return
        if rule.forward_on_active is not None and name in self.active:
            self.forward(u, tf, rule.forward_on_active, "active", depth)
            return
        own_up = any(self.is_registered(d) for d in entry.devices)
        if not own_up and rule.forward_when_unregistered is not None:
            self.forward(u, tf, rule.forward_when_unregistered, "unregistered", depth)
            return
        legs, skipped = self.legs(entry, rule)
        if legs:
            if rule.call_screening and not allowed:
                self.steps.append(Step("screen", user=name, time_frame=tf))
            self.steps.append(
                Step(
                    "ring",
                    user=name,
                    time_frame=tf,
                    seconds=rule.no_answer_seconds or u.ring_seconds,
                    legs=legs,
                    skipped=skipped,
                )
            )
            if name in self.busy:
                if rule.forward_on_busy is not None:
                    self.forward(u, tf, rule.forward_on_busy, "busy", depth)
                else:
                    self.voicemail(u, tf, "busy")
                return
        if rule.forward_no_answer is not None:
            self.forward(u, tf, rule.forward_no_answer, "no-answer", depth)
            return
        self.voicemail(u, tf, "no-answer" if legs or own_up else "unregistered")

    def legs(self, entry: IndexedUser, rule: Rule) -> tuple[tuple[Leg, ...], tuple[str, ...]]:
        legs: dict[tuple[str, str], Leg] = {}
        skipped: list[str] = []

        def device(d: Device, delay: int, confirm: bool) -> None:
            if not self.is_registered(d):
                if d.name not in skipped:
                    skipped.append(d.name)
            elif ("device", d.name) not in legs:
                legs["device", d.name] = Leg("device", d.name, d.user, delay, confirm)

        if rule.sim_ring is None:
            for d in entry.devices:
                device(d, 0, False)
            return tuple(legs.values()), tuple(skipped)
        for p in rule.sim_ring:
            if p.target.kind == "own-devices":
                for d in entry.devices:
                    device(d, p.delay, p.confirm)
                continue
            found = self.index.resolve(p.target)
            if found is None:
                skipped.append(str(p.target))
            elif found.kind == "user":
                other = self.index.users[found.value]
                for d in other.devices:
                    device(d, p.delay, p.confirm)
            elif found.kind == "device":
                device(self.index.devices[found.value], p.delay, p.confirm)
            elif found.kind == "external":
                if ("external", found.value) not in legs:
                    legs["external", found.value] = Leg(
                        "external", found.value, None, p.delay, p.confirm
                    )
            else:
                skipped.append(str(p.target))
        return tuple(legs.values()), tuple(skipped)
