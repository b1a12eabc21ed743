"""Time frames: shared by a domain (its managers change them, its people read them) or a user's
own (the user and the managers who may change that user).

Answer rules name time frames, so within a domain a name means one time frame for each user:
a user's own time frame may not take the name of a shared one, nor the other way round.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from celito.answerrules.models import AnswerRule
from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.policy import check_manage_user, deny
from celito.auth.scopes import DOMAIN_MANAGERS
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import Conflict, NotFound, Unprocessable
from celito.kit.names import check_time_zone
from celito.kit.paging import Page
from celito.timeframes import schedule as sch
from celito.timeframes.models import Timeframe
from celito.timeframes.schemas import (
    TimeframeChild,
    TimeframeCreate,
    TimeframeEntries,
    TimeframeOut,
    TimeframeUpdate,
    entry_values,
)
from celito.users import service as users
from celito.users.models import User

MAX_PER_OWNER = 200
RESERVED_NAMES = frozenset({"*", "~", "count", "reorder", "list"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()&'+,:-]{0,99}$")
SORTABLE = {
    "timeframe-name": Timeframe.name,
    "timeframe-type": Timeframe.kind,
    "created-datetime": Timeframe.created_at,
}


@dataclass(frozen=True)
class Owner:
    """Whose time frames: a domain's shared ones (user None) or a user's."""

    domain: Domain
    user: User | None

    @property
    def key(self) -> int:
        return self.user.id if self.user else 0

    def clause(self) -> Any:
        return and_(Timeframe.domain_id == self.domain.id, Timeframe.owner_key == self.key)

    def describe(self) -> str:
        return f"user {self.user.user}" if self.user else f"domain {self.domain.name}"


async def owner(
    session: AsyncSession, caller: Caller, domain: str, user: str | None, *, write: bool
) -> Owner:
    if user is None:
        found = await domains.get(session, caller, domain)
        if write and caller.scope not in DOMAIN_MANAGERS:
            raise deny(f"A {caller.scope} cannot change the domain's shared time frames")
        return Owner(found, None)
    who = await users.get(session, caller, domain, user)
    if write:
        check_manage_user(caller, who)
    return Owner(who.domain, who)


# -- reading ----------------------------------------------------------------------------------


def _entries_out(t: Timeframe, array: str, domain: str) -> list[dict[str, Any]]:
    return [
        {**e, "timeframe-parent-id": t.unique_id, "ordinal-order": i + 1, "domain": domain}
        for i, e in enumerate(t.entries.get(array, []))
    ]


def to_out(t: Timeframe, o: Owner) -> TimeframeOut:
    return TimeframeOut(
        timeframe_id=t.unique_id,
        timeframe_name=t.name,
        domain=o.domain.name,
        user=o.user.user if o.user else None,
        timeframe_type=t.kind,
        time_zone=t.time_zone,
        timeframe_days_of_week_array=_entries_out(t, sch.DOW_ARRAY, o.domain.name),
        timeframe_specific_dates_array=_entries_out(t, sch.DATES_ARRAY, o.domain.name),
        timeframe_holiday_array=_entries_out(t, sch.HOLIDAY_ARRAY, o.domain.name),
        created_datetime=t.created_at,
        last_modified_datetime=t.updated_at,
    )


async def list_(session: AsyncSession, o: Owner, page: Page) -> list[Timeframe]:
    stmt = page.apply(select(Timeframe).where(o.clause()), SORTABLE, "timeframe-name")
    return list((await session.scalars(stmt)).all())


async def count(session: AsyncSession, o: Owner) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(Timeframe).where(o.clause())) or 0
    )


async def get(session: AsyncSession, o: Owner, ident: str) -> Timeframe:
    """By `timeframe-id`, or else by name."""
    found = await session.scalar(select(Timeframe).where(o.clause(), Timeframe.unique_id == ident))
    if found is None:
        found = await session.scalar(select(Timeframe).where(o.clause(), Timeframe.name == ident))
    if found is None:
        raise NotFound(f"Time frame {ident} does not exist for {o.describe()}")
    return found


# -- for answer rules and routing (no caller: the caller was checked by them) ------------------


async def for_rule(session: AsyncSession, user: User, name: str) -> Timeframe | None:
    """The time frame an answer rule of `user` means by `name`: its own, else the domain's."""
    rows = (
        await session.scalars(
            select(Timeframe).where(
                Timeframe.domain_id == user.domain_id,
                Timeframe.owner_key.in_((user.id, 0)),
                Timeframe.name == name,
            )
        )
    ).all()
    return max(rows, key=lambda t: t.owner_key, default=None)


async def by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Timeframe]:
    if not ids:
        return {}
    rows = await session.scalars(select(Timeframe).where(Timeframe.id.in_(set(ids))))
    return {t.id: t for t in rows.all()}


async def of_domain(session: AsyncSession, domain_id: int) -> list[Timeframe]:
    return list(
        (await session.scalars(select(Timeframe).where(Timeframe.domain_id == domain_id))).all()
    )


async def shared(session: AsyncSession, domain_id: int, name: str) -> Timeframe | None:
    """The domain's shared time frame called `name` (for other resources that name time
    frames, such as auto attendants)."""
    return await session.scalar(
        select(Timeframe).where(
            Timeframe.domain_id == domain_id, Timeframe.owner_key == 0, Timeframe.name == name
        )
    )


def compile_row(t: Timeframe) -> sch.Schedule:
    return sch.compile_schedule(t.kind, t.entries, t.time_zone)


async def delete_for_user(session: AsyncSession, user: User) -> int:
    """Removes a user's own time frames (its answer rules must be gone already)."""
    rows = (await session.scalars(select(Timeframe).where(Timeframe.user_id == user.id))).all()
    for t in rows:
        await session.delete(t)
    await session.flush()
    return len(rows)


# -- validation -------------------------------------------------------------------------------


def _check_name(raw: str) -> str:
    name = raw.strip()
    if name in RESERVED_NAMES or not _NAME.match(name):
        raise Unprocessable(
            f"timeframe-name '{raw}' is not valid: use up to 100 letters, digits, spaces and "
            "._()&'+,:- (starting with a letter or digit); *, ~, count, list and reorder are "
            "reserved"
        )
    return name


def _given(body: TimeframeCreate | TimeframeEntries | TimeframeUpdate) -> dict[str, list[Any]]:
    """The arrays the body carries, by API name (both spellings of the days-of-week one)."""
    arrays: dict[str, list[Any]] = {}
    dow = body.timeframe_days_of_week_array
    if body.timeframe_day_of_week_array is not None:
        if dow is not None:
            raise Unprocessable(
                "Send the days-of-week entries in timeframe-days-of-week-array only, not also "
                "in timeframe-day-of-week-array"
            )
        dow = body.timeframe_day_of_week_array
    if dow is not None:
        arrays[sch.DOW_ARRAY] = [entry_values(e) for e in dow]
    if body.timeframe_specific_dates_array is not None:
        arrays[sch.DATES_ARRAY] = [entry_values(e) for e in body.timeframe_specific_dates_array]
    if body.timeframe_holiday_array is not None:
        arrays[sch.HOLIDAY_ARRAY] = [entry_values(e) for e in body.timeframe_holiday_array]
    return arrays


def _check_arrays(kind: str, arrays: Mapping[str, list[Any]]) -> None:
    for array, items in arrays.items():
        if array not in sch.ALLOWED_ARRAYS[kind] and items:
            allowed = ", ".join(sch.ALLOWED_ARRAYS[kind]) or "no entries"
            raise Unprocessable(f"A {kind} time frame takes {allowed}, not {array}")


def _normalize(array: str, index: int, raw: Mapping[str, Any]) -> dict[str, str]:
    try:
        return sch.NORMALIZERS[array](raw)
    except sch.EntryError as e:
        raise Unprocessable(f"{array}[{index}].{e.field}: {e.message}") from None


def _fresh(array: str, items: list[Any]) -> list[dict[str, str]]:
    """New entries: normalized, each with a new timeframe-id."""
    out = []
    for i, raw in enumerate(items):
        entry = _normalize(array, i, raw)
        entry["timeframe-id"] = secrets.token_hex(8)
        out.append(entry)
    return out


def _check_dow_single(kind: str, entries: Mapping[str, list[Any]]) -> None:
    if kind == "days-of-week" and len(entries.get(sch.DOW_ARRAY, [])) > 1:
        raise Unprocessable(
            "A days-of-week time frame holds a single entry (with the times of every day); "
            "use a custom time frame for several"
        )


def _infer_type(arrays: Mapping[str, list[Any]]) -> str:
    kinds = [a for a, items in arrays.items() if items]
    if not kinds:
        return "always"
    if len(kinds) > 1:
        return "custom"
    return {
        sch.DOW_ARRAY: "days-of-week",
        sch.DATES_ARRAY: "specific-dates",
        sch.HOLIDAY_ARRAY: "holiday",
    }[kinds[0]]


async def _check_name_free(
    session: AsyncSession, o: Owner, name: str, *, except_id: int | None = None
) -> None:
    """409 when the owner has the name, or when it clashes across shared/own time frames."""
    scope = Timeframe.owner_key.in_((o.key, 0)) if o.user is not None else Timeframe.owner_key >= 0
    stmt = select(Timeframe).where(
        Timeframe.domain_id == o.domain.id, Timeframe.name == name, scope
    )
    if except_id is not None:
        stmt = stmt.where(Timeframe.id != except_id)
    clash = (await session.scalars(stmt.limit(1))).first()
    if clash is None:
        return
    if clash.owner_key == o.key:
        raise Conflict(f"Time frame {name} already exists for {o.describe()}")
    if clash.owner_key == 0:
        raise Conflict(
            f"Domain {o.domain.name} has a shared time frame named {name}; answer rules name "
            "time frames, so choose another name"
        )
    holder = await session.get(User, clash.user_id)
    raise Conflict(
        f"User {holder.user if holder else '?'} has its own time frame named {name}; answer "
        "rules name time frames, so choose another name"
    )


def _zone(value: str | None) -> str | None:
    return check_time_zone(value) if value else None


def snapshot(t: Timeframe) -> dict[str, Any]:
    return {
        "timeframe-name": t.name,
        "timeframe-type": t.kind,
        "time-zone": t.time_zone,
        **{a: t.entries.get(a, []) for a in sch.ARRAYS},
    }


def _audit(
    session: AsyncSession, caller: Caller, action: str, t: Timeframe, o: Owner, **changes: Any
) -> None:
    audit.record(
        session,
        caller,
        action,
        "timeframe",
        t.unique_id,
        reseller=o.domain.reseller.name,
        domain=o.domain.name,
        user=o.user.user if o.user else "",
        **changes,
    )


# -- writing ----------------------------------------------------------------------------------


async def create(
    session: AsyncSession, caller: Caller, o: Owner, body: TimeframeCreate
) -> Timeframe:
    name = _check_name(body.timeframe_name)
    arrays = _given(body)
    kind = body.timeframe_type or _infer_type(arrays)
    _check_arrays(kind, arrays)
    entries = {a: _fresh(a, items) for a, items in arrays.items() if a in sch.ALLOWED_ARRAYS[kind]}
    _check_dow_single(kind, entries)
    if kind == "days-of-week" and not entries.get(sch.DOW_ARRAY):
        raise Unprocessable(
            "A days-of-week time frame needs its entry in timeframe-days-of-week-array"
        )
    zone = _zone(body.time_zone)
    await _check_name_free(session, o, name)
    if await count(session, o) >= MAX_PER_OWNER:
        raise Conflict(
            f"{o.describe().capitalize()} has reached the limit of {MAX_PER_OWNER} time frames"
        )
    t = Timeframe(
        unique_id=secrets.token_hex(8),
        domain_id=o.domain.id,
        user_id=o.user.id if o.user else None,
        owner_key=o.key,
        name=name,
        kind=kind,
        time_zone=zone,
        entries={a: entries.get(a, []) for a in sch.ALLOWED_ARRAYS[kind]},
    )
    session.add(t)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent create took the name first
        raise Conflict(f"Time frame {name} already exists for {o.describe()}") from None
    _audit(session, caller, "create", t, o, after=snapshot(t))
    return t


async def add_entries(
    session: AsyncSession, caller: Caller, o: Owner, ident: str, body: TimeframeEntries
) -> Timeframe:
    t = await get(session, o, ident)
    arrays = {a: items for a, items in _given(body).items() if items}
    if not arrays:
        raise Unprocessable("Give the entries to add in one of the time frame's arrays")
    if t.kind in ("always", "days-of-week"):
        raise Unprocessable(
            f"A {t.kind} time frame takes no additional entries; change it with PUT"
            + (" or convert it to custom" if t.kind == "always" else "")
        )
    _check_arrays(t.kind, arrays)
    before = snapshot(t)
    entries = {a: list(t.entries.get(a, [])) for a in sch.ALLOWED_ARRAYS[t.kind]}
    for a, items in arrays.items():
        entries[a].extend(_fresh(a, items))
        if len(entries[a]) > 100:
            raise Conflict(f"Time frame {t.name} would have more than 100 entries in {a}")
    t.entries = entries
    await session.flush()
    _audit(session, caller, "update", t, o, before=before, after=snapshot(t))
    return t


def _convert(t: Timeframe, to: str) -> dict[str, list[dict[str, str]]]:
    if to == t.kind:
        return {a: list(t.entries.get(a, [])) for a in sch.ALLOWED_ARRAYS[to]}
    if t.kind == "custom":
        raise Unprocessable("A custom time frame cannot be converted to another type")
    if to == "custom":  # keeps what it had
        return {a: list(t.entries.get(a, [])) for a in sch.ARRAYS}
    return {a: [] for a in sch.ALLOWED_ARRAYS[to]}  # between other types: entries are dropped


def _update_only(
    kind: str, entries: dict[str, list[dict[str, str]]], array: str, items: list[Any]
) -> None:
    for i, raw in enumerate(items):
        ident = str(raw.get("timeframe-id") or "").strip()
        current = entries.setdefault(array, [])
        if not ident and kind == "days-of-week" and array == sch.DOW_ARRAY:
            entries[array] = [{**_normalize(array, i, raw), "timeframe-id": secrets.token_hex(8)}]
            continue
        if not ident:
            raise Unprocessable(
                f"{array}[{i}].timeframe-id: is required with update-only (which entry to change)"
            )
        for n, existing in enumerate(current):
            if existing["timeframe-id"] == ident:
                merged = {**existing, **{k: v for k, v in raw.items() if v is not None}}
                current[n] = {**_normalize(array, i, merged), "timeframe-id": ident}
                break
        else:
            raise NotFound(f"Entry {ident} does not exist in {array} of this time frame")


async def update(
    session: AsyncSession, caller: Caller, o: Owner, ident: str, body: TimeframeUpdate
) -> Timeframe:
    t = await get(session, o, ident)
    before = snapshot(t)
    wanted = body.type or body.timeframe_type
    if body.type and body.timeframe_type and body.type != body.timeframe_type:
        raise Unprocessable("type and timeframe-type disagree; send one of them")
    kind = wanted or t.kind
    entries = _convert(t, kind)
    arrays = _given(body)
    _check_arrays(kind, arrays)
    for array, items in arrays.items():
        if array not in sch.ALLOWED_ARRAYS[kind]:
            continue
        if body.update_only:
            _update_only(kind, entries, array, items)
        else:
            entries[array] = _fresh(array, items)
    _check_dow_single(kind, entries)
    if "timeframe_name" in body.model_fields_set and body.timeframe_name is not None:
        name = _check_name(body.timeframe_name)
        if name != t.name:
            await _check_name_free(session, o, name, except_id=t.id)
            t.name = name
    if "time_zone" in body.model_fields_set:
        t.time_zone = _zone(body.time_zone)
    t.kind = kind
    t.entries = entries
    await session.flush()
    _audit(session, caller, "update", t, o, before=before, after=snapshot(t))
    return t


async def _users_of(session: AsyncSession, t: Timeframe) -> list[str]:
    rows = await session.scalars(
        select(User.user)
        .join(AnswerRule, AnswerRule.user_id == User.id)
        .where(AnswerRule.timeframe_id == t.id)
        .order_by(User.user)
    )
    return list(rows.all())


async def delete(
    session: AsyncSession,
    caller: Caller,
    o: Owner,
    ident: str,
    child: TimeframeChild | None,
) -> Timeframe:
    """Deletes one entry (`child_id`) or, without one, the whole time frame."""
    t = await get(session, o, ident)
    before = snapshot(t)
    if child is not None and child.child_id:
        entries = {a: list(items) for a, items in t.entries.items()}
        for a, items in entries.items():
            kept = [e for e in items if e.get("timeframe-id") != child.child_id]
            if len(kept) != len(items):
                entries[a] = kept
                break
        else:
            raise NotFound(f"Entry {child.child_id} does not exist in time frame {t.name}")
        t.entries = entries
        await session.flush()
        _audit(session, caller, "update", t, o, before=before, after=snapshot(t))
        return t
    holders = await _users_of(session, t)
    if holders:
        listed = ", ".join(holders[:10]) + (" …" if len(holders) > 10 else "")
        raise Conflict(
            f"Time frame {t.name} is used by the answer rules of user(s) {listed}; delete or "
            "move those answer rules first"
        )
    await session.delete(t)
    await session.flush()
    _audit(session, caller, "delete", t, o, before=before)
    return t
