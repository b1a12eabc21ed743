"""Answer rules: how a user's calls are answered, one rule per time frame, in priority order.

A user manages its own; Office Managers, Site Managers (their site), Resellers and Super Users
manage those of users they may change (`check_manage_user`). Destinations are checked against
the domain's extension plan when written, so a rule cannot point at something that does not
exist (what is deleted later is handled by routing: see `celito.routing.engine`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from celito.answerrules.models import AnswerRule
from celito.answerrules.schemas import (
    FEATURES,
    SWITCHES,
    AnswerruleCreate,
    AnswerruleOut,
    AnswerruleUpdate,
    Feature,
    FeatureOut,
    ReorderItem,
)
from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.policy import check_manage_user
from celito.db import utcnow
from celito.errors import BadRequest, Conflict, NotFound, Unprocessable
from celito.extensions import service as extensions
from celito.routing.engine import active_rule
from celito.routing.snapshot import Rule, zone
from celito.routing.targets import (
    Target,
    is_external,
    parse_number_pattern,
    parse_ring,
    parse_target,
)
from celito.timeframes import service as timeframes
from celito.timeframes.models import Timeframe
from celito.timeframes.schedule import ALWAYS, NEVER, Schedule
from celito.users import service as users
from celito.users.models import User

DEFAULT = "*"
MAX_RULES = 50
MAX_NO_ANSWER_SECONDS = 600
_DEVICE = re.compile(r"^(?P<user>[A-Za-z0-9._-]*?\d)[a-z]{1,3}$")
_KIND_OF_TARGET = {
    "user": "user",
    "voicemail": "user",
    "queue": "callqueue",
    "attendant": "autoattendant",
    "conference": "conference",
}
_WHAT = {
    "user": "a user",
    "voicemail": "a user (for its voicemail)",
    "queue": "a call queue",
    "attendant": "an auto attendant",
    "conference": "a conference",
}


@dataclass(frozen=True)
class Book:
    """Whose answer rules."""

    user: User

    @property
    def domain_name(self) -> str:
        return self.user.domain.name


async def book(
    session: AsyncSession, caller: Caller, domain: str, user: str, *, write: bool
) -> Book:
    who = await users.get(session, caller, domain, user)
    if write:
        check_manage_user(caller, who)
    return Book(who)


# -- reading ----------------------------------------------------------------------------------


async def _rows(session: AsyncSession, user: User) -> list[AnswerRule]:
    rows = await session.scalars(
        select(AnswerRule)
        .where(AnswerRule.user_id == user.id)
        .order_by(AnswerRule.position, AnswerRule.id)
    )
    return list(rows.all())


def frame_name(r: AnswerRule, frames: Mapping[int, Timeframe]) -> str:
    if r.timeframe_id is None:
        return DEFAULT
    t = frames.get(r.timeframe_id)
    return t.name if t else f"#{r.timeframe_id}"


def compile_rules(
    rows: Sequence[AnswerRule],
    frames: Mapping[int, Timeframe],
    compiled: dict[int, Schedule] | None = None,
) -> tuple[Rule, ...]:
    """The routing form of a user's rules. `compiled` caches schedules across users."""
    cache = compiled if compiled is not None else {}
    out = []
    for r in rows:
        schedule = ALWAYS
        if r.timeframe_id is not None:
            schedule = cache.get(r.timeframe_id) or NEVER
            t = frames.get(r.timeframe_id)
            if r.timeframe_id not in cache and t is not None:
                schedule = cache[r.timeframe_id] = timeframes.compile_row(t)
        out.append(
            Rule.from_features(
                r.features,
                time_frame=frame_name(r, frames),
                schedule=schedule,
                order=r.position,
                enabled=r.enabled,
            )
        )
    return tuple(out)


def _active_name(
    user: User, rows: Sequence[AnswerRule], frames: Mapping[int, Timeframe], at: datetime
) -> str | None:
    rules = tuple(r for r in compile_rules(rows, frames) if r.enabled)
    where = zone(user.time_zone or user.domain.time_zone or "UTC")
    found = active_rule(rules, at, where, {})
    return found.time_frame if found else None


def _feature_out(stored: Mapping[str, Any] | None) -> FeatureOut:
    stored = stored or {}
    return FeatureOut(
        enabled=bool(stored.get("enabled")),
        parameters=[str(p) for p in stored.get("parameters") or []],
    )


def _out(
    r: AnswerRule, b: Book, frames: Mapping[int, Timeframe], active: str | None
) -> AnswerruleOut:
    name = frame_name(r, frames)
    return AnswerruleOut.model_validate(
        {
            "domain": b.domain_name,
            "user": b.user.user,
            "time_frame": name,
            "enabled": r.enabled,
            "is_active": name == active,
            "order": r.position,
            **{f.replace("-", "_"): _feature_out(r.features.get(f)) for f in FEATURES},
            "created_datetime": r.created_at,
            "last_modified_datetime": r.updated_at,
        }
    )


async def render(
    session: AsyncSession, b: Book, only: AnswerRule | None = None
) -> list[AnswerruleOut]:
    """The user's rules (or just `only`), with `is-active` computed for now."""
    rows = await _rows(session, b.user)
    frames = await timeframes.by_ids(session, [r.timeframe_id for r in rows if r.timeframe_id])
    if only is not None and only.timeframe_id and only.timeframe_id not in frames:
        frames.update(await timeframes.by_ids(session, [only.timeframe_id]))
    active = _active_name(b.user, rows, frames, utcnow())
    shown = [only] if only is not None else rows
    return [_out(r, b, frames, active) for r in shown]


async def count(session: AsyncSession, b: Book) -> int:
    stmt = select(func.count()).select_from(AnswerRule).where(AnswerRule.user_id == b.user.id)
    return int(await session.scalar(stmt) or 0)


async def _frame(session: AsyncSession, b: Book, name: str) -> Timeframe | None:
    """The time frame a rule's `time-frame` names (None for `*`), or 404."""
    if name == DEFAULT:
        return None
    found = await timeframes.for_rule(session, b.user, name)
    if found is None:
        raise NotFound(
            f"Time frame {name} exists neither for user {b.user.user} nor shared in domain "
            f"{b.domain_name}"
        )
    return found


async def get(session: AsyncSession, b: Book, name: str) -> AnswerRule:
    t = await _frame(session, b, name)
    key = DEFAULT if t is None else str(t.id)
    found = await session.scalar(
        select(AnswerRule).where(AnswerRule.user_id == b.user.id, AnswerRule.frame_key == key)
    )
    if found is None:
        raise NotFound(f"User {b.user.user} has no answer rule for time frame {name}")
    return found


# -- validation -------------------------------------------------------------------------------


async def _check_destination(
    session: AsyncSession, b: Book, feature: str, text: str, target: Target
) -> None:
    user = b.user
    if target.kind in ("park", "external", "own-devices"):
        return
    domain_id = user.domain_id
    if target.kind == "any":
        found = await extensions.kind_of(session, domain_id, target.value)
        if found == "user" and target.value == user.user and feature != "simultaneous-ring":
            raise Unprocessable(
                f"{feature}: '{text}' is user {user.user} itself; a rule cannot forward a user "
                "to itself (use vmail_ for its voicemail)"
            )
        if found is not None:
            if feature == "simultaneous-ring" and found != "user":
                raise Unprocessable(
                    f"{feature}: '{text}' is a {found}; simultaneous ring calls devices, users "
                    "and phone numbers"
                )
            return
        if is_external(target.value):
            return
        device = _DEVICE.match(target.value)
        if device and await extensions.kind_of(session, domain_id, device["user"]) == "user":
            return  # a device of a user of the domain (e.g. 1001a)
        raise Unprocessable(
            f"{feature}: '{text}' is neither an extension of domain {b.domain_name} nor a "
            "phone number"
        )
    wanted = _KIND_OF_TARGET[target.kind]
    if await extensions.kind_of(session, domain_id, target.value) != wanted:
        raise Unprocessable(
            f"{feature}: '{text}' names {_WHAT[target.kind]}, and domain {b.domain_name} has "
            f"none at extension {target.value}"
        )
    if target.kind == "user" and target.value == user.user and feature != "simultaneous-ring":
        raise Unprocessable(
            f"{feature}: '{text}' is user {user.user} itself; a rule cannot forward a user to "
            "itself (use vmail_ for its voicemail)"
        )


async def _feature(session: AsyncSession, b: Book, name: str, f: Feature) -> dict[str, Any]:
    """The stored form of a feature, or a 422 naming what is wrong."""
    params = [str(p).strip() for p in f.parameters or []]
    if name in SWITCHES:
        if params:
            raise Unprocessable(f"{name}: takes no parameters, only enabled yes/no")
        return {"enabled": f.enabled, "parameters": []}
    if name in ("phone-numbers-to-allow", "phone-numbers-to-reject"):
        try:
            cleaned = [parse_number_pattern(p) for p in params]
        except ValueError as e:
            raise Unprocessable(f"{name}: {e}") from None
        if f.enabled and not cleaned:
            raise Unprocessable(f"{name}: list at least one number (or 'anonymous')")
        return {"enabled": f.enabled, "parameters": params}
    if name == "simultaneous-ring":
        if f.enabled and not params:
            raise Unprocessable(f"{name}: list what to ring, e.g. ['<OwnDevices>', '1002']")
        for p in params:
            try:
                leg = parse_ring(p)
            except ValueError as e:
                raise Unprocessable(f"{name}: {e}") from None
            await _check_destination(session, b, name, p, leg.target)
        return {"enabled": f.enabled, "parameters": params}
    # a forward
    if not params:
        if f.enabled:
            raise Unprocessable(f"{name}: give the destination to forward to")
        return {"enabled": False, "parameters": []}
    limit = 2 if name == "forward-no-answer" else 1
    if len(params) > limit:
        raise Unprocessable(
            f"{name}: takes "
            + (
                "a destination and, optionally, the seconds to ring first"
                if limit == 2
                else "one destination"
            )
        )
    if len(params) == 2 and not (
        params[1].isdigit() and 1 <= int(params[1]) <= MAX_NO_ANSWER_SECONDS
    ):
        raise Unprocessable(
            f"{name}: the second parameter is the seconds to ring first (1 to "
            f"{MAX_NO_ANSWER_SECONDS}), not '{params[1]}'"
        )
    try:
        target = parse_target(params[0])
    except ValueError as e:
        raise Unprocessable(f"{name}: {e}") from None
    if target.kind == "own-devices":
        raise Unprocessable(f"{name}: <OwnDevices> is for simultaneous ring only")
    await _check_destination(session, b, name, params[0], target)
    return {"enabled": f.enabled, "parameters": params}


def _blank_features() -> dict[str, Any]:
    return {f: {"enabled": False, "parameters": []} for f in FEATURES}


async def _apply(
    session: AsyncSession, b: Book, r: AnswerRule, body: AnswerruleCreate | AnswerruleUpdate
) -> None:
    features = {**_blank_features(), **r.features}
    for name, f in body.features().items():
        features[name] = await _feature(session, b, name, f)
    r.features = features
    if body.enabled is not None:
        r.enabled = body.enabled


def snapshot(r: AnswerRule, name: str) -> dict[str, Any]:
    return {"time-frame": name, "enabled": r.enabled, "order": r.position, **r.features}


def _audit(
    session: AsyncSession, caller: Caller, action: str, b: Book, name: str, **changes: Any
) -> None:
    audit.record(
        session,
        caller,
        action,
        "answerrule",
        f"{b.user.user}@{b.domain_name}/{name}",
        reseller=b.user.domain.reseller.name,
        domain=b.domain_name,
        user=b.user.user,
        **changes,
    )


def _place(
    rows: list[AnswerRule], r: AnswerRule, body: AnswerruleCreate | AnswerruleUpdate
) -> None:
    """Puts `r` where the body asks (or, new, just above a trailing default rule) and numbers
    the rules 1…n."""
    others = [x for x in rows if x is not r]
    if body.new_position == "top":
        at = 0
    elif body.new_position == "bottom":
        at = len(others)
    elif body.order is not None:
        at = min(max(body.order - 1, 0), len(others))
    elif r in rows:
        at = rows.index(r)
    elif others and others[-1].frame_key == DEFAULT:
        at = len(others) - 1
    else:
        at = len(others)
    others.insert(at, r)
    for i, x in enumerate(others):
        x.position = i + 1


# -- writing ----------------------------------------------------------------------------------


async def create(
    session: AsyncSession, caller: Caller, b: Book, body: AnswerruleCreate
) -> AnswerRule:
    name = body.time_frame.strip()
    t = await _frame(session, b, name)
    key = DEFAULT if t is None else str(t.id)
    r = AnswerRule(
        domain_id=b.user.domain_id,
        user_id=b.user.id,
        timeframe_id=t.id if t else None,
        frame_key=key,
        enabled=True,
        features=_blank_features(),
    )
    await _apply(session, b, r, body)  # a bad body is a 422 before any conflict
    rows = await _rows(session, b.user)
    if any(x.frame_key == key for x in rows):
        raise Conflict(
            f"User {b.user.user} already has an answer rule for time frame {name}; change it "
            "with PUT"
        )
    if len(rows) >= MAX_RULES:
        raise Conflict(f"User {b.user.user} has reached the limit of {MAX_RULES} answer rules")
    _place(rows, r, body)
    session.add(r)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent create made the same rule first
        raise Conflict(
            f"User {b.user.user} already has an answer rule for time frame {name}"
        ) from None
    _audit(session, caller, "create", b, name, after=snapshot(r, name))
    return r


async def update(
    session: AsyncSession, caller: Caller, b: Book, name: str, body: AnswerruleUpdate
) -> AnswerRule:
    r = await get(session, b, name)
    before = snapshot(r, name)
    new_name = name
    if body.time_frame is not None and body.time_frame.strip() != name:
        new_name = body.time_frame.strip()
        t = await _frame(session, b, new_name)
        key = DEFAULT if t is None else str(t.id)
        taken = await session.scalar(
            select(AnswerRule.id).where(
                AnswerRule.user_id == b.user.id, AnswerRule.frame_key == key
            )
        )
        if taken is not None:
            raise Conflict(
                f"User {b.user.user} already has an answer rule for time frame {new_name}"
            )
        r.timeframe_id, r.frame_key = (t.id if t else None), key
    await _apply(session, b, r, body)
    if body.new_position is not None or body.order is not None:
        _place(await _rows(session, b.user), r, body)
    await session.flush()
    _audit(session, caller, "update", b, new_name, before=before, after=snapshot(r, new_name))
    return r


async def delete(session: AsyncSession, caller: Caller, b: Book, name: str) -> AnswerruleOut:
    r = await get(session, b, name)
    out = (await render(session, b, only=r))[0]
    rows = [x for x in await _rows(session, b.user) if x is not r]
    await session.delete(r)
    for i, x in enumerate(rows):
        x.position = i + 1
    await session.flush()
    _audit(session, caller, "delete", b, name, before=snapshot(r, name))
    return out.model_copy(update={"is_active": False})


async def reorder(
    session: AsyncSession, caller: Caller, b: Book, items: Sequence[ReorderItem]
) -> list[AnswerruleOut]:
    rows = await _rows(session, b.user)
    frames = await timeframes.by_ids(session, [r.timeframe_id for r in rows if r.timeframe_id])
    by_name = {frame_name(r, frames): r for r in rows}
    wanted = [i.time_frame.strip() for i in items]
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise NotFound(
            f"Not Found. Timeframe input was not found: user {b.user.user} has no answer rule "
            f"for {', '.join(unknown)}"
        )
    if len(set(wanted)) != len(wanted) or set(wanted) != set(by_name):
        raise BadRequest(
            "Please provide all timeframes in the new order, each once: " + ", ".join(by_name)
        )
    before = {"order": [frame_name(r, frames) for r in rows]}
    for i, n in enumerate(wanted):
        by_name[n].position = i + 1
    await session.flush()
    _audit(session, caller, "update", b, "reorder", before=before, after={"order": wanted})
    return await render(session, b)


# -- for user creation and deletion ------------------------------------------------------------


async def create_default_for_user(session: AsyncSession, caller: Caller, user: User) -> AnswerRule:
    """The default rule `*` of a new user (idempotent): always active, no feature on, so the
    user's devices ring for its ring-no-answer-timeout-seconds, then its voicemail answers.

    For the one-call user creation: the caller has already been allowed to create the user."""
    existing = await session.scalar(
        select(AnswerRule).where(AnswerRule.user_id == user.id, AnswerRule.frame_key == DEFAULT)
    )
    if existing is not None:
        return existing
    rows = await _rows(session, user)
    r = AnswerRule(
        domain_id=user.domain_id,
        user_id=user.id,
        timeframe_id=None,
        frame_key=DEFAULT,
        position=len(rows) + 1,
        enabled=True,
        features=_blank_features(),
    )
    session.add(r)
    await session.flush()
    _audit(session, caller, "create", Book(user), DEFAULT, after=snapshot(r, DEFAULT))
    return r


async def delete_for_user(session: AsyncSession, caller: Caller, user: User) -> dict[str, int]:
    """Removes a user's answer rules and own time frames, before the user is deleted. Answers
    the counts, for the user deletion's audit entry."""
    rows = await _rows(session, user)
    for r in rows:
        await session.delete(r)
    await session.flush()
    frames = await timeframes.delete_for_user(session, user)
    return {"answerrules_deleted": len(rows), "timeframes_deleted": frames}


async def of_domain(session: AsyncSession, domain_id: int) -> list[AnswerRule]:
    """Every answer rule of a domain (for routing snapshots), in priority order per user."""
    rows = await session.scalars(
        select(AnswerRule)
        .where(AnswerRule.domain_id == domain_id)
        .order_by(AnswerRule.user_id, AnswerRule.position, AnswerRule.id)
    )
    return list(rows.all())


async def forwards_to(session: AsyncSession, domain_id: int, extension: str) -> list[str]:
    """The answer rules that send calls to `extension` (forwards, simultaneous ring), for a
    person to read, e.g. "user 1002's answer rule for Business hours (forward-no-answer)".
    For resources that refuse to delete what is still routed to (see routing for what happens
    to a forward whose destination is gone)."""
    rows = await of_domain(session, domain_id)
    names = dict(
        (await session.execute(select(User.id, User.user).where(User.domain_id == domain_id))).all()
    )
    frames = await timeframes.by_ids(session, [r.timeframe_id for r in rows if r.timeframe_id])
    found = []
    for r in rows:
        for feature, f in r.features.items():
            params = [str(p) for p in (f or {}).get("parameters") or []]
            if feature == "simultaneous-ring":
                texts = params
            elif feature.startswith("forward-"):
                texts = params[:1]
            else:
                continue
            for text in texts:
                try:
                    target = (
                        parse_ring(text).target
                        if feature == "simultaneous-ring"
                        else parse_target(text)
                    )
                except ValueError:
                    continue
                if target.value == extension and target.kind not in ("park", "external"):
                    found.append(
                        f"user {names.get(r.user_id, '?')}'s answer rule for "
                        f"{frame_name(r, frames)} ({feature})"
                    )
    return found
